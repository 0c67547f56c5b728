"""Content, style (Gram), total-variation, structure (SSIM) and pixel losses, as plain functions.

Feature maps come from a loss trunk (`stylereel.nets.features.Trunk`) as a dict of named
layers. The training objective wraps them as registered terms
(`stylereel.losses.terms`); metrics call them directly.
"""

from __future__ import annotations

from typing import Callable, Iterable, Mapping, Sequence

import kornia.metrics
import torch
import torch.nn.functional as F

Feats = Mapping[str, torch.Tensor]



def gram_matrix(f: torch.Tensor) -> torch.Tensor:
    """Channel co-occurrence of a feature map, normalised by C*H*W (Johnson et al.).

    >>> gram_matrix(torch.ones(1, 2, 3, 3)).shape
    torch.Size([1, 2, 2])
    """
    n, c, h, w = f.shape  # [N, C, H, W]
    f = f.reshape(n, c, h * w)
    return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)  # [N, C, C]


def mean_grams(feats: Sequence[Feats], layers: Iterable[str]) -> dict[str, torch.Tensor]:
    """Mean Gram matrix per layer over per-image feature dicts (`[1, C, H, W]` each): `{layer: [C, C]}`."""
    return {k: sum(gram_matrix(f[k].float())[0] for f in feats) / len(feats) for k in layers}


@torch.no_grad()
def gram_targets(features: Callable[[torch.Tensor], Feats], images: Iterable[torch.Tensor], layers: Iterable[str]) -> dict[str, torch.Tensor]:
    """Mean Gram matrix per layer over images `[3, H, W]`, each seen whole: `{layer: [C, C]}`.

    >>> f = lambda x: {"a": x}
    >>> gram_targets(f, [torch.ones(3, 2, 2)], ["a"])["a"].shape
    torch.Size([3, 3])
    """
    return mean_grams([features(img[None]) for img in images], layers)


def content_loss(x: Feats, y: Feats, layers: Sequence[str]) -> torch.Tensor:
    """Mean over `layers` of the MSE between feature maps (the perceptual loss of
    Johnson et al. 2016), relative to the target's mean square so every layer, and
    the loss weight, is in natural units; per crop, then averaged over the batch, so a
    batch split between processes (`train/distributed.py`) gives the same gradient.

    >>> f = {"a": torch.zeros(1, 2, 4, 4)}
    >>> float(content_loss(f, {"a": torch.ones(1, 2, 4, 4)}, ["a"]))
    1.0
    """
    total = 0.0
    for k in layers:
        t = y[k].detach()
        err, energy = (x[k] - t).square().flatten(1).mean(1), t.square().flatten(1).mean(1).clamp_min(1e-8)
        total = total + (err / energy).mean()
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


