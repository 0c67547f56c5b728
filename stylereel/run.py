"""A run's config from a user's inputs: the one function the CLI, the Python API and the
demo call, so none of them repeats the rules.

Whatever the route (`--pairs DIR`, `--data.pairs=DIR`, `--data.mode=paired`, a YAML
file, or keyword arguments here), one way of saying what to train gives one config:

1. the mode: `data.mode` where the user sets it, else `paired` when keyframes are
   given, else `unpaired`;
2. that mode's defaults (`stylereel.config.MODE_DEFAULTS`), then the YAML file, then
   the flags, then the `section.key=value` overrides, each on top of the last;
3. data paths made absolute and checked to exist; loss terms checked by name and
   option and completed with their defaults, so `config.yaml` says everything.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Iterable, Sequence

from stylereel.config import MODES, ConfigError, RunConfig, default_config, merge, parse_overrides, read_yaml, set_key
from stylereel.errors import StylereelError, did_you_mean


def build_config(content: Sequence[str | Path] = (), style: Sequence[str | Path] = (), pairs: str | Path | None = None,
                 config_file: str | Path | None = None, overrides: Iterable[str] = (), steps: int | None = None,
                 minutes: float | None = None, size: int | None = None, looks: Sequence[str] = (),
                 distill: str | None = None) -> RunConfig:
    """The resolved config of a new run; raises `ConfigError` (one line, naming the setting or file)."""
    file_layer = read_yaml(config_file) if config_file else {}
    where = f"{config_file}: " if config_file else ""
    pairs_o = parse_overrides(list(overrides))
    flags: list[tuple[str, object]] = []
    if content:
        flags.append(("data.content", [str(p) for p in content]))
    if style:
        flags.append(("data.style", [str(p) for p in style]))
    if pairs is not None:
        flags.append(("data.pairs", str(pairs)))
    if looks:
        named = {}
        for spec in looks:
            name, sep, folder = str(spec).partition("=")
            if not sep or not name or not folder:
                raise ConfigError(f"--look: expected NAME=PAIRS (a folder with input/ and target/, or PLATE=PAINTED), got {spec!r}")
            if name in named:
                raise ConfigError(f"--look: {name!r} given twice")
            named[name] = folder
        flags.append(("data.looks", named))
    if distill is not None:
        flags.append(("data.teacher", str(distill)))
    for key, v in (("train.steps", steps), ("train.minutes", minutes), ("data.size", size)):
        if v is not None:
            flags.append((key, v))

    file_data = file_layer.get("data") if isinstance(file_layer.get("data"), dict) else {}
    said = {k: v for k, v in pairs_o}
    mode = said.get("data.mode") or file_data.get("mode")
    gives_pairs = bool(pairs is not None or said.get("data.pairs") not in (None, "", "null") or file_data.get("pairs") or looks)
    gives_unpaired = bool(content or style or said.get("data.content") or said.get("data.style")
                          or file_data.get("content") or file_data.get("style"))
    if distill is not None:
        if gives_pairs or style:
            raise ConfigError("--distill learns a trained look from --content images alone: no --style or keyframe pairs")
        mode = mode or "distill"
    if gives_pairs and gives_unpaired:
        raise ConfigError("give either keyframe pairs (--pairs DIR) or --content/--style images, not both")
    if mode is None:
        mode = "looks" if looks or file_data.get("looks") else "paired" if gives_pairs else "unpaired"
    if mode not in MODES:
        raise ConfigError(f"unknown data.mode {mode!r}{did_you_mean(str(mode), MODES)} (valid: {', '.join(MODES)})")

    cfg = merge(default_config(mode), file_layer, where)
    for key, value in flags:
        set_key(cfg, key, value)
    for key, value in pairs_o:
        set_key(cfg, key, value)
    if cfg.data.mode != mode:
        raise ConfigError(f"data.mode is {cfg.data.mode!r} in one place and {mode!r} in another")
    return check_config(cfg)


def resume_config(saved: RunConfig, overrides: Iterable[str] = (), steps: int | None = None, minutes: float | None = None) -> RunConfig:
    """A saved run's config with a new budget or other overrides (the data and mode stay)."""
    cfg = copy.deepcopy(saved)
    if steps is not None:
        cfg.train.steps = steps
    if minutes is not None:
        cfg.train.minutes = minutes
    for key, value in parse_overrides(list(overrides)):
        if key.startswith("data."):
            raise ConfigError(f"{key}: a resumed run keeps its data; start a new run to change it")
        set_key(cfg, key, value)
    return check_config(cfg)


