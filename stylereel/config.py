"""Run configuration: dataclasses, YAML files and `section.key=value` overrides.

Pure data: nothing here reads images or builds networks. `stylereel.run.build_config`
turns a user's inputs (flags, a YAML file, overrides) into one resolved config; the
resolved config is written next to every run and every model, and the generator
section alone rebuilds the network (`build_generator(model.generator, **model.generator_kwargs)`).

The `loss` section is a mapping of loss terms (`stylereel.losses.terms`), each with
its `weight` and options: `--loss.style.weight=3`, or in YAML

    loss:
      style: {weight: 3, layers: {relu1_2: 1, relu2_2: 1}}

A term with weight 0 is off. The mode (`data.mode`) picks the data and the default
terms once, in `MODE_DEFAULTS`.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from stylereel.errors import StylereelError, did_you_mean


class ConfigError(StylereelError):
    pass


@dataclass
class ModelConfig:
    generator: str = "reel"
    generator_kwargs: dict = field(default_factory=dict)
    # "random": from scratch, the strongest look in a few minutes; "base": from the shipped generator that
    # reproduces photos, recognisable from the first steps but a milder look (bench/RESULTS.md, generators);
    # or a trained model (directory, run, built-in look): that network trained on by this run's recipe
    init: str = "random"
    # a multi-look model to extend: its looks are kept as they are and one more, `new_look`, is learnt by training
    # only that look's modulation (a new look in a minute; bench/looks.py)
    extend: str | None = None
    new_look: str = "new"
    discriminator: str = "multiscale_patch"
    discriminator_kwargs: dict = field(default_factory=dict)


@dataclass
class DataConfig:
    # "unpaired": content + style images; "paired": DIR/input/NAME -> DIR/target/NAME; "distill": content images painted
    # by a trained look (`teacher`), for a smaller or faster generator that renders the same look
    mode: str = "unpaired"
    content: list = field(default_factory=list)
    style: list = field(default_factory=list)
    pairs: str | None = None
    looks: dict = field(default_factory=dict)  # "looks" mode: look name -> its keyframe pairs (a --pairs spec)
    size: int = 128  # training crop side in pixels
    batch: int = 4
    max_side: int = 512  # content/paired images are downscaled so the longer side is at most this
    style_size: int = 512  # style images are resized so the longer side is this: it sets the stroke scale
    # fraction of a style image's width and height left out at each edge: scans and photos of paintings carry a
    # frame, a black scanner edge or a bright mat, which a look would otherwise learn as lines along every border
    style_trim: float = 0.03
    scale_jitter: list = field(default_factory=lambda: [0.75, 1.33])
    flip: bool = True
    # unpaired looks: a network that paints each content image in the look once before training ("adain"), so
    # terms can read where the look's colours and strokes go (`of: teacher`); None: the look's statistics alone.
    # distill: the trained look to learn (a built-in look's name or a model directory); it paints every crop.
    teacher: str | None = None


@dataclass
class TrainConfig:
    steps: int = 1000
    minutes: float | None = None  # wall-clock budget; stops at whichever of steps/minutes comes first
    lr_g: float | None = None  # None: the generator's own tuned rate (`lr` on its class: reel 3e-3, johnson 1e-3)
    lr_d: float = 1e-4  # the discriminator learns slower than the generator and so stays a useful critic
    betas: list = field(default_factory=lambda: [0.5, 0.999])
    ema: float = 0.999
    seed: int = 0
    device: str = "auto"
    bf16: bool = True  # run the loss network under bf16 autocast where the hardware has bf16 (about 2x on AVX-512 BF16)
    log_every: int = 10
    sample_every: int = 200
    checkpoint_every: int = 200
    snapshot_every: int = 0  # keep a usable model every N steps in RUN/snapshots/step_NNNNNN (0: off)


# Per mode, what differs from the dataclass defaults: the data it reads and its loss terms.
# unpaired: keep the plate's structure (content) and its light (light: bright stays bright), take the
#   painting's texture statistics (style) and the distribution of its colours and features (swd), and a
#   discriminator that judges output patches against style-image patches (bench/RESULTS.md, unpaired).
#   The critic at weight 0.5: it sees colour where the trunk's Gram statistics barely do, and draws the
#   painting's palette and curved strokes where 0.05 left horizontal stripes (4 minutes, bench/studies/critic_weight.py:
#   stripes 2.31 -> 1.48, content distance 0.873 -> 0.780, Magenta style distance 2.358 -> 2.483; at the
#   benchmark's 10 minutes, bench/quality_unpaired.py: Magenta style distance 2.046 -> 1.868, content 1.015 -> 0.946).
#   The loss trunk stays HED's VGG16 here: the same terms on the ImageNet VGG19 (its own layers: content relu4_1,
#   Gram and swd on relu1_1 ... relu5_1) drew diagonal stripes in a flat blue, 10 minutes: Magenta style distance 2.258
#   against the shipped look's 1.874; with the AdaIN teacher (data.teacher=adain, the texture term) the subject is
#   kept far better (content 0.56 against 0.88 on VGG19) but the style is not yet closer (2.10 at 10 minutes; 1.92
#   at 30 with Gram and swd on the shallow layers): bench/RESULTS.md, "recipes" and "unpaired".
# Painted keyframes (paired, and the guided and looks modes built on it; pix2pix-like): move to the painted
#   target (L1 + perceptual), a discriminator that judges (plate, output) against (plate, target), and feature
#   matching on its layers (pix2pixHD); the generator at Adam 1e-3, which fits painted keyframes closer than
#   3e-3 with these terms alone (600 steps on tree.avi's two keyframes: 21.9 dB / SSIM 0.641 at 1e-3, 19.1 / 0.602
#   at 3e-3, 20.1 / 0.612 at 5e-4).
# paired: the same, plus structure (1 - SSIM) beside L1, which alone averages the painted strokes into blur;
#   with it the generator's own rate (3e-3) fits closest, and crops are taken at the keyframes' own scale (the
#   shot is rendered at the scale it was painted at; a zoomed, resampled target loses its strokes' edges).
#   3 minutes on the same keyframes, SSIM / PSNR on the same 50 other frames as `bench/quality_paired.py --minutes 3`
#   with the options as overrides (trained in-process here, so step counts differ slightly): 0.650 / 22.59 dB without it; at weight
#   10: 0.679 / 23.17 at 1e-3, 0.700 / 23.75 at 2e-3; at weight 20: 0.713 / 24.23 at 2e-3, 0.718 / 24.35 at
#   3e-3, and 0.733 / 24.49 without zoom jitter; weight 40: 0.718 / 24.03; 192-px crops: 0.700 / 22.91 (fewer
#   steps). bench/RESULTS.md, paired. The guided and looks modes keep the settings they were measured with
#   (bench/RESULTS.md, keyframes and looks).
KEYFRAMES = {
    "data": {"max_side": 1024},
    "train": {"lr_g": 1e-3},
    "loss": {
        "trunk": "hed_vgg16",
        "adversarial": {"weight": 0.05},
        "content": {"weight": 1.0, "of": "target", "layers": ["relu2_2", "relu3_3"]},
        "l1": {"weight": 10.0},
        "feature_matching": {"weight": 1.0},
    },
}
MODE_DEFAULTS: dict[str, dict] = {
    "unpaired": {
        "loss": {
            "trunk": "hed_vgg16",
            "adversarial": {"weight": 0.5},
            "content": {"weight": 1.0, "of": "plate"},
            "style": {"weight": 2.0},
            "swd": {"weight": 2.0},
            "light": {"weight": 2.0},
        },
    },
    "paired": {
        "data": {**KEYFRAMES["data"], "scale_jitter": [1.0, 1.0]},
        "loss": {**KEYFRAMES["loss"], "ssim": {"weight": 20.0}},
    },
}
# guided: paired keyframes, and the generator also sees the nearest keyframe's look carried along the flow
#   (stylereel.nets.generator.GuidedReelGenerator; data.datasets.GuidedData trains it on synthetic motion).
MODE_DEFAULTS["guided"] = {**copy.deepcopy(KEYFRAMES), "model": {"generator": "reel_guided"}}
# looks: several paired looks in one generator (stylereel.nets.generator.LooksReelGenerator), plus "none"
#   (the plate itself), each sample drawn from one look (data.datasets.LooksData).
MODE_DEFAULTS["looks"] = {**copy.deepcopy(KEYFRAMES), "model": {"generator": "reel_looks"}}
# distill: a trained look (data.teacher) paints every crop of the content images as it is drawn, and a generator,
#   usually a smaller one (--model.generator_kwargs), learns to paint the same, with no critic (the teacher is the
#   truth, and a deterministic one): its strokes where they are (texture: the mean and deviation of VGG19 features
#   over 16-px cells), its structure (content on relu3_1) and its colours (L1 at a low weight: alone, or with
#   features on relu1_1 ... relu4_1, it learnt the colours and no strokes). 12 minutes, (8,32,64)x4 student of the
#   shipped Starry Night, held-out photos: L1 + content on relu1_1 ... relu3_1 gave Magenta style distance 2.98 (the
#   teacher 1.78), 32-px texture cells 2.24 with regular hatching, 16-px cells 2.25 with PSNR to the teacher 19.3 ->
#   20.8 and less hatching. A multi-look teacher paints each crop in one of its looks or a mix of two
#   (stylereel.data.datasets.DistillData); bench/distill.py measures what smaller networks keep of a look.
MODE_DEFAULTS["distill"] = {
    "data": {"size": 192, "batch": 8},
    "loss": {
        "trunk": "vgg19",
        "l1": {"weight": 2.0, "of": "target"},
        "texture": {"weight": 8.0, "of": "target", "cell": 16, "layers": {"relu1_1": 1.0, "relu2_1": 1.0, "relu3_1": 1.0}},
        "content": {"weight": 1.0, "of": "target", "layers": ["relu3_1"]},
    },
}
MODES = tuple(MODE_DEFAULTS)
SECTIONS = ("model", "data", "loss", "train")


@dataclass
class RunConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    loss: dict = field(default_factory=dict)  # term name -> {"weight": w, option: value, ...}
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    @classmethod
    def from_dict(cls, d: dict, where: str = "") -> "RunConfig":
        """A config from a (possibly partial) mapping, on top of its mode's defaults."""
        if not isinstance(d, dict):
            raise ConfigError(f"{where}config must be a mapping of sections ({', '.join(SECTIONS)})")
        data = d.get("data") if isinstance(d.get("data"), dict) else {}
        mode = data.get("mode", "unpaired")
        return merge(default_config(mode), d, where)


