"""Shots through the installed CLI: EXR sequences and movies rendered in the shipped
look, resumed, with bad frames reported and the rest rendered; training and eval on
shots."""

import json
import os
import subprocess
import sys
from fractions import Fraction
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from stylereel.io.color import SRGB, convert
from stylereel.io.frames import read_image, write_image
from stylereel.io.video import probe_movie, read_movie
from test_io_formats import make_movie, read_exr_channels, write_exr

LOOK = Path(str(resources.files("stylereel") / "assets" / "looks" / "starry_night"))


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "stylereel.cli", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def one_line_error(r, *needles, code=2):
    err = r.stderr.strip()
    assert r.returncode == code, (r.returncode, r.stdout, err)
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    for n in needles:
        assert n in err, err


@pytest.fixture
def exr_shot(tmp_path, data_dir):
    """Five 64x48 scene-linear frames: premultiplied alpha with a hole, a depth layer, highlights."""
    photo = read_image(data_dir / "home.png").rgb[:48, :64]
    lin = convert(photo, SRGB, "ACEScg")
    h, w = lin.shape[:2]
    alpha = np.ones((h, w), np.float32)
    alpha[:, :10] = 0
    alpha[:, 10:20] = np.linspace(0, 1, 10)
    for n in range(1001, 1006):
        rgb = lin * (1 + 0.05 * (n - 1001))
        rgb[30:34, 40:44] = 12.0  # a highlight far above 1
        write_exr(tmp_path / f"plate.{n}.exr", rgb * alpha[..., None], alpha, {"depth.Z": np.full((h, w), n, np.float32)},
                  {"framesPerSecond": Fraction(24000, 1001), "pixelAspectRatio": 1.0})
    return tmp_path


def test_exr_sequence_renders_resumes_and_keeps_everything_but_the_look(exr_shot):
    out = exr_shot / "out" / "plate_look.####.exr"
    r = cli("stylize", LOOK, exr_shot / "plate.####.exr", "--frames", "1001-1004", "-o", out)
    assert r.returncode == 0, r.stderr
    assert "4 rendered, 0 skipped" in r.stdout
    for n in range(1001, 1005):
        hd_in, ch_in = read_exr_channels(exr_shot / f"plate.{n}.exr")
        hd, ch = read_exr_channels(exr_shot / "out" / f"plate_look.{n}.exr")
        assert ch["R"].dtype == np.float16  # half in, half out
        assert np.array_equal(ch["A"], ch_in["A"]) and np.array_equal(ch["depth.Z"], ch_in["depth.Z"])
        hole = ch_in["A"] == 0
        assert all(np.all(ch[c][hole] == 0) for c in "RGB")  # premultiplied: no colour where there is no alpha
        assert not np.allclose(ch["R"][~hole], ch_in["R"][~hole], atol=0.02)  # the look is there
        assert hd["framesPerSecond"] == Fraction(24000, 1001) and hd["compression"] == hd_in["compression"]
        assert ch["G"][31, 41] > 4.0  # the highlight above 1.0 survives
    assert not (exr_shot / "out" / "plate_look.1005.exr").exists()

    log = json.loads((exr_shot / "out" / "plate_look.render.json").read_text())
    assert log["colorspace_in"] == "ACEScg" and log["colorspace_out"] == "ACEScg"
    assert log["input"]["frames"] == "1001-1004" and log["input"]["fps"] == "24000/1001"
    assert {k: v["status"] for k, v in log["frames"].items()} == {str(n): "done" for n in range(1001, 1005)}

    # Resume: the frames already done are skipped untouched; a missing one is rendered.
    stamps = {n: os.stat(exr_shot / "out" / f"plate_look.{n}.exr").st_mtime_ns for n in range(1001, 1005)}
    (exr_shot / "out" / "plate_look.1002.exr").unlink()
    r = cli("stylize", LOOK, f"{exr_shot / 'plate.####.exr'}:1001-1005", "-o", out)
    assert r.returncode == 0 and "2 rendered, 3 skipped" in r.stdout, r.stdout + r.stderr
    for n in (1001, 1003, 1004):
        assert os.stat(exr_shot / "out" / f"plate_look.{n}.exr").st_mtime_ns == stamps[n]
    r = cli("stylize", LOOK, exr_shot / "plate.####.exr", "-o", out, "--overwrite")
    assert "5 rendered, 0 skipped" in r.stdout
    assert not [p for p in (exr_shot / "out").iterdir() if p.name.startswith(".")]  # no temp files left
    r = cli("stylize", LOOK, exr_shot / "plate.####.exr:1001", "--depth", "float", "-o", exr_shot / "f" / "x.####.exr")
    assert r.returncode == 0 and read_exr_channels(exr_shot / "f" / "x.1001.exr")[1]["R"].dtype == np.float32
    r = cli("stylize", LOOK, exr_shot / "plate.####.exr:1001", "--depth", "16", "-o", exr_shot / "f" / "x.####.dpx")
    assert r.returncode == 0 and read_image(exr_shot / "f" / "x.1001.dpx").sample == "uint16"
    one_line_error(cli("stylize", LOOK, exr_shot / "plate.####.exr:1001", "--depth", "10", "-o", exr_shot / "f" / "y.####.dpx"),
                   "DPX holds alpha at 8 or 16 bits only")


