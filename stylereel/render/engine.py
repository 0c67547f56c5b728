"""The inference path every renderer goes through: one place decides memory
layout, precision and tiling for a generator on a device.

- channels_last lets oneDNN run the depthwise and 1x1 convs without layout
  reorders.
- bf16 halves the memory traffic that bounds these thin layers and uses the
  CPU's bf16 units (AVX-512 BF16 / AMX) or CUDA's tensor cores. The engine
  keeps its own bf16 copy of the weights rather than autocasting, which would
  re-cast every weight on every frame. The output is float32 either way; bf16
  moves it by well under one 8-bit code value on average (tests/test_engine.py).
- Frames larger than `tile_pixels` are rendered in tiles, each with a halo of
  real picture as wide as the generator's receptive field (`net.halo`) and
  aligned to its stride, so the result is the same as one pass over the whole
  frame while the working set stays in cache: on 2 CPU cores a 4K frame in one
  piece costs 145 ms per megapixel, in 2-megapixel tiles about 70.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from stylereel.device import bf16_supported

CPU_TILE_PIXELS = 2**21  # measured on the default generator: bench/RESULTS.md "tiles"
CUDA_TILE_PIXELS = 2**25  # a GPU wants large batches of work; this bounds memory only


def plan_tiles(h: int, w: int, stride: int, halo: int, budget: int) -> list[tuple[int, int, int, int]]:
    """Split an h x w frame into core boxes (y0, y1, x0, x1) whose haloed size fits `budget` pixels.

    Cores start on multiples of `stride` (so every tile sees the same sampling
    grid as the whole frame). Among the splits that fit, the one that processes
    the fewest pixels in all wins; full-width strips win ties (contiguous rows).
    """
    if h * w <= budget:
        return [(0, h, 0, w)]
    best = None
    for nx in range(1, 33):
        cw = math.ceil(w / nx / stride) * stride
        ch = next((math.ceil(h / ny / stride) * stride for ny in range(1, h // stride + 2) if (math.ceil(h / ny / stride) * stride + 2 * halo) * (cw + 2 * halo) <= budget), None)
        if ch is None:
            continue
        boxes = [(y, min(y + ch, h), x, min(x + cw, w)) for y in range(0, h, ch) for x in range(0, w, cw)]
        cost = sum((min(y1 + halo, h) - max(y0 - halo, 0)) * (min(x1 + halo, w) - max(x0 - halo, 0)) for y0, y1, x0, x1 in boxes)
        if best is None or cost < best[0]:
            best = (cost, boxes)
    if best is None:
        raise ValueError(f"no tiling of {w}x{h} fits {budget} pixels with a {halo}-pixel halo")
    return best[1]


class InferenceEngine:
    def __init__(self, net: nn.Module, device: torch.device | str | None = None, bf16: bool | None = None, channels_last: bool = True, tile_pixels: int | None = None):
        self.device = torch.device(device) if device is not None else next(net.parameters()).device
        self.channels_last = channels_last
        self.bf16 = bf16_supported(self.device) if bf16 is None else bf16
        self.dtype = torch.bfloat16 if self.bf16 else torch.float32
        self.tile_pixels = tile_pixels or (CUDA_TILE_PIXELS if self.device.type == "cuda" else CPU_TILE_PIXELS)
        self.stride = getattr(net, "stride", 1)
        self.halo = getattr(net, "halo", None)
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        self.net = copy.deepcopy(net).eval().requires_grad_(False).to(self.device, self.dtype, memory_format=fmt)

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self.device, self.dtype)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return self.net(x)

    @torch.inference_mode()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """[N, 3, H, W] float in [0, 1] (any device) -> same shape, float32, on the engine's device."""
        n, _, h, w = x.shape
        if self.halo is None or h * w <= self.tile_pixels:
            return self._run(x).float().contiguous()
        out = torch.empty(n, 3, h, w, device=self.device)
        hl = self.halo
        for y0, y1, x0, x1 in plan_tiles(h, w, self.stride, hl, self.tile_pixels):
            ty, tx = max(y0 - hl, 0), max(x0 - hl, 0)
            tile = self._run(x[..., ty : min(y1 + hl, h), tx : min(x1 + hl, w)])
            out[..., y0:y1, x0:x1] = tile[..., y0 - ty : y1 - ty, x0 - tx : x1 - tx]
        return out