def default_config(mode: str = "unpaired") -> RunConfig:
    if mode not in MODE_DEFAULTS:
        raise ConfigError(f"unknown data.mode {mode!r}{did_you_mean(str(mode), MODES)} (valid: {', '.join(MODES)})")
    cfg = RunConfig()
    cfg.data.mode = mode
    return merge(cfg, MODE_DEFAULTS[mode])


def merge(cfg: RunConfig, d: dict, where: str = "") -> RunConfig:
    """A copy of cfg with the sections of `d` set on it (loss terms merge option by option)."""
    cfg = copy.deepcopy(cfg)
    for section, values in (d or {}).items():
        if section not in SECTIONS:
            raise ConfigError(f"{where}unknown config section {section!r}{did_you_mean(str(section), SECTIONS)} (valid: {', '.join(SECTIONS)})")
        if values is None:
            continue
        if not isinstance(values, dict):
            raise ConfigError(f"{where}section {section!r} must be a mapping")
        for key, value in values.items():
            try:
                set_key(cfg, f"{section}.{key}", value)
            except ConfigError as e:
                raise ConfigError(f"{where}{e}") from None
    return cfg


def set_key(cfg: RunConfig, dotted: str, value: Any) -> None:
    section, _, key = dotted.partition(".")
    if section not in SECTIONS or not key:
        raise ConfigError(f"config key {dotted!r} must be section.key with section one of {', '.join(SECTIONS)}")
    if section == "loss":
        _set_term(cfg.loss, dotted, key, value)
        return
    sec = getattr(cfg, section)
    names = [f.name for f in fields(sec)]
    if key not in names:
        raise ConfigError(f"unknown config key {dotted!r}{did_you_mean(key, names)} (valid in {section}: {', '.join(names)})")
    current = getattr(sec, key)
    if current is None and "float" in str(next(f.type for f in fields(sec) if f.name == key)):
        current = 0.0  # an unset float option still reads "3e-4" as a number
    setattr(sec, key, _coerce(dotted, value, current))


