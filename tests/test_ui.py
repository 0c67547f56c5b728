"""`stylereel ui` driven in a real headless browser (Debian's chromium and chromedriver, through
selenium), as a new user would: upload, render, download, and check what comes back; a bad
upload shows its one-line message on the page; two tabs rendering at once both finish."""

import os
import shutil
import socket
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from stylereel.io.frames import read_image
from stylereel.io.video import probe_movie
from bench.ui import start_ui
from test_io_formats import make_movie

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = [
    pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="needs Debian's chromium and chromium-driver (apt install chromium chromium-driver)"),
]
webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (pip install 'stylereel[test]')")
pytest.importorskip("gradio", reason="needs Gradio (pip install 'stylereel[ui]')")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The page, started as a user starts it, and stopped after the tests."""
    port, temp = free_port(), tmp_path_factory.mktemp("gradio")
    proc = start_ui(port, {**os.environ, "GRADIO_TEMP_DIR": str(temp)})
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(30)


def browser():
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        opts.add_argument(a)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


def render_on_page(url: str, path, wait: float = 600) -> tuple[str | None, str]:
    """Open the page, drop `path`, press Render all; (the result's download link, or None, and the
    message shown: the render's summary or the error on the page)."""
    d = browser()
    try:
        d.get(url)
        WebDriverWait(d, 120).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#frames input[type=file]"))
        d.find_element(By.CSS_SELECTOR, "#frames input[type=file]").send_keys(str(path))
        WebDriverWait(d, 60).until(lambda d: path.stem in d.find_element(By.ID, "frames").text)  # the page shows the stem and the extension apart
        d.find_element(By.ID, "render").click()
        def settled(d):  # the result's link, or an error toast once its text is drawn (it fades in)
            return (d.find_elements(By.CSS_SELECTOR, "#result a[href]")
                    or [t for t in d.find_elements(By.CSS_SELECTOR, ".toast-body") if t.text.strip()])

        done = WebDriverWait(d, wait).until(settled)
        if done[0].tag_name == "a":
            return done[0].get_attribute("href"), d.find_element(By.CSS_SELECTOR, "#summary textarea").get_attribute("value")
        return None, done[0].text
    finally:
        d.quit()


def download(href: str, dst):
    with urllib.request.urlopen(href, timeout=60) as r:
        dst.write_bytes(r.read())
    return dst


def test_a_still_renders_and_downloads_at_its_size(server, data_dir, tmp_path):
    href, said = render_on_page(server, data_dir / "home.png")
    assert href is not None, said
    assert "1 rendered" in said
    got = read_image(download(href, tmp_path / "out.png"))
    plate = read_image(data_dir / "home.png")
    assert got.rgb.shape == plate.rgb.shape
    assert np.abs(got.rgb - plate.rgb).mean() > 0.05  # the look, not the plate
    # the page's defaults render what the CLI's do, pixel for pixel: one render path
    r = subprocess.run([sys.executable, "-m", "stylereel.cli", "stylize", "--look", "starry_night", data_dir / "home.png",
                        "-o", tmp_path / "cli.png"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert np.array_equal(read_image(tmp_path / "cli.png").rgb, got.rgb)


def test_a_bad_upload_shows_its_one_line_error(server, tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    href, said = render_on_page(server, bad)
    assert href is None
    assert "notes.png" in said and "not a decodable image" in said and "Traceback" not in said


def test_two_tabs_render_a_movie_at_once_and_both_get_every_frame(server, tmp_path):
    movie = tmp_path / "clip.mov"
    make_movie(movie, n=10, size=(96, 64), alpha=False, audio=False)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: render_on_page(server, movie), range(2)))
    for k, (href, said) in enumerate(results):
        assert href is not None, said
        assert "10 rendered" in said
        info = probe_movie(str(download(href, tmp_path / f"out{k}.mp4")))
        assert (info.width, info.height, info.frame_count) == (96, 64, 10)


def learn_on_page(url: str, plate, reference, minutes: str = "0.1") -> tuple[bool, str, str, str]:
    """Open the page, drop `plate`, open "Learn a new look", drop `reference`, learn for `minutes`; (learnt,
    the message shown, the model folder and the look the page then selects)."""
    d = browser()
    try:
        d.get(url)
        WebDriverWait(d, 120).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#frames input[type=file]"))
        d.find_element(By.CSS_SELECTOR, "#frames input[type=file]").send_keys(str(plate))
        WebDriverWait(d, 60).until(lambda d: plate.stem in d.find_element(By.ID, "frames").text)
        d.find_element(By.CSS_SELECTOR, "#learn-accordion .label-wrap").click()
        WebDriverWait(d, 30).until(lambda d: d.find_element(By.CSS_SELECTOR, "#learn-minutes input[type=number]").is_displayed())
        d.find_element(By.CSS_SELECTOR, "#references input[type=file]").send_keys(str(reference))
        WebDriverWait(d, 60).until(lambda d: reference.stem in d.find_element(By.ID, "references").text)
        minutes_box = d.find_element(By.CSS_SELECTOR, "#learn-minutes input[type=number]")
        minutes_box.clear()
        minutes_box.send_keys(minutes + "\t")
        d.find_element(By.ID, "learn").click()
        status = lambda d: d.find_element(By.CSS_SELECTOR, "#learn-status textarea").get_attribute("value")  # noqa: E731
        toasts = lambda d: [t for t in d.find_elements(By.CSS_SELECTOR, ".toast-body") if t.text.strip()]  # noqa: E731
        WebDriverWait(d, 300).until(lambda d: "learnt" in status(d) or toasts(d))
        if toasts(d):
            return False, toasts(d)[0].text, "", ""
        assert d.find_elements(By.CSS_SELECTOR, "#after img")  # the learnt look on the first frame
        value = lambda i: d.find_element(By.CSS_SELECTOR, f"#{i} textarea, #{i} input").get_attribute("value")  # noqa: E731
        return True, status(d), value("model-path"), value("look-mix")
    finally:
        d.quit()


@pytest.mark.slow
def test_a_look_learnt_on_the_page_is_the_look_the_cli_renders(server, data_dir, tmp_path):
    learnt, said, model, look = learn_on_page(server, data_dir / "home.png", data_dir / "starry_night.png")
    assert learnt, said
    assert model.endswith("model") and look == "my_look", (model, look)
    out = tmp_path / "cli.png"
    r = subprocess.run([sys.executable, "-m", "stylereel.cli", "stylize", model, "--look", look, data_dir / "home.png", "-o", out],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    plate = read_image(data_dir / "home.png").rgb
    assert np.abs(read_image(out).rgb - plate).mean() > 0.02  # a look, not the plate


def test_a_bad_reference_shows_its_one_line_error(server, data_dir, tmp_path):
    bad = tmp_path / "painting.png"
    bad.write_text("not a picture")
    learnt, said, _, _ = learn_on_page(server, data_dir / "home.png", bad)
    assert not learnt
    assert "painting.png" in said and "not a decodable image" in said and "Traceback" not in said
