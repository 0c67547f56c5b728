"""The CPU engine compiled for the frame's size (what it does) against one network compiled for
any size (what it did, and still does for the tiles of frames beyond 4K), per model and precision.

    python bench/static.py

One process per precision (bf16 where the CPU has it, fp32, and fp32 with OpenVINO and oneDNN
capped to AVX2: what a Zen 3 or an older Xeon runs); in it, for every model of
`bench/blocks.py` (the shipped Starry Night look, the shipped six-look model, a guided generator,
smaller default generators), both runners on the same 1920x1080 frame (largest difference
checked), then timed alternately, 7 frames each after a warm-up, median. The first frame's
compile time is reported beside them.

Writes bench/RESULTS.md, section "static".
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def worker(precision: str) -> list[dict]:
    import copy

    import torch

    from bench.blocks import models
    from bench.results import alternate
    from stylereel.render.engine import RenderGraph, _openvino_model, _openvino_runner

    hint = "bf16" if precision == "bf16" else "f32"
    x = torch.rand(1, 1080, 1920, 3).permute(0, 3, 1, 2)  # a frame as read: [H, W, 3] in memory
    rows = []
    for name, net, extras in models():
        graph = RenderGraph(copy.deepcopy(net).float().eval().requires_grad_(False))
        model = _openvino_model(graph)
        xs = [x, *[extras[i.name] for i in graph.inputs[1:]]]
        runners = {"any size": _openvino_runner(model, hint, static=False), "static": _openvino_runner(model, hint)}
        first = {}
        for kind, run in runners.items():
            t0 = time.perf_counter()
            run(xs)
            first[kind] = time.perf_counter() - t0
        diff = float((runners["static"](xs) - runners["any size"](xs)).abs().max())
        ms = alternate({kind: (lambda run=run: run(xs)) for kind, run in runners.items()})
        rows.append({"model": name, "diff": diff, "first_s": first, **ms})
    return rows


def main() -> None:
    from bench.results import engine_configs, run_worker, write_section
    from stylereel.device import cpu_description

    rows = [(isa, precision, row) for isa, precision, env in engine_configs() for row in run_worker(__file__, precision, env=env)]
    cpu = cpu_description()
    lines = [
        f"CPU: {cpu['model']}, {', '.join(cpu['isa'])}, {cpu['cores']} cores. 1920x1080, ms per frame (median of 7, the two "
        "runners alternating in one process); first frame: compile and run, seconds; largest difference: between the two runners' pictures.",
        "",
        "| model | ISA | precision | any size, ms | static, ms | static / any size | first frame, s (any size / static) | largest difference |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for isa, precision, r in rows:
        lines.append(f"| {r['model']} | {isa} | {precision} | {r['any size']:.1f} | {r['static']:.1f} | {r['static'] / r['any size']:.2f} | "
                     f"{r['first_s']['any size']:.2f} / {r['first_s']['static']:.2f} | {r['diff']:.1e} |")
    write_section("static", "The CPU engine compiled for the frame's size", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        print(json.dumps(worker(sys.argv[2])))
    else:
        main()
