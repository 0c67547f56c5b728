"""Content, style (Gram), total-variation and pixel losses.

Feature maps come from `stylereel.nets.features.VGGFeatures` as a dict of named
layers. Each loss is a function plus a thin `nn.Module`.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

Feats = Mapping[str, torch.Tensor]


def gram_matrix(f: torch.Tensor) -> torch.Tensor:
    """Channel co-occurrence of a feature map, normalised by C*H*W (Johnson et al.).

    >>> gram_matrix(torch.ones(1, 2, 3, 3)).shape
    torch.Size([1, 2, 2])
    """
    n, c, h, w = f.shape  # [N, C, H, W]
    f = f.reshape(n, c, h * w)
    return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)  # [N, C, C]


def content_loss(x: Feats, y: Feats, layers: Sequence[str]) -> torch.Tensor:
    """Mean over `layers` of the MSE between feature maps (seed 4.2), relative to the
    target's mean square so every layer, and the loss weight, is in natural units.

    >>> f = {"a": torch.zeros(1, 2, 4, 4)}
    >>> float(content_loss(f, {"a": torch.ones(1, 2, 4, 4)}, ["a"]))
    1.0
    """
    total = 0.0
    for k in layers:
        t = y[k].detach()
        total = total + F.mse_loss(x[k], t) / t.square().mean().clamp_min(1e-8)
    return total / len(layers)


def style_loss(x: Feats, target_grams: Mapping[str, torch.Tensor], layer_weights: Mapping[str, float]) -> torch.Tensor:
    """Weighted mean over layers of the squared distance between Gram matrices of `x`
    and the target Grams ([C, C] or [N, C, C]; one target broadcasts over the batch),
    relative to the target's squared norm: 1.0 means "as far as zero is".

    >>> t = {"a": torch.eye(2)}
    >>> float(style_loss({"a": torch.zeros(1, 2, 3, 3)}, t, {"a": 1.0}))
    1.0
    """
    total, wsum = 0.0, 0.0
    for k, w in layer_weights.items():
        g = gram_matrix(x[k])  # [N, C, C]
        t = target_grams[k].detach().to(g.dtype).expand_as(g)
        total = total + w * (g - t).square().sum((-2, -1)).mean() / t[0].square().sum().clamp_min(1e-12)
        wsum += w
    return total / max(wsum, 1e-12)


def tv_loss(x: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference between neighbouring pixels (anisotropic TV).

    >>> float(tv_loss(torch.zeros(1, 3, 8, 8)))
    0.0
    """
    dh = (x[..., 1:, :] - x[..., :-1, :]).abs().mean()
    dw = (x[..., :, 1:] - x[..., :, :-1]).abs().mean()
    return dh + dw


def pixel_l1_loss(x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.l1_loss(x, target)


class ContentLoss(nn.Module):
    def __init__(self, layers: Sequence[str]):
        super().__init__()
        self.layers = list(layers)

    def forward(self, x: Feats, y: Feats) -> torch.Tensor:
        return content_loss(x, y, self.layers)


class StyleLoss(nn.Module):
    def __init__(self, layer_weights: Mapping[str, float]):
        super().__init__()
        self.layer_weights = dict(layer_weights)

    def forward(self, x: Feats, target_grams: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return style_loss(x, target_grams, self.layer_weights)


class TVLoss(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return tv_loss(x)


class PixelL1Loss(nn.Module):
    def forward(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return pixel_l1_loss(x, target)
