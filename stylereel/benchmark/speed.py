"""Inference speed of stylereel's default generator against its peers, same run.

Each (network, resolution) is timed in its own subprocess, so its peak resident
memory (ru_maxrss, minus the process's footprint before the first frame) is its
own. Timings are warmed up and the median of several runs.
"""

from __future__ import annotations

import copy
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from torch import nn

SIZES = {"1080p": (1080, 1920), "2160p": (2160, 3840)}
DEFAULT_LOOK = "starry_night"
# A name ending in CAPPED runs with OpenVINO's and oneDNN's instruction sets capped to AVX2 (either alone leaves
# the plugin and oneDNN disagreeing): the kernels a CPU without AVX-512 (a Zen 3, an older Xeon) runs.
CAPPED = ":avx2"
AVX2_CAP = {"OV_CPU_MAX_ISA": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"}


def conv_macs(net: nn.Module, shape: tuple[int, ...]) -> int:
    """Multiply-accumulates of every conv / transposed conv for one input of `shape`.

    Counted at the real size on shape-only "meta" tensors (instant): the margin a
    generator pads around the frame and the rounding to its stride are included
    exactly, which scaling up a small probe would overstate."""
    net = copy.deepcopy(net).to("meta")
    total = 0

    def hook(m, inp, out):
        nonlocal total
        if isinstance(m, nn.ConvTranspose2d):
            k = m.kernel_size[0] * m.kernel_size[1] * m.out_channels // m.groups
            total += inp[0].numel() * k
        else:
            k = m.kernel_size[0] * m.kernel_size[1] * m.in_channels // m.groups
            total += out.numel() * k

    hooks = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    with torch.no_grad():
        net(torch.zeros(shape, device="meta"))
    for h in hooks:
        h.remove()
    return total


def _build(name: str):
    from stylereel.benchmark import peers

    if name == "johnson_transformernet":
        return peers.TransformerNet().eval()
    if name == "cyclegan_resnet9":
        return peers.ResnetGenerator9().eval()
    raise KeyError(name)


def _worker(name: str, size: str, runs: int, onnx_path: str | None) -> dict:
    h, w = SIZES[size]
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times, engine = [], None
    if name == "multistyle26_onnx":
        import numpy as np
        import onnxruntime as ort

        sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
        x = np.random.rand(1, 3, h, w).astype(np.float32)
        weights = np.zeros(26, np.float32)
        weights[0] = 1
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        run = lambda: sess.run(None, {"image": x, "style_weights": weights})  # noqa: E731
        macs = None
    else:
        from stylereel.render.engine import InferenceEngine

        if name.startswith("stylereel"):  # the default look's own network and weights: int8 is calibrated on what it draws
            from stylereel.looks import look_dir
            from stylereel.model import load_model

            net, _ = load_model(look_dir(DEFAULT_LOOK))
            macs = conv_macs(net, (1, 3, h, w))
            precision = name.removesuffix(CAPPED).partition("@")[2] or "auto"
            engine = InferenceEngine(net, "cpu", precision=precision, model_dir=look_dir(DEFAULT_LOOK))
        else:
            net = _build(name)
            macs = conv_macs(net, (1, 3, h, w))
        x = torch.rand(1, 3, h, w)
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if engine is not None:
            run = lambda: engine(x)  # noqa: E731
        else:
            def run():
                with torch.no_grad():
                    net(x)
    run()  # warm-up: oneDNN picks and caches kernels for this shape
    for _ in range(runs):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ms = 1000 * statistics.median(times)
    out = {"ms_per_frame": ms, "fps": 1000 / ms, "peak_mib": max(peak - base, 0) / 1024, "runs": runs}
    if engine is not None:
        out["precision"], out["kernels"] = engine.precision, engine.kernels()
    if macs is not None:
        out["gmac_per_frame"] = macs / 1e9
        out["gflops"] = 2 * macs / 1e9 / (ms / 1000)
    return out


def measure(names, sizes, runs: int, peer_runs: int, onnx_path: str | None) -> dict:
    """{network: {size: {...}}}, each cell measured in a fresh subprocess."""
    results: dict = {}
    for name in names:
        for size in sizes:
            n = runs if name.startswith("stylereel") else peer_runs
            cmd = [sys.executable, "-m", "stylereel.benchmark.speed", name, size, str(n), onnx_path or ""]
            env = {**os.environ, **AVX2_CAP} if name.endswith(CAPPED) else None
            r = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if r.returncode != 0:
                raise RuntimeError(f"speed worker {name} {size} failed: {r.stderr.strip().splitlines()[-1]}")
            results.setdefault(name, {})[size] = json.loads(r.stdout.strip().splitlines()[-1])
    return results


def precisions() -> list[str]:
    """The precisions the CPU engine can run here: fp32, bf16 where the CPU has bf16 units, int8 where NNCF is installed."""
    import importlib.util

    from stylereel.device import bf16_supported

    return ["fp32", *(["bf16"] if bf16_supported(torch.device("cpu")) else []),
            *(["int8"] if importlib.util.find_spec("nncf") else [])]


def default_networks(onnx_path: str | None) -> list[str]:
    """stylereel at each precision, and, where this CPU has AVX-512, capped to AVX2 at fp32 (and int8): what a
    CPU without it runs; then the peers."""
    from stylereel.device import cpu_description

    capped = [f"stylereel@{p}{CAPPED}" for p in ("fp32", "int8") if p in precisions()] if "AVX-512" in cpu_description()["isa"] else []
    names = [f"stylereel@{p}" for p in precisions()] + capped + ["johnson_transformernet", "cyclegan_resnet9"]
    if onnx_path and Path(onnx_path).is_file():
        names.append("multistyle26_onnx")
    return names


if __name__ == "__main__":
    name, size, runs, onnx = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] or None
    print(json.dumps(_worker(name, size, runs, onnx)))
