"""Multi-scale PatchGAN discriminator (pix2pixHD): the same PatchGAN applied to the
image at 1, 1/2, 1/4 ... scale, each returning a map of real/fake logits plus its
intermediate features (for the feature-matching loss)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from stylereel.registry import Registry

DISCRIMINATORS: Registry[type[nn.Module]] = Registry("discriminator")


def build_discriminator(name: str, **kwargs) -> nn.Module:
    return DISCRIMINATORS.get(name)(**kwargs)


class PatchGAN(nn.Module):
    def __init__(self, in_ch: int, base: int, n_layers: int, spectral_norm: bool):
        super().__init__()
        wrap = nn.utils.spectral_norm if spectral_norm else (lambda m: m)
        layers, ch = [], in_ch
        for i in range(n_layers):
            out = base * 2 ** min(i, 3)
            layers.append(nn.Sequential(wrap(nn.Conv2d(ch, out, 4, stride=2, padding=1)), nn.LeakyReLU(0.2, inplace=True)))
            ch = out
        self.features = nn.ModuleList(layers)
        self.head = wrap(nn.Conv2d(ch, 1, 3, padding=1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        feats = []
        for layer in self.features:
            x = layer(x)
            feats.append(x)
        return self.head(x), feats  # logits [N, 1, h, w]


@DISCRIMINATORS.register("multiscale_patch")
class MultiScalePatchDiscriminator(nn.Module):
    def __init__(self, in_ch: int = 3, base: int = 32, n_layers: int = 3, n_scales: int = 2, spectral_norm: bool = True):
        super().__init__()
        self.nets = nn.ModuleList(PatchGAN(in_ch, base, n_layers, spectral_norm) for _ in range(n_scales))

    def forward(self, x: torch.Tensor) -> list[tuple[torch.Tensor, list[torch.Tensor]]]:
        out = []
        for i, net in enumerate(self.nets):
            if i:
                x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
            out.append(net(x))
        return out
