"""The inference path every renderer goes through: one place decides runtime,
precision and tiling for a generator on a device.

- CPU: the generator is converted once to OpenVINO (any input size) and run by
  its CPU plugin, which fuses the thin layers this network is made of; in bf16
  where the CPU has bf16 units (AVX-512 BF16 / AMX). Measured against PyTorch
  eager (channels_last, bf16 weights), torch.compile and ONNX Runtime in
  bench/RESULTS.md, section "backends": it was the fastest.
- CUDA: PyTorch, channels_last, a bf16 copy of the weights where supported.
- Either way the output is float32; bf16 moves it by well under one 8-bit code
  value on average (tests/test_engine.py).
- Frames larger than `tile_pixels` are rendered in tiles, each with a halo of
  real picture as wide as the generator's receptive field (`net.halo`) and
  aligned to its stride, so the result is the same as one pass over the whole
  frame while memory stays bounded (8K and up). bench/RESULTS.md, section
  "backends", has the tile-size sweep that picked TILE_PIXELS: OpenVINO blocks
  a large frame well by itself, so tiles only pay beyond 4K.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from stylereel.device import bf16_supported

TILE_PIXELS = 2**24  # 4K in one piece: OpenVINO ran it in 607 ms whole, 706-822 ms in 3-12 tiles


def plan_tiles(h: int, w: int, stride: int, halo: int, budget: int) -> list[tuple[int, int, int, int]]:
    """Split an h x w frame into core boxes (y0, y1, x0, x1) whose haloed size fits `budget` pixels.

    Cores start on multiples of `stride` (so every tile sees the same sampling
    grid as the whole frame). Among the splits that fit, the one that processes
    the fewest pixels in all wins; full-width strips win ties (contiguous rows).
    """
    if h * w <= budget:
        return [(0, h, 0, w)]
    best = None
    for columns in range(1, 33):
        cw = _stride_ceil(w / columns, stride)
        ch = _core_height(h, cw, stride, halo, budget)
        if ch is None:
            continue
        boxes = [(y, min(y + ch, h), x, min(x + cw, w)) for y in range(0, h, ch) for x in range(0, w, cw)]
        cost = sum((min(y1 + halo, h) - max(y0 - halo, 0)) * (min(x1 + halo, w) - max(x0 - halo, 0)) for y0, y1, x0, x1 in boxes)
        if best is None or cost < best[0]:
            best = (cost, boxes)
    if best is None:
        raise ValueError(f"no tiling of {w}x{h} fits {budget} pixels with a {halo}-pixel halo")
    return best[1]


def _stride_ceil(v: float, stride: int) -> int:
    return math.ceil(v / stride) * stride


def _core_height(h: int, cw: int, stride: int, halo: int, budget: int) -> int | None:
    """Core height for the fewest rows of tiles `cw` wide whose haloed size fits `budget`."""
    for rows in range(1, h // stride + 2):
        ch = _stride_ceil(h / rows, stride)
        if (ch + 2 * halo) * (cw + 2 * halo) <= budget:
            return ch
    return None


class InferenceEngine:
    """Runs a generator on frames of any size: OpenVINO on CPU, PyTorch on CUDA.

    `backend` ("openvino" or "torch") overrides the choice, for benchmarks and tests.
    """

    def __init__(self, net: nn.Module, device: torch.device | str | None = None, bf16: bool | None = None,
                 tile_pixels: int | None = None, backend: str | None = None):
        self.device = torch.device(device) if device is not None else next(net.parameters()).device
        self.bf16 = bf16_supported(self.device) if bf16 is None else bf16
        self.backend = backend or ("openvino" if self.device.type == "cpu" else "torch")
        self.tile_pixels = tile_pixels or TILE_PIXELS
        self.stride = getattr(net, "stride", 1)
        self.halo = getattr(net, "halo", None)
        net = copy.deepcopy(net).float().eval().requires_grad_(False)
        if self.backend == "openvino":
            if self.device.type != "cpu":
                raise ValueError(f"the openvino backend runs on the CPU, not {self.device}")
            self._run = _openvino_runner(net, self.bf16)
        elif self.backend == "torch":
            self._run = _torch_runner(net, self.device, self.bf16)
        else:
            raise ValueError(f"unknown inference backend {backend!r}; use 'openvino' or 'torch'")

    @torch.inference_mode()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """[N, 3, H, W] float in [0, 1] (any device) -> same shape, float32, on the engine's device."""
        x = x.to(self.device, torch.float32)
        n, _, h, w = x.shape
        if self.halo is None or h * w <= self.tile_pixels:
            return self._run(x)
        out = torch.empty(n, 3, h, w, device=self.device)
        hl = self.halo
        for y0, y1, x0, x1 in plan_tiles(h, w, self.stride, hl, self.tile_pixels):
            ty, tx = max(y0 - hl, 0), max(x0 - hl, 0)
            tile = self._run(x[..., ty : min(y1 + hl, h), tx : min(x1 + hl, w)])
            out[..., y0:y1, x0:x1] = tile[..., y0 - ty : y1 - ty, x0 - tx : x1 - tx]
        return out


def _openvino_runner(net: nn.Module, bf16: bool):
    """Convert once (input of any size), compile for this CPU; float32 in and out.

    The conversion goes through OpenVINO's PyTorch frontend directly rather than
    `openvino.convert_model`, which reports usage over the network unless the
    user has opted out: rendering must stay offline.
    """
    import openvino as ov
    from openvino.frontend import FrontEndManager
    from openvino.frontend.pytorch.ts_decoder import TorchScriptPythonDecoder

    frontend = FrontEndManager().load_by_framework("pytorch")
    decoder = TorchScriptPythonDecoder(net, example_input=(torch.rand(1, 3, 64, 64),))  # must outlive convert()
    model = frontend.convert(frontend.load(decoder))
    model.reshape(ov.PartialShape([-1, 3, -1, -1]))
    config = {
        "INFERENCE_PRECISION_HINT": "bf16" if bf16 else "f32",
        "PERFORMANCE_HINT": "LATENCY",
        "INFERENCE_NUM_THREADS": torch.get_num_threads(),
    }
    request = ov.Core().compile_model(model, "CPU", config).create_infer_request()

    def run(x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(request.infer({0: x.contiguous().numpy()})[0])  # a copy, not the request's buffer

    return run


def _torch_runner(net: nn.Module, device: torch.device, bf16: bool):
    """channels_last, and a bf16 copy of the weights (not autocast, which re-casts every weight every frame)."""
    dtype = torch.bfloat16 if bf16 else torch.float32
    net = net.to(device, dtype, memory_format=torch.channels_last)

    def run(x: torch.Tensor) -> torch.Tensor:
        return net(x.to(dtype).contiguous(memory_format=torch.channels_last)).float().contiguous()

    return run
