"""The two artifacts of a run (as in NVlabs/edm):

- resume state `checkpoints/state.pt`: G, D, EMA, optimisers, step, RNG states and
  the resolved config: everything needed to continue bit-exactly. Tensors and
  plain data only (loaded with `weights_only=True`, never pickled code).
- inference model `model/`: `generator.safetensors` (the EMA generator) +
  `model.json` (the config that rebuilds it) + `style_grams.safetensors` (the
  look's Gram targets, so a model can be evaluated without its style images).

Every file is written to a temp name beside it and renamed into place, so a
crash never leaves a half-written checkpoint.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from stylereel.nets.generator import build_generator

MODEL_FORMAT = "stylereel-model/1"


class ModelError(ValueError):
    pass


def atomic_write(path: Path, write) -> None:
    """Call `write(tmp_path)` then rename over `path`; the temp file never survives a failure."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def save_state(path: Path, state: dict[str, Any]) -> None:
    atomic_write(path, lambda tmp: torch.save(state, tmp))


def load_state(path: Path) -> dict[str, Any]:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - report which file is broken, in one line
        raise ModelError(f"{path}: cannot read resume state ({type(e).__name__}: {str(e).splitlines()[0]})") from None


def _contiguous(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().contiguous().cpu() for k, v in sd.items()}


def save_model(model_dir: Path, generator: nn.Module, info: dict[str, Any], style_grams: dict[str, torch.Tensor] | None = None) -> None:
    """`info` must hold `generator: {"name", "kwargs"}`; the rest is descriptive."""
    model_dir = Path(model_dir)
    info = {"format": MODEL_FORMAT, **info}
    atomic_write(model_dir / "generator.safetensors", lambda tmp: save_file(_contiguous(generator.state_dict()), tmp))
    if style_grams:
        atomic_write(model_dir / "style_grams.safetensors", lambda tmp: save_file(_contiguous(style_grams), tmp))
    # model.json last: its presence marks a complete model directory.
    atomic_write(model_dir / "model.json", lambda tmp: Path(tmp).write_text(json.dumps(info, indent=2) + "\n"))


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
    except json.JSONDecodeError as e:
        raise ModelError(f"{model_dir / 'model.json'}: not valid JSON ({e})") from None
    if info.get("format") != MODEL_FORMAT:
        raise ModelError(f"{model_dir / 'model.json'}: unknown model format {info.get('format')!r} (expected {MODEL_FORMAT})")
    g = info["generator"]
    try:
        net = build_generator(g["name"], **g.get("kwargs", {}))
    except (KeyError, TypeError) as e:
        raise ModelError(f"{model_dir / 'model.json'}: cannot rebuild generator ({e})") from None
    weights = model_dir / "generator.safetensors"
    try:
        sd = load_file(weights)
    except Exception as e:  # noqa: BLE001
        raise ModelError(f"{weights}: cannot read weights ({type(e).__name__}: {e})") from None
    try:
        net.load_state_dict(sd)
    except RuntimeError as e:
        raise ModelError(f"{weights}: weights do not match the generator in model.json ({str(e).splitlines()[0]})") from None
    net.eval().requires_grad_(False)
    return net, info


def load_style_grams(path: str | Path) -> dict[str, torch.Tensor] | None:
    f = resolve_model_dir(path) / "style_grams.safetensors"
    return load_file(f) if f.is_file() else None
