"""Random crops with scale jitter and flips, drawn from a `torch.Generator` so a
run's data stream is fixed by its seed and restored exactly on resume."""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F


class CropSampler:
    """Draws batches of aligned crops from groups of images.

    `groups[i]` is a tuple of tensors `[C, H, W]` with the same H and W that are
    cropped identically (an input and its painted target); for unpaired data each
    group holds one image.
    """

    def __init__(self, groups: Sequence[Sequence[torch.Tensor]], size: int, scale_jitter=(1.0, 1.0), flip: bool = True):
        if not groups:
            raise ValueError("CropSampler needs at least one image")
        self.groups = [tuple(g) for g in groups]
        self.size, self.flip = size, flip
        self.jitter = (float(scale_jitter[0]), float(scale_jitter[1]))

    def _crop(self, group: tuple, gen: torch.Generator) -> list[torch.Tensor]:
        h, w = group[0].shape[-2:]
        lo, hi = self.jitter
        # Log-uniform scale: zooming in and out by the same factor are equally likely.
        s = float(torch.exp(torch.empty(1).uniform_(torch.log(torch.tensor(lo)).item(), torch.log(torch.tensor(hi)).item(), generator=gen)))
        side = max(8, min(round(self.size * s), h, w))
        top = int(torch.randint(0, h - side + 1, (1,), generator=gen))
        left = int(torch.randint(0, w - side + 1, (1,), generator=gen))
        flip = self.flip and bool(torch.randint(0, 2, (1,), generator=gen))
        out = []
        for img in group:
            c = img[:, top : top + side, left : left + side]
            if side != self.size:
                c = F.interpolate(c[None], size=(self.size, self.size), mode="bilinear", antialias=side > self.size, align_corners=False)[0]
            if flip:
                c = c.flip(-1)
            out.append(c)
        return out

    def sample(self, n: int, gen: torch.Generator) -> list[torch.Tensor]:
        """Returns one `[n, C, size, size]` batch per member of a group."""
        idx = torch.randint(0, len(self.groups), (n,), generator=gen).tolist()
        crops = [self._crop(self.groups[i], gen) for i in idx]
        return [torch.stack(parts) for parts in zip(*crops)]
