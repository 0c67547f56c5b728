"""One way of saying what to train gives one config, whatever the route."""

import subprocess
import sys

import yaml

from stylereel.data.datasets import DATASETS
from stylereel.config import MODES
from stylereel.run import build_config


def dry_run(*args, cwd=None):
    r = subprocess.run([sys.executable, "-m", "stylereel.cli", "train", "--out", "r", *map(str, args), "--dry-run"],
                       capture_output=True, text=True, cwd=cwd)
    assert r.returncode == 0, r.stderr
    return yaml.safe_load(r.stdout)


def test_every_route_to_a_paired_run_gives_one_config(tmp_path):
    keys = tmp_path / "keys"
    (keys / "input").mkdir(parents=True)
    (keys / "target").mkdir()
    (tmp_path / "mode.yaml").write_text(f"data:\n  mode: paired\n  pairs: {keys}\n")
    (tmp_path / "pairs.yaml").write_text("data:\n  pairs: keys\n")  # relative: to where the command runs
    routes = {
        "--pairs": dry_run("--pairs", "keys", cwd=tmp_path),
        "--data.pairs": dry_run("--data.pairs=keys", cwd=tmp_path),
        "--data.mode + --data.pairs": dry_run("--data.mode=paired", f"--data.pairs={keys}", cwd=tmp_path),
        "YAML with mode": dry_run("--config", "mode.yaml", cwd=tmp_path),
        "YAML without mode": dry_run("--config", "pairs.yaml", cwd=tmp_path),
        "Python": build_config(pairs=keys).to_dict(),
    }
    first = routes["--pairs"]
    assert first["data"]["mode"] == "paired" and first["data"]["pairs"] == str(keys.resolve())
    assert set(first["loss"]) == {"trunk", "adversarial", "content", "l1", "ssim", "feature_matching"}
    for name, cfg in routes.items():
        assert cfg == first, name


def test_overrides_land_on_the_mode_defaults(tmp_path, data_dir):
    cfg = build_config(content=[data_dir / "home.png"], style=[data_dir / "starry_night.png"],
                       overrides=["loss.style.weight=5", "loss.tv.weight=0.1"])
    assert cfg.loss["style"]["weight"] == 5.0 and cfg.loss["style"]["layers"]["relu4_3"] == 1.0 and cfg.loss["trunk"] == "hed_vgg16"
    assert cfg.loss["tv"] == {"weight": 0.1} and cfg.loss["content"]["of"] == "plate"


def test_every_mode_has_its_data():
    assert set(DATASETS.names()) == set(MODES)


def test_paired_training_runs_the_trunk_only_as_deep_as_its_terms(tmp_path, data_dir):
    from stylereel.io.frames import read_image, write_image
    from stylereel.train.trainer import Trainer

    for sub in ("input", "target"):
        write_image(tmp_path / "keys" / sub / "a.png", read_image(data_dir / "home.png").rgb)
    t = Trainer(build_config(pairs=tmp_path / "keys", overrides=["data.max_side=64", "data.size=32"]), tmp_path / "run")
    assert t.objective.layers == {"hed_vgg16": ("relu2_2", "relu3_3")}
    assert not any(name.startswith("conv4") for name, _ in t.objective.trunks["hed_vgg16"].named_parameters())
    assert t.D is not None and t.D.nets[0].features[0][0].in_channels == 6  # conditional: (plate, image)


def test_a_config_file_error_names_the_config_file_beside_looks(tmp_path):
    """The file's own path prefixes its errors, whatever other paths the command line gives."""
    import pytest

    from stylereel.config import ConfigError

    keys = tmp_path / "keys"
    (keys / "input").mkdir(parents=True)
    (keys / "target").mkdir()
    cfg = tmp_path / "look.yaml"
    cfg.write_text("train:\n  stpes: 3\n")
    with pytest.raises(ConfigError) as e:
        build_config(config_file=cfg, looks=[f"ink={keys}"])
    assert str(e.value).startswith(f"{cfg}: ") and "stpes" in str(e.value)
