"""The default generator's full-resolution stage computed on 2x2 pixel blocks at half resolution,
for the CPU engine: the same function, laid out the way a CPU runs it fast.

The full-resolution stage (`ReelGenerator.finish`) upsamples the half-resolution RGB bilinearly,
runs a 3x3 conv with 8 channels over [frame, upsampled RGB], a ReLU, a 1x1 conv back to RGB, adds
the upsampled RGB and takes the sigmoid. At 1080p that is tensors of 3 to 8 channels over 2.3 M
pixels, which a CPU engine stores padded to its vector width and reorders between layers: on 2
cores (AMX bf16) the upsampling, the concatenation, the two convs and their reorders took ~35 ms of
a 92 ms frame. Every step is shift-invariant at full resolution and x2 upsampling is shift-invariant
on 2x2 blocks, so the same stage runs block by block at half resolution with 4x the channels: the
bilinear upsampling itself as a 3x3 conv from the RGB to each block's 12 values; the 3x3 conv over
the frame as a stride-2 4x4 conv (a block and the ring around it) to the 8 hidden channels of each of
the block's 4 pixels (32), plus the conv over the upsampled RGB as a 3x3 conv over those 12 to the
same 32; the ReLU, a 1x1 conv to the block's 4 RGB pixels (12) added to the upsampled RGB, the
sigmoid, and depth-to-space. The kernels are read off the trained layers (the upsampling ones by sending
impulses through them), so nothing is refitted and every look keeps its weights. The guided
generator's stage is the same with more channels: its conv also reads the carried keyframe and its
confidence, and also writes the gate's logit.

The result equals the original to float rounding everywhere except the outermost pixels of the
padded frame (there bilinear upsampling clamps to the edge, the block conv sees zeros), which lie
inside the mirrored margin the generator crops away. tests/test_space_to_depth.py checks both.
At 1080p on 2 cores (bench/blocks.py; bench/RESULTS.md, "blocks") a frame takes 0.83-0.89x its
time as trained for the shipped Starry Night (two runs; bf16 on AMX, fp32, fp32 capped to AVX2),
0.85-0.94x for the six-look model, 0.58-0.73x for the guided generator. The frame itself goes in
as 3 channels: a space-to-depth of the frame (12 channels) made the engine lay out the look weights beside it badly
(the six-look model got 30% slower), so the frame part is a stride-2 4x4 conv over the frame.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

_P = 6  # impulse position (in half-resolution pixels) far enough from the probe's edges


def _block_kernel(layer, channels: int, out_channels: int) -> torch.Tensor:
    """Weights `[out_channels * 4, channels, 3, 3]` of the half-resolution conv that computes the linear
    `layer` (half resolution in, x2 upsampled out, shift-invariant on 2x2 blocks, reaching one block
    around) block by block: output channel c of pixel (a, b) of a block is c * 4 + a * 2 + b
    (`F.pixel_shuffle`'s order). Read off its response to one impulse per input channel."""
    k = torch.zeros(out_channels * 4, channels, 3, 3)
    for i in range(channels):
        impulse = torch.zeros(1, channels, 2 * _P + 1, 2 * _P + 1)
        impulse[0, i, _P, _P] = 1
        response = layer(impulse)[0]
        for a in range(2):
            for b in range(2):
                for ty in range(3):
                    for tx in range(3):  # output block (j, i) reads input pixel (j + ty - 1, i + tx - 1)
                        k[torch.arange(out_channels) * 4 + a * 2 + b, i, ty, tx] = response[:, 2 * (_P + 1 - ty) + a, 2 * (_P + 1 - tx) + b]
    return k


class BlockFinish(nn.Module):
    """A generator's full-resolution stage on 2x2 blocks. Its `detail` reads [frame, upsampled RGB, any
    further full-resolution inputs] and writes RGB logits (added to the upsampled RGB) and any further
    logits (the guided generator's gate). In: the padded full-resolution inputs `[N, 3 + extra, H, W]`
    (frame first; H, W even) and the half-resolution RGB logits `[N, 3, H/2, W/2]`; out: the sigmoid of
    every output `[N, 3 + more, H, W]` (the picture first)."""

    def __init__(self, net: nn.Module):
        super().__init__()
        first, last = net.detail[0], net.detail[2]
        hidden, outs = first.out_channels, last.out_channels
        full = torch.cat([first.weight[:, :3], first.weight[:, 6:]], 1)  # the conv's full-resolution inputs
        with torch.no_grad():
            # The 3x3 conv over the frame, for the 4 pixels of each block at once: a stride-2 4x4 conv whose
            # window is the block and the ring of pixels around it (pixel (a, b) reads rows a..a+2, columns b..b+2).
            self.frame = nn.Conv2d(full.shape[1], hidden * 4, 4, stride=2, padding=1)
            self.frame.weight.zero_()
            for a in range(2):
                for b in range(2):
                    self.frame.weight[torch.arange(hidden) * 4 + a * 2 + b, :, a : a + 3, b : b + 3] = full
            self.frame.bias.copy_(first.bias.repeat_interleave(4))
            # The 3x3 conv over the upsampled RGB, read off the upsampled blocks themselves (`self.up`'s output: channel
            # c of pixel (a, b) at c * 4 + a * 2 + b): every pixel of a block gets the conv's own weights. Folding the
            # upsampling into this conv instead (one 3x3 conv from the half-resolution RGB) gives each of a block's
            # pixels its own products of weights, which bf16 rounds differently: a 2x2 lattice in flat areas
            # (0.15 8-bit codes on a sky for the shipped Starry Night, 0.66 for a look with larger weights; 0.005-0.02 this way).
            self.rgb = nn.Conv2d(outs * 4, hidden * 4, 3, padding=1, bias=False)
            self.rgb.weight.zero_()
            for a in range(2):
                for b in range(2):
                    for dy in range(3):
                        for dx in range(3):  # pixel (a, b) reads the upsampled pixel (a + dy - 1, b + dx - 1) of its block
                            (by, ay), (bx, ax) = divmod(a + dy - 1, 2), divmod(b + dx - 1, 2)
                            self.rgb.weight[torch.arange(hidden) * 4 + a * 2 + b, torch.arange(3)[:, None] * 4 + ay * 2 + ax,
                                            by + 1, bx + 1] += first.weight[:, 3:6, dy, dx].t()
            self.out = nn.Conv2d(hidden * 4, outs * 4, 1)  # the 1x1 conv, pixel by pixel of a block
            self.out.weight.zero_()
            for p in range(4):
                self.out.weight[torch.arange(outs) * 4 + p, torch.arange(hidden)[:, None] * 4 + p, 0, 0] = last.weight[:, :, 0, 0].t()
            self.out.bias.copy_(last.bias.repeat_interleave(4))
            self.up = nn.Conv2d(3, outs * 4, 3, padding=1, bias=False)  # the bilinear x2 itself, onto the RGB logits
            self.up.weight.zero_()
            self.up.weight[:12] = _block_kernel(net.up, 3, 3)

    def forward(self, full: torch.Tensor, rgb: torch.Tensor) -> torch.Tensor:
        up = self.up(rgb)
        h = torch.relu(self.frame(full) + self.rgb(up))
        return F.pixel_shuffle(torch.sigmoid(up + self.out(h)), 2)


class BlockBase(nn.Module):
    """The finish of a generator without the full-resolution stage (`ReelGenerator(detail=False)`) on 2x2 blocks:
    the bilinear x2 of the RGB logits as a 3x3 conv to each block's 12 values, plus the block's own detail
    logits, the sigmoid, depth-to-space. In: the padded frame (unused) and the half-resolution logits
    `[N, 15, H/2, W/2]`; out: the picture `[N, 3, H, W]`."""

    def __init__(self, net: nn.Module):
        super().__init__()
        with torch.no_grad():
            self.up = nn.Conv2d(3, 12, 3, padding=1, bias=False)
            self.up.weight.copy_(_block_kernel(net.up, 3, 3))

    def forward(self, full: torch.Tensor, rgb: torch.Tensor) -> torch.Tensor:
        return F.pixel_shuffle(torch.sigmoid(self.up(rgb[:, :3]) + rgb[:, 3:]), 2)


def on_blocks(net: nn.Module) -> nn.Module:
    """A copy of `net` whose full-resolution stage (`finish`) runs on 2x2 blocks (`BlockFinish`; `BlockBase` for a
    "reel" without that stage): the "reel", "reel_looks" and "reel_guided" generators; any other `net` is returned as it is."""
    if not hasattr(net, "finish"):
        return net
    net = copy.deepcopy(net)
    net.block_finish = BlockFinish(net) if net.detail is not None else BlockBase(net)
    return net
