"""Which runtime should run the default generator on CPU: PyTorch eager (the
shipped engine), torch.compile (Inductor), ONNX Runtime or OpenVINO.

    python bench/backends.py

Each backend runs the same network (the shipped base weights) on the same
1920x1080 frame in its own process: one warm-up (compilation included, timed
separately), then the median of --runs frames. A 1080p frame is one tile of the
engine's tiling, so 4K costs about four of these in any backend. The output of
each is compared with PyTorch fp32. Needs `pip install onnx onnxscript
openvino` on top of the package (benchmark only). Writes bench/RESULTS.md
(section "backends").
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import write_section  # noqa: E402

BACKENDS = {
    "torch eager fp32 (channels_last)": "eager_fp32",
    "torch eager bf16 (channels_last)": "eager_bf16",
    "torch.compile (Inductor) bf16": "compile_bf16",
    "ONNX Runtime fp32": "ort_fp32",
    "OpenVINO bf16, ONNX import": "openvino",
    "OpenVINO bf16, shipped engine (direct conversion, any input size)": "engine",
    "`stylereel export --format onnx` file, ONNX Runtime fp32": "export_onnx",
    "`stylereel export --format torchscript` file (Nuke), torch fp32": "export_torchscript",
}


TILE_BUDGETS = [2**20, 2**21, 2**22, 2**24]


def _net() -> torch.nn.Module:
    from stylereel.nets.generator import build_generator, load_base_weights

    net = build_generator("reel")
    load_base_weights(net, "reel", {})
    return net.eval()


def _frame(h: int, w: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    # a smooth random image, not noise: realistic activations
    return torch.nn.functional.interpolate(torch.rand(1, 3, h // 16, w // 16, generator=g), size=(h, w), mode="bilinear")


def _runner(kind: str, net: torch.nn.Module, x: torch.Tensor):
    """A function frame -> float32 numpy output for one backend."""
    import numpy as np

    if kind in ("eager_fp32", "eager_bf16"):
        from stylereel.render.engine import InferenceEngine

        eng = InferenceEngine(net, "cpu", precision="bf16" if kind == "eager_bf16" else "fp32", tile_pixels=10**9, backend="torch")
        return lambda: eng(x).numpy()
    if kind.startswith("engine"):  # "engine" or "engine@TILE_PIXELS"
        from stylereel.render.engine import InferenceEngine

        eng = InferenceEngine(net, "cpu", tile_pixels=int(kind.split("@")[1]) if "@" in kind else 10**9)
        return lambda: eng(x).numpy()
    if kind == "export_onnx":  # the file users get, strength an input
        import onnxruntime as ort

        from stylereel.export.onnx import export_onnx

        path = Path(tempfile.mkdtemp()) / "look.onnx"
        export_onnx(net, {}, path, "base")
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        feed = {"image": x.numpy(), "strength": np.ones((1, 1), np.float32)}
        return lambda: sess.run(None, feed)[0]
    if kind == "export_torchscript":
        from stylereel.export.torchscript import export_torchscript

        path = export_torchscript(net, Path(tempfile.mkdtemp()) / "look.pt", "base")
        module = torch.jit.load(str(path))

        def run_ts():
            with torch.inference_mode():
                return module(x).numpy()
        return run_ts
    if kind == "compile_bf16":
        m = net.to(torch.bfloat16, memory_format=torch.channels_last)
        cm = torch.compile(m, dynamic=False)
        xb = x.to(torch.bfloat16).contiguous(memory_format=torch.channels_last)

        def run():
            with torch.inference_mode():
                return cm(xb).float().numpy()
        return run
    tmp = Path(tempfile.mkdtemp()) / "reel.onnx"
    torch.onnx.export(net, (x,), str(tmp), input_names=["image"], output_names=["styled"], dynamo=True)
    xn = x.numpy()
    if kind == "ort_fp32":
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(str(tmp), opts, providers=["CPUExecutionProvider"])
        return lambda: sess.run(None, {"image": xn})[0]
    if kind == "openvino":
        from stylereel.render.ov import openvino

        ov = openvino()

        compiled = ov.Core().compile_model(str(tmp), "CPU", {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "bf16"})
        req = compiled.create_infer_request()
        return lambda: np.asarray(req.infer({0: xn})[0])
    raise KeyError(kind)


def worker(kind: str, h: int, w: int, runs: int) -> dict:
    import numpy as np

    x = _frame(h, w)
    net = _net()
    with torch.no_grad():
        ref = net(x).numpy()
    t0 = time.perf_counter()
    run = _runner(kind, _net(), x)
    out = run()
    warm = time.perf_counter() - t0
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    diff = np.abs(np.asarray(out, np.float32) - ref)
    return {"ms_per_frame": 1000 * statistics.median(times), "first_frame_s": warm, "mean_abs_err_8bit": float(diff.mean()) * 255,
            "max_abs_err": float(diff.max())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", nargs="*", default=None, help="backend keys to run (default: all)")
    args = ap.parse_args()
    h, w = 1080, 1920
    results = {}
    for label, kind in BACKENDS.items():
        if args.only and kind not in args.only:
            continue
        r = subprocess.run([sys.executable, __file__, "--worker", kind, str(h), str(w), str(args.runs)], capture_output=True, text=True)
        if r.returncode != 0:
            results[label] = {"error": (r.stderr.strip().splitlines() or ["?"])[-1][:200]}
        else:
            results[label] = json.loads(r.stdout.strip().splitlines()[-1])
        print(label, results[label], flush=True)
    base = results[next(k for k, v in BACKENDS.items() if v == "eager_bf16")]["ms_per_frame"]

    tiles = {}
    if not args.only:
        for budget in TILE_BUDGETS:
            r = subprocess.run([sys.executable, __file__, "--worker", f"engine@{budget}", "2160", "3840", str(args.runs)],
                               capture_output=True, text=True, check=True)
            tiles[budget] = json.loads(r.stdout.strip().splitlines()[-1])
            print("4K tiles", budget, tiles[budget], flush=True)
    lines = [
        f"The default generator (shipped base weights) on one {w}x{h} frame; one process per backend, "
        f"median of {args.runs} frames after a warm-up frame (the warm-up, compilation included, is shown separately). "
        "Error: mean absolute difference from PyTorch fp32, in 8-bit code values, and the largest difference (0..1 scale).",
        "",
        "| backend | ms/frame | vs torch eager bf16 | first frame (s) | error (8-bit codes) | max abs error |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for label, r in results.items():
        if "error" in r:
            lines.append(f"| {label} | failed: {r['error']} | | | | |")
        else:
            lines.append(f"| {label} | {r['ms_per_frame']:.0f} | {r['ms_per_frame'] / base:.2f}x | {r['first_frame_s']:.1f} "
                         f"| {r['mean_abs_err_8bit']:.3f} | {r['max_abs_err']:.2g} |")
    if tiles:
        from stylereel.render.engine import plan_tiles

        lines += ["", "The shipped engine on a 3840x2160 frame by tile budget (tiles carry an 80-px halo; the result is "
                  "the same as one pass):", "", "| tile budget (pixels) | tiles | ms/frame |", "| --- | --- | --- |"]
        for budget, r in tiles.items():
            n = len(plan_tiles(2160, 3840, 8, 80, budget))
            lines.append(f"| {budget:,} | {n} | {r['ms_per_frame']:.0f} |")
    write_section("backends", "CPU runtimes for the default generator", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        print(json.dumps(worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))))
    else:
        main()
