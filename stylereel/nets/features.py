"""Frozen VGG16 feature trunk for perceptual and style losses.

The weights are the conv1_1 ... conv4_3 trunk of the HED edge detector
(ImageNet VGG16 fine-tuned on BSDS500), bundled as fp16 safetensors in
``stylereel/assets`` and converted by ``tools/convert_vgg16.py``; see
``stylereel/assets/LICENSES.md`` for provenance.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Iterable

import torch
import torch.nn.functional as F
from torch import nn

ASSET = "vgg16_hed.safetensors"

# Caffe-style preprocessing the HED weights were trained with.
BGR_MEAN = (104.007, 116.669, 122.679)

# (name, C_in, C_out) per conv; "pool" precedes every block after the first.
_PLAN: tuple = (
    ("conv1_1", 3, 64), ("conv1_2", 64, 64),
    "pool", ("conv2_1", 64, 128), ("conv2_2", 128, 128),
    "pool", ("conv3_1", 128, 256), ("conv3_2", 256, 256), ("conv3_3", 256, 256),
    "pool", ("conv4_1", 256, 512), ("conv4_2", 512, 512), ("conv4_3", 512, 512),
)
LAYER_NAMES: tuple[str, ...] = tuple("relu" + step[0][4:] for step in _PLAN if step != "pool")
DEFAULT_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
# Pixels of the input per pixel of each layer's feature map ("rgb": the image itself).
LAYER_STRIDES = {"rgb": 1, **{name: 2 ** (int(name[4]) - 1) for name in LAYER_NAMES}}


@functools.lru_cache(maxsize=1)
def _load_state_dict() -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    ref = resources.files("stylereel") / "assets" / ASSET
    with resources.as_file(ref) as path:
        sd = load_file(str(path))
    # fp16 only saves disk; half-precision conv is slow or unsupported on CPU.
    return {k: v.float() for k, v in sd.items()}


class VGGFeatures(nn.Module):
    """Frozen VGG16 (HED) trunk returning the requested ReLU activations.

    ``forward`` takes RGB in [0, 1] and returns ``{layer: feature map}``;
    the network is built only as deep as the deepest requested layer.
    """

    def __init__(self, layers: Iterable[str] | str = DEFAULT_LAYERS):
        super().__init__()
        layers = (layers,) if isinstance(layers, str) else tuple(dict.fromkeys(layers))
        bad = [name for name in layers if name not in LAYER_NAMES]
        if bad or not layers:
            raise ValueError(f"unknown VGG layer(s) {bad or list(layers)}; valid: {', '.join(LAYER_NAMES)}")
        self.layers = layers
        depth = max(LAYER_NAMES.index(name) for name in layers)

        self._steps: list[str] = []
        for step in _PLAN:
            if step == "pool":
                self._steps.append("pool")
                continue
            name, c_in, c_out = step
            # Meta tensors skip the random init that load_state_dict would overwrite anyway.
            setattr(self, name, nn.Conv2d(c_in, c_out, 3, padding=1, device="meta"))
            self._steps.append(name)
            if name == "conv" + LAYER_NAMES[depth][4:]:
                break

        cached = _load_state_dict()
        # Clone so in-place edits to one instance never leak into the cache or other instances.
        self.load_state_dict({k: cached[k].clone() for k in self.state_dict()}, assign=True)
        self.register_buffer("mean", torch.tensor(BGR_MEAN).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "VGGFeatures":
        # A loss network must stay frozen even when a parent model calls .train().
        return super().train(False)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"expected RGB [N, 3, H, W], got {list(x.shape)}")
        # [N, 3, H, W] RGB in [0, 1]
        h = x.flip(1) * 255.0 - self.mean.to(x.dtype)  # [N, 3, H, W] BGR, mean-subtracted
        wanted = set(self.layers)
        feats: dict[str, torch.Tensor] = {}
        for step in self._steps:
            if step == "pool":
                # ceil_mode matches Keras padding="same" pooling on odd sizes.
                h = F.max_pool2d(h, 2, 2, ceil_mode=True)
                continue
            h = F.relu(getattr(self, step)(h), inplace=True)
            relu = "relu" + step[4:]
            if relu in wanted:
                feats[relu] = h  # [N, C, ceil(H / 2**k), ceil(W / 2**k)], k = block - 1
        return {name: feats[name] for name in self.layers}

    def extra_repr(self) -> str:
        return f"layers={self.layers}"
