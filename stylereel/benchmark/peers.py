"""Peer generators built from their papers' layer tables, for speed measurement only.

- Johnson et al. 2016, "Perceptual Losses for Real-Time Style Transfer", the
  fast-neural-style TransformerNet (with instance norm, as released).
- Zhu et al. 2017, CycleGAN's ResnetGenerator with 9 blocks (ngf 64, instance norm).

Weights are random: only their cost is measured here.
"""

from __future__ import annotations

from torch import nn


def _cin(i: int, o: int, k: int, s: int = 1) -> list[nn.Module]:
    return [nn.ReflectionPad2d(k // 2), nn.Conv2d(i, o, k, s), nn.InstanceNorm2d(o, affine=True)]


class _JohnsonRes(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.body = nn.Sequential(*_cin(c, c, 3), nn.ReLU(True), *_cin(c, c, 3))

    def forward(self, x):
        return x + self.body(x)


class TransformerNet(nn.Module):
    def __init__(self):
        super().__init__()
        up = lambda i, o: [nn.Upsample(scale_factor=2, mode="nearest"), *_cin(i, o, 3), nn.ReLU(True)]  # noqa: E731
        self.net = nn.Sequential(
            *_cin(3, 32, 9), nn.ReLU(True), *_cin(32, 64, 3, 2), nn.ReLU(True), *_cin(64, 128, 3, 2), nn.ReLU(True),
            *[_JohnsonRes(128) for _ in range(5)],
            *up(128, 64), *up(64, 32),
            nn.ReflectionPad2d(4), nn.Conv2d(32, 3, 9),
        )

    def forward(self, x):
        return self.net(x)


class _CycleRes(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), nn.InstanceNorm2d(c), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3), nn.InstanceNorm2d(c),
        )

    def forward(self, x):
        return x + self.body(x)


class ResnetGenerator9(nn.Module):
    def __init__(self, ngf: int = 64):
        super().__init__()
        self.net = nn.Sequential(
            nn.ReflectionPad2d(3), nn.Conv2d(3, ngf, 7), nn.InstanceNorm2d(ngf), nn.ReLU(True),
            nn.Conv2d(ngf, ngf * 2, 3, 2, 1), nn.InstanceNorm2d(ngf * 2), nn.ReLU(True),
            nn.Conv2d(ngf * 2, ngf * 4, 3, 2, 1), nn.InstanceNorm2d(ngf * 4), nn.ReLU(True),
            *[_CycleRes(ngf * 4) for _ in range(9)],
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 3, 2, 1, output_padding=1), nn.InstanceNorm2d(ngf * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 3, 2, 1, output_padding=1), nn.InstanceNorm2d(ngf), nn.ReLU(True),
            nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7), nn.Tanh(),
        )

    def forward(self, x):
        return self.net(x)
