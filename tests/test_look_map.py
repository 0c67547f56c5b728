"""Multi-look models: which look, how much and where (`stylereel.render.look_map`), and a
small multi-look model trained and rendered through the CLI."""

import json
import subprocess
import sys

import numpy as np
import pytest

from stylereel.io.frames import read_image, write_image
from stylereel.render.look_map import LookError, LookMap, Region, parse_mix, parse_region, untouched

NAMES = ["none", "warm", "inv"]


def cli(*args):
    return subprocess.run([sys.executable, "-m", "stylereel.cli", *map(str, args)], capture_output=True, text=True)


def test_mixes_are_relative_weights_of_the_models_looks():
    assert parse_mix("warm", NAMES) == {"warm": 1.0}
    assert parse_mix("warm=3,inv=1", NAMES) == {"warm": 0.75, "inv": 0.25}
    with pytest.raises(LookError, match="did you mean 'warm'"):
        parse_mix("wram", NAMES)
    for bad in ("warm=x", "warm=-1", "warm=0", ""):
        with pytest.raises(LookError):
            parse_mix(bad, NAMES)


def test_weights_sum_to_one_with_strength_on_none_and_regions_by_their_matte(tmp_path):
    matte = np.zeros((20, 30, 3), np.float32)
    matte[:, 15:] = 1
    matte[:, 14] = 0.5
    write_image(tmp_path / "m.png", matte)
    m = LookMap(NAMES, {"warm": 1.0}, 0.6, (parse_region(f"{tmp_path / 'm.png'}=inv=1,warm=1", NAMES),))
    w = m.weights(1, (20, 30))
    assert np.allclose(w.sum(-1), 1)
    assert np.allclose(w[0, 0], [0.4, 0.6, 0.0])  # outside: warm at strength 0.6, the rest on none
    assert np.allclose(w[0, 20], [0.4, 0.3, 0.3])  # inside: the region's mix at the same strength
    assert np.allclose(w[0, 14], (w[0, 0] + w[0, 20]) / 2, atol=0.01)  # a soft matte gives a soft edge
    assert parse_region("alpha=none", NAMES).matte == "alpha"
    with pytest.raises(LookError, match="no such matte"):
        parse_region(f"{tmp_path / 'nope.png'}=warm", NAMES)
    with pytest.raises(LookError, match="MATTE=LOOK"):
        parse_region(f"{tmp_path / 'm.png'}", NAMES)
    with pytest.raises(LookError, match="no alpha"):
        Region("alpha", {"warm": 1.0}).values(1, None, (4, 4))


def test_where_none_is_whole_the_plate_is_written_exactly():
    rng = np.random.default_rng(0)
    plate, out = rng.random((40, 40, 3), dtype=np.float32), rng.random((40, 40, 3), dtype=np.float32)
    w = np.zeros((40, 40, 3), np.float32)
    w[:, :20, 0] = 1
    w[:, 20:, 1] = 1
    kept = untouched(out, plate, w, 0)
    assert np.array_equal(kept[:, :15], plate[:, :15])
    assert np.array_equal(kept[:, 21:], out[:, 21:])


@pytest.fixture(scope="module")
def two_looks(tmp_path_factory, ):
    from pathlib import Path

    root = tmp_path_factory.mktemp("looks")
    data = Path(__file__).parent / "data"
    for name, f in (("warm", lambda x: np.clip(x * [1.3, 0.9, 0.5], 0, 1)), ("inv", lambda x: 1 - x)):
        for src in ("home", "fruits"):
            x = read_image(data / f"{src}.png").rgb
            write_image(root / name / "input" / f"{src}.png", x)
            write_image(root / name / "target" / f"{src}.png", f(x).astype(np.float32))
    r = cli("train", "--look", f"warm={root / 'warm'}", "--look", f"inv={root / 'inv'}", "--out", root / "run", "--steps", 2,
            "--data.size=32", "--data.batch=2", "--data.max_side=64")
    assert r.returncode == 0, r.stderr
    return root / "run"


