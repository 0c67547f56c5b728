"""A render as parts: the plan (decided before any work, JSON, cut into chunks that separate
processes render at once), and the loop's progress and cancel callbacks."""

import json
import threading
from importlib import resources

import numpy as np
import pytest

from stylereel.io.frames import read_image, write_image
from stylereel.render.options import RenderError, RenderOptions
from stylereel.render.plan import RenderPlan, make_plan, prime_frames
from stylereel.render.stylize import Stylizer

LOOK = str(resources.files("stylereel") / "assets" / "looks" / "starry_night")
FRAMES = 12


@pytest.fixture
def shot(tmp_path, data_dir):
    """Twelve 96x64 frames panning 2 px per frame over a photo, with grain, as 16-bit PNGs."""
    photo, rng = read_image(data_dir / "home.png").rgb, np.random.default_rng(0)
    for t in range(FRAMES):
        crop = photo[40:104, 30 + 2 * t : 126 + 2 * t]
        write_image(tmp_path / "in" / f"p.{t + 1:04d}.png", np.clip(crop + rng.normal(0, 0.01, crop.shape), 0, 1), bit_depth=16)
    return str(tmp_path / "in" / "p.####.png")


@pytest.fixture(scope="module")
def stylizer():
    return Stylizer(LOOK, device="cpu")


def test_a_plan_says_what_a_render_will_do_and_survives_json(shot, tmp_path):
    out = tmp_path / "out" / "o.####.exr"
    (tmp_path / "out").mkdir()
    write_image(tmp_path / "out" / "o.0003.exr", np.zeros((64, 96, 3), np.float32))  # done already
    plan = make_plan(shot, out, "1-6", RenderOptions(temporal=0.5, depth="half"))
    assert plan.render == [1, 2, 4, 5, 6] and plan.skipped == [3]
    assert plan.context == [3] and plan.steady == []  # the blend picks up from frame 3's finished output
    back = RenderPlan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert back == plan and back.options.depth == "half"
    assert back.open().numbers == list(range(1, 7))
    with pytest.raises(RenderError, match="not a stylereel render plan"):
        RenderPlan.from_dict({"render": []})


def test_chunks_cover_the_frames_once_and_warm_their_blend_up(shot, tmp_path):
    plan = make_plan(shot, tmp_path / "o.####.png", options=RenderOptions(temporal=0.5))
    parts = plan.chunks(3)
    assert [p.render for p in parts] == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]
    assert prime_frames(0.5) == 7 and 0.5 ** 7 <= 0.01 < 0.5 ** 6
    assert parts[0].prime == [] and parts[1].prime == [1, 2, 3, 4] and parts[2].prime == [2, 3, 4, 5, 6, 7, 8]
    assert parts[2].steady == [1]  # the steadied plate warms up on the frames before the window
    plain = make_plan(shot, tmp_path / "p.####.png").chunks(5)  # no --temporal: nothing to warm up
    assert sum(len(p.render) for p in plain) == FRAMES and all(p.prime == [] for p in plain)
    with pytest.raises(RenderError, match="a movie is written by one process"):
        make_plan(shot, tmp_path / "o.mov").chunks(2)


def test_chunks_rendered_apart_match_the_whole_render(shot, tmp_path, stylizer):
    options = RenderOptions(temporal=0.5, depth="16")
    whole = stylizer.render(shot, tmp_path / "whole" / "o.####.png", options=options)
    assert whole.ok and len(whole.done) == FRAMES
    parts = make_plan(shot, tmp_path / "parts" / "o.####.png", options=options).chunks(2)
    for part in reversed(parts):  # in another order, each from its JSON, as separate workers would
        report = stylizer.run(RenderPlan.from_dict(json.loads(json.dumps(part.to_dict()))))
        assert report.ok and report.done == part.render
    for n in range(1, FRAMES + 1):
        a = read_image(tmp_path / "whole" / f"o.{n:04d}.png").rgb
        b = read_image(tmp_path / "parts" / f"o.{n:04d}.png").rgb
        assert np.abs(a - b).max() < 2e-3, n
    # without its warm-up window the second chunk's first frame comes out differently
    bare = make_plan(shot, tmp_path / "bare" / "o.####.png", "7-12", options)
    assert stylizer.run(bare).ok
    first = lambda d: read_image(tmp_path / d / "o.0007.png").rgb  # noqa: E731
    assert np.abs(first("bare") - first("whole")).mean() > 5 * np.abs(first("parts") - first("whole")).mean()


def test_progress_hears_of_every_frame_and_cancel_keeps_what_is_written(shot, tmp_path, stylizer):
    heard, stop = [], threading.Event()

    def progress(p):
        heard.append(p)
        if p.finished == 3:
            stop.set()

    out = tmp_path / "o.####.png"
    report = stylizer.render(shot, out, progress=progress, cancel=stop)
    assert report.cancelled and report.ok and 3 <= len(report.done) < FRAMES
    assert [p.finished for p in heard] == list(range(1, len(report.done) + 1))
    assert all(p.status == "done" and p.total == FRAMES for p in heard)
    assert sorted(int(f.stem.split(".")[1]) for f in tmp_path.glob("o.*.png")) == report.done  # every frame said done is on disk
    log = json.loads((tmp_path / "o.render.json").read_text())
    assert log["cancelled"] is True and "finished" not in log
    rest = stylizer.render(shot, out)
    assert rest.skipped == report.done and sorted(rest.done + rest.skipped) == list(range(1, FRAMES + 1))
    assert not list(tmp_path.glob(".*"))  # no claim or temp file left behind
