import json
import socket
from pathlib import Path

import pytest
import torch

from stylereel.nets.generator import build_generator
from stylereel.io.atomic import atomic_write
from stylereel.model import ModelError, load_model, resolve_model_dir, save_model


def test_model_round_trip(tmp_path):
    torch.manual_seed(0)
    g = build_generator("reel", channels=[8, 16, 32], n_blocks=2)
    for name, p in g.named_parameters():
        if name.endswith("gain"):
            p.data.normal_()
    save_model(tmp_path / "model", g, {"generator": {"name": "reel", "kwargs": {"channels": [8, 16, 32], "n_blocks": 2}}})
    net, info = load_model(tmp_path)  # the run dir resolves to run/model
    x = torch.rand(1, 3, 40, 56)
    with torch.no_grad():
        assert torch.equal(net(x), g.eval()(x))
    assert info["format"] == "stylereel-model/1"
    assert resolve_model_dir(tmp_path / "model" / "model.json") == tmp_path / "model"


def test_model_errors_name_the_file(tmp_path):
    with pytest.raises(ModelError, match="not a stylereel model"):
        load_model(tmp_path)
    g = build_generator("reel", n_blocks=1)
    save_model(tmp_path, g, {"generator": {"name": "reel", "kwargs": {"n_blocks": 1}}})
    info = json.loads((tmp_path / "model.json").read_text())
    info["generator"]["kwargs"] = {"n_blocks": 3}
    (tmp_path / "model.json").write_text(json.dumps(info))
    with pytest.raises(ModelError, match=r"generator.safetensors: weights do not match"):
        load_model(tmp_path)
    (tmp_path / "generator.safetensors").write_bytes(b"garbage")
    with pytest.raises(ModelError, match="generator.safetensors: cannot read weights"):
        load_model(tmp_path)
    (tmp_path / "model.json").write_text("{")
    with pytest.raises(ModelError, match="model.json: not valid JSON"):
        load_model(tmp_path)


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "state.pt"
    target.write_text("old")

    def boom(tmp):
        open(tmp, "w").write("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, boom)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.pt"]


def test_every_writer_names_its_temp_files_alike_and_stale_ones_are_cleaned(tmp_path):
    """Frames, movies, models and logs: one temp-name scheme, so one scan finds what a killed
    writer left; a live writer's temp (recent) is never taken."""
    import os
    import time

    from stylereel.io.atomic import remove_stale_temps, temp_path

    names = [temp_path(tmp_path / n).name for n in ("f.0001.exr", "look.mov", "generator.safetensors", "render.json")]
    assert names[0].startswith(".f.0001.tmp-") and names[0].endswith(".exr") and names[1].endswith(".mov")
    seen = []
    atomic_write(tmp_path / "model.json", lambda tmp: seen.append(Path(tmp).name) or Path(tmp).write_text("{}"))
    assert seen[0].startswith(".model.tmp-") and seen[0].endswith(".json")
    for n in names:
        (tmp_path / n).write_bytes(b"half")
        os.utime(tmp_path / n, (time.time() - 3600, time.time() - 3600))
    live = temp_path(tmp_path / "f.0002.exr")
    live.write_bytes(b"being written")
    assert remove_stale_temps(tmp_path) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, "model.json"])


def test_a_stale_claim_is_taken_over_with_the_half_written_frame_of_its_dead_holder(tmp_path):
    """A render killed mid-write leaves its claim and a temp frame; the render that takes the frame over
    removes that temp at once (a retried Ray task or farm task, seconds later), not STALE_TEMP_SECONDS on.
    A live holder's claim is respected, and other frames' temps are left alone."""
    import subprocess
    import sys

    from stylereel.io.atomic import temp_path
    from stylereel.io.claim import Claim

    frame = tmp_path / "a.1001.exr"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    claim = Claim(frame)
    claim.path.write_text(f"{socket.gethostname()} {dead.stdout.strip()} 0\n")
    half, other = temp_path(frame), temp_path(tmp_path / "a.1002.exr")
    half.write_bytes(b"half")
    other.write_bytes(b"another writer's")
    assert claim.take()
    assert not half.exists() and other.exists()
    assert not Claim(frame).take()  # this process holds it now, and is alive
    claim.release()
    assert sorted(p.name for p in tmp_path.iterdir()) == [other.name]