def _set_term(terms: dict, dotted: str, key: str, value: Any) -> None:
    """`loss.TERM={...}` merges options into a term, `loss.TERM.OPTION=v` sets one option.

    Term names and options are checked against the terms themselves when the run is
    built (`stylereel.run.build_config`); here a value keeps the type it already has.
    """
    term, _, option = key.partition(".")
    if term == "trunk":
        if option or not isinstance(value, str):
            raise ConfigError(f"{dotted}: the loss trunk is a name (e.g. loss.trunk=vgg19), got {value!r}")
        terms["trunk"] = value
        return
    if isinstance(value, str):
        value = _yaml_value(value)
    if not option:
        if not isinstance(value, dict):
            raise ConfigError(f"{dotted}: a loss term takes a mapping of options (e.g. {{weight: 1.0}}), got {value!r}")
        for k, v in value.items():
            _set_term(terms, f"{dotted}.{k}", f"{term}.{k}", v)
        return
    if "." in option:
        raise ConfigError(f"config key {dotted!r} is too deep (loss.TERM.OPTION)")
    opts = terms.setdefault(term, {})
    opts[option] = _coerce(dotted, value, opts[option]) if opts.get(option) is not None else value


class _Loader(yaml.SafeLoader):
    """YAML 1.1 as PyYAML reads it, without timestamps: no config value is a date, and
    `2020-13-45` must be refused as the key's type, not crash in `datetime`."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str) -> Any:
    """Config YAML (files and `--key=value` values) without dates.

    >>> load_yaml("steps: 2020-01-02")
    {'steps': '2020-01-02'}
    """
    return yaml.load(text, Loader=_Loader)


def _yaml_value(text: str) -> Any:
    try:
        value = load_yaml(text) if text.strip() else text  # "0.5" -> 0.5, "[1, 2]" -> [1, 2], "null" -> None
    except yaml.YAMLError:
        value = text  # not YAML ("[1,", control characters): plain text, which the key's type then accepts or refuses
    if isinstance(value, str):
        try:
            return float(value)  # YAML 1.1 reads "3e-4" (no dot) as a string
        except ValueError:
            pass
    return value


def _coerce(dotted: str, value: Any, current: Any) -> Any:
    if isinstance(value, str) and not isinstance(current, str):
        value = _yaml_value(value)
        if isinstance(value, float) and isinstance(current, int) and not isinstance(current, bool) and value.is_integer():
            value = int(value)
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
    raise ConfigError(f"{dotted}: expected {_type_name(current)}, got {value!r}")


def _type_name(v: Any) -> str:
    return {bool: "true/false", int: "int", float: "float", str: "str", list: "list", dict: "mapping"}.get(type(v), type(v).__name__)


def parse_overrides(overrides: list[str]) -> list[tuple[str, str]]:
    """`--section.key=value` strings (leading `--` optional) -> [(key, value)]."""
    out = []
    for item in overrides:
        item = item[2:] if item.startswith("--") else item
        if "=" not in item:
            raise ConfigError(f"override {item!r} must look like section.key=value")
        key, _, value = item.partition("=")
        out.append((key.strip(), value))
    return out


def apply_overrides(cfg: RunConfig, overrides: list[str]) -> RunConfig:
    """Apply `section.key=value` strings (a leading `--` is allowed) to a copy of cfg."""
    cfg = copy.deepcopy(cfg)
    for key, value in parse_overrides(overrides):
        set_key(cfg, key, value)
    return cfg


def read_yaml(path: str | Path) -> dict:
    path = Path(path)
    try:
        data = load_yaml(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a config file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({str(e).splitlines()[0]})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: config must be a mapping of sections ({', '.join(SECTIONS)})")
    return data


def load_config(path: str | Path) -> RunConfig:
    """A YAML file on top of its mode's defaults (`data.mode` in the file, else unpaired)."""
    return RunConfig.from_dict(read_yaml(path), where=f"{path}: ")


__all__ = [
    "ConfigError",
    "DataConfig",
    "MODES",
    "MODE_DEFAULTS",
    "ModelConfig",
    "RunConfig",
    "TrainConfig",
    "apply_overrides",
    "default_config",
    "load_config",
    "merge",
    "parse_overrides",
    "read_yaml",
    "set_key",
]