def check_config(cfg: RunConfig) -> RunConfig:
    """Absolute, existing data paths; known parts and options; values in range."""
    from stylereel.losses.terms import resolve_terms
    from stylereel.nets.discriminator import DISCRIMINATORS
    from stylereel.nets.generator import GENERATORS

    cfg = copy.deepcopy(cfg)
    d, t, m = cfg.data, cfg.train, cfg.model
    if d.mode == "looks":
        if not d.looks or not isinstance(d.looks, dict):
            raise ConfigError("a multi-look model needs its looks: --look NAME=PAIRS, once per look")
        for name, spec in d.looks.items():
            if not str(name).replace("_", "").isalnum() or name == "none":
                raise ConfigError(f"--look: {name!r} is not a usable look name (letters, digits and _; 'none' is the plate itself)")
            d.looks[name] = _pairs_spec(str(spec), f"look {name}")
        m.generator_kwargs = {"looks": ["none", *d.looks], **m.generator_kwargs}
    elif d.mode == "distill":
        if not d.content:
            raise ConfigError("a distilled look needs the images its teacher paints: --content PHOTOS (or frames of the shots)")
        d.content = [_existing(p, "data.content") for p in d.content]
        _distilling(cfg)
    elif d.mode in ("paired", "guided"):
        if not d.pairs:
            raise ConfigError("a paired look needs keyframes: --pairs DIR (DIR/input/NAME and DIR/target/NAME) or --pairs PLATE=PAINTED (sequences or movies)")
        d.pairs = _pairs_spec(d.pairs, "data.pairs")
    else:
        if not (d.content and d.style):
            raise ConfigError("an unpaired look needs --content and --style images (or --pairs DIR for keyframes)")
        d.content = [_existing(p, "data.content") for p in d.content]
        d.style = [_existing(p, "data.style") for p in d.style]
    for key, value, low in (("data.size", d.size, 16), ("data.batch", d.batch, 1), ("data.max_side", d.max_side, 16),
                            ("data.style_size", d.style_size, 16), ("train.steps", t.steps, 0)):
        if value < low:
            raise ConfigError(f"{key}: must be at least {low}, got {value}")
    if d.teacher is not None and d.mode != "distill":
        from stylereel.nets.adain import TEACHERS

        if d.teacher not in TEACHERS:
            raise ConfigError(f"data.teacher: unknown teacher {d.teacher!r}{did_you_mean(str(d.teacher), TEACHERS)} (valid: {', '.join(TEACHERS)}, or null)")
        if d.mode != "unpaired":
            raise ConfigError(f"data.teacher: only an unpaired look (--content and --style) learns from a teacher, not data.mode {d.mode}")
    if not 0 <= d.style_trim < 0.5:
        raise ConfigError(f"data.style_trim: must be at least 0 and below 0.5 (a fraction of each side), got {d.style_trim}")
    if t.minutes is not None and t.minutes <= 0:
        raise ConfigError(f"train.minutes: must be positive, got {t.minutes}")
    if len(d.scale_jitter) != 2 or not 0 < d.scale_jitter[0] <= d.scale_jitter[1]:
        raise ConfigError(f"data.scale_jitter: must be [low, high] with 0 < low <= high, got {d.scale_jitter}")
    if t.device != "auto" and t.device != "cpu" and not t.device.startswith("cuda"):
        raise ConfigError(f"train.device: expected auto, cpu or cuda[:N], got {t.device!r}")
    if m.extend:
        _extending(m)
    if m.init not in ("random", "base"):
        _starting_from(cfg)
    try:
        GENERATORS.check_options(m.generator, m.generator_kwargs, "model.generator_kwargs")
        DISCRIMINATORS.check_options(m.discriminator, m.discriminator_kwargs, "model.discriminator_kwargs")
        cfg.loss = resolve_terms(cfg.loss)
    except StylereelError as e:
        raise ConfigError(str(e)) from None
    return cfg


def _extending(m) -> None:
    """model.extend: the base must be a multi-look model; the run's generator is it plus `new_look`."""
    import json

    base = Path(m.extend).expanduser()
    base = base / "model" if (base / "model" / "model.json").is_file() else base
    if not (base / "model.json").is_file():
        raise ConfigError(f"{m.extend}: not a stylereel model (model.extend)")
    gen = json.loads((base / "model.json").read_text()).get("generator", {})
    looks = gen.get("kwargs", {}).get("looks")
    if not looks:
        raise ConfigError(f"{m.extend}: a single-look model; only a multi-look model (stylereel train --look NAME=PAIRS ...) can take a new look")
    if not m.new_look.replace("_", "").isalnum() or m.new_look in looks:
        raise ConfigError(f"--name: {m.new_look!r} is {'already a look of that model' if m.new_look in looks else 'not a usable look name'}"
                          f" (it has: {', '.join(looks)})")
    m.extend = str(base.resolve())
    m.generator, m.generator_kwargs = gen["name"], {**gen["kwargs"], "looks": [*looks, m.new_look]}


