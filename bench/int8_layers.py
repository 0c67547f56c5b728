"""Where int8's error comes from: the default look quantized by NNCF's post-training quantization as the engine
does it (`stylereel.render.int8`), and again with parts of the network kept in fp32, each against fp32 on the
frames the engine checks int8 on.

    python bench/int8_layers.py

Rows: the engine's recipe (every convolution, and what NNCF's MIXED preset quantizes beside them: the inputs of
the residual sums, the skips, the stage's sums and the decoder's two upsamplings); the convolutions alone; all but
the full-resolution stage and the RGB conv it draws over; the 1/8-resolution blocks (where most arithmetic is);
the sums and upsamplings alone; then each convolution quantized alone (everything else fp32). Error: mean and
largest absolute difference from fp32 in 8-bit code values over the held-out frames (`stylereel.render.int8.frames`: the bundled held-out
photo and clip frames), the bound for int8 to be a default being a mean of 1.

Writes bench/RESULTS.md, section "int8-layers". Errors only: no timing (speed per precision: "speed", "cpu-paths").
"""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    from bench.results import write_section
    from stylereel.looks import look_dir
    from stylereel.model import load_model
    from stylereel.render import int8
    from stylereel.render.engine import RenderGraph, _openvino_model, _openvino_runner

    nncf = int8._nncf()
    model_dir = look_dir("starry_night")
    net, _ = load_model(model_dir)
    model = _openvino_model(RenderGraph(net))
    calibration, held_out = int8.frames(model_dir)
    fp32 = _openvino_runner(model, "f32")
    reference = [fp32([x]).numpy() for x in held_out]
    convs = [op.get_friendly_name() for op in model.get_ordered_ops() if op.get_type_name() in ("Convolution", "GroupConvolution")]
    short = lambda name: name.split("/")[0].removeprefix("__module.net.")  # noqa: E731

    def error(**kwargs) -> tuple[float, float]:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):  # NNCF's progress bars
            q = nncf.quantize(model, nncf.Dataset(calibration), subset_size=len(calibration),
                              preset=nncf.QuantizationPreset.MIXED, **kwargs)
        run = _openvino_runner(q, "f32")
        diffs = [np.abs(run([x]).numpy() - y) * 255 for x, y in zip(held_out, reference)]
        return float(np.mean([d.mean() for d in diffs])), float(max(d.max() for d in diffs))

    stage = [n for n in convs if "block_finish" in n or "to_rgb" in n]
    scope = nncf.IgnoredScope
    rest = ["Add", "Interpolate"]  # what NNCF quantizes besides the convolutions: the sums' inputs, the upsamplings' inputs
    rows = [("the engine's recipe", {}),
            ("convolutions alone (additions and upsamplings kept fp32)", {"ignored_scope": scope(types=rest)}),
            ("all but the full-resolution stage and its RGB conv", {"ignored_scope": scope(names=stage)}),
            ("the 1/8-resolution blocks' convolutions alone", {"ignored_scope": scope(types=rest, names=[n for n in convs if ".blocks." not in n])}),
            ("additions and upsamplings alone (every convolution kept fp32)", {"ignored_scope": scope(names=convs)})]
    rows += [(f"{short(n)} quantized alone", {"ignored_scope": scope(types=rest, names=[m for m in convs if m != n])}) for n in convs]
    lines = [f"The default look (Starry Night), calibrated on {len(calibration)} frames and checked on {len(held_out)} held-out ones, "
             f"{int8.CALIBRATION_SIDE} px on the longer side (the engine's own calibration and check).", "",
             "| quantized | mean codes from fp32 | largest |", "| --- | --- | --- |"]
    results = {}
    for label, kwargs in rows:
        results[label] = error(**kwargs)
        lines.append(f"| {label} | {results[label][0]:.2f} | {results[label][1]:.0f} |")
        print(lines[-1], flush=True)
    alone = [v[0] for k, v in results.items() if k.endswith(" quantized alone")]
    lines += ["", f"Each convolution quantized alone: {min(alone):.2f}-{max(alone):.2f} codes."]
    write_section("int8-layers", "Where int8's error comes from", "\n".join(lines))


if __name__ == "__main__":
    main()
