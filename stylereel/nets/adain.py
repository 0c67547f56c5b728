"""AdaIN (Huang & Belongie 2017): a whole arbitrary-style network in one pass, from the
bundled VGG19 trunk (relu4_1) and the decoder its authors trained
(``assets/adain_decoder.safetensors``, converted by ``tools/convert_adain.py``).

The content's relu4_1 features take the look's per-channel mean and deviation
(`style_stats`, over all of the look's images), and the decoder paints them back.
stylereel uses it as a teacher: it paints the training photos once, and a look's
generator learns from those paintings where the painting's colours and strokes go,
which a generator trained from scratch on style statistics alone does not find in a
few CPU minutes (bench/RESULTS.md, "unpaired").
"""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from stylereel.nets.features import Trunk
from stylereel.palette import match_palette

ASSET = "adain_decoder.safetensors"
# (name, C_in, C_out, upsample 2x after it); ReLU after every conv but the last
_DECODER = (("conv4_1", 512, 256, True), ("conv3_4", 256, 256, False), ("conv3_3", 256, 256, False), ("conv3_2", 256, 256, False),
            ("conv3_1", 256, 128, True), ("conv2_2", 128, 128, False), ("conv2_1", 128, 64, True), ("conv1_2", 64, 64, False),
            ("conv1_1", 64, 3, False))
STRIDE = 8  # relu4_1 is 1/8 of the frame


@functools.lru_cache(maxsize=1)
def _decoder_weights() -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    with resources.as_file(resources.files("stylereel") / "assets" / ASSET) as path:
        return {k: v.float() for k, v in load_file(str(path)).items()}


def _moments(f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and deviation `[N, C, 1, 1]` of `[N, C, H, W]`."""
    flat = f.flatten(2)
    return flat.mean(-1)[..., None, None], (flat.var(-1, unbiased=False) + 1e-5).sqrt()[..., None, None]


class AdaIN(nn.Module):
    """`AdaIN()(content, stats)`: RGB in [0, 1] `[N, 3, H, W]` painted with the look whose
    relu4_1 statistics `stats = style_stats(images)` are; `alpha` < 1 keeps more of the content."""

    def __init__(self):
        super().__init__()
        self.encoder = Trunk("relu4_1", "vgg19")
        self.decoder = nn.ModuleDict({name: nn.Conv2d(c_in, c_out, 3, device="meta") for name, c_in, c_out, _ in _DECODER})
        weights = _decoder_weights()
        self.decoder.load_state_dict({k: weights[k].clone() for k in self.decoder.state_dict()}, assign=True)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "AdaIN":
        return super().train(False)

    @torch.no_grad()
    def style_stats(self, images: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """The look's relu4_1 mean and deviation `[1, 512, 1, 1]` over all its images `[3, H, W]`
        (every position of every image weighed alike)."""
        feats = torch.cat([self.encoder(i[None].float())["relu4_1"].flatten(2) for i in images], -1)  # [1, 512, all positions]
        return feats.mean(-1)[..., None, None], (feats.var(-1, unbiased=False) + 1e-5).sqrt()[..., None, None]

    def decode(self, t: torch.Tensor) -> torch.Tensor:
        for name, _, _, up in _DECODER:
            t = self.decoder[name](F.pad(t, (1, 1, 1, 1), mode="reflect"))
            if name != "conv1_1":
                t = F.relu(t)
            if up:
                t = F.interpolate(t, scale_factor=2, mode="nearest")
        return t

    @torch.no_grad()
    def forward(self, content: torch.Tensor, stats: tuple[torch.Tensor, torch.Tensor], alpha: float = 1.0) -> torch.Tensor:
        h, w = content.shape[-2:]
        # mirrored up to the stride, so every decoded pixel has a feature behind it
        x = F.pad(content.float(), (0, (-w) % STRIDE, 0, (-h) % STRIDE), mode="reflect")
        fc = self.encoder(x)["relu4_1"]
        mc, sc = _moments(fc)
        t = (fc - mc) / sc * stats[1] + stats[0]
        t = alpha * t + (1 - alpha) * fc
        return self.decode(t)[..., :h, :w].clamp(0, 1)


def paint(content: list[torch.Tensor], looks: list[torch.Tensor]) -> list[torch.Tensor]:
    """Each content image `[3, H, W]` painted by AdaIN with the statistics of all the look's images,
    then given the look's own palette (its colours' mean and covariance): AdaIN's decoder leans
    to cyans and greens a painting may not have (Starry Night: Magenta style distance on held-out
    photos 1.24 -> 1.10 with its palette, bench/RESULTS.md "unpaired")."""
    net = AdaIN()
    stats = net.style_stats(looks)
    palette = np.concatenate([i.permute(1, 2, 0).reshape(-1, 3).numpy() for i in looks])
    out = []
    for c in content:
        painted = net(c[None], stats)[0].permute(1, 2, 0).numpy()
        out.append(torch.from_numpy(np.clip(match_palette(painted, palette), 0, 1)).permute(2, 0, 1).contiguous())
    return out


TEACHERS = {"adain": paint}  # data.teacher -> a function (content images, look images) -> painted content images
