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
from stylereel.benchmark.speed import AVX2_CAP, CAPPED, SIZES, default_networks, measure  # noqa: E402



def ceiling(dtype, n: int = 4096) -> float:
    """GFLOP/s (GOP/s for int8) of an n x n x n matrix product on this process's threads: the most these
    cores do at that precision (oneDNN's / the int8 GEMM's best case)."""
    import time

    import torch

    if dtype == torch.int8:
        a, b = (torch.randint(-128, 127, (n, n), dtype=torch.int8) for _ in range(2))
        run = lambda: torch._int_mm(a, b)  # noqa: E731
    else:
        a, b = (torch.randn(n, n, dtype=dtype) for _ in range(2))
        run = lambda: a @ b  # noqa: E731
    run()
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def main() -> None:
    import torch

    from stylereel.device import cpu_description

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--peer-runs", type=int, default=3)
    ap.add_argument("--sizes", nargs="+", default=list(SIZES))
    args = ap.parse_args()
    onnx = str(args.data / "models" / "multistyle26.onnx") if args.data else None
    names = default_networks(onnx)
    cpu = cpu_description()
    peaks = {"fp32": ceiling(torch.float32), "bf16": ceiling(torch.bfloat16) if "AVX-512 BF16" in cpu["isa"] else None,
             "int8": ceiling(torch.int8)}
    results = measure(names, args.sizes, args.runs, args.peer_runs, onnx)
    (ROOT / "bench" / "runs").mkdir(parents=True, exist_ok=True)
    (ROOT / "bench" / "runs" / "speed.json").write_text(json.dumps({"cpu": cpu, "ceilings": peaks, **results}, indent=2))

    ceilings = ", ".join(f"{k} {v:.0f}" for k, v in peaks.items() if v)
    lines = [
        f"CPU: {cpu['model']}, {', '.join(cpu['isa'])}, {cpu['cores']} cores. Each cell: one fresh process, one warm-up frame, "
        f"median of the timed runs ({args.runs} for stylereel, {args.peer_runs} for peers); peak = growth of resident memory "
        f"while rendering. stylereel is the default look (Starry Night) at each precision the CPU engine runs here. "
        f"Matrix-product ceilings on these cores, measured in this run (GFLOP/s; int8 in GOP/s): {ceilings}. "
        f"Kernels: the instruction set stylereel's convolutions ran on, read from the compiled network. "
        + (f"Rows with avx2 kernels on this AVX-512 CPU ran with OpenVINO's and oneDNN's instruction sets capped to AVX2 "
           f"(`{' '.join(f'{k}={v}' for k, v in AVX2_CAP.items())}`): the kernels a CPU without AVX-512 runs, not its clock "
           f"or memory, and their ceiling share is against this CPU's uncapped ceilings. Magenta's network (ONNX Runtime, "
           f"which this cap does not reach) runs its AVX-512 kernels in every row, so x Magenta's speed under the cap "
           f"is lower than a CPU without AVX-512 would show." if any(n.endswith(CAPPED) for n in names) else ""),
        "",
        "| network | precision | kernels | size | ms/frame | frames/s | GMAC/frame | achieved GFLOP/s | of its ceiling | peak MiB | x Magenta's speed |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    magenta = results.get("multistyle26_onnx", {})
    for name in names:
        for size in args.sizes:
            c = results[name][size]
            precision = c.get("precision", "fp32")
            gmac = f"{c['gmac_per_frame']:.1f}" if "gmac_per_frame" in c else "n/a"
            gflops = f"{c['gflops']:.0f}" if "gflops" in c else "n/a"
            share = f"{100 * c['gflops'] / peaks[precision]:.0f}%" if "gflops" in c and peaks.get(precision) else "n/a"
            than = f"{magenta[size]['ms_per_frame'] / c['ms_per_frame']:.1f}x" if size in magenta else "n/a"
            kernels = c.get("kernels") or "n/a"
            lines.append(f"| {name.partition('@')[0]} | {precision} | {kernels} | {size} | {c['ms_per_frame']:.0f} | {c['fps']:.2f} | {gmac} | "
                         f"{gflops} | {share} | {c['peak_mib']:.0f} | {than} |")
    write_section("speed", "Inference speed on CPU, same run", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