def test_a_bad_frame_is_reported_and_the_rest_render(exr_shot):
    good = (exr_shot / "plate.1003.exr").read_bytes()
    (exr_shot / "plate.1003.exr").write_bytes(good[: len(good) // 2])  # header intact, pixels cut off
    out = exr_shot / "out" / "look.####.exr"
    r = cli("stylize", LOOK, exr_shot / "plate.####.exr", "-o", out)
    assert r.returncode == 3, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "plate.1003.exr: not a readable EXR" in r.stderr
    assert "4 rendered, 0 skipped (already done), 1 failed: 1003" in r.stdout
    assert sorted(p.name for p in (exr_shot / "out").glob("look.*.exr")) == [f"look.{n}.exr" for n in (1001, 1002, 1004, 1005)]
    log = json.loads((exr_shot / "out" / "look.render.json").read_text())
    assert log["frames"]["1003"]["status"] == "failed" and "plate.1003.exr" in log["frames"]["1003"]["error"]
    assert (exr_shot / "plate.1003.exr").read_bytes() == good[: len(good) // 2]  # the input is untouched


def test_problems_with_the_whole_shot_are_refused_before_any_work(exr_shot, tmp_path):
    out = exr_shot / "out" / "look.####.exr"
    r = cli("stylize", LOOK, exr_shot / "plate.####.exr", "--frames", "1001-1010x2", "-o", out)
    one_line_error(r, "plate.####.exr", "2 of 5 frames missing: 1007,1009")
    write_exr(exr_shot / "plate.1006.exr", np.zeros((20, 64, 3), np.float32))
    r = cli("stylize", LOOK, exr_shot / "plate.####.exr", "-o", out)
    one_line_error(r, "1006: 64x20x3")
    r = cli("stylize", LOOK, exr_shot / "plate.####.exr", "--frames", "1001-1003x", "-o", out)
    one_line_error(r, "1001-1003x")
    r = cli("stylize", LOOK, exr_shot / "plate.####.exr:1001-1002", "--colorspace-in", "ACEScgg", "-o", out)
    one_line_error(r, "did you mean 'ACEScg'")
    r = cli("stylize", LOOK, exr_shot / "plate.####.exr:1001-1002", "-o", exr_shot / "plate.####.exr")
    one_line_error(r, "would overwrite the input")
    r = cli("stylize", LOOK, exr_shot / "plate.####.exr:1001-1002", "--depth", "10", "-o", out)
    one_line_error(r, ".exr cannot store uint10 samples")
    assert not (exr_shot / "out").exists()


def test_movie_to_movie_keeps_rate_timecode_audio_and_alpha(tmp_path):
    import time

    src = make_movie(tmp_path / "plate.mov", n=6)
    stale = tmp_path / ".look.tmp-0badf00d.mov"  # a movie a render killed long ago left half-written
    stale.write_bytes(b"half a movie")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    r = cli("stylize", LOOK, src, "-o", tmp_path / "look.mov")
    assert r.returncode == 0, r.stderr
    assert not stale.exists() and not list(tmp_path.glob(".look.tmp-*"))
    info = probe_movie(tmp_path / "look.mov")
    assert (info.fps, info.timecode, info.has_alpha, info.has_audio, info.frame_count) == (Fraction(24000, 1001), "01:00:10:05", True, True, 6)
    a_in = [a for _, _, a in read_movie(src)]
    a_out = [a for _, _, a in read_movie(tmp_path / "look.mov")]
    assert max(np.abs(x - y).max() for x, y in zip(a_in, a_out)) < 1 / 1023

    r = cli("stylize", LOOK, f"{src}:3-6", "-o", tmp_path / "look.mp4")
    assert r.returncode == 0, r.stderr
    info = probe_movie(tmp_path / "look.mp4")
    assert (info.codec, info.frame_count, info.timecode) == ("h264", 4, "01:00:10:07")  # starts two frames in
    r = cli("stylize", LOOK, src, "--frames", "2-3", "-o", tmp_path / "frames" / "look.%04d.png")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "frames").glob("*.png")) == ["look.0002.png", "look.0003.png"]
    assert read_image(tmp_path / "frames" / "look.0002.png").alpha is not None  # straight alpha carried into PNG


def test_python_api_renders_a_sequence(exr_shot):
    from stylereel.render.stylize import Stylizer

    report = Stylizer(LOOK, device="cpu").render(str(exr_shot / "plate.####.exr"), exr_shot / "api" / "x.####.exr", frames="1002-1003")
    assert report.ok and report.done == [1002, 1003]
    assert (exr_shot / "api" / "x.render.json").is_file()


@pytest.mark.slow
def test_training_and_eval_take_shots(exr_shot, tmp_path, data_dir):
    movie = make_movie(tmp_path / "plate.mov", n=6, audio=False, alpha=False)
    r = cli("train", "--out", tmp_path / "u", "--content", f"{exr_shot / 'plate.####.exr'}:1001-1003", f"{movie}:1-6x2",
            "--style", data_dir / "starry_night.png", "--steps", "2", "--size", "32")
    assert r.returncode == 0, r.stderr
    r = cli("eval", tmp_path / "u", "--content", f"{movie}:2-3", "--size", "32", "--json", tmp_path / "u.json")
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "u.json").read_text())["count"] == 2

    painted = tmp_path / "painted"
    for n in (2, 5):  # "painted" keyframes numbered like the movie's frames
        rgb = next(f for i, f, a in read_movie(movie, {n}))
        write_image(painted / f"key.{n:04d}.png", 1 - rgb)
    r = cli("train", "--out", tmp_path / "p", "--pairs", f"{movie}={painted / 'key.####.png'}", "--steps", "2", "--size", "32")
    assert r.returncode == 0, r.stderr
    r = cli("eval", tmp_path / "p", "--pairs", f"{movie}={painted / 'key.####.png'}", "--json", tmp_path / "p.json")
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "p.json").read_text())["count"] == 2
    r = cli("train", "--out", tmp_path / "q", "--pairs", f"{movie}={tmp_path / 'nowhere' / 'key.####.png'}", "--steps", "1")
    one_line_error(r, "nowhere")


