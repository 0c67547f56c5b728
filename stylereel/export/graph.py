"""The look as a runtime outside stylereel runs it.

Inputs, by name (N frames of any height and width at least `MIN_SIDE`):
- `image` `[N, 3, H, W]`: RGB in [0, 1], in the working encoding (sRGB-encoded; a scene-linear
  plate is converted to sRGB first, as `stylereel.io.working` does for a render).
- `strength` `[N, 1]`: 0 gives the plate, 1 the full look (default 1).
- `look` `[N, L]` (multi-look models only): how much of each look (the model's looks, "none"
  excluded, in `looks` order); mixed in proportion, as `--look ink=0.7,fauve=0.3`.
- `guide` `[N, 4, H, W]` (guided looks only): the painted keyframes carried to this frame and
  their confidence (`stylereel.render.guide.guide_for`).
Output `image_out` `[N, 3, H, W]`, RGB in [0, 1], the same encoding.

Strength and mix are what `RenderOptions.strength` and `look` do in a render (`LookMap`):
inside the network for a multi-look model, a pixel mix with the plate for a single look.
"""

from __future__ import annotations

import torch
from torch import nn


class ExportGraph(nn.Module):
    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net.float().eval().requires_grad_(False)
        self.looks = [n for n in getattr(net, "looks", []) if n != "none"]
        self.guided = any(i.name == "guide" for i in getattr(net, "inputs", ())[1:])
        self.min_side = getattr(net, "min_side", 1)

    @property
    def input_names(self) -> list[str]:
        return ["image", "strength"] + (["look"] if self.looks else []) + (["guide"] if self.guided else [])

    def example_inputs(self, h: int = 96, w: int = 128) -> tuple[torch.Tensor, ...]:
        xs = [torch.rand(1, 3, h, w), torch.ones(1, 1)]
        if self.looks:
            xs.append(torch.full((1, len(self.looks)), 1.0 / len(self.looks)))
        if self.guided:
            xs.append(torch.rand(1, 4, h, w))
        return tuple(xs)

    def forward(self, image: torch.Tensor, strength: torch.Tensor, *more: torch.Tensor) -> torch.Tensor:
        more = list(more)
        if self.looks:
            mix = more.pop(0).clamp(min=0)
            mix = mix / mix.sum(1, keepdim=True).clamp(min=1e-8)
            weights = torch.cat([1 - strength, strength * mix], 1)  # "none" first, as the model holds them
            out = self.net(image, weights)  # the same weights at every pixel: [N, looks]
            return torch.where(strength[:, :, None, None] <= 1e-3, image, out)  # all on "none": the plate exactly, as a render writes it
        out = self.net(image, *more)
        return image + strength[:, :, None, None] * (out - image)
