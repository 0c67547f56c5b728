"""Full-reference image metrics (PSNR, SSIM: the requirements' test-set scores), on RGB in [0, 1] `[N, 3, H, W]`."""

from __future__ import annotations

import kornia.metrics
import torch


def psnr(x: torch.Tensor, y: torch.Tensor) -> float:
    """Peak signal-to-noise ratio in dB for signals in [0, 1]."""
    return float(kornia.metrics.psnr(x.clamp(0, 1), y.clamp(0, 1), max_val=1.0))


def ssim(x: torch.Tensor, y: torch.Tensor, window: int = 11) -> float:
    """Mean SSIM with an 11x11 Gaussian window (Wang et al. 2004)."""
    return float(kornia.metrics.ssim(x.clamp(0, 1), y.clamp(0, 1), window, max_val=1.0).mean())
