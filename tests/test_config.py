import pytest

from stylereel.config import ConfigError, RunConfig, apply_overrides, default_config, load_config


def test_yaml_round_trip(tmp_path):
    cfg = default_config("paired")
    cfg = apply_overrides(cfg, ["train.lr_g=3e-4", "--loss.adversarial.d_loss=hinge", "data.scale_jitter=[0.5, 2]", "train.minutes=null"])
    p = tmp_path / "c.yaml"
    p.write_text(cfg.to_yaml())
    back = load_config(p)
    assert back == cfg
    assert back.train.lr_g == 3e-4 and isinstance(back.train.lr_g, float)
    assert back.loss["adversarial"]["d_loss"] == "hinge" and back.data.scale_jitter == [0.5, 2]
    assert RunConfig.from_dict(cfg.to_dict()) == cfg


def test_mode_defaults_differ():
    paired, unpaired = default_config("paired"), default_config("unpaired")
    assert paired.loss["l1"]["weight"] > 0 and "style" not in paired.loss
    assert unpaired.loss["style"]["weight"] > 0 and "l1" not in unpaired.loss
    assert paired.loss["content"]["of"] == "target" and unpaired.loss["content"]["of"] == "plate"
    with pytest.raises(ConfigError, match="unpaired, paired"):
        default_config("triplet")


@pytest.mark.parametrize(
    "override, match",
    [
        ("train.bogus=1", "valid in train: steps"),
        ("train.stpes=1", "did you mean 'steps'"),
        ("loss.style.weight=heavy", "expected float"),
        ("loss.style=3", "takes a mapping"),
        ("nosection.x=1", "section one of"),
        ("train.steps=many", "expected int"),
        ("data.flip=2", "expected true/false"),
        ("train.steps", "section.key=value"),
    ],
)
def test_override_errors(override, match):
    with pytest.raises(ConfigError, match=match):
        apply_overrides(default_config(), [override])


def test_bad_yaml_names_file(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("train: [1, 2\n")
    with pytest.raises(ConfigError, match="bad.yaml: not valid YAML"):
        load_config(p)
    p.write_text("train:\n  lr: 1\n")
    with pytest.raises(ConfigError, match="bad.yaml: unknown config key 'train.lr'"):
        load_config(p)
    p.write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="bad.yaml: config must be a mapping"):
        load_config(p)