def test_guided_keyframe_look_trains_and_renders_with_its_keyframes(tmp_path):
    movie = make_movie(tmp_path / "plate.mov", n=6, audio=False, alpha=False)
    for n in (2, 5):
        rgb = next(f for i, f, a in read_movie(movie, {n}))
        write_image(tmp_path / "painted" / f"key.{n:04d}.png", 1 - rgb)
    keys = tmp_path / "painted" / "key.####.png"
    r = cli("train", "--out", tmp_path / "g", "--pairs", f"{movie}={keys}", "--data.mode=guided", "--steps", "2", "--size", "32")
    assert r.returncode == 0, r.stderr
    r = cli("stylize", tmp_path / "g", movie, "--keyframes", keys, "-o", tmp_path / "out" / "f.####.png")
    assert r.returncode == 0 and "6 rendered" in r.stdout, r.stderr
    one_line_error(cli("stylize", LOOK, movie, "--keyframes", keys, "-o", tmp_path / "x" / "f.####.png"), "takes no keyframes")
    one_line_error(cli("stylize", tmp_path / "g", f"{movie}:1-4", "--keyframes", keys, "-o", tmp_path / "y" / "f.####.png"),
                   "keyframes 5 are not frames")
    r = cli("train", "--out", tmp_path / "h", "--content", movie, "--style", keys.parent / "key.0002.png",
            "--model.generator=reel_guided", "--steps", "1")
    one_line_error(r, "reel_guided also takes guide")


