"""Temporal stability: the warping error on synthetic shots with known motion (a pan over
a real photo, with grain), and the renderer's motion-guided blending."""

import json
import subprocess
import sys

import numpy as np
import pytest

from stylereel.io.frames import read_image, write_image
from stylereel.metrics.temporal import warping_errors
from stylereel.render.temporal import TemporalBlend, motion, motions

RNG = np.random.default_rng(0)


@pytest.fixture
def pan(data_dir):
    """Eight 96x64 frames panning 2 px per frame to the right over a photo, with grain."""
    photo = read_image(data_dir / "home.png").rgb
    frames = []
    for t in range(8):
        crop = photo[40:104, 30 + 2 * t : 126 + 2 * t]
        frames.append(np.clip(crop + RNG.normal(0, 0.01, crop.shape), 0, 1).astype(np.float32))
    return frames


def look(frame):
    """A fixed pointwise 'look': stable by construction."""
    return np.clip(frame[..., ::-1] * 0.8 + 0.1, 0, 1).astype(np.float32)


def test_warping_error_is_near_zero_for_a_stable_render_and_rises_with_flicker(pan):
    stable = [look(f) for f in pan]
    base = np.mean(warping_errors(pan, stable))
    flicker = [np.clip(o + (0.06 if t % 2 else -0.06), 0, 1) for t, o in enumerate(stable)]
    boiling = [np.clip(o + RNG.normal(0, 0.05, o.shape), 0, 1).astype(np.float32) for o in stable]
    assert base < 2e-3
    assert np.mean(warping_errors(pan, flicker)) > 5 * base + 0.005
    assert np.mean(warping_errors(pan, boiling)) > 3 * base + 0.002
    frozen = [stable[0]] * len(stable)  # an output that ignores the motion is not stable either
    assert np.mean(warping_errors(pan, frozen)) > 3 * base


def test_blending_along_the_motion_removes_boiling_but_not_the_picture(pan):
    stable = [look(f) for f in pan]
    noisy = [np.clip(o + RNG.normal(0, 0.05, o.shape), 0, 1).astype(np.float32) for o in stable]
    blend = TemporalBlend(0.8)
    out = [blend(noisy[0], None)] + [blend(noisy[t], motion(pan[t - 1], pan[t])) for t in range(1, len(pan))]
    assert np.mean(warping_errors(pan, out)) < 0.5 * np.mean(warping_errors(pan, noisy))
    # It follows the pan rather than freezing: each blended frame stays close to its own clean look.
    assert np.abs(out[-1] - stable[-1])[:, 8:-8].mean() < np.abs(noisy[-1] - stable[-1])[:, 8:-8].mean()


def test_both_ways_is_steadier_and_closer_to_the_picture_than_forward_only(pan):
    stable = [look(f) for f in pan]
    noisy = [np.clip(o + RNG.normal(0, 0.05, o.shape), 0, 1).astype(np.float32) for o in stable]
    pairs = [motions(pan[t - 1], pan[t]) for t in range(1, len(pan))]  # (back at t, ahead at t - 1)
    forward, both = TemporalBlend(0.5), TemporalBlend(0.5, both_ways=True)
    fw = [forward(noisy[t], pairs[t - 1][0] if t else None) for t in range(len(pan))]
    bw = [both(noisy[t], pairs[t - 1][0] if t else None, (pairs[t][1], noisy[t + 1]) if t + 1 < len(pan) else None)
          for t in range(len(pan))]
    assert np.mean(warping_errors(pan, bw)) < 0.8 * np.mean(warping_errors(pan, fw))
    inner = lambda outs: np.mean([np.abs(o - s)[:, 8:-8].mean() for o, s in zip(outs, stable)])  # noqa: E731
    assert inner(bw) < inner(fw)


def test_new_content_is_not_smeared_with_the_previous_frame(pan):
    a, b = pan[3], pan[4].copy()
    b[20:44, 30:60] = [1.0, 0.1, 0.1]  # a red card appears: nothing to carry there
    m = motion(a, b)
    assert m.confidence[24:40, 34:56].max() < 0.05
    assert m.confidence[:, :20].mean() > 0.5  # the rest of the pan is trusted
    blend = TemporalBlend(0.8)
    blend(look(a), None)
    out = blend(look(b), m)
    assert np.abs(out[24:40, 34:56] - look(b)[24:40, 34:56]).max() < 0.02


