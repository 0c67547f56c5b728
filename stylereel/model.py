"""The inference model on disk: what a trained look is, apart from how it was trained.

`MODEL/` holds `generator.safetensors` (the EMA generator), `model.json` (the
generator's name + kwargs that rebuild it, and the run's resolved config) and,
for looks with style targets, `style_grams.safetensors` (so a model can be
scored without its style images; its metadata names the loss trunk they were taken on). `model.json` is written last: its presence
marks a complete model. Rendering reads this module only, never `train/`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from stylereel.errors import StylereelError
from stylereel.io.atomic import atomic_write, atomic_write_text
from stylereel.nets.generator import build_generator

MODEL_FORMAT = "stylereel-model/1"


class ModelError(StylereelError):
    pass


def _contiguous(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().contiguous().cpu() for k, v in sd.items()}


def save_model(model_dir: str | Path, generator: nn.Module, info: dict[str, Any], style_grams: dict[str, torch.Tensor] | None = None,
               grams_trunk: str | None = None) -> None:
    """`info` must hold `generator: {"name", "kwargs"}`; the rest is descriptive. `style_grams`
    were taken on the loss trunk `grams_trunk`."""
    model_dir = Path(model_dir)
    info = {"format": MODEL_FORMAT, **info}
    atomic_write(model_dir / "generator.safetensors", lambda tmp: save_file(_contiguous(generator.state_dict()), tmp))
    if style_grams:
        if not grams_trunk:
            raise ValueError("save_model: style_grams need the trunk they were taken on (grams_trunk)")
        atomic_write(model_dir / "style_grams.safetensors",
                     lambda tmp: save_file(_contiguous(style_grams), tmp, metadata={"trunk": grams_trunk}))
    atomic_write_text(model_dir / "model.json", json.dumps(info, indent=2) + "\n")


def resolve_model_dir(path: str | Path) -> Path:
    """Accepts a model directory, its model.json, or a run directory (uses RUN/model)."""
    p = Path(path)
    if p.is_file() and p.name == "model.json":
        p = p.parent
    if (p / "model" / "model.json").is_file():
        p = p / "model"
    if not (p / "model.json").is_file():
        raise ModelError(f"{path}: not a stylereel model (no model.json here or in {Path(path) / 'model'})")
    return p


def load_model(path: str | Path) -> tuple[nn.Module, dict[str, Any]]:
    model_dir = resolve_model_dir(path)
    try:
        info = json.loads((model_dir / "model.json").read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ModelError(f"{model_dir / 'model.json'}: not valid JSON ({e})") from None
    if not isinstance(info, dict) or info.get("format") != MODEL_FORMAT:
        found = info.get("format") if isinstance(info, dict) else None
        raise ModelError(f"{model_dir / 'model.json'}: unknown model format {found!r} (expected {MODEL_FORMAT})")
    g = info.get("generator") or {}
    try:
        net = build_generator(g["name"], **g.get("kwargs", {}))
    except (KeyError, TypeError) as e:
        raise ModelError(f"{model_dir / 'model.json'}: cannot rebuild generator ({e})") from None
    weights = model_dir / "generator.safetensors"
    try:
        sd = load_file(weights)
    except Exception as e:  # noqa: BLE001 - report which file is broken, in one line
        raise ModelError(f"{weights}: cannot read weights ({type(e).__name__}: {e})") from None
    try:
        net.load_state_dict(sd)
    except RuntimeError as e:
        raise ModelError(f"{weights}: weights do not match the generator in model.json ({str(e).splitlines()[0]})") from None
    net.eval().requires_grad_(False)
    return net, info


def model_trunk(info: dict[str, Any]) -> str:
    """The loss trunk a model's look was trained on (its config's `loss.trunk`; models from
    before trunks could be chosen name none and were trained on HED's VGG16)."""
    from stylereel.nets.features import LEGACY_TRUNK

    return str((info.get("config") or {}).get("loss", {}).get("trunk", LEGACY_TRUNK))


def load_style_grams(path: str | Path) -> tuple[dict[str, torch.Tensor], str] | None:
    """The look's Gram matrices and the loss trunk they were taken on (models from before
    trunks could be chosen: HED's VGG16, the only one then), or None for a look without them."""
    from safetensors import safe_open

    from stylereel.nets.features import LEGACY_TRUNK

    f = resolve_model_dir(path) / "style_grams.safetensors"
    if not f.is_file():
        return None
    try:
        with safe_open(str(f), framework="pt") as sf:
            trunk = (sf.metadata() or {}).get("trunk", LEGACY_TRUNK)
        return load_file(f), trunk
    except Exception as e:  # noqa: BLE001
        raise ModelError(f"{f}: cannot read style targets ({type(e).__name__}: {e})") from None
