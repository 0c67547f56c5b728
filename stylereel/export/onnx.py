"""`stylereel export MODEL --format onnx`: one self-contained ONNX file (weights inside, no
`.onnx.data` beside it), any height and width, the inputs of `ExportGraph`, and what a user of
the file needs to know in its metadata (`metadata_props`): the looks, the encoding, the
defaults, the stylereel version and the model it came from.

`--format flame`: the same network with the image as its only input (Flame's Inference node
feeds images only), the strength and look mix chosen at export baked in, and the JSON sidecar
the node reads beside it (docs/flame.md)."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from stylereel.errors import StylereelError
from stylereel.export.graph import ExportGraph
from stylereel.export import write_export
from stylereel.io.atomic import atomic_write_text

OPSET = 17
FRAME_AXES = {0: "batch", 2: "height", 3: "width"}
FLAME_MINIMUM_VERSION = "2025.1"  # the first Flame whose Inference node reads a JSON sidecar


def export_onnx(net: nn.Module, info: dict, out: str | Path, source: str) -> dict[str, str]:
    """Write `net` (a loaded model, `info` its model.json) to `out`; returns the metadata written."""
    graph = ExportGraph(net)
    names = graph.input_names
    axes = {n: (FRAME_AXES if n in ("image", "guide") else {0: "batch"}) for n in names}
    inputs = {
        "image": "[N, 3, H, W] RGB in [0, 1], sRGB-encoded (convert scene-linear plates to sRGB first)",
        "strength": "[N, 1] 0 (the plate) .. 1 (the full look); default 1",
        **({"look": f"[N, {len(graph.looks)}] how much of each look, mixed in proportion; default one-hot on the first"} if graph.looks else {}),
        **({"guide": "[N, 4, H, W] painted keyframes carried to this frame (RGB) and their confidence"} if graph.guided else {}),
    }
    return _write(graph, graph.example_inputs(), names, axes, out, _meta(graph, info, source, inputs))


class Baked(nn.Module):
    """`ExportGraph` with its strength and look mix fixed: the image is the only input."""

    def __init__(self, graph: ExportGraph, strength: float, mix: list[float]):
        super().__init__()
        self.graph = graph
        self.register_buffer("strength", torch.tensor([[float(strength)]]))
        self.register_buffer("mix", torch.tensor([mix], dtype=torch.float32))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        n = image.shape[0]
        extra = (self.mix.expand(n, -1),) if self.graph.looks else ()
        return self.graph(image, self.strength.expand(n, 1), *extra)


def export_flame(net: nn.Module, info: dict, out: str | Path, source: str, strength: float = 1.0,
                 mix: dict[str, float] | None = None) -> tuple[Path, Path]:
    """`out` (.onnx) for Flame's Inference node and its sidecar `out` with .json; `mix`: the looks of a
    multi-look model by weight (default its first look)."""
    out = Path(out)
    graph = ExportGraph(net)
    if graph.guided:
        raise StylereelError(f"{source}: a guided look takes painted keyframes beside each frame; Flame's Inference node "
                             "gives it images only (export --format onnx and feed the guide yourself)")
    if not 0 <= strength <= 1:
        raise StylereelError(f"--strength: expected 0 to 1, got {strength}")
    weights = [float((mix or {graph.looks[0]: 1.0}).get(name, 0.0)) for name in graph.looks] if graph.looks else []
    baked = Baked(graph, strength, weights)
    chosen = ", ".join(f"{k}={v:g}" for k, v in (mix or ({graph.looks[0]: 1.0} if graph.looks else {})).items())
    meta = _meta(graph, info, source, {"image": "[N, 3, H, W] RGB in [0, 1], sRGB-encoded"})
    meta.update({"baked_strength": str(strength), "baked_look": chosen})
    _write(baked, (torch.rand(1, 3, 96, 128),), ["image"], {"image": FRAME_AXES}, out, meta)
    sidecar = out.with_suffix(".json")
    described = f"stylereel look from {Path(source).name}" + (f" ({chosen})" if chosen else "") + f", strength {strength:g}"
    atomic_write_text(sidecar, json.dumps({"ModelDescription": {
        "MinimumVersion": FLAME_MINIMUM_VERSION,
        "Name": out.stem,
        "Description": described + ". Expects display-referred (sRGB-encoded) RGB in 0..1: convert scene-linear clips first.",
        "SupportsSceneLinear": False,  # the network was trained on sRGB-encoded pictures
        "KeepAspectRatio": False,
        "Padding": 1,  # any size: the network pads to its stride inside
        "Inputs": [{"Name": "image", "Description": "the plate, RGB 0..1", "Type": "Front", "Gain": 1.0, "Channels": "RGB"}],
        "Outputs": [{"Name": "image_out", "Description": "the plate in the look, RGB 0..1", "Type": "Result",
                     "InverseGain": 1.0, "ScalingFactor": 1.0, "Channels": "RGB"}],
    }}, indent=4) + "\n")
    return out, sidecar


def _meta(graph: ExportGraph, info: dict, source: str, inputs: dict) -> dict[str, str]:
    from importlib.metadata import version

    return {
        "stylereel_version": version("stylereel"),
        "source_model": source,
        "model_steps": str(info.get("steps", "")),
        "inputs": json.dumps(inputs),
        "looks": json.dumps(graph.looks),
        "output": "image_out [N, 3, H, W] RGB in [0, 1], sRGB-encoded",
        "min_side": str(graph.min_side),
        "colour_encoding": "sRGB",
    }


def _write(module: nn.Module, example: tuple, names: list[str], axes: dict, out: str | Path, meta: dict[str, str]) -> dict[str, str]:
    try:
        import onnx
    except ImportError:
        raise StylereelError("an ONNX export needs the onnx package: pip install 'stylereel[export]'") from None

    def write(tmp: Path) -> None:
        with torch.no_grad():
            torch.onnx.export(module, example, str(tmp), input_names=names, output_names=["image_out"],
                              dynamic_axes={**axes, "image_out": FRAME_AXES}, opset_version=OPSET, dynamo=False)
        model = onnx.load(str(tmp))
        for k, v in meta.items():
            model.metadata_props.add(key=k, value=v)
        onnx.checker.check_model(model)
        onnx.save(model, str(tmp))  # one file: a few MB of weights, far below protobuf's 2 GB limit

    write_export(Path(out), "ONNX", write)
    return meta
