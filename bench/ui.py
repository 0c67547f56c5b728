"""The web UI's cost on a whole clip against the CLI's, same machine, same run.

    python bench/ui.py --data DATA [--rounds 3] [--scales 1 4]

`video/tree.avi`'s 68 frames (320x240, as an H.264 movie, and scaled 4x to 1280x960) rendered in the
built-in Starry Night look with --temporal to an H.264 movie: by `stylereel stylize` (wall clock of the command, model
loading included), and through `stylereel ui` in Debian's headless chromium (wall clock from
pressing Render all to the result's link, upload before it; the page's model is loaded by a
first render, as a user's would be by their first). Alternating round by round; medians.
Writes bench/RESULTS.md, section "ui".
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import write_section  # noqa: E402
from stylereel.io.video import probe_movie  # noqa: E402


def start_ui(port: int, env: dict | None = None, seconds: float = 120) -> subprocess.Popen:
    """`stylereel ui` started as a user starts it, once its page answers (a one-line RuntimeError if it exits or hangs)."""
    proc = subprocess.Popen([sys.executable, "-m", "stylereel.cli", "ui", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
            return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"stylereel ui exited: {' '.join(proc.stdout.read().split())[-500:]}") from None
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"stylereel ui did not answer within {seconds:.0f} s")


def clean_copy(src: Path, dst: Path, scale: int = 1) -> Path:
    """tree.avi's container counts 444 frames, its stream holds 68: the 68, as a movie that says so
    (`scale` times its size on each side, bicubic)."""
    import av
    import cv2

    from bench.quality_paired import decode

    frames = decode(src)
    if scale != 1:
        frames = [cv2.resize(f, (f.shape[1] * scale, f.shape[0] * scale), interpolation=cv2.INTER_CUBIC).clip(0, 1) for f in frames]
    with av.open(str(dst), "w") as o:
        s = o.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv444p"
        s.options = {"crf": "10"}
        for f in frames:
            for p in s.encode(av.VideoFrame.from_ndarray((f * 255).round().astype("uint8"), format="rgb24")):
                o.mux(p)
        for p in s.encode():
            o.mux(p)
    return dst


def cli_seconds(movie: Path, out: Path) -> tuple[float, float]:
    """(the whole command, the render itself as its log clocks it)."""
    import json

    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "stylereel.cli", "stylize", "--look", "starry_night", str(movie), "-o", str(out),
                    "--temporal"], check=True, capture_output=True)
    whole = time.perf_counter() - t0
    return whole, json.loads(out.with_name(f"{out.stem}.render.json").read_text())["seconds"]


def ui_seconds(url: str, movie: Path, dst: Path) -> float:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        opts.add_argument(a)
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    try:
        d.get(url)
        WebDriverWait(d, 120).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#frames input[type=file]"))
        d.find_element(By.CSS_SELECTOR, "#frames input[type=file]").send_keys(str(movie))
        WebDriverWait(d, 60).until(lambda d: movie.stem in d.find_element(By.ID, "frames").text)
        # Clocked by the page itself: a MutationObserver notes when the result's link appears. Polling from
        # here would either add up to half a second (selenium's default) or load the 2 cores the render runs on.
        d.execute_script("""
            window.__clicked = performance.now();
            new MutationObserver((_, obs) => {
              if (document.querySelector('#result a[href]')) { window.__linked = performance.now(); obs.disconnect(); }
            }).observe(document.body, {subtree: true, childList: true, attributes: true});""")
        d.find_element(By.ID, "render").click()
        WebDriverWait(d, 900).until(lambda d: d.execute_script("return window.__linked !== undefined"))
        seconds = d.execute_script("return (window.__linked - window.__clicked) / 1000")
        link = d.find_element(By.CSS_SELECTOR, "#result a[href]")
        with urllib.request.urlopen(link.get_attribute("href")) as r:
            dst.write_bytes(r.read())
        return seconds
    finally:
        d.quit()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--scales", type=int, nargs="+", default=[1, 4], help="clip sizes: tree.avi's 320x240 times each")
    ap.add_argument("--port", type=int, default=7871)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp).resolve()  # the browser takes absolute paths only
        server = start_ui(args.port)
        url = f"http://127.0.0.1:{args.port}/"
        rows, ratios = [], []
        try:
            for scale in args.scales:
                movie = clean_copy(args.data / "video" / "tree.avi", tmp / f"tree_x{scale}.mp4", scale)
                info = probe_movie(str(movie))
                frames = info.frame_count
                ui_seconds(url, movie, tmp / f"warm_x{scale}.mp4")  # the page loads its model once, as on a user's first render
                cli, render, ui = [], [], []
                for r in range(args.rounds):
                    whole, inner = cli_seconds(movie, tmp / f"cli{r}_x{scale}.mp4")
                    cli.append(whole)
                    render.append(inner)
                    ui.append(ui_seconds(url, movie, tmp / f"ui{r}_x{scale}.mp4"))
                    print(f"{info.width}x{info.height} round {r}: cli {cli[-1]:.1f} s (render {inner:.1f} s), ui {ui[-1]:.1f} s", flush=True)
                same = all(probe_movie(str(tmp / f"{w}{r}_x{scale}.mp4")).frame_count == frames for w in ("cli", "ui") for r in range(args.rounds))
                c, k, u = statistics.median(cli), statistics.median(render), statistics.median(ui)
                size = f"{info.width}x{info.height}"
                rows += [
                    f"| {size} | `stylereel stylize`, the whole command | {c:.1f} | {', '.join(f'{v:.1f}' for v in cli)} | {1000 * c / frames:.0f} |",
                    f"| {size} | `stylereel stylize`, its render (the log's clock; no start-up, no model loading) | {k:.1f} | "
                    f"{', '.join(f'{v:.1f}' for v in render)} | {1000 * k / frames:.0f} |",
                    f"| {size} | `stylereel ui`, Render all to the download link | {u:.1f} | {', '.join(f'{v:.1f}' for v in ui)} | "
                    f"{1000 * u / frames:.0f} |",
                ]
                ratios.append(f"{size}: {u / k:.2f}x the CLI's render, {u / c:.2f}x its whole command; all {frames} frames in every "
                              f"output: {'yes' if same else 'NO'}")
        finally:
            server.terminate()
            server.wait(30)
    lines = [
        f"`video/tree.avi`'s {frames} frames (re-encoded to H.264; also scaled up) in the built-in Starry Night look with --temporal, "
        f"to H.264; {args.rounds} alternating rounds per size. CLI: the whole `stylereel stylize` command (model loading included), "
        "and its render as its log clocks it. UI: from pressing Render all to the result's link in headless chromium, clocked "
        "by the page (a MutationObserver; the page's model loaded by an earlier render).",
        "",
        "| clip | path | seconds per clip (median) | rounds | ms per frame |",
        "| --- | --- | --- | --- | --- |",
        *rows,
        "",
        "UI against the CLI (what the page adds: the queue, upload handling, progress to the browser, the result handed to it): "
        + "; ".join(ratios) + ".",
    ]
    write_section("ui", "The web UI against the CLI on one clip", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
