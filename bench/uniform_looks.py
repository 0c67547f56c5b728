"""The built-in looks of the six-look model with their weights given once (`[N, looks]`, what a render
without a matte now does) against the same weights as a map over the frame (what it did, and still
does under `--region`).

    python bench/uniform_looks.py --data DATA_DIR

One process per precision (bf16 where the CPU has it, fp32, and fp32 with OpenVINO and oneDNN capped
to AVX2: what a Zen 3 or an older Xeon runs). In it: `photos/home.jpg` at 1920x1080 through the shipped
six-look model with one look at full weight, the map and the vector alternating, 7 frames each after a
warm-up, median; and for every look, how far each picture lies from the fp32 map's (mean and largest
difference in 8-bit codes).

Writes bench/RESULTS.md, section "uniform-looks".
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TIMED_LOOK = "ink"


def worker(precision: str, photo: str) -> dict:
    import cv2
    import numpy as np
    import torch

    from bench.results import alternate
    from stylereel.io.frames import read_image
    from stylereel.looks import look_dir
    from stylereel.model import load_model
    from stylereel.render.engine import InferenceEngine

    net, _ = load_model(look_dir(TIMED_LOOK))
    looks = list(net.looks)
    rgb = cv2.resize(read_image(photo).rgb, (1920, 1080), interpolation=cv2.INTER_AREA)
    x = torch.from_numpy(np.ascontiguousarray(rgb, dtype=np.float32)).permute(2, 0, 1)[None]

    def weights(name: str) -> tuple[torch.Tensor, torch.Tensor]:
        v = torch.zeros(1, len(looks))
        v[0, looks.index(name)] = 1
        return v, v[..., None, None].expand(1, len(looks), 1080, 1920).contiguous()

    engine = InferenceEngine(net, "cpu", precision=precision)
    reference = InferenceEngine(net, "cpu", precision="fp32")
    vector, full = weights(TIMED_LOOK)
    engine(x, look=full), engine(x, look=vector)  # warm-up: each network compiled for the frame
    ms = alternate({"map": lambda: engine(x, look=full), "vector": lambda: engine(x, look=vector)})
    codes = {}
    for name in looks[1:]:
        vector, full = weights(name)
        ref = reference(x, look=full)
        codes[name] = {}
        for kind, look in (("map", full), ("vector", vector)):
            d = 255 * (engine(x, look=look) - ref).abs()
            codes[name][kind] = (float(d.mean()), float(d.max()))
    return {"ms": ms, "codes": codes, "kernels": engine.kernels()}


def main() -> None:
    from bench.results import engine_configs, run_worker, write_section
    from stylereel.device import cpu_description

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    args = ap.parse_args()
    photo = str((args.data / "photos" / "home.jpg").resolve())
    rows = [(isa, precision, run_worker(__file__, precision, photo, env=env)) for isa, precision, env in engine_configs()]
    cpu = cpu_description()
    lines = [
        f"CPU: {cpu['model']}, {', '.join(cpu['isa'])}, {cpu['cores']} cores. The shipped six-look model on `photos/home.jpg` at "
        f"1920x1080. Time: the look `{TIMED_LOOK}` at full weight, ms per frame (median of 7, map and vector alternating in one "
        "process). Difference: from the fp32 map's picture, in 8-bit codes, mean over every look (largest pixel of any look).",
        "",
        "| ISA | precision | kernels | weights as a map, ms | given once, ms | map / once | difference, map | difference, once |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for isa, precision, r in rows:
        diff = {kind: (sum(c[kind][0] for c in r["codes"].values()) / len(r["codes"]), max(c[kind][1] for c in r["codes"].values()))
                for kind in ("map", "vector")}
        lines.append(f"| {isa} | {precision} | {r['kernels']} | {r['ms']['map']:.0f} | {r['ms']['vector']:.0f} | "
                     f"{r['ms']['map'] / r['ms']['vector']:.2f} | {diff['map'][0]:.3f} ({diff['map'][1]:.1f}) | "
                     f"{diff['vector'][0]:.3f} ({diff['vector'][1]:.1f}) |")
    write_section("uniform-looks", "Built-in looks with their weights given once", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        print(json.dumps(worker(sys.argv[2], sys.argv[3])))
    else:
        main()
