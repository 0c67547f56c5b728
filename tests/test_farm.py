"""Render-farm jobs: `stylereel farm-job` writes an Open Job Description template that `openjd run`
executes here, task by task, as a farm would; the frames equal a local render of the same shot;
a retried task skips what is done; bad requests are refused with one line before anything runs."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from stylereel.io.frames import read_image, write_image

OPENJD = shutil.which("openjd", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
STYLEREEL = str(Path(sys.executable).parent / "stylereel")
FRAMES = range(1001, 1011)


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "stylereel.cli", *map(str, args)], capture_output=True, text=True, cwd=cwd)


@pytest.fixture
def shot(tmp_path, data_dir):
    """Ten 96x64 frames panning 2 px per frame over a photo, numbered 1001-1010."""
    photo = read_image(data_dir / "home.png").rgb
    for k, n in enumerate(FRAMES):
        write_image(tmp_path / "plates" / f"plate.{n}.png", photo[40:104, 30 + 2 * k : 126 + 2 * k], bit_depth=16)
    return tmp_path / "plates" / "plate.####.png"


def openjd_run(job: Path, *extra: str) -> subprocess.CompletedProcess:
    params = job.with_name(f"{job.stem}.params.yaml")
    return subprocess.run([OPENJD, "run", str(job), "-p", f"file://{params}", "-p", f"Stylereel={STYLEREEL}", *extra],
                          capture_output=True, text=True)


@pytest.mark.skipif(OPENJD is None, reason="needs the openjd CLI (pip install 'stylereel[scale]')")
def test_an_openjd_job_renders_the_shot_as_a_local_render_does(shot, tmp_path):
    job = tmp_path / "job.yaml"
    out = tmp_path / "farm" / "plate_look.####.exr"
    r = cli("farm-job", "starry_night", shot, "--output", out, "--chunk", 5, "-o", job, "--", "--temporal")
    assert r.returncode == 0, r.stderr
    assert "10 frames" in r.stdout and "2 tasks" in r.stdout
    template = yaml.safe_load(job.read_text())
    frame = template["steps"][0]["parameterSpace"]["taskParameterDefinitions"][0]
    assert frame["type"] == "CHUNK[INT]" and frame["range"] == "{{Param.Frames}}" and "TASK_CHUNKING" in template["extensions"]

    done = openjd_run(job)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    rendered = [int(m) for m in re.findall(r": (\d+) rendered, ", done.stdout)]
    assert rendered == [5, 5], rendered  # two tasks of 5 frames
    log = json.loads((tmp_path / "farm" / "plate_look.render.json").read_text())  # one log, every task's frames in it
    assert sorted(int(k) for k, v in log["frames"].items() if v["status"] == "done") == list(FRAMES)

    local = tmp_path / "local" / "plate_look.####.exr"
    r = cli("stylize", "--look", "starry_night", shot, "-o", local, "--temporal")
    assert r.returncode == 0, r.stderr
    for n in FRAMES:  # a chunk renders the frames before it unwritten first: the seams do not show
        a = read_image(tmp_path / "farm" / f"plate_look.{n}.exr").rgb
        b = read_image(tmp_path / "local" / f"plate_look.{n}.exr").rgb
        assert np.abs(a - b).max() < 2e-3, n

    # A task retried (the farm lost its worker after it wrote its frames) skips them
    before = {n: (tmp_path / "farm" / f"plate_look.{n}.exr").stat().st_mtime_ns for n in FRAMES}
    again = openjd_run(job, "--task-param", "Frame=1006-1010")
    assert again.returncode == 0, again.stdout[-2000:]
    assert "0 rendered, 5 skipped" in again.stdout
    assert before == {n: (tmp_path / "farm" / f"plate_look.{n}.exr").stat().st_mtime_ns for n in FRAMES}


def test_a_farm_task_renders_only_its_frames(shot, tmp_path):
    r = cli("stylize", "--look", "starry_night", shot, "--only", "1004-1005", "-o", tmp_path / "o" / "o.####.png", "--temporal")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "o").glob("*.png")) == ["o.1004.png", "o.1005.png"]


@pytest.mark.parametrize("args, message", [
    (["--output", "{tmp}/o.mov"], "a movie is written by one process"),
    (["--output", "{tmp}/o.####.png", "--chunk", "0"], "--chunk: expected at least 1"),
    (["--output", "{tmp}/o.####.png", "--", "--frames", "1001-1002"], "--frames: the job sets it for each task"),
    (["--output", "{tmp}/o.####.png", "--", "--both-ways"], "--both-ways: the job sets it"),
    (["--output", "{tmp}/o.####.png", "--", "--tempral"], "stylize options after --: No such option: --tempral"),
    (["--output", "{tmp}/o.####.png", "--frames", "2001-2005"], "2001"),
])
def test_a_bad_farm_job_is_refused_in_one_line(shot, tmp_path, args, message):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    r = cli("farm-job", "starry_night", shot, "-o", tmp_path / "job.yaml", *args)
    assert r.returncode != 0
    assert message in r.stderr and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "job.yaml").exists()


def test_an_unknown_model_is_refused_in_one_line(shot, tmp_path):
    r = cli("farm-job", "starry_nite", shot, "--output", tmp_path / "o.####.png", "-o", tmp_path / "job.yaml")
    assert r.returncode != 0 and "starry_nite" in r.stderr and "Traceback" not in r.stderr


def test_the_chunk_size_defaults_to_10_frames_and_to_50_under_temporal(shot, tmp_path):
    """Under --temporal each task first renders 6 frames unwritten and warms the steadied plate on up to 66
    plates: larger tasks pay that less often."""
    for extra, size in (([], 10), (["--", "--temporal"], 50), (["--", "--temporal-strength=0.3"], 50)):
        job = tmp_path / f"job{size}{len(extra)}.yaml"
        r = cli("farm-job", "starry_night", shot, "--output", tmp_path / "o.####.exr", "-o", job, *extra)
        assert r.returncode == 0, r.stderr
        chunk = next(p for p in yaml.safe_load(job.read_text())["parameterDefinitions"] if p["name"] == "ChunkSize")
        assert chunk["default"] == size, extra