def test_a_multi_look_model_trains_and_renders_mixes_strength_and_regions(two_looks, tmp_path, data_dir):
    info = json.loads((two_looks / "model" / "model.json").read_text())
    assert info["generator"] == {"name": "reel_looks", "kwargs": {"looks": ["none", "warm", "inv"]}}
    home = data_dir / "home.png"
    plate = read_image(home).rgb
    r = cli("stylize", two_looks, home, "-o", tmp_path / "zero.png", "--strength", 0)
    assert r.returncode == 0, r.stderr
    assert np.abs(read_image(tmp_path / "zero.png").rgb - plate).max() < 1 / 255 + 1e-6  # strength 0: the plate
    matte = np.zeros_like(plate)
    matte[:, : plate.shape[1] // 2] = 1
    write_image(tmp_path / "matte.png", matte)
    r = cli("stylize", two_looks, home, "-o", tmp_path / "region.png", "--look", "warm=0.5,inv=0.5",
            "--region", f"{tmp_path / 'matte.png'}=none")
    assert r.returncode == 0, r.stderr
    out = read_image(tmp_path / "region.png").rgb
    half = plate.shape[1] // 2
    assert np.abs(out[:, : half - 3] - plate[:, : half - 3]).max() < 1 / 255 + 1e-6  # inside the 'none' region: untouched
    log = json.loads((tmp_path / "region.render.json").read_text())
    assert log["look"] == {"warm": 0.5, "inv": 0.5} and log["regions"][0]["look"] == {"none": 1.0}


def test_look_controls_user_errors(two_looks, tmp_path, data_dir):
    home = data_dir / "home.png"
    for args, needle in ((["--look", "wram"], "did you mean 'warm'"), (["--strength", "1.5"], "--strength: expected 0 to 1"),
                         (["--region", f"{tmp_path / 'none.png'}=warm"], "no such matte file")):
        r = cli("stylize", two_looks, home, "-o", tmp_path / "x.png", *args)
        assert r.returncode == 2 and needle in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert not (tmp_path / "x.png").exists()
    r = cli("train", "--look", "ink", "--out", tmp_path / "r", "--steps", 1)
    assert r.returncode == 2 and "NAME=PAIRS" in r.stderr
    r = cli("train", "--look", f"none={tmp_path}", "--out", tmp_path / "r", "--steps", 1)
    assert r.returncode == 2 and "'none' is the plate itself" in r.stderr


@pytest.mark.slow
def test_a_new_look_extends_a_multi_look_model_leaving_its_looks_untouched(two_looks, tmp_path, data_dir):
    import torch

    from stylereel.model import load_model

    r = cli("train", "--extend", two_looks, "--name", "starry", "--content", data_dir / "home.png", "--style",
            data_dir / "starry_night.png", "--out", tmp_path / "ext", "--steps", 2, "--data.size=32", "--data.batch=1",
            "--data.max_side=64", "--data.style_size=64")
    assert r.returncode == 0, r.stderr
    base, _ = load_model(two_looks)
    ext, info = load_model(tmp_path / "ext")
    assert info["generator"]["kwargs"]["looks"] == ["none", "warm", "inv", "starry"]
    b, e = base.state_dict(), ext.state_dict()
    assert all(torch.equal(b[k], e[k][:-1] if k.startswith("mod.") else e[k]) for k in b)  # every old weight as it was
    assert any(not torch.equal(e[k][-1], b[k][1:].mean(0)) for k in b if k.startswith("mod."))  # the new look learnt
    r = cli("stylize", tmp_path / "ext", data_dir / "home.png", "-o", tmp_path / "s.png", "--look", "starry=0.5,warm=0.5")
    assert r.returncode == 0, r.stderr
    from importlib import resources

    single = resources.files("stylereel") / "assets" / "looks" / "starry_night"
    for extend, name, needle in ((single, "x", "single-look model"), (two_looks, "warm", "already a look")):
        r = cli("train", "--extend", extend, "--name", name, "--content", data_dir / "home.png", "--style",
                data_dir / "starry_night.png", "--out", tmp_path / "bad", "--steps", 1)
        assert r.returncode == 2 and needle in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


@pytest.mark.slow
def test_a_single_look_model_takes_strength_and_regions(tmp_path, data_dir):
    """What `stylereel train --content --style` makes has a strength knob and regions too: its
    look mixed with the plate pixel by pixel (sRGB plates: the working encoding is the pixels)."""
    from importlib import resources

    single = resources.files("stylereel") / "assets" / "looks" / "starry_night"
    home = data_dir / "home.png"
    plate = read_image(home).rgb
    for name, args in (("full", []), ("half", ["--strength", 0.5]), ("zero", ["--strength", 0])):
        r = cli("stylize", single, home, "-o", tmp_path / f"{name}.png", *args)
        assert r.returncode == 0, r.stderr
    full, half, zero = (read_image(tmp_path / f"{n}.png").rgb for n in ("full", "half", "zero"))
    assert np.abs(zero - plate).max() < 1 / 255 + 1e-6  # strength 0: the plate itself
    assert np.abs(full - plate).mean() > 0.1
    assert np.abs(half - (plate + full) / 2).max() < 1.5 / 255  # halfway, up to 8-bit rounding
    h, w = plate.shape[:2]
    matte = np.zeros((h, w, 3), np.float32)
    matte[:, w // 2 :] = 1
    write_image(tmp_path / "m.png", matte)
    r = cli("stylize", single, home, "-o", tmp_path / "region.png", "--region", f"{tmp_path / 'm.png'}=none")
    assert r.returncode == 0, r.stderr
    region = read_image(tmp_path / "region.png").rgb
    assert np.abs(region[:, w // 2 + 3 :] - plate[:, w // 2 + 3 :]).max() < 1 / 255 + 1e-6  # under the matte: untouched
    assert np.abs(region[:, : w // 2 - 3] - full[:, : w // 2 - 3]).max() < 1 / 255 + 1e-6  # elsewhere: the look
    r = cli("stylize", single, home, "-o", tmp_path / "x.png", "--look", "ink")
    assert r.returncode == 2 and "single-look model" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "x.png").exists()
