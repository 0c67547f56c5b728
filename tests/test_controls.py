"""Render-time controls around a look (`stylereel.render.controls`): each one moves the
output the way it says, on the shipped Starry Night look and a real photo."""

import json
import subprocess
import sys
from importlib import resources

import cv2
import numpy as np
import pytest

from stylereel.io.frames import read_image, write_image
from stylereel.render.controls import Controls, low_pass, luminance, to_ycc
from stylereel.render.stylize import Stylizer

LOOK = str(resources.files("stylereel") / "assets" / "looks" / "starry_night")


@pytest.fixture(scope="module")
def stylizer():
    return Stylizer(LOOK, device="cpu")


@pytest.fixture(scope="module")
def photo():
    from pathlib import Path

    rgb = read_image(Path(__file__).parent / "data" / "home.png").rgb
    return np.ascontiguousarray(rgb[: rgb.shape[0] // 8 * 8, : rgb.shape[1] // 8 * 8])


def chroma_error(a, b):
    return float(np.abs(to_ycc(a)[..., 1:] - to_ycc(b)[..., 1:]).mean())


def test_preserve_color_keeps_the_plates_chroma(stylizer, photo):
    plain = Controls().apply(stylizer, photo)
    kept = Controls(preserve_color="luminance").apply(stylizer, photo)
    palette = Controls(preserve_color="palette").apply(stylizer, photo)
    assert chroma_error(kept, photo) < 0.2 * chroma_error(plain, photo)
    assert np.abs(luminance(kept) - luminance(plain)).mean() < 0.01  # the look's luminance texture stays
    # palette: the plate's colour mean and covariance, the look's texture (its pattern correlates with the look's)
    cov = lambda im: np.cov(im.reshape(-1, 3), rowvar=False)  # noqa: E731
    assert np.abs(cov(palette) - cov(photo)).sum() < 0.2 * np.abs(cov(plain) - cov(photo)).sum()
    assert np.abs(palette.reshape(-1, 3).mean(0) - photo.reshape(-1, 3).mean(0)).max() < 0.03
    hp = lambda im: luminance(im) - low_pass(luminance(im), 4)  # noqa: E731
    assert np.corrcoef(hp(palette).ravel(), hp(plain).ravel())[0, 1] > 0.8


def test_preserve_lighting_restores_the_plates_shading_by_amount(stylizer, photo):
    sigma = 0.03 * max(photo.shape[:2])
    errors = []
    for amount in (0.0, 0.5, 1.0):
        out = Controls(preserve_lighting=amount).apply(stylizer, photo)
        errors.append(float(np.abs(low_pass(luminance(out), sigma) - low_pass(luminance(photo), sigma)).mean()))
    assert errors[0] > errors[1] > errors[2] and errors[2] < 0.4 * errors[0]
    plain, lit = Controls().apply(stylizer, photo), Controls(preserve_lighting=1.0).apply(stylizer, photo)
    hp = lambda im: luminance(im) - low_pass(luminance(im), 4)  # noqa: E731
    assert np.corrcoef(hp(lit).ravel(), hp(plain).ravel())[0, 1] > 0.9  # the strokes stay


def test_texture_scale_makes_a_look_read_the_same_at_any_resolution(stylizer, photo):
    h, w = photo.shape[:2]
    big = cv2.resize(photo, (2 * w, 2 * h), interpolation=cv2.INTER_CUBIC)
    scale = 1080 / h  # the network sees both frames at the small one's size
    small_out = Controls(texture_scale=scale).apply(stylizer, photo)
    big_out = Controls(texture_scale=scale).apply(stylizer, big)
    native_big = Controls().apply(stylizer, big)
    down = lambda im: cv2.resize(im, (w, h), interpolation=cv2.INTER_AREA)  # noqa: E731
    assert big_out.shape == big.shape
    same = np.abs(down(big_out) - small_out).mean()
    assert same < 0.02 and same < 0.5 * np.abs(down(native_big) - small_out).mean()
    # and coarser strokes at a larger scale: less fine detail than the native render
    hp = lambda im: np.abs(luminance(im) - low_pass(luminance(im), 2)).mean()  # noqa: E731
    assert hp(Controls(texture_scale=2 * 1080 / h).apply(stylizer, photo)) < hp(Controls().apply(stylizer, photo))


def test_controls_through_the_cli_and_in_the_render_log(photo, tmp_path):
    write_image(tmp_path / "in" / "p.0001.png", photo, bit_depth=16)
    cli = [sys.executable, "-m", "stylereel.cli", "stylize", LOOK, str(tmp_path / "in" / "p.####.png")]
    r = subprocess.run(cli + ["-o", str(tmp_path / "out" / "o.####.png"), "--preserve-color", "luminance",
                              "--preserve-lighting", "0.5", "--texture-scale", "2"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    log = json.loads((tmp_path / "out" / "o.render.json").read_text())
    assert (log["preserve_color"], log["preserve_lighting"], log["texture_scale"]) == ("luminance", 0.5, 2.0)
    assert chroma_error(read_image(tmp_path / "out" / "o.0001.png").rgb, photo) < 0.02
    for flag, value, needle in (("--preserve-color", "sepia", "luminance, palette"), ("--texture-scale", "0", "0.05 to 100"),
                                ("--preserve-lighting", "2", "0 to 1")):
        r = subprocess.run(cli + ["-o", str(tmp_path / "bad" / "o.####.png"), flag, value], capture_output=True, text=True)
        assert r.returncode == 2 and needle in r.stderr and flag in r.stderr and "Traceback" not in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "bad").exists()
