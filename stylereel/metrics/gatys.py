"""Gatys et al. (2016) optimisation-based style transfer on the same feature trunk.

Used as the quality ceiling in benchmarks: it minimises the content + Gram style
objective a feed-forward generator is trained on (optionally with the sliced-Wasserstein
term beside it, as the unpaired looks are), for one image, by optimising the pixels
themselves (minutes per image instead of milliseconds).
"""

from __future__ import annotations

from typing import Mapping

import torch

from stylereel.losses.perceptual import PIXELS, STYLE_LAYERS, content_loss, sliced_wasserstein_over_layers, style_loss
from stylereel.nets.features import VGGFeatures


def gatys(
    content: torch.Tensor,
    target_grams: Mapping[str, torch.Tensor],
    content_weight: float = 1.0,
    style_weight: float = 1.0,
    content_layers=("relu3_3",),
    style_layers: Mapping[str, float] = STYLE_LAYERS,
    steps: int = 300,
    lr: float = 0.03,
    swd_weight: float = 0.0,
    swd_targets: Mapping[str, torch.Tensor] | None = None,
    samples: int = 4096,
    directions: int = 64,
) -> torch.Tensor:
    """[1, 3, H, W] in [0, 1] -> the optimised image, same shape.

    Pixels are optimised through a sigmoid so they stay in range; Adam, starting
    from the content image (the usual initialisation for a content-preserving result).
    `swd_targets`: `{layer: [C, M]}` feature samples of the look (`"rgb"`: its pixels), matched
    with equal weight per layer at `swd_weight` like `stylereel.losses.terms.SlicedWasserstein`.
    """
    if swd_weight and not swd_targets:
        raise ValueError("gatys: swd_weight needs swd_targets, the look's feature samples per layer")
    swd_targets = dict(swd_targets) if swd_weight else {}
    trunk_layers = (set(content_layers) | set(style_layers) | set(swd_targets)) - {PIXELS}
    feats = VGGFeatures(sorted(trunk_layers)).to(content.device)
    with torch.no_grad():
        ref = feats(content)
    z = torch.logit(content.clamp(1e-3, 1 - 1e-3)).clone().requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr)
    for _ in range(steps):
        img = torch.sigmoid(z)
        f = feats(img)
        loss = content_weight * content_loss(f, ref, content_layers) + style_weight * style_loss(f, target_grams, style_layers)
        if swd_targets:
            f[PIXELS] = img
            loss = loss + swd_weight * sliced_wasserstein_over_layers(f, swd_targets, dict.fromkeys(swd_targets, 1.0), samples, directions)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return torch.sigmoid(z).detach()
