"""Gatys et al. (2016) optimisation-based style transfer on a loss trunk.

Used as the quality ceiling in benchmarks: it minimises the content + Gram style
objective a feed-forward generator is trained on (optionally with the sliced-Wasserstein
term beside it, as the unpaired looks are), for one image, by optimising the pixels
themselves (minutes per image instead of milliseconds).
"""

from __future__ import annotations

from typing import Mapping

import torch

from stylereel.losses.perceptual import content_loss, sliced_wasserstein_over_layers, style_loss
from stylereel.nets.features import DEFAULT_TRUNK, PIXELS, Trunk, spec


def gatys(
    content: torch.Tensor,
    target_grams: Mapping[str, torch.Tensor],
    content_weight: float = 1.0,
    style_weight: float = 1.0,
    content_layers=None,
    style_layers: Mapping[str, float] | None = None,
    steps: int = 300,
    lr: float = 0.03,
    swd_weight: float = 0.0,
    swd_targets: Mapping[str, torch.Tensor] | None = None,
    samples: int = 4096,
    directions: int = 64,
    trunk: str = DEFAULT_TRUNK,
    bf16: bool = False,
) -> torch.Tensor:
    """[1, 3, H, W] in [0, 1] -> the optimised image, same shape.

    Pixels are optimised through a sigmoid so they stay in range; Adam, starting
    from the content image (the usual initialisation for a content-preserving result).
    `swd_targets`: `{layer: [C, M]}` feature samples of the look (`"rgb"`: its pixels), matched
    with equal weight per layer at `swd_weight` like `stylereel.losses.terms.SlicedWasserstein`.
    `content_layers` / `style_layers`: the trunk's own (`TRUNKS[trunk]`) unless given; `bf16`:
    the trunk under bf16 autocast (about 2x on CPUs with bf16 units; losses in float32).
    """
    content_layers = spec(trunk).content_layers if content_layers is None else content_layers
    style_layers = spec(trunk).style_layers if style_layers is None else style_layers
    if swd_weight and not swd_targets:
        raise ValueError("gatys: swd_weight needs swd_targets, the look's feature samples per layer")
    swd_targets = dict(swd_targets) if swd_weight else {}
    trunk_layers = (set(content_layers) | set(style_layers) | set(swd_targets)) - {PIXELS}
    net = Trunk(sorted(trunk_layers), trunk).to(content.device)

    def feats(img):
        with torch.autocast(img.device.type, dtype=torch.bfloat16, enabled=bf16):
            return {k: v.float() for k, v in net(img).items()}

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
