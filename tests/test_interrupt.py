"""Training stopped by Ctrl-C, a farm's SIGTERM or SIGKILL, and renders writing into a full
disk: real processes, real signals, real filesystems. Resuming must lose at most one
checkpoint interval and continue exactly; nothing written may be torn."""

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from stylereel.io.frames import read_image, write_image

STEPS, EVERY = 40, 4


def train_args(data_dir: Path, out: Path, *extra) -> list[str]:
    return [sys.executable, "-m", "stylereel.cli", "train", "--content", str(data_dir / "home.png"), "--style",
            str(data_dir / "starry_night.png"), "--out", str(out), "--steps", str(STEPS), f"--train.checkpoint_every={EVERY}",
            "--data.size=32", "--data.batch=1", "--data.max_side=64", "--data.style_size=64", *extra]


def saved_step(run: Path) -> int:
    from stylereel.train.checkpoint import state_step

    try:
        return state_step(run)
    except Exception:  # noqa: BLE001 - not written yet
        return -1


def start_and_stop(data_dir: Path, run: Path, sig: int, after_step: int = 2 * EVERY) -> subprocess.CompletedProcess:
    """Start a training run, send `sig` once a checkpoint at or past `after_step` exists."""
    proc = subprocess.Popen(train_args(data_dir, run), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while saved_step(run) < after_step and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The same run, never stopped."""
    data_dir = Path(__file__).parent / "data"
    run = tmp_path_factory.mktemp("reference") / "run"
    subprocess.run(train_args(data_dir, run), check=True, capture_output=True)
    return load_file(run / "model" / "generator.safetensors")


def assert_same_weights(run: Path, reference: dict) -> None:
    got = load_file(run / "model" / "generator.safetensors")
    assert got.keys() == reference.keys()
    assert all(np.array_equal(got[k], reference[k]) for k in got), "the resumed run drifted from the uninterrupted one"


@pytest.mark.parametrize("sig", [pytest.param(signal.SIGINT, marks=pytest.mark.slow), signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_training_stopped_by_a_signal_saves_its_step_and_resumes_exactly(sig, tmp_path, data_dir, reference):
    run = tmp_path / "run"
    r = start_and_stop(data_dir, run, sig)
    assert r.returncode == 130, r.stderr
    stopped = saved_step(run)
    assert 2 * EVERY <= stopped < STEPS, "the signal came after the run had finished: nothing was tested"
    assert f"stopped at step {stopped}, its state at step {stopped} is saved" in r.stderr
    assert "Traceback" not in r.stderr
    resumed = subprocess.run([sys.executable, "-m", "stylereel.cli", "train", "--out", str(run), "--resume"],
                             capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert_same_weights(run, reference)


def test_training_killed_loses_at_most_one_interval_and_resumes_exactly(tmp_path, data_dir, reference):
    run = tmp_path / "run"
    r = start_and_stop(data_dir, run, signal.SIGKILL)
    assert r.returncode == -signal.SIGKILL
    kept = saved_step(run)
    assert kept % EVERY == 0 and 2 * EVERY <= kept < STEPS
    assert not [p for p in (run / "checkpoints").iterdir() if p.name != "state.pt"], "a half-written state was left"
    resumed = subprocess.run([sys.executable, "-m", "stylereel.cli", "train", "--out", str(run), "--resume"],
                             capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert_same_weights(run, reference)


def _sequence(folder: Path, n: int, data_dir: Path) -> Path:
    rgb = read_image(data_dir / "home.png").rgb
    for i in range(1, n + 1):
        write_image(folder / f"plate.{i:04d}.png", np.roll(rgb, 3 * i, axis=1))
    return folder / "plate.####.png"


def _render(plate: Path, out: str, *extra, limit_bytes: int | None = None) -> subprocess.CompletedProcess:
    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.run([sys.executable, "-m", "stylereel.cli", "stylize", "--look", "ink", str(plate), "-o", out, *extra],
                          capture_output=True, text=True, preexec_fn=limit if limit_bytes else None)


def _assert_whole(folder: Path, names: list[str]) -> None:
    left = sorted(p.name for p in folder.iterdir() if p.name.startswith("."))
    assert not left, f"temp or claim files left: {left}"
    for name in names:
        read_image(folder / name)  # decodes whole


def test_a_write_the_system_refuses_fails_those_frames_and_keeps_the_old_ones(tmp_path, data_dir):
    """RLIMIT_FSIZE makes the kernel refuse every write past 2 KB (EFBIG), as a full disk would:
    each frame fails with the system's reason, an existing output frame stays byte for byte."""
    plate = _sequence(tmp_path / "in", 3, data_dir)
    out = tmp_path / "out"
    first = _render(plate, str(out / "o.####.png"), "--frames", "1")
    assert first.returncode == 0, first.stderr
    before = (out / "o.0001.png").read_bytes()
    r = _render(plate, str(out / "o.####.png"), "--overwrite", limit_bytes=2048)
    assert r.returncode == 3, r.stderr
    assert "File too large" in r.stderr and "Traceback" not in r.stderr
    assert (out / "o.0001.png").read_bytes() == before
    assert sorted(p.name for p in out.glob("o.*.png")) == ["o.0001.png"]
    _assert_whole(out, ["o.0001.png"])


@pytest.fixture
def small_disk(tmp_path):
    """A real 160 KiB filesystem (tmpfs); skipped where this process may not mount one."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160k", "tmpfs", str(mnt)], capture_output=True)
    if r.returncode:
        pytest.skip("cannot mount a small tmpfs here (needs CAP_SYS_ADMIN); the RLIMIT_FSIZE test covers the refusal")
    yield mnt
    subprocess.run(["umount", str(mnt)], check=True)


def test_a_render_into_a_full_disk_keeps_every_written_frame_whole(small_disk, tmp_path, data_dir):
    plate = _sequence(tmp_path / "in", 12, data_dir)  # 12 frames of ~40 KB: a few fit
    r = _render(plate, str(small_disk / "o.####.png"))
    assert r.returncode == 3, r.stderr
    assert "No space left on device" in r.stderr and "Traceback" not in r.stderr
    written = sorted(p.name for p in small_disk.glob("o.*.png"))
    assert 0 < len(written) < 12
    _assert_whole(small_disk, written)


def test_a_render_into_a_read_only_folder_is_refused_in_one_line(tmp_path, data_dir):
    plate = _sequence(tmp_path / "in", 2, data_dir)
    ro = tmp_path / "ro"
    ro.mkdir()
    if os.geteuid() == 0:  # root writes through file modes: a read-only mount, or skip
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(ro)], capture_output=True)
        if r.returncode:
            pytest.skip("running as root without mount: no folder here is read-only")
    else:
        ro.chmod(0o555)
    try:
        r = _render(plate, str(ro / "o.####.png"))
        err = r.stderr.strip()
        assert r.returncode in (3, 4) and "Traceback" not in err, err
        assert "Read-only file system" in err or "Permission denied" in err
        assert not any(ro.iterdir())
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", str(ro)])
        else:
            ro.chmod(0o755)


def test_a_reader_beside_a_render_never_sees_a_torn_frame(tmp_path, data_dir):
    """Another process (here, this one) reading the output folder while frames land: every
    frame it can see decodes whole (each is renamed into place complete)."""
    plate = _sequence(tmp_path / "in", 16, data_dir)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "stylereel.cli", "stylize", "--look", "ink", str(plate), "-o",
                             str(out / "o.####.png")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    reads = 0
    while proc.poll() is None:
        for p in sorted(out.glob("o.*.png")) if out.is_dir() else []:
            read_image(p)  # raises on a partial file
            reads += 1
        time.sleep(0.01)
    assert proc.returncode == 0, proc.stderr.read()
    assert reads > 0 and len(list(out.glob("o.*.png"))) == 16


def test_a_render_log_that_cannot_be_written_does_not_stop_the_frames(tmp_path, data_dir, monkeypatch):
    import errno

    from stylereel.looks import look_dir
    from stylereel.render import shot
    from stylereel.render.stylize import Stylizer

    def full(path, text):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(shot, "atomic_write_text", full)
    plate = _sequence(tmp_path / "in", 2, data_dir)
    report = Stylizer(look_dir("starry_night"), device="cpu").render(str(plate), tmp_path / "out" / "o.####.png")
    assert report.ok and report.done == [1, 2]
    assert "No space left on device" in report.log_problem and "log " in report.summary()
    _assert_whole(tmp_path / "out", ["o.0001.png", "o.0002.png"])