def test_a_render_killed_mid_shot_finishes_on_rerun_with_every_frame_once(tmp_path, data_dir):
    import signal
    import time

    photo = read_image(data_dir / "home.png").rgb
    for n in range(1, 41):
        write_image(tmp_path / "in" / f"p.{n:04d}.png", np.roll(photo, n, axis=1), bit_depth=16)
    out = tmp_path / "out"
    stale = out / ".o.0040.tmp-0badf00d.png"  # what a writer killed long ago left half-written
    out.mkdir()
    stale.write_bytes(b"\x89PNG half")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    fresh = out / ".o.0039.tmp-c0ffee00.png"  # a live writer's temp: never taken
    fresh.write_bytes(b"\x89PNG live")
    cmd = [sys.executable, "-m", "stylereel.cli", "stylize", str(LOOK), str(tmp_path / "in" / "p.####.png"), "-o", str(out / "o.####.png")]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while len(list(out.glob("o.*.png"))) < 3 and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = sorted(out.glob("o.*.png"))
    assert 3 <= len(done) < 40, "the render was not stopped part-way; the test proves nothing"
    for p in done:
        assert read_image(p).rgb.shape == photo.shape  # nothing half-written under a frame's name
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "skipped (already done)" in r.stdout and sorted(p.name for p in out.glob("o.*.png")) == [f"o.{n:04d}.png" for n in range(1, 41)]
    assert not stale.exists() and fresh.exists()
    assert all(read_image(p).rgb.shape == photo.shape for p in out.glob("o.*.png"))


def test_two_renders_into_one_folder_share_the_shot_without_rendering_a_frame_twice(tmp_path, data_dir):
    import re

    photo = np.tile(read_image(data_dir / "home.png").rgb, (4, 4, 1))  # 640x480: long enough a render for both to overlap
    for n in range(1, 61):
        write_image(tmp_path / "in" / f"p.{n:04d}.png", np.roll(photo, n, axis=1))
    cmd = [sys.executable, "-m", "stylereel.cli", "stylize", str(LOOK), str(tmp_path / "in" / "p.####.png"),
           "-o", str(tmp_path / "out" / "o.####.png")]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate() for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    rendered = [int(re.search(r"(\d+) rendered", o).group(1)) for o, _ in outs]
    assert sum(rendered) == 60 and min(rendered) > 0, rendered  # both worked, and every frame was rendered once
    assert sorted(p.name for p in (tmp_path / "out").glob("o.*.png")) == [f"o.{n:04d}.png" for n in range(1, 61)]
    assert not list((tmp_path / "out").glob(".*"))  # no claims or temp files left behind
    assert all(read_image(p).rgb.shape == photo.shape for p in (tmp_path / "out").glob("o.*.png"))
    log = json.loads((tmp_path / "out" / "o.render.json").read_text())  # the shared log: both renders' records
    assert sorted(int(k) for k, v in log["frames"].items() if v["status"] == "done") == list(range(1, 61))


def test_training_sees_an_exr_plate_as_the_render_does(tmp_path):
    """One colour path (io/working.py): the pixels a look trains on from a premultiplied,
    scene-linear EXR with soft alpha are exactly those the render gives the network."""
    from stylereel.data.images import frame_tensor
    from stylereel.io.color import WorkingEncoding, default_space
    from stylereel.render.stylize import Stylizer

    rng = np.random.default_rng(3)
    straight = (rng.random((40, 48, 3)) * 2.5).astype(np.float32)  # scene-linear, highlights above 1
    alpha = np.clip(rng.random((40, 48)) * 1.5 - 0.25, 0, 1).astype(np.float32)  # soft, with holes
    write_image(tmp_path / "plate.exr", straight * alpha[..., None], alpha=alpha, sample="float")
    seen = []

    class Watched(Stylizer):
        def __call__(self, rgb, **extras):
            seen.append(np.array(rgb))
            return super().__call__(rgb, **extras)

    Watched(LOOK, device="cpu").render([tmp_path / "plate.exr"], tmp_path / "out.exr")
    trained = frame_tensor(read_image(tmp_path / "plate.exr")).permute(1, 2, 0).numpy()
    assert len(seen) == 1 and np.array_equal(seen[0], trained)
    premultiplied = WorkingEncoding(default_space(True)).encode(read_image(tmp_path / "plate.exr").rgb)[0]
    assert np.abs(trained - premultiplied).max() > 0.1  # what training saw before: darkened by alpha