def sliced_wasserstein_loss(x: torch.Tensor, target: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
    """Sliced Wasserstein distance between the feature distribution of each image in `x`
    `[N, C, H, W]` and the target feature samples `[C, M]`, along `directions` `[C, P]`
    (unit columns), relative to the target's mean square on them (Heitz et al. 2021).

    Unlike a Gram matrix it sees the whole distribution: which fraction of the picture
    is which colour and which texture, not only their average co-occurrence.

    >>> t = torch.rand(2, 100); d = torch.eye(2)
    >>> float(sliced_wasserstein_loss(t.reshape(1, 2, 10, 10), t, d)) < 1e-12
    True
    """
    n, c = x.shape[:2]
    px = torch.sort(directions.T @ x.reshape(n, c, -1), -1).values  # [N, P, HW]
    pt = torch.sort(directions.T @ target, -1).values  # [P, M]
    hw, m = px.shape[-1], pt.shape[-1]
    if m != hw:  # the target's quantiles at the output's sample positions
        pos = (torch.arange(hw, device=x.device, dtype=pt.dtype) + 0.5) * (m / hw) - 0.5
        lo = pos.floor().clamp(0, m - 1)
        frac = (pos - lo)[None]
        lo = lo.long()
        hi = (lo + 1).clamp_max(m - 1)
        pt = pt[:, lo] * (1 - frac) + pt[:, hi] * frac
    return (px - pt).square().mean() / pt.square().mean().clamp_min(1e-12)


def sliced_wasserstein_over_layers(feats: Feats, targets: Mapping[str, torch.Tensor], layer_weights: Mapping[str, float],
                                   samples: int = 4096, directions: int = 64) -> torch.Tensor:
    """Weighted mean over layers of `sliced_wasserstein_loss` between each image's features
    `feats[k]` `[N, C, H, W]` and the look's samples `targets[k]` `[C, M]`, along `directions`
    random unit directions per layer drawn anew each call, on at most `samples` random
    positions per image.

    >>> t = torch.rand(2, 100)
    >>> float(sliced_wasserstein_over_layers({"a": t.reshape(1, 2, 10, 10)}, {"a": t}, {"a": 1.0})) < 1e-12
    True
    """
    total, wsum = 0.0, 0.0
    for k, w in layer_weights.items():
        f = feats[k].flatten(2)  # [N, C, HW]
        if f.shape[-1] > samples:
            f = f[..., torch.randperm(f.shape[-1], device=f.device)[:samples]]
        d = torch.randn(f.shape[1], min(directions, f.shape[1]), device=f.device)
        total = total + w * sliced_wasserstein_loss(f[..., None], targets[k], d / d.norm(dim=0, keepdim=True))
        wsum += w
    return total / max(wsum, 1e-12)


def luminance_correlation(x: torch.Tensor, y: torch.Tensor, scale: int = 4) -> torch.Tensor:
    """Pearson correlation `[N]` between the luminance of `x` and `y` `[N, 3, H, W]`, each
    averaged over `scale` x `scale` pixel blocks first (light and shade, not texture).

    >>> x = torch.rand(2, 3, 8, 8)
    >>> luminance_correlation(x, 0.5 * x + 0.1, 2).round(decimals=4).tolist(), float(luminance_correlation(x, 1 - x, 2)[0]) < -0.999
    ([1.0, 1.0], True)
    """
    w = torch.tensor([0.2126, 0.7152, 0.0722], device=x.device, dtype=x.dtype).view(1, 3, 1, 1)

    def lum(img):
        v = F.avg_pool2d((img * w).sum(1, keepdim=True), scale, ceil_mode=True).flatten(1)  # [N, HW / scale^2]
        v = v - v.mean(1, keepdim=True)
        return v / v.norm(dim=1, keepdim=True).clamp_min(1e-6)

    return (lum(x) * lum(y.to(x.dtype))).sum(1)


def tv_loss(x: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference between neighbouring pixels (anisotropic TV).

    >>> float(tv_loss(torch.zeros(1, 3, 8, 8)))
    0.0
    """
    dh = (x[..., 1:, :] - x[..., :-1, :]).abs().mean()
    dw = (x[..., :, 1:] - x[..., :, :-1]).abs().mean()
    return dh + dw


def structure_loss(x: torch.Tensor, target: torch.Tensor, window: int = 11) -> torch.Tensor:
    """1 - mean SSIM (Wang et al. 2004, Gaussian `window`) between `x` and `target` `[N, 3, H, W]`:
    local means, contrasts and correlations, which pixel L1 alone lets blur away
    (Zhao et al. 2017, "Loss Functions for Image Restoration with Neural Networks").

    >>> x = torch.rand(1, 3, 16, 16)
    >>> float(structure_loss(x, x)) < 1e-6, float(structure_loss(x, x.mean().expand_as(x))) > 0.5
    (True, True)
    """
    return 1 - kornia.metrics.ssim(x, target.to(x.dtype), window, max_val=1.0).mean()


def pixel_l1_loss(x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference.

    >>> float(pixel_l1_loss(torch.zeros(1, 3, 2, 2), torch.ones(1, 3, 2, 2)))
    1.0
    """
    return F.l1_loss(x, target)
