"""End to end on tiny images: train (unpaired and paired) -> stylize -> eval, exact resume."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from stylereel.config import apply_overrides
from stylereel.io.frames import read_image, write_image
from stylereel.render.stylize import Stylizer
from stylereel.run import build_config
from stylereel.train.trainer import Trainer

TINY = ["data.size=32", "data.batch=2", "data.max_side=96", "data.style_size=96", "train.log_every=5", "train.sample_every=10"]


def tiny_unpaired(data_dir, steps):
    return build_config(content=[data_dir / "fruits.png", data_dir / "home.png"], style=[data_dir / "starry_night.png"],
                        overrides=TINY + [f"train.steps={steps}", "train.checkpoint_every=1000"])


@pytest.fixture
def pairs_dir(tmp_path, data_dir):
    # A "painted" target: a fixed colour grade of the plate, which a generator can learn.
    root = tmp_path / "pairs"
    for name in ("fruits", "home"):
        f = read_image(data_dir / f"{name}.png")
        graded = np.clip(f.rgb[..., ::-1] * 0.8 + 0.1, 0, 1)
        write_image(root / "input" / f"{name}.png", f.rgb)
        write_image(root / "target" / f"{name}.png", graded)
    return root


def stylereel(*args, check=True):
    r = subprocess.run([sys.executable, "-m", "stylereel.cli", *map(str, args)], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError(r.stderr)
    return r


def test_unpaired_train_stylize_eval(tmp_path, data_dir):
    run = tmp_path / "run"
    r = stylereel(
        "train", "--content", data_dir / "fruits.png", data_dir / "home.png", "--style", data_dir / "starry_night.png",
        "--out", run, "--steps", 30, "--train.snapshot_every=10", *[f"--{o}" for o in TINY],
    )
    assert "model:" in r.stdout
    snaps = sorted(p.name for p in (run / "snapshots").iterdir())
    assert snaps == ["step_000000", "step_000010", "step_000020", "step_000030"]
    snap = json.loads((run / "snapshots" / "step_000020" / "model.json").read_text())
    assert snap["steps"] == 20 and snap["elapsed_s"] > 0
    for f in ("model/model.json", "model/generator.safetensors", "model/style_grams.safetensors", "checkpoints/state.pt", "config.yaml"):
        assert (run / f).is_file(), f
    assert list((run / "tb").iterdir()), "TensorBoard events written"
    info = json.loads((run / "model" / "model.json").read_text())
    assert info["steps"] == 30 and info["generator"]["name"] == "reel"

    out = tmp_path / "styled.png"
    stylereel("stylize", run, data_dir / "fruits.png", "-o", out)
    early = tmp_path / "early.png"
    stylereel("stylize", run / "snapshots" / "step_000010", data_dir / "fruits.png", "-o", early)
    assert np.abs(read_image(early).rgb - read_image(out).rgb).mean() > 0  # a snapshot is its own model
    src, res = read_image(data_dir / "fruits.png"), read_image(out)
    assert res.rgb.shape == src.rgb.shape
    assert np.abs(res.rgb - src.rgb).mean() > 0.01  # it did something

    report_path = tmp_path / "eval.json"
    stylereel("eval", run, "--content", data_dir / "home.png", "--json", report_path, "--size", 96)
    report = json.loads(report_path.read_text())
    assert report["count"] == 1 and 0 < report["style_distance"] < 5 and report["content_distance"] > 0
    assert (tmp_path / "eval.png").is_file()


def test_training_reduces_the_style_distance(data_dir, tmp_path):
    # 50 steps at a raised learning rate must move a whole image toward the look.
    from stylereel.data.images import load_images
    from stylereel.metrics.style import StyleMetrics

    cfg = apply_overrides(tiny_unpaired(data_dir, 50), ["train.lr_g=3e-3"])
    t = Trainer(cfg, tmp_path / "run")
    metrics = StyleMetrics(t.grams, trunk=t.objective.trunk_name)
    x = load_images([data_dir / "fruits.png"], max_side=96)[0][None]  # [1, 3, H, W]
    with torch.no_grad():
        before = metrics(t.G(x), x)["style_distance"]
    for _ in range(50):
        t.train_step()
    with torch.no_grad():
        after = metrics(t.G(x), x)["style_distance"]
    assert after < 0.8 * before


def test_paired_train_and_eval(tmp_path, pairs_dir):
    run = tmp_path / "run"
    stylereel("train", "--pairs", pairs_dir, "--out", run, "--steps", 30, *[f"--{o}" for o in TINY], "--train.lr_g=3e-3")
    report_path = tmp_path / "eval.json"
    r = stylereel("eval", run, "--pairs", pairs_dir, "--json", report_path)
    report = json.loads(report_path.read_text())
    assert {"psnr", "ssim"} <= set(report) and report["count"] == 2
    assert "psnr=" in r.stdout
    # Better than handing back the untouched plate.
    from stylereel.metrics.image import psnr
    from stylereel.data.images import load_pairs

    _, xs, ys = load_pairs(pairs_dir)
    identity = np.mean([psnr(x[None], y[None]) for x, y in zip(xs, ys)])
    assert report["psnr"] > identity + 1.0


def test_resume_is_exact(tmp_path, data_dir):
    whole = Trainer(tiny_unpaired(data_dir, 6), tmp_path / "a")
    whole.fit()
    first = Trainer(tiny_unpaired(data_dir, 3), tmp_path / "b")
    first.fit()
    resumed = Trainer(tiny_unpaired(data_dir, 6), tmp_path / "b", resume=True)
    assert resumed.step == 3
    before = json.loads((tmp_path / "b" / "model" / "model.json").read_text())["elapsed_s"]
    assert before > 0 and resumed.trained_s == pytest.approx(before, abs=0.01)
    resumed.fit()
    # The model says the run's whole training time, the first part's included.
    assert json.loads((tmp_path / "b" / "model" / "model.json").read_text())["elapsed_s"] > before
    for name in ("G", "D", "G_ema"):
        a, b = getattr(whole, name).state_dict(), getattr(resumed, name).state_dict()
        for k in a:
            assert torch.equal(a[k], b[k]), f"{name}.{k}"
    # The inference artifact matches too.
    ma = load_file(tmp_path / "a" / "model" / "generator.safetensors")
    mb = load_file(tmp_path / "b" / "model" / "generator.safetensors")
    assert all(torch.equal(ma[k], mb[k]) for k in ma)
    # And a run that is not resumed would differ (the comparison can fail).
    fresh = Trainer(tiny_unpaired(data_dir, 3), tmp_path / "c")
    fresh.fit()
    assert not all(torch.equal(fresh.G.state_dict()[k], whole.G.state_dict()[k]) for k in ma)


def test_a_resume_takes_the_rates_it_is_given(tmp_path, data_dir):
    Trainer(tiny_unpaired(data_dir, 2), tmp_path / "run").fit()
    cfg = tiny_unpaired(data_dir, 4)
    cfg.train.lr_g, cfg.train.lr_d = 3e-4, 2e-5  # settling a long run at a lower rate
    resumed = Trainer(cfg, tmp_path / "run", resume=True)
    assert resumed.step == 2
    assert [g["lr"] for g in resumed.opt_g.param_groups] == [3e-4] and [g["lr"] for g in resumed.opt_d.param_groups] == [2e-5]
    assert resumed.opt_g.state  # and the optimizer's moments are still the run's own


def test_cli_refuses_to_clobber_and_resumes(tmp_path, data_dir):
    run = tmp_path / "run"
    base = ["train", "--content", data_dir / "home.png", "--style", data_dir / "starry_night.png", "--out", run, *[f"--{o}" for o in TINY]]
    stylereel(*base, "--steps", 2)
    r = stylereel(*base, "--steps", 4, check=False)
    assert r.returncode != 0 and "already holds a run at step 2" in r.stderr and "--resume" in r.stderr
    stylereel("train", "--out", run, "--resume", "--steps", 4)
    assert json.loads((run / "model" / "model.json").read_text())["steps"] == 4


def test_cli_errors_are_one_line(tmp_path, data_dir):
    r = stylereel("train", "--content", tmp_path / "missing.png", "--style", data_dir / "starry_night.png", "--out", tmp_path / "r", check=False)
    assert r.returncode != 0 and "missing.png" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = stylereel("stylize", tmp_path / "nomodel", data_dir / "home.png", "-o", tmp_path / "o.png", check=False)
    assert r.returncode != 0 and "not a stylereel model" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = stylereel("train", "--out", tmp_path / "r", "--content", data_dir / "home.png", "--style", data_dir / "home.png", "--train.nope=1", check=False)
    assert r.returncode != 0 and "unknown config key 'train.nope'" in r.stderr


def test_dry_run_prints_resolved_config(tmp_path, data_dir):
    r = stylereel("train", "--pairs", tmp_path, "--out", tmp_path / "r", "--steps", 7, "--loss.adversarial.d_loss=hinge", "--dry-run")
    assert "mode: paired" in r.stdout and "steps: 7" in r.stdout and "d_loss: hinge" in r.stdout
    assert not (tmp_path / "r").exists()


def test_stylize_keeps_16_bit_and_alpha(tmp_path, data_dir):
    run = tmp_path / "run"
    Trainer(tiny_unpaired(data_dir, 2), run).fit()
    rng = np.random.default_rng(0)
    rgb = read_image(data_dir / "home.png").rgb
    alpha = rng.integers(0, 65536, rgb.shape[:2], dtype=np.uint16)
    src = tmp_path / "plate.png"
    write_image(src, rgb, alpha=alpha, bit_depth=16)
    out_dir = tmp_path / "out"
    stylereel("stylize", run, src, "-o", out_dir)
    res = read_image(out_dir / "plate.png")
    assert res.bit_depth == 16 and np.array_equal(res.alpha, alpha)
    # The Python API gives the same pixels as the CLI.
    api = Stylizer(run)(read_image(src).rgb)
    assert np.abs(api - res.rgb).max() <= 1 / 65535 + 1e-6


def test_learning_rate_defaults_to_the_generators_own(data_dir, tmp_path):
    for generator, lr in (("reel", 3e-3), ("johnson", 1e-3)):
        t = Trainer(apply_overrides(tiny_unpaired(data_dir, 1), [f"model.generator={generator}"]), tmp_path / generator)
        assert t.opt_g.param_groups[0]["lr"] == lr and t.cfg.train.lr_g == lr  # the run's config.yaml names it
    t = Trainer(apply_overrides(tiny_unpaired(data_dir, 1), ["train.lr_g=2e-4"]), tmp_path / "set")
    assert t.opt_g.param_groups[0]["lr"] == 2e-4
