"""Building blocks shared by the generators and discriminators.

Nothing here computes per-image statistics (no instance/batch norm at inference):
a tile of a frame must come out exactly as the same region of the whole frame.
"""

from __future__ import annotations

import torch
from torch import nn


def conv(in_ch: int, out_ch: int, k: int = 3, stride: int = 1, groups: int = 1, bias: bool = True) -> nn.Conv2d:
    # Zero padding is free inside oneDNN's conv; replicate padding per layer cost a
    # third of the generator's time. Generators pad the frame itself instead.
    return nn.Conv2d(in_ch, out_ch, k, stride=stride, padding=k // 2, groups=groups, bias=bias)


class InvertedResidual(nn.Module):
    """MobileNetV2-style block: 1x1 expand -> 3x3 depthwise -> 1x1 project.

    The residual branch is scaled by a learned per-channel gain that starts at
    zero (ReZero), so a deep stack without normalisation starts as the identity
    and trains stably at a high learning rate.
    """

    def __init__(self, ch: int, expand: int = 2):
        super().__init__()
        hidden = ch * expand
        self.body = nn.Sequential(
            conv(ch, hidden, 1),
            nn.ReLU(inplace=True),
            conv(hidden, hidden, 3, groups=hidden),
            nn.ReLU(inplace=True),
            conv(hidden, ch, 1),
        )
        self.gain = nn.Parameter(torch.zeros(1, ch, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.gain * self.body(x)


class ResidualBlock(nn.Module):
    """Johnson et al.'s two-3x3-conv residual block, without normalisation (ReZero gain)."""

    def __init__(self, ch: int):
        super().__init__()
        self.body = nn.Sequential(conv(ch, ch, 3), nn.ReLU(inplace=True), conv(ch, ch, 3))
        self.gain = nn.Parameter(torch.zeros(1, ch, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.gain * self.body(x)


class UpBlock(nn.Module):
    """Halve the channels at low resolution (cheap), upsample x2 (bilinear), then a
    depthwise-separable 3x3 at the new resolution. Bilinear + conv avoids the
    checkerboard of transposed convs and exports to any runtime."""

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.reduce = conv(in_ch, out_ch, 1)
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.dw = conv(out_ch, out_ch, 3, groups=out_ch)
        self.pw = conv(out_ch, out_ch, 1)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = self.up(self.reduce(x)) + skip
        return self.act(self.pw(self.act(self.dw(x))))
