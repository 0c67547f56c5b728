"""Adversarial losses, selectable by name.

All take raw discriminator logits. The multi-scale discriminator returns one
logit map per scale; `AdversarialLoss` averages the chosen loss over scales.

Discriminator losses (`D_LOSSES`): ``bce`` (binary cross-entropy, Goodfellow et al. 2014),
``lsgan``, ``hinge``. Generator losses (`G_LOSSES`): ``minmax`` (the saturating
form, minimise log(1 - D(G(x)))), ``nonsat`` (minimise -log D(G(x))), ``lsgan``,
``hinge``.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn.functional as F

from stylereel.registry import Registry

DLoss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
GLoss = Callable[[torch.Tensor], torch.Tensor]
D_LOSSES: Registry[DLoss] = Registry("discriminator loss")
G_LOSSES: Registry[GLoss] = Registry("generator adversarial loss")


@D_LOSSES.register("bce")
def d_bce(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy: real -> 1, fake -> 0.

    >>> float(d_bce(torch.tensor([0.0]), torch.tensor([0.0])))  # 2 * log 2
    1.3862943649291992
    """
    return F.binary_cross_entropy_with_logits(real, torch.ones_like(real)) + F.binary_cross_entropy_with_logits(
        fake, torch.zeros_like(fake)
    )


@D_LOSSES.register("lsgan")
def d_lsgan(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return ((real - 1) ** 2).mean() + (fake**2).mean()


@D_LOSSES.register("hinge")
def d_hinge(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return F.relu(1 - real).mean() + F.relu(1 + fake).mean()


@G_LOSSES.register("minmax")
def g_minmax(fake: torch.Tensor) -> torch.Tensor:
    """The saturating min-max form: minimise E[log(1 - D(G(x)))] = E[-softplus(logit)].

    >>> round(float(g_minmax(torch.tensor([0.0]))), 4)  # log(1 - 0.5)
    -0.6931
    """
    return -F.softplus(fake).mean()


@G_LOSSES.register("nonsat")
def g_nonsat(fake: torch.Tensor) -> torch.Tensor:
    """Non-saturating form: minimise E[-log D(G(x))] = E[softplus(-logit)].

    >>> round(float(g_nonsat(torch.tensor([0.0]))), 4)
    0.6931
    """
    return F.softplus(-fake).mean()


@G_LOSSES.register("lsgan")
def g_lsgan(fake: torch.Tensor) -> torch.Tensor:
    return ((fake - 1) ** 2).mean()


@G_LOSSES.register("hinge")
def g_hinge(fake: torch.Tensor) -> torch.Tensor:
    return -fake.mean()


def _logits(outputs) -> list[torch.Tensor]:
    # Accept a bare tensor, a list of tensors, or the discriminator's [(logits, feats), ...].
    if isinstance(outputs, torch.Tensor):
        return [outputs]
    return [o[0] if isinstance(o, (tuple, list)) else o for o in outputs]


def d_loss_over_scales(fn: DLoss, real_out, fake_out) -> torch.Tensor:
    """A D loss averaged over the discriminator's scales.

    >>> real = [(torch.ones(1, 1, 4, 4), []), (torch.zeros(1, 1, 2, 2), [])]
    >>> fake = [(torch.zeros(1, 1, 4, 4), []), (torch.zeros(1, 1, 2, 2), [])]
    >>> float(d_loss_over_scales(d_lsgan, real, fake))  # scale 1: 0, scale 2: 1
    0.5
    """
    pairs = list(zip(_logits(real_out), _logits(fake_out)))
    return sum(fn(r, f) for r, f in pairs) / len(pairs)


def g_loss_over_scales(fn: GLoss, fake_out) -> torch.Tensor:
    logits = _logits(fake_out)
    return sum(fn(f) for f in logits) / len(logits)


def feature_matching_loss(real_out: Sequence, fake_out: Sequence) -> torch.Tensor:
    """L1 between the discriminator's intermediate features on real and fake
    images (pix2pixHD), averaged over scales and layers; real features are targets.

    Only meaningful when real and fake are aligned (paired mode).
    """
    total, n = 0.0, 0
    for (_, rf), (_, ff) in zip(real_out, fake_out):
        for r, f in zip(rf, ff):
            total = total + F.l1_loss(f, r.detach())
            n += 1
    return total / max(n, 1)
