"""A run that starts from a trained model (`--model.init=MODEL`): a distilled student finished on
its look's own losses, a look taken further on other images."""

import subprocess
import sys

import torch

from stylereel.looks import look_dir
from stylereel.model import load_model
from stylereel.run import build_config
from stylereel.train.trainer import Trainer

SMALL = "{channels: [8, 16, 32], n_blocks: 1}"
TINY = ["data.size=48", "data.batch=2", "data.max_side=96", "train.checkpoint_every=1000", "train.log_every=1000"]


def cli(*args):
    return subprocess.run([sys.executable, "-m", "stylereel.cli", *map(str, args)], capture_output=True, text=True)


def _student(tmp_path, data_dir):
    cfg = build_config(content=[data_dir / "fruits.png"], distill="starry_night",
                       overrides=TINY + [f"model.generator_kwargs={SMALL}", "train.steps=2"])
    Trainer(cfg, tmp_path / "student").fit()
    return tmp_path / "student"


def test_a_run_starts_from_the_models_weights_and_shape(tmp_path, data_dir):
    student = _student(tmp_path, data_dir)
    net, info = load_model(student)
    # the look's own recipe (painting, critic) on the student's network: the shape comes from the model
    cfg = build_config(content=[data_dir / "fruits.png"], style=[data_dir / "starry_night.png"],
                       overrides=TINY + [f"model.init={student}", "train.steps=1"])
    assert cfg.model.init == str((student / "model").resolve())
    assert cfg.model.generator == "reel" and cfg.model.generator_kwargs == info["generator"]["kwargs"]
    t = Trainer(cfg, tmp_path / "finish")
    for trained in (t.G, t.G_ema):
        own = trained.state_dict()
        assert all(torch.equal(own[k].cpu(), v) for k, v in net.state_dict().items())
    assert t.D is not None  # its own recipe: the critic trains from scratch beside the started generator
    moved, _ = load_model(t.fit())
    assert any(not torch.equal(a, b) for a, b in zip(moved.state_dict().values(), net.state_dict().values()))
    # repeating the model's own shape is allowed
    same = build_config(content=[data_dir / "fruits.png"], style=[data_dir / "starry_night.png"],
                        overrides=[f"model.init={student}", f"model.generator_kwargs={SMALL}"])
    assert same.model.generator_kwargs == cfg.model.generator_kwargs


def test_a_built_in_look_is_a_starting_point(data_dir):
    cfg = build_config(content=[data_dir / "fruits.png"], style=[data_dir / "starry_night.png"],
                       overrides=["model.init=starry_night"])
    assert cfg.model.init == str(look_dir("starry_night").resolve())


def test_init_errors_are_one_line(tmp_path, data_dir):
    student = _student(tmp_path, data_dir)
    photo, painting = data_dir / "home.png", data_dir / "starry_night.png"
    cases = {
        ("--model.init=stary_night",): "did you mean 'starry_night'",
        (f"--model.init={tmp_path}",): "not a stylereel model",
        (f"--model.init={student}", "--model.generator_kwargs={n_blocks: 6}"): "would change it",
        ("--model.init=starry_night", "--extend", "builtin"): "leave model.init random",
    }
    for args, words in cases.items():
        r = cli("train", "--out", tmp_path / "run", "--content", photo, "--style", painting, *args)
        assert r.returncode == 2, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and words in r.stderr, (args, r.stderr)
    assert not (tmp_path / "run").exists()