def test_a_claim_that_cannot_be_written_is_not_left_behind(tmp_path, monkeypatch):
    """On a full disk the claim file is created but its line cannot be written: the render reports the
    frame and the empty claim goes, so no later render takes it for someone else's."""
    import errno
    import os

    from stylereel.io.claim import Claim

    real = os.fdopen

    class Full:
        def __init__(self, fd, mode):
            self.f = real(fd, mode)

        def __enter__(self):
            return self

        def write(self, text):
            raise OSError(errno.ENOSPC, "No space left on device")

        def __exit__(self, *exc):
            self.f.close()

    monkeypatch.setattr(os, "fdopen", Full)
    with pytest.raises(OSError, match="No space left"):
        Claim(tmp_path / "a.1001.exr").take()
    assert list(tmp_path.iterdir()) == []


def test_style_grams_name_their_trunk_and_old_runs_keep_theirs(tmp_path, monkeypatch):
    """Grams record the trunk they were taken on; a model or resume state from before trunks
    could be chosen names none and is read as HED's VGG16, the only trunk there was."""
    from safetensors.torch import save_file

    from stylereel.config import default_config
    from stylereel.model import load_style_grams, model_trunk
    from stylereel.train.checkpoint import STATE_FILE, save_state, saved_config

    g = build_generator("reel", n_blocks=1)
    grams = {"relu1_1": torch.eye(3)}
    save_model(tmp_path / "new", g, {"generator": {"name": "reel", "kwargs": {"n_blocks": 1}}}, grams, "vgg19")
    assert load_style_grams(tmp_path / "new")[1] == "vgg19"
    with pytest.raises(ValueError, match="grams_trunk"):
        save_model(tmp_path / "bad", g, {"generator": {"name": "reel", "kwargs": {"n_blocks": 1}}}, grams)
    save_model(tmp_path / "old", g, {"generator": {"name": "reel", "kwargs": {"n_blocks": 1}}, "config": {"loss": {"style": {}}}})
    save_file(grams, str(tmp_path / "old" / "style_grams.safetensors"))  # written before grams named their trunk
    assert load_style_grams(tmp_path / "old")[1] == "hed_vgg16"
    assert model_trunk(json.loads((tmp_path / "old" / "model.json").read_text())) == "hed_vgg16"

    from stylereel import config

    monkeypatch.setitem(config.MODE_DEFAULTS["unpaired"]["loss"], "trunk", "vgg19")  # whatever today's default is
    old = default_config("unpaired").to_dict()
    del old["loss"]["trunk"]
    old["loss"]["content"]["layers"] = ["relu3_3"]
    run = tmp_path / "run"
    save_state(run / STATE_FILE, {"config": old, "step": 3})
    assert saved_config(run).loss["trunk"] == "hed_vgg16"


def test_a_saved_model_is_readable_by_others_as_the_umask_allows(tmp_path):
    # safetensors writes a file of its own, readable by its owner only: a render farm's user could not load the model
    import os
    import stat

    save_model(tmp_path / "m", build_generator("reel", channels=(8, 16, 32), n_blocks=1), {"generator": {"name": "reel", "kwargs": {}}},
               style_grams={"relu1_1": torch.zeros(2, 2)}, grams_trunk="vgg19")
    old = os.umask(0o022)
    os.umask(old)
    for name in ("generator.safetensors", "style_grams.safetensors", "model.json"):
        assert stat.S_IMODE((tmp_path / "m" / name).stat().st_mode) == 0o644 & ~old, name
