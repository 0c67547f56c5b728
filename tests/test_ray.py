"""Rendering on Ray: `stylereel stylize ... --ray ADDRESS` against a real Ray head started here on
127.0.0.1 with two worker CPUs. Chunks of frames run as Ray tasks; a worker killed with SIGKILL in
the middle of a chunk has its task retried, and every frame still comes out once, whole, and equal to
a local render of the same shot."""

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from stylereel.io.frames import read_image, write_image

ray = pytest.importorskip("ray", reason="needs Ray (pip install 'stylereel[scale]')")
psutil = pytest.importorskip("psutil")

FRAMES = range(1001, 1025)
TASK = "ray::stylereel.render_chunk"  # the process title of a worker running a chunk


# The head asks for a token (Ray's token authentication); every driver here gives it, as a user sets them
ENV = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}


def cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "stylereel.cli", *map(str, args)], capture_output=True, text=True, env=ENV, **kw)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def head():
    """A Ray head on 127.0.0.1 with 2 CPUs (so 2 workers at once), in its own temp folder; stopped after."""
    port = free_port()
    temp = tempfile.mkdtemp(prefix="ray")  # short: Ray's sockets live under it
    ray_cli = str(Path(sys.executable).parent / "ray")
    start = subprocess.Popen([ray_cli, "start", "--head", "--block", "--node-ip-address", "127.0.0.1", "--port", str(port),
                              "--num-cpus", "2", "--num-gpus", "0", "--ray-client-server-port", str(free_port()), "--include-dashboard=false", "--disable-usage-stats",
                              "--object-store-memory", str(100 * 2**20), "--temp-dir", temp],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True, env=ENV)
    address = f"127.0.0.1:{port}"
    try:
        for _ in range(120):
            if start.poll() is not None:
                pytest.fail(f"ray start exited: {start.stderr.read().decode()[-2000:]}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.5)
        yield address
    finally:
        os.killpg(start.pid, signal.SIGKILL)  # the head, its workers and agents: one process group
        start.wait(60)
        for p in psutil.process_iter(["cmdline"]):  # nothing of this head left running
            if any(temp in part for part in (p.info["cmdline"] or [])):
                p.kill()
        shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture(scope="module")
def shot(tmp_path_factory):
    """24 frames of 96x64 panning one pixel a frame over a photo, numbered 1001-1024."""
    folder = tmp_path_factory.mktemp("shot")
    photo = read_image(Path(__file__).parent / "data" / "home.png").rgb
    for k, n in enumerate(FRAMES):
        write_image(folder / "plates" / f"plate.{n}.png", photo[40:104, 10 + k : 106 + k], bit_depth=16)
    return folder / "plates" / "plate.####.png"


def frames_of(folder: Path, name: str) -> dict[int, np.ndarray]:
    return {n: read_image(folder / f"{name}.{n}.exr").rgb for n in FRAMES}


def test_a_ray_render_equals_a_local_one(head, shot, tmp_path):
    r = cli("stylize", "--look", "starry_night", shot, "-o", tmp_path / "ray" / "a.####.exr", "--ray", head, "--chunk", 6)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "24 rendered, 0 skipped" in r.stdout and r.stderr.count("settled on") == 4
    assert re.search(r"(fp32|bf16) on cpu, (avx2|avx512|amx) kernels on the Ray workers", r.stdout), r.stdout  # what the workers ran
    r = cli("stylize", "--look", "starry_night", shot, "-o", tmp_path / "local" / "a.####.exr")
    assert r.returncode == 0, r.stderr
    ours, local = frames_of(tmp_path / "ray", "a"), frames_of(tmp_path / "local", "a")
    for n in FRAMES:
        assert np.array_equal(ours[n], local[n]), n  # each frame on its own: the same engine gives the same pixels

    # run again: every frame is there already, and no task renders one
    r = cli("stylize", "--look", "starry_night", shot, "-o", tmp_path / "ray" / "a.####.exr", "--ray", head)
    assert r.returncode == 0 and "0 rendered, 24 skipped" in r.stdout, r.stdout + r.stderr[-2000:]


@pytest.mark.slow
def test_a_worker_killed_mid_chunk_loses_no_frame(head, shot, tmp_path):
    out = tmp_path / "ray"
    render = subprocess.Popen([sys.executable, "-m", "stylereel.cli", "stylize", "--look", "starry_night", str(shot), "-o",
                               str(out / "a.####.exr"), "--temporal", "--ray", head, "--chunk", "4"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    killed = None
    deadline = time.monotonic() + 300
    while killed is None and render.poll() is None and time.monotonic() < deadline:
        written = list(out.glob("a.*.exr")) if out.is_dir() else []
        busy = [p for p in psutil.process_iter(["cmdline"]) if (p.info["cmdline"] or [""])[0].startswith(TASK)]
        if len(written) >= 3 and busy:  # frames are being written: kill a worker in the middle of its chunk
            busy[0].kill()
            busy[0].wait(30)
            killed = busy[0].pid
        time.sleep(0.02)
    assert killed is not None, "no worker was caught rendering a chunk"
    # what was written up to the kill stays as it is: nobody renders those frames again
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("a.*.exr")}
    stdout, stderr = render.communicate(timeout=300)
    assert render.returncode == 0, stderr[-3000:]
    assert "24 rendered, 0 skipped" in stdout, stdout + stderr[-2000:]
    assert before == {name: (out / name).stat().st_mtime_ns for name in before}

    leftovers = [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert leftovers == [], leftovers  # no claim, no half-written frame
    log = json.loads((out / "a.render.json").read_text())
    assert sorted(int(k) for k, v in log["frames"].items() if v["status"] == "done") == list(FRAMES)

    r = cli("stylize", "--look", "starry_night", shot, "-o", tmp_path / "local" / "a.####.exr", "--temporal")
    assert r.returncode == 0, r.stderr
    ours, local = frames_of(out, "a"), frames_of(tmp_path / "local", "a")
    # Chunks render the frames before them unwritten, and the retried chunk takes the blend up from the last
    # frame the killed worker wrote (read back from half-float EXR): equal within that rounding.
    for n in FRAMES:
        assert np.abs(ours[n] - local[n]).max() < 2e-3, n


def test_ray_refuses_what_it_cannot_split(head, shot, tmp_path):
    r = cli("stylize", "--look", "starry_night", shot, "-o", tmp_path / "a.mov", "--ray", head)
    assert r.returncode == 2 and "a movie is written by one process" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = cli("stylize", "--look", "starry_night", shot, "-o", tmp_path / "a.####.exr", "--both-ways", "--ray", head)
    assert r.returncode == 2 and "--both-ways" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = cli("stylize", "--look", "starry_night", shot, "-o", tmp_path / "a.####.exr", "--ray", "127.0.0.1:1")
    assert r.returncode == 2 and "no Ray cluster there" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "a.mov").exists() and not list(tmp_path.glob("a.*.exr"))
