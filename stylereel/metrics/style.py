"""Distances in the VGG feature space for looks without a ground truth.

- style distance: relative Gram distance to the look's target Grams, averaged
  over relu1_2 ... relu4_3 (0 = identical texture statistics, 1 = as far as
  an all-black image).
- content distance: relative feature distance at relu3_3 to the content image
  (0 = same structure).

Both are the training losses with unit weights, so a model's numbers, the
content image's and a Gatys optimisation's can be compared directly.
"""

from __future__ import annotations

from typing import Mapping

import torch

from stylereel.losses.perceptual import STYLE_LAYERS, content_loss, gram_targets, style_loss
from stylereel.nets.features import VGGFeatures

CONTENT_LAYERS = ("relu3_3",)


class StyleMetrics:
    def __init__(self, target_grams: Mapping[str, torch.Tensor], device: torch.device | str = "cpu", features: VGGFeatures | None = None):
        self.features = features or VGGFeatures(sorted(set(STYLE_LAYERS) | set(CONTENT_LAYERS))).to(device)
        self.grams = {k: v.to(device) for k, v in target_grams.items()}
        self.device = device

    @classmethod
    def from_images(cls, style_images: list[torch.Tensor], device: torch.device | str = "cpu") -> "StyleMetrics":
        """Targets from style images `[3, H, W]`, computed on the metric's own trunk (one trunk, loaded once)."""
        features = VGGFeatures(sorted(set(STYLE_LAYERS) | set(CONTENT_LAYERS))).to(device)
        return cls(gram_targets(features, [s.to(device) for s in style_images], STYLE_LAYERS), device, features)

    @torch.no_grad()
    def __call__(self, output: torch.Tensor, content: torch.Tensor) -> dict[str, float]:
        fo = self.features(output.to(self.device))
        fc = self.features(content.to(self.device))
        return {
            "style_distance": float(style_loss(fo, self.grams, STYLE_LAYERS)),
            "content_distance": float(content_loss(fo, fc, CONTENT_LAYERS)),
        }
