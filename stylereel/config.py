"""Run configuration: dataclasses, YAML files and `section.key=value` overrides.

The resolved config is written next to every run and every model, and the
generator section alone rebuilds the network (`build_generator(**model.generator)`).
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

STYLE_LAYERS = {"relu1_2": 1.0, "relu2_2": 1.0, "relu3_3": 1.0, "relu4_3": 1.0}


class ConfigError(ValueError):
    pass


@dataclass
class ModelConfig:
    generator: str = "reel"
    generator_kwargs: dict = field(default_factory=dict)
    # "random": from scratch, the strongest look in a few minutes; "base": from the shipped generator that
    # reproduces photos, recognisable from the first steps but a milder look (bench/RESULTS.md, generators)
    init: str = "random"
    discriminator: str = "multiscale_patch"
    discriminator_kwargs: dict = field(default_factory=dict)


@dataclass
class DataConfig:
    mode: str = "unpaired"  # "unpaired": content + style images; "paired": DIR/input/NAME -> DIR/target/NAME
    content: list = field(default_factory=list)
    style: list = field(default_factory=list)
    pairs: str | None = None
    size: int = 128  # training crop side in pixels
    batch: int = 4
    max_side: int = 512  # content/paired images are downscaled so the longer side is at most this
    style_size: int = 512  # style images are resized so the longer side is this: it sets the stroke scale
    scale_jitter: list = field(default_factory=lambda: [0.75, 1.33])
    flip: bool = True


@dataclass
class LossConfig:
    d_loss: str = "bce"  # bce | lsgan | hinge
    g_loss: str = "nonsat"  # minmax | nonsat | lsgan | hinge
    adv_weight: float = 0.05
    content_weight: float = 1.0
    content_layers: list = field(default_factory=lambda: ["relu3_3"])
    style_weight: float = 2.0
    style_layers: dict = field(default_factory=lambda: dict(STYLE_LAYERS))
    tv_weight: float = 0.0
    l1_weight: float = 0.0  # paired only
    feature_matching_weight: float = 0.0  # paired only: D features of real vs fake are aligned there


@dataclass
class TrainConfig:
    steps: int = 1000
    minutes: float | None = None  # wall-clock budget; stops at whichever of steps/minutes comes first
    lr_g: float | None = None  # None: the generator's own tuned rate (`lr` on its class: reel 3e-3, johnson 1e-3)
    lr_d: float = 1e-4  # the seed's Adam learning rate
    betas: list = field(default_factory=lambda: [0.5, 0.999])
    ema: float = 0.999
    seed: int = 0
    device: str = "auto"
    bf16: bool = True  # run the loss network under bf16 autocast where the hardware has bf16 (about 2x on AVX-512 BF16)
    log_every: int = 10
    sample_every: int = 200
    checkpoint_every: int = 200
    snapshot_every: int = 0  # keep a usable model every N steps in RUN/snapshots/step_NNNNNN (0: off)


@dataclass
class RunConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    @classmethod
    def from_dict(cls, d: dict) -> "RunConfig":
        cfg = cls()
        for section, values in (d or {}).items():
            if not hasattr(cfg, section):
                raise ConfigError(f"unknown config section {section!r} (valid: {', '.join(_section_names())})")
            for key, value in (values or {}).items():
                _set(cfg, f"{section}.{key}", value)
        return cfg


def default_config(mode: str = "unpaired") -> RunConfig:
    """Defaults per training mode: paired keyframes lean on L1 + perceptual to the
    painted target with a conditional discriminator; unpaired looks on content +
    Gram style losses with a discriminator on style patches."""
    cfg = RunConfig()
    cfg.data.mode = mode
    if mode == "paired":
        cfg.model.discriminator_kwargs = {"in_ch": 6}
        cfg.loss.adv_weight = 0.05
        cfg.loss.content_weight = 1.0
        cfg.loss.content_layers = ["relu2_2", "relu3_3"]
        cfg.loss.style_weight = 0.0
        cfg.loss.l1_weight = 10.0
        cfg.loss.feature_matching_weight = 1.0
        cfg.data.max_side = 1024
    elif mode != "unpaired":
        raise ConfigError(f"unknown data.mode {mode!r} (valid: paired, unpaired)")
    return cfg


def _section_names() -> list[str]:
    return [f.name for f in fields(RunConfig)]


def _set(cfg: RunConfig, dotted: str, value: Any) -> None:
    section, _, key = dotted.partition(".")
    if section not in _section_names() or not key:
        raise ConfigError(f"config key {dotted!r} must be section.key with section one of {', '.join(_section_names())}")
    sec = getattr(cfg, section)
    names = [f.name for f in fields(sec)]
    if key not in names:
        raise ConfigError(f"unknown config key {dotted!r} (valid in {section}: {', '.join(names)})")
    current = getattr(sec, key)
    if current is None and "float" in str(next(f.type for f in fields(sec) if f.name == key)):
        current = 0.0  # an unset float option still reads "3e-4" as a number
    setattr(sec, key, _coerce(dotted, value, current))


def _coerce(dotted: str, value: Any, current: Any) -> Any:
    if isinstance(value, str) and not isinstance(current, str):
        value = yaml.safe_load(value)  # "0.5" -> 0.5, "[1, 2]" -> [1, 2], "null" -> None
        if isinstance(value, str) and isinstance(current, float):
            try:
                value = float(value)  # YAML 1.1 reads "3e-4" (no dot) as a string
            except ValueError:
                pass
    if current is None or value is None:
        return value
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{dotted}: expected true/false, got {value!r}")
        return value
    if isinstance(current, float) and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(current, int) and isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(current, (list, tuple)) and isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(current, dict) and isinstance(value, dict):
        return dict(value)
    if isinstance(current, str) and isinstance(value, str):
        return value
    raise ConfigError(f"{dotted}: expected {type(current).__name__}, got {value!r}")


def apply_overrides(cfg: RunConfig, overrides: list[str]) -> RunConfig:
    """Apply `section.key=value` strings (a leading `--` is allowed) to a copy of cfg."""
    cfg = copy.deepcopy(cfg)
    for item in overrides:
        item = item[2:] if item.startswith("--") else item
        if "=" not in item:
            raise ConfigError(f"override {item!r} must look like section.key=value")
        key, _, value = item.partition("=")
        _set(cfg, key.strip(), value)
    return cfg


def load_config(path: str | Path, base: RunConfig | None = None) -> RunConfig:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({str(e).splitlines()[0]})") from None
    cfg = copy.deepcopy(base) if base is not None else None
    if cfg is None:
        mode = ((data or {}).get("data") or {}).get("mode", "unpaired")
        cfg = default_config(mode)
    for section, values in (data or {}).items():
        if not isinstance(values, dict):
            raise ConfigError(f"{path}: section {section!r} must be a mapping")
        for key, value in values.items():
            try:
                _set(cfg, f"{section}.{key}", value)
            except ConfigError as e:
                raise ConfigError(f"{path}: {e}") from None
    return cfg


__all__ = [
    "ConfigError",
    "DataConfig",
    "LossConfig",
    "ModelConfig",
    "RunConfig",
    "TrainConfig",
    "apply_overrides",
    "default_config",
    "load_config",
]