def _trained_model(spec: str, key: str) -> tuple[Path, dict]:
    """A trained model named by `spec` (a model directory, a run holding one, or a built-in look's
    name; a multi-look model's look names the whole model): its directory and its generator."""
    import json

    from stylereel import looks

    p = Path(str(spec)).expanduser()
    if not p.exists():
        found = looks.catalogue().get(str(spec))
        if found is None:
            raise ConfigError(f"{key}: {spec!r} is neither a model directory nor a built-in look"
                              f"{did_you_mean(str(spec), looks.names())} (built in: {', '.join(looks.names())})")
        p = found
    p = p / "model" if (p / "model" / "model.json").is_file() else p
    try:
        gen = json.loads((p / "model.json").read_text())["generator"]
        gen = {"name": str(gen["name"]), "kwargs": dict(gen.get("kwargs", {}))}
    except (OSError, ValueError, KeyError, TypeError):
        raise ConfigError(f"{spec}: not a stylereel model ({key} needs a model directory with model.json)") from None
    return p.resolve(), gen


def _distilling(cfg: RunConfig) -> None:
    """data.teacher of a distilled look: a trained model (`_trained_model`); the student is the
    teacher's generator with `model.generator_kwargs` changed (fewer channels or blocks), so it
    takes the same inputs."""
    spec = cfg.data.teacher
    if not spec:
        raise ConfigError("a distilled look needs the trained look it learns: --distill LOOK (a built-in look or a model directory)")
    p, gen = _trained_model(spec, "--distill")
    if gen["name"] == "reel_guided":
        raise ConfigError(f"{spec}: a guided look paints from keyframes given at render time; it cannot be distilled from photos alone")
    m = cfg.model
    cfg.data.teacher = str(p)
    m.generator, m.generator_kwargs = gen["name"], {**gen["kwargs"], **m.generator_kwargs}


def _starting_from(cfg: RunConfig) -> None:
    """model.init naming a trained model (`_trained_model`): the run trains that network on, with
    its own recipe (a distilled student finished on its look's losses, a look taken further on
    the shots); the generator is the model's, so `model.generator_kwargs` may only repeat it."""
    m = cfg.model
    if m.extend:
        raise ConfigError("model.init: a run that extends a model (model.extend) starts from that model; leave model.init random")
    p, gen = _trained_model(m.init, "model.init")
    if {**gen["kwargs"], **m.generator_kwargs} != gen["kwargs"]:
        raise ConfigError(f"model.init: {m.init} is a {gen['name']} network with {gen['kwargs'] or 'default settings'}; "
                          f"model.generator_kwargs {m.generator_kwargs} would change it (a trained model starts only a network of its own shape)")
    if cfg.data.mode == "distill" and gen["name"] != m.generator:
        raise ConfigError(f"model.init: {m.init} is a {gen['name']} network; the distilled look is a {m.generator} network like its teacher")
    m.init, m.generator, m.generator_kwargs = str(p), gen["name"], gen["kwargs"]


def _pairs_spec(spec: str, key: str) -> str:
    if "=" in spec and not Path(spec).is_dir():
        plate, painted = spec.split("=", 1)
        return f"{_existing(plate, key)}={_existing(painted, key)}"
    return _existing(spec, key, folder=True)


def _existing(spec: str, key: str, folder: bool = False) -> str:
    """The absolute form of a path, or of a sequence pattern with an optional `:range` (its folder must exist)."""
    from stylereel.io.media import split_range
    from stylereel.io.sequence import is_pattern

    path, rng = split_range(spec)
    p = Path(path).expanduser()
    if is_pattern(p):
        if not p.parent.is_dir():
            raise ConfigError(f"{spec}: no such folder for the sequence ({key})")
        return str(p.parent.resolve() / p.name) + (f":{rng}" if rng else "")
    if not p.exists():
        raise ConfigError(f"{path}: no such file or directory ({key})")
    if folder and not p.is_dir():
        raise ConfigError(f"{path}: not a folder ({key} needs DIR/input/NAME and DIR/target/NAME)")
    return str(p.resolve()) + (f":{rng}" if rng else "")
