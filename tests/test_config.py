import pytest

from stylereel.config import ConfigError, RunConfig, apply_overrides, default_config, load_config


def test_yaml_round_trip(tmp_path):
    cfg = default_config("paired")
    cfg = apply_overrides(cfg, ["train.lr_g=3e-4", "--loss.d_loss=hinge", "data.scale_jitter=[0.5, 2]", "train.minutes=null"])
    p = tmp_path / "c.yaml"
    p.write_text(cfg.to_yaml())
    back = load_config(p)
    assert back == cfg
    assert back.train.lr_g == 3e-4 and isinstance(back.train.lr_g, float)
    assert back.loss.d_loss == "hinge" and back.data.scale_jitter == [0.5, 2]
    assert RunConfig.from_dict(cfg.to_dict()) == cfg


def test_mode_defaults_differ():
    assert default_config("paired").loss.l1_weight > 0
    assert default_config("unpaired").loss.style_weight > 0
    assert default_config("paired").model.discriminator_kwargs["in_ch"] == 6
    with pytest.raises(ConfigError, match="paired, unpaired"):
        default_config("triplet")


@pytest.mark.parametrize(
    "override, match",
    [
        ("train.bogus=1", "valid in train: steps"),
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
