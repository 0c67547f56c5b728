"""Built-in looks and the demo: the README's first command, through the real CLI."""

import subprocess
import sys

import numpy as np

from stylereel.io.frames import read_image
from stylereel.io.media import open_source
from stylereel.looks import describe, names


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "stylereel.cli", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def test_built_in_looks_are_listed_and_render_without_a_model(tmp_path, data_dir):
    assert "starry_night" in names() and all(describe(n) for n in names())
    r = cli("looks", "--sheet", tmp_path / "looks.png")
    assert r.returncode == 0, r.stderr
    assert all(n in r.stdout for n in names()) and read_image(tmp_path / "looks.png").rgb.shape[0] >= 200
    r = cli("stylize", "--look", "starry_night", data_dir / "home.png", "-o", tmp_path / "home_starry.png")
    assert r.returncode == 0, r.stderr
    out, plate = read_image(tmp_path / "home_starry.png").rgb, read_image(data_dir / "home.png").rgb
    assert out.shape == plate.shape and np.abs(out - plate).mean() > 0.05  # a look, not a tint


def test_demo_renders_the_bundled_clip_and_photos_in_a_built_in_look(tmp_path):
    r = cli("demo", "--out", tmp_path / "demo")
    assert r.returncode == 0, r.stderr
    movie = tmp_path / "demo" / "tree_starry_night.mp4"
    src = open_source(str(movie))
    assert len(src) == 48 and src.size == (320, 240)
    stills = sorted((tmp_path / "demo" / "stills").iterdir())
    assert len(stills) == 4 and all(p.suffix == ".png" for p in stills)
    sheet = read_image(tmp_path / "demo" / "contact_sheet.png").rgb
    assert sheet.shape[0] > 7 * 200  # three clip frames and four photos, before and after
    assert str(movie) in r.stdout and "contact sheet" in r.stdout
    # again into the same folder: rendered afresh, nothing refused
    assert cli("demo", "--out", tmp_path / "demo").returncode == 0
