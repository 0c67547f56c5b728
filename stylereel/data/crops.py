"""Random crops with scale jitter and flips, drawn from a `torch.Generator` so a
run's data stream is fixed by its seed and restored exactly on resume.

A sample is a mapping of named tensors `[C, H, W]` of one size (a plate and its
painted target; later a second frame, the flow between them, a matte) that are
cropped, rescaled and flipped alike. What a tensor is decides how it moves:

- "image" and "mask": resampled (bilinear, antialiased when shrinking);
- "flow" (`[2, H, W]`, pixel offsets dx, dy): resampled, and its vectors scaled by
  the same factor as the pixels, with dx negated when the crop is mirrored, so a
  flow still maps the cropped frames onto each other.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import torch
import torch.nn.functional as F

KINDS = ("image", "mask", "flow")


class CropSampler:
    """Draws batches of aligned crops from samples `{name: [C, H, W]}` (one H, W per sample).

    `kinds` says which names are masks or flows (the rest are images).
    """

    def __init__(self, samples: Sequence[Mapping[str, torch.Tensor]], size: int, scale_jitter=(1.0, 1.0), flip: bool = True,
                 kinds: Mapping[str, str] | None = None):
        if not samples:
            raise ValueError("CropSampler needs at least one sample")
        self.samples = [dict(s) for s in samples]
        self.kinds = dict(kinds or {})
        bad = {k: v for k, v in self.kinds.items() if v not in KINDS}
        if bad:
            raise ValueError(f"unknown kinds {bad} (valid: {', '.join(KINDS)})")
        for s in self.samples:
            sizes = {tuple(t.shape[-2:]) for t in s.values()}
            if len(sizes) != 1:
                raise ValueError(f"a sample's tensors must share one size, got {sorted(sizes)}")
        self.size, self.flip = size, flip
        self.jitter = (float(scale_jitter[0]), float(scale_jitter[1]))

    def _crop(self, sample: dict, gen: torch.Generator) -> dict[str, torch.Tensor]:
        h, w = next(iter(sample.values())).shape[-2:]
        lo, hi = self.jitter
        # Log-uniform scale: zooming in and out by the same factor are equally likely.
        s = float(torch.exp(torch.empty(1).uniform_(math.log(lo), math.log(hi), generator=gen)))
        side = max(8, min(round(self.size * s), h, w))
        top = int(torch.randint(0, h - side + 1, (1,), generator=gen))
        left = int(torch.randint(0, w - side + 1, (1,), generator=gen))
        flip = self.flip and bool(torch.randint(0, 2, (1,), generator=gen))
        out = {}
        for name, img in sample.items():
            kind = self.kinds.get(name, "image")
            c = img[:, top : top + side, left : left + side]
            if side != self.size:
                c = F.interpolate(c[None], size=(self.size, self.size), mode="bilinear", antialias=side > self.size, align_corners=False)[0]
                if kind == "flow":
                    c = c * (self.size / side)  # offsets are in pixels of the resized crop
            if flip:
                c = c.flip(-1)
                if kind == "flow":
                    c = torch.cat([-c[:1], c[1:]])  # mirrored: a move to the right becomes a move to the left
            out[name] = c
        return out

    def sample(self, n: int, gen: torch.Generator) -> dict[str, torch.Tensor]:
        """One `[n, C, size, size]` batch per name."""
        idx = torch.randint(0, len(self.samples), (n,), generator=gen).tolist()
        crops = [self._crop(self.samples[i], gen) for i in idx]
        return {name: torch.stack([c[name] for c in crops]) for name in crops[0]}
