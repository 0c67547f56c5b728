"""Inference speed: stylereel's default generator against Johnson's TransformerNet,
CycleGAN's ResNet-9 generator and Magenta's multi-style network (ONNX Runtime),
measured in the same run, each in its own process.

    python bench/speed.py --data DATA_DIR

DATA_DIR is the project's sample data (models/multistyle26.onnx is timed if present).
Writes bench/RESULTS.md (section "speed"); `stylereel bench speed --json` prints the raw numbers.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import write_section  # noqa: E402
from stylereel.benchmark.speed import SIZES, default_networks, measure  # noqa: E402

PEAK_FP32 = 177.0  # GFLOP/s, a 4096^3 fp32 matrix product on these 2 cores
PEAK_BF16 = 373.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--peer-runs", type=int, default=3)
    ap.add_argument("--sizes", nargs="+", default=list(SIZES))
    args = ap.parse_args()
    onnx = str(args.data / "models" / "multistyle26.onnx") if args.data else None
    names = default_networks(onnx)
    results = measure(names, args.sizes, args.runs, args.peer_runs, onnx)
    (ROOT / "bench" / "runs").mkdir(parents=True, exist_ok=True)
    (ROOT / "bench" / "runs" / "speed.json").write_text(json.dumps(results, indent=2))

    lines = [
        "Each cell: one fresh process, one warm-up frame, median of the timed runs "
        f"({args.runs} for stylereel, {args.peer_runs} for peers); peak = growth of resident memory while rendering. "
        f"Matrix-product ceiling on these cores: {PEAK_FP32:.0f} GFLOP/s fp32, {PEAK_BF16:.0f} GFLOP/s bf16.",
        "",
        "| network | size | ms/frame | frames/s | GMAC/frame | achieved GFLOP/s | peak MiB | time vs stylereel |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name in names:
        for size in args.sizes:
            c = results[name][size]
            ratio = c["ms_per_frame"] / results["stylereel"][size]["ms_per_frame"]
            gmac = f"{c['gmac_per_frame']:.1f}" if "gmac_per_frame" in c else "n/a"
            gflops = f"{c['gflops']:.0f}" if "gflops" in c else "n/a"
            lines.append(f"| {name} | {size} | {c['ms_per_frame']:.0f} | {c['fps']:.2f} | {gmac} | {gflops} | {c['peak_mib']:.0f} | {ratio:.1f}x |")
    write_section("speed", "Inference speed on CPU, same run", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
