"""Distances in a loss trunk's feature space for looks without a ground truth.

- style distance: relative Gram distance to the look's target Grams, averaged
  over the trunk's style layers (0 = identical texture statistics, 1 = as far as
  an all-black image).
- content distance: relative feature distance at the trunk's content layer to the
  content image (0 = same structure).

Both are the training losses with unit weights, so a model's numbers, the
content image's and a Gatys optimisation's can be compared directly, on one trunk.
"""

from __future__ import annotations

from typing import Mapping

import torch

from stylereel.losses.perceptual import content_loss, gram_targets, style_loss
from stylereel.nets.features import DEFAULT_TRUNK, Trunk, spec


class StyleMetrics:
    """`target_grams` on trunk `trunk`'s style layers (`load_style_grams` gives both)."""

    def __init__(self, target_grams: Mapping[str, torch.Tensor], device: torch.device | str = "cpu", trunk: str = DEFAULT_TRUNK,
                 features: Trunk | None = None):
        s = spec(trunk)
        self.style_layers, self.content_layers = s.style_layers, s.content_layers
        missing = sorted(set(self.style_layers) - set(target_grams))
        if missing:
            raise ValueError(f"style targets lack {trunk} layers {missing} (taken on another trunk?)")
        self.features = features or Trunk(sorted(set(self.style_layers) | set(self.content_layers)), trunk).to(device)
        self.grams = {k: v.to(device) for k, v in target_grams.items()}
        self.device, self.trunk = device, trunk

    @classmethod
    def from_images(cls, style_images: list[torch.Tensor], device: torch.device | str = "cpu", trunk: str = DEFAULT_TRUNK) -> "StyleMetrics":
        """Targets from style images `[3, H, W]`, computed on the metric's own trunk (one trunk, loaded once)."""
        s = spec(trunk)
        features = Trunk(sorted(set(s.style_layers) | set(s.content_layers)), trunk).to(device)
        return cls(gram_targets(features, [i.to(device) for i in style_images], s.style_layers), device, trunk, features)

    @torch.no_grad()
    def __call__(self, output: torch.Tensor, content: torch.Tensor) -> dict[str, float]:
        fo = self.features(output.to(self.device))
        fc = self.features(content.to(self.device))
        return {
            "style_distance": float(style_loss(fo, self.grams, self.style_layers)),
            "content_distance": float(content_loss(fo, fc, self.content_layers)),
        }
