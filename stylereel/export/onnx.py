"""`stylereel export MODEL --format onnx`: one self-contained ONNX file (weights inside, no
`.onnx.data` beside it), any height and width, the inputs of `ExportGraph`, and what a user of
the file needs to know in its metadata (`metadata_props`): the looks, the encoding, the
defaults, the stylereel version and the model it came from."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch

from stylereel.errors import StylereelError
from stylereel.export.graph import ExportGraph
from stylereel.io.atomic import temp_path

OPSET = 17


def export_onnx(net: torch.nn.Module, info: dict, out: str | Path, source: str) -> dict[str, str]:
    """Write `net` (a loaded model, `info` its model.json) to `out`; returns the metadata written."""
    from importlib.metadata import version

    try:
        import onnx
    except ImportError:
        raise StylereelError("an ONNX export needs the onnx package: pip install 'stylereel[export]'") from None

    out = Path(out)
    graph = ExportGraph(net)
    names = graph.input_names
    spatial = {"image", "guide"}
    axes = {n: ({0: "batch", 2: "height", 3: "width"} if n in spatial else {0: "batch"}) for n in names}
    axes["image_out"] = {0: "batch", 2: "height", 3: "width"}
    meta = {
        "stylereel_version": version("stylereel"),
        "source_model": source,
        "model_steps": str(info.get("steps", "")),
        "inputs": json.dumps({
            "image": "[N, 3, H, W] RGB in [0, 1], sRGB-encoded (convert scene-linear plates to sRGB first)",
            "strength": "[N, 1] 0 (the plate) .. 1 (the full look); default 1",
            **({"look": f"[N, {len(graph.looks)}] how much of each look, mixed in proportion; default one-hot on the first"} if graph.looks else {}),
            **({"guide": "[N, 4, H, W] painted keyframes carried to this frame (RGB) and their confidence"} if graph.guided else {}),
        }),
        "looks": json.dumps(graph.looks),
        "output": "image_out [N, 3, H, W] RGB in [0, 1], sRGB-encoded",
        "min_side": str(graph.min_side),
        "colour_encoding": "sRGB",
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(out)
    try:
        with torch.no_grad(), warnings.catch_warnings():  # the exporter's notes on constant folding are not the user's concern
            warnings.simplefilter("ignore")
            torch.onnx.export(graph, graph.example_inputs(), str(tmp), input_names=names, output_names=["image_out"],
                              dynamic_axes=axes, opset_version=OPSET, dynamo=False)
        model = onnx.load(str(tmp))
        for k, v in meta.items():
            model.metadata_props.add(key=k, value=v)
        onnx.checker.check_model(model)
        onnx.save(model, str(tmp))  # one file: a few MB of weights, far below protobuf's 2 GB limit
        tmp.replace(out)
    except StylereelError:
        raise
    except Exception as exc:  # noqa: BLE001 - the exporter's own errors, named in one line
        raise StylereelError(f"{out}: the ONNX export failed ({' '.join(str(exc).split())[:300]})") from None
    finally:
        tmp.unlink(missing_ok=True)
    return meta