def test_eval_temporal_through_the_cli(pan, tmp_path):
    for t, f in enumerate(pan):
        write_image(tmp_path / "in" / f"p.{t + 1:04d}.png", f, bit_depth=16)
        write_image(tmp_path / "steady" / f"o.{t + 1:04d}.png", look(f), bit_depth=16)
        write_image(tmp_path / "flicker" / f"o.{t + 1:04d}.png", np.clip(look(f) + (0.06 if t % 2 else -0.06), 0, 1), bit_depth=16)
    cli = [sys.executable, "-m", "stylereel.cli", "eval", "--temporal", str(tmp_path / "in" / "p.####.png")]
    r = subprocess.run(cli + [str(tmp_path / "steady" / "o.####.png"), "--json", str(tmp_path / "s.json")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    steady = json.loads((tmp_path / "s.json").read_text())
    assert len(steady["per_frame"]) == 7 and (tmp_path / "s.png").stat().st_size > 1000
    r = subprocess.run(cli + [str(tmp_path / "flicker" / "o.####.png"), "--json", str(tmp_path / "f.json")], capture_output=True, text=True)
    assert json.loads((tmp_path / "f.json").read_text())["warping_error"] > 5 * steady["warping_error"]
    r = subprocess.run(cli + [str(tmp_path / "flicker" / "o.####.png:1-4")], capture_output=True, text=True)
    assert r.returncode == 2 and "4 frames" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_a_resumed_temporal_render_continues_the_blend(pan, tmp_path):
    from importlib import resources

    from stylereel.render.stylize import Stylizer

    for t, f in enumerate(pan):
        write_image(tmp_path / "in" / f"p.{t + 1:04d}.png", f, bit_depth=16)
    look_dir = resources.files("stylereel") / "assets" / "looks" / "starry_night"
    stylizer = Stylizer(str(look_dir), device="cpu")
    src = str(tmp_path / "in" / "p.####.png")
    full = stylizer.render(src, tmp_path / "full" / "o.####.png", temporal=0.8, depth="16")
    assert full.ok and len(full.done) == 8
    first = stylizer.render(src, tmp_path / "part" / "o.####.png", frames="1-4", temporal=0.8, depth="16")
    rest = stylizer.render(src, tmp_path / "part" / "o.####.png", temporal=0.8, depth="16")
    assert first.done == [1, 2, 3, 4] and rest.done == [5, 6, 7, 8] and rest.skipped == [1, 2, 3, 4]
    assert stylizer.render(src, tmp_path / "fresh" / "o.####.png", frames="5-8", temporal=0.8, depth="16").ok
    for n in (5, 6, 8):
        whole = read_image(tmp_path / "full" / f"o.{n:04d}.png").rgb
        resumed = read_image(tmp_path / "part" / f"o.{n:04d}.png").rgb
        assert np.abs(resumed - whole).max() < 2e-3  # 16-bit PNG of frame 4 primes the blend
    # without frame 4 to carry, the same frames come out differently: the context is what made them match
    assert np.abs(read_image(tmp_path / "fresh" / "o.0005.png").rgb - read_image(tmp_path / "full" / "o.0005.png").rgb).mean() > 5e-3


def test_both_ways_render_writes_every_frame_once_and_differs_from_forward(pan, tmp_path):
    from importlib import resources

    from stylereel.render.stylize import Stylizer

    for t, f in enumerate(pan):
        write_image(tmp_path / "in" / f"p.{t + 1:04d}.png", f, bit_depth=16)
    good = (tmp_path / "in" / "p.0005.png").read_bytes()
    (tmp_path / "in" / "p.0005.png").write_bytes(good[: len(good) // 2])  # a broken frame mid-shot: the blend restarts around it
    stylizer = Stylizer(str(resources.files("stylereel") / "assets" / "looks" / "starry_night"), device="cpu")
    src = str(tmp_path / "in" / "p.####.png")
    fw = stylizer.render(src, tmp_path / "fw" / "o.####.png", temporal=0.5, depth="16")
    bw = stylizer.render(src, tmp_path / "bw" / "o.####.png", temporal=0.5, both_ways=True, depth="16")
    assert sorted(bw.done) == bw.done == fw.done == [1, 2, 3, 4, 6, 7, 8] and list(bw.failed) == [5]
    log = json.loads((tmp_path / "bw" / "o.render.json").read_text())
    assert log["temporal_both_ways"] is True and log["frames"]["5"]["status"] == "failed"
    first = lambda d, n: read_image(tmp_path / d / f"o.{n:04d}.png").rgb  # noqa: E731
    assert np.abs(first("bw", 1) - first("fw", 1)).mean() > 1e-3  # frame 1 already looks ahead to frame 2
    plain = stylizer.render(src, tmp_path / "plain" / "o.####.png", frames="6", depth="16")
    assert plain.ok and np.abs(first("plain", 6) - first("fw", 6)).max() < 1e-4  # after the broken frame the blend starts afresh
    assert np.abs(first("bw", 6) - first("plain", 6)).mean() > 1e-3  # ... and, both ways, looks ahead to frame 7 at once
