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


def edge_step(x: torch.Tensor, band: int = 3, inner: int = 9) -> float:
    """How far the frame's border stands out: the mean over the four sides of
    |mean luminance of the outer `band` rows or columns - mean of the next `inner`|, for
    RGB `[1, 3, H, W]`. A line, halo or darkening along the border raises it; compare an
    output's with its input's (whose own content near the edge gives it a floor).

    >>> x = torch.full((1, 3, 32, 32), 0.5)
    >>> lined = x.clone(); lined[..., :3, :] = 1.0  # a bright line along the top only
    >>> edge_step(x), edge_step(lined)
    (0.0, 0.125)
    """
    w = torch.tensor([0.2126, 0.7152, 0.0722], dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    lum = (x * w).sum(1)[0]  # [H, W]
    steps = [(side[:band].mean() - side[band : band + inner].mean()).abs() for side in (lum, lum.flip(0), lum.T, lum.T.flip(0))]
    return float(torch.stack(steps).mean())
