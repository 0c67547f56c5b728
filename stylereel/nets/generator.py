"""Generators: content image in, stylized image out.

Every generator takes RGB in [0, 1] `[N, 3, H, W]` of any H and W (it pads to its
stride inside `forward` and crops back) and returns the same shape in [0, 1]; its
`inputs` declare that frame and any further render-time inputs `forward` takes
after it (guide channels, look weights), which the engine feeds and tiles.
The constructor's keyword arguments are the whole config: `build_generator(name,
**kwargs)` rebuilds a saved model from its JSON. `lr` on each class is the Adam
learning rate it trains best at (used unless `train.lr_g` is set).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from stylereel.nets.blocks import InvertedResidual, ResidualBlock, UpBlock, conv
from stylereel.registry import Registry

GENERATORS: Registry[type[nn.Module]] = Registry("generator")


@dataclass(frozen=True)
class Input:
    """One input of a generator, in the order `forward` takes them. Spatial inputs are
    `[N, channels, H, W]` at the frame's size (the engine tiles them alike); the others
    are `[N, channels]` (look weights, strength), given whole to every tile."""

    name: str
    channels: int
    spatial: bool = True


IMAGE = Input("image", 3)


def build_generator(name: str, **kwargs) -> nn.Module:
    return GENERATORS.get(name)(**kwargs)


BASE_WEIGHTS = {"reel": "base_reel"}  # generator name -> bundled asset (see tools/pretrain_base.py)


def load_base_weights(net: nn.Module, name: str, kwargs: dict) -> None:
    """Load the shipped pre-trained starting point into `net` (built from `name`, `kwargs`).

    The base exists for the default configuration only; anything else must say
    `model.init=random`, so a silent mismatch can never happen.
    """
    import json
    from importlib import resources

    from safetensors.torch import load_file

    asset = BASE_WEIGHTS.get(name)
    folder = resources.files("stylereel") / "assets"
    if asset is None or not (folder / f"{asset}.safetensors").is_file():
        raise ValueError(f"no pre-trained base for generator {name!r}; use --model.init=random")
    meta = json.loads((folder / f"{asset}.json").read_text())
    if meta["generator"]["kwargs"] != kwargs:
        raise ValueError(f"the pre-trained base is for {name} with {meta['generator']['kwargs'] or 'default'} settings, not {kwargs}; use --model.init=random")
    with resources.as_file(folder / f"{asset}.safetensors") as path:
        sd = load_file(str(path))
    net.load_state_dict({k: v.float() for k, v in sd.items()})


def _pad_to(x: torch.Tensor, multiple: int, margin: int = 0, mode: str = "replicate") -> tuple[torch.Tensor, int, int]:
    """Pad by `margin` on every side (`mode` "replicate", or "reflect" for a frame larger
    than the margin), then replicate up to a multiple of the stride.

    The margin keeps the layers' zero padding (a dark rim) outside the picture. No
    branch depends on the frame's size, so a traced graph serves every size.
    """
    h, w = x.shape[-2:]
    if margin:
        x = F.pad(x, (margin, margin, margin, margin), mode=mode)
    ph, pw = (-x.shape[-2]) % multiple, (-x.shape[-1]) % multiple
    return F.pad(x, (0, pw, 0, ph), mode="replicate"), h, w


def small_frame(net: nn.Module, x: torch.Tensor, side: int, *extras: torch.Tensor) -> torch.Tensor:
    """`net(x, *extras)` for a frame with a side under `side` pixels: replicated up to it (spatial
    extras alike; `[N, C]` extras as they are), then cropped back (a mirror margin needs a frame larger than itself)."""
    h, w = x.shape[-2:]
    grow = lambda t: F.pad(t, (0, max(0, side - w), 0, max(0, side - h)), mode="replicate") if t.dim() == 4 else t  # noqa: E731
    return net(grow(x), *[grow(e) for e in extras])[..., :h, :w]


@GENERATORS.register("reel")
class ReelGenerator(nn.Module):
    """The default, CPU-first encoder-decoder.

    Three stride-2 convs take the frame to 1/8 resolution, where a stack of
    inverted-residual blocks does most of the work (the receptive field there is
    large enough for brush strokes); the decoder climbs back with cheap
    depthwise-separable upsampling blocks and additive skips from the encoder
    (they carry the edges that keep the subject recognisable). At full
    resolution there is one thin layer only (memory traffic, not arithmetic,
    bounds a CPU there): the look is drawn in RGB at half resolution and
    upsampled bilinearly, then a 3x3 conv with 8 channels over the frame and
    that upsampled RGB adds full-resolution texture and crisp edges. Bilinear
    upsampling cannot draw the 2x2 lattice a pixel shuffle leaves in flat areas.
    """

    inputs = (IMAGE,)
    stride = 8
    # Context drawn around the frame: a mirror image of its edge, as wide as the deep layers
    # reach, so a frame's border rows are drawn like its interior (no lines along the edge;
    # bench/RESULTS.md, unpaired; tests/test_edges.py). 32 px rather than 48: with the full-resolution stage a
    # 1080p frame costs 1.10x the revision without either, where 48 px cost 1.17x (bench/RESULTS.md, revisions).
    margin = 32
    min_side = margin + 1  # the traced graph mirrors `margin` pixels: smaller frames go through `small_frame`
    lr = 3e-3  # Adam rate; 1e-3 (the classic) learns the look markedly slower: bench/studies/learning_rates.py
    halo = 80  # receptive-field radius (70 px) rounded up to the stride: tiles need this much context

    def __init__(self, channels: tuple[int, int, int] = (16, 48, 96), n_blocks: int = 6, expand: int = 2, detail: bool = True,
                 detail_width: int = 8):
        """`detail_width`: the full-resolution stage's hidden channels (a third of a 1080p frame's time on the CPU
        engine goes to that stage; tools/thin_stage.py fits a look's stage again narrower).
        `detail=False`: no full-resolution stage reading the frame; the last conv draws the half-resolution RGB
        (upsampled bilinearly, as with the stage) and, for each 2x2 block, its four pixels' detail on top of it
        (12 more channels, pixel-shuffled), for a look trained that way: cheaper on the CPU, where the stage was
        a third of a 1080p frame. Retrained this way the Starry Night look kept less of the photo and drew a faint
        2x2 lattice, so it is not shipped (bench/RESULTS.md, "subpixel")."""
        super().__init__()
        c0, c1, c2 = channels
        self.channels, self.n_blocks, self.expand = tuple(channels), n_blocks, expand
        self.enc1 = nn.Sequential(conv(3, c0, 3, stride=2), nn.ReLU(inplace=True))  # 1/2
        self.enc2 = nn.Sequential(conv(c0, c1, 3, stride=2), nn.ReLU(inplace=True))  # 1/4
        self.enc3 = nn.Sequential(conv(c1, c2, 3, stride=2), nn.ReLU(inplace=True))  # 1/8
        self.blocks = nn.Sequential(*[InvertedResidual(c2, expand) for _ in range(n_blocks)])
        self.up2 = UpBlock(c2, c1)  # 1/4
        self.up1 = UpBlock(c1, c0)  # 1/2
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        if not detail:  # RGB, then each 2x2 block's detail: channel c of pixel (a, b) at 3 + c * 4 + a * 2 + b
            self.to_rgb, self.detail = conv(c0, 15, 3), None
            return
        self.to_rgb = conv(c0, 3, 3)  # 1/2
        self.detail = nn.Sequential(conv(6, detail_width, 3), nn.ReLU(inplace=True), conv(detail_width, 3, 1))  # full resolution: frame + RGB

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [N, 3, H, W] -> [N, 3, H, W]
        m = self.margin
        if not torch.jit.is_tracing() and min(x.shape[-2:]) <= m:
            return small_frame(self, x, m + 1)
        x, h, w = _pad_to(x, self.stride, m, "reflect")
        e1 = self.enc1(x)
        e2 = self.enc2(e1)
        y = self.blocks(self.enc3(e2))
        return self.finish(x, self.to_rgb(self.up1(self.up2(y, e2), e1)))[..., m : m + h, m : m + w]

    def finish(self, x: torch.Tensor, rgb: torch.Tensor) -> torch.Tensor:
        """The full-resolution stage: the padded frame `[N, 3, H, W]` and the half-resolution RGB logits
        in, the picture in [0, 1] out. The CPU engine's copy computes it on 2x2 blocks instead
        (`stylereel.nets.space_to_depth`: the same function, 11-17% off a 1080p frame of the shipped look)."""
        blocks = getattr(self, "block_finish", None)
        if blocks is not None:
            return blocks(x, rgb)
        if self.detail is None:  # the RGB upsampled, and each block's detail drawn at half resolution
            return torch.sigmoid(self.up(rgb[:, :3]) + F.pixel_shuffle(rgb[:, 3:], 2))
        y = self.up(rgb)
        return torch.sigmoid(y + self.detail(torch.cat([x, y], 1)))


GUIDE = Input("guide", 4)  # a painted keyframe carried to this frame along the flow (RGB), and how far to trust it


@GENERATORS.register("reel_guided")
class GuidedReelGenerator(ReelGenerator):
    """The default generator that also sees the painted keyframes carried to the current
    frame by optical flow, with their confidence (`flow.carry`, `render.guide.guide_for`), in the spirit of
    Texler et al. 2020's guides and EbSynth. The guide enters the encoder beside the frame,
    and at full resolution a gate (learnt, opened up to the confidence times `OPEN`) takes the
    carried paint where it is trusted: painted detail survives exactly there, and the network draws
    the rest (occlusions, new content, frames far from any keyframe: confidence 0)."""

    inputs = (IMAGE, GUIDE)
    # The gate may open fully wherever the confidence reaches 1 / OPEN: half-trusted carried paint
    # is still nearer the truth than what the network draws (bench/keyframes.py: the gate capped
    # at the confidence lost 0.0005-0.001 MSE to flow alone on pixels of confidence 0.05-0.7).
    OPEN = 4.0

    def __init__(self, channels: tuple[int, int, int] = (16, 48, 96), n_blocks: int = 6, expand: int = 2):
        super().__init__(channels, n_blocks, expand)
        c0 = channels[0]
        self.enc1 = nn.Sequential(conv(3 + 4, c0, 3, stride=2), nn.ReLU(inplace=True))
        self.detail = nn.Sequential(conv(6 + 4, 8, 3), nn.ReLU(inplace=True), conv(8, 4, 1))  # RGB + the gate's logit

    def forward(self, x: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:  # [N, 3, H, W], [N, 4, H, W]
        m = self.margin
        if not torch.jit.is_tracing() and min(x.shape[-2:]) <= m:
            return small_frame(self, x, m + 1, guide)
        both, h, w = _pad_to(torch.cat([x, guide], 1), self.stride, m, "reflect")
        e1 = self.enc1(both)
        e2 = self.enc2(e1)
        y = self.blocks(self.enc3(e2))
        return self.finish(both, self.to_rgb(self.up1(self.up2(y, e2), e1)))[..., m : m + h, m : m + w]

    def finish(self, both: torch.Tensor, rgb: torch.Tensor) -> torch.Tensor:
        """The full-resolution stage: the padded frame and guide `[N, 7, H, W]` and the half-resolution
        RGB logits in, the picture out (on 2x2 blocks in the CPU engine, as `ReelGenerator.finish`)."""
        x, g = both[:, :3], both[:, 3:]
        blocks = getattr(self, "block_finish", None)
        if blocks is not None:
            out = blocks(both, rgb)  # the picture and the gate's opening, each through its sigmoid
            drawn, opened = out[:, :3], out[:, 3:]
        else:
            y = self.up(rgb)
            d = self.detail(torch.cat([x, y, g], 1))
            drawn, opened = torch.sigmoid(y + d[:, :3]), torch.sigmoid(d[:, 3:])
        gate = opened * (g[:, 3:] * self.OPEN).clamp(max=1)
        return drawn + gate * (g[:, :3] - drawn)


class LookModulation(nn.Module):
    """Per-look affine modulation of a feature map (FiLM; Dumoulin et al. 2017's conditional
    instance norm without the per-image statistics): each look owns a scale and a shift per
    channel, and a pixel's modulation is its look weights' mix of them, so blending weights
    blends looks inside the network and a matte gives each region its look. Starts as the
    identity (zeros)."""

    def __init__(self, n_looks: int, channels: int):
        super().__init__()
        self.scale = nn.Parameter(torch.zeros(n_looks, channels))
        self.shift = nn.Parameter(torch.zeros(n_looks, channels))

    def forward(self, y: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:  # [N, C, h, w], [N, looks, h, w] or [N, looks]
        if weights.dim() == 2:  # the same weights at every pixel: one scale and shift per channel
            return y * (1 + weights @ self.scale)[..., None, None] + (weights @ self.shift)[..., None, None]
        scale = F.conv2d(weights, self.scale.t()[..., None, None])
        shift = F.conv2d(weights, self.shift.t()[..., None, None])
        return y * (1 + scale) + shift


@GENERATORS.register("reel_looks")
class LooksReelGenerator(ReelGenerator):
    """The default generator holding several looks at once: the frame and, per pixel, how much
    of each look to draw (`looks` names them; the first is "none", the plate itself). Every
    stage is modulated by the looks' own scale and shift (`LookModulation`), mixed by those
    weights at that stage's resolution: a constant mix fuses looks, a matte sets a region's
    look, and weight moved to "none" lowers the strength, all inside the network. Extending
    the model by a look is a new row in each modulation, trained alone."""

    def __init__(self, looks: tuple[str, ...] = ("none", "look"), channels: tuple[int, int, int] = (16, 48, 96),
                 n_blocks: int = 6, expand: int = 2, detail_width: int = 8):
        super().__init__(channels, n_blocks, expand, detail_width=detail_width)
        self.looks = list(looks)
        if len(self.looks) < 2 or self.looks[0] != "none" or len(set(self.looks)) != len(self.looks):
            raise ValueError(f"looks: 'none' first, then distinct names, got {self.looks}")
        n, (c0, c1, c2) = len(self.looks), channels
        self.inputs = (IMAGE, Input("look", n))
        self.mod = nn.ModuleList([LookModulation(n, c2) for _ in range(n_blocks + 1)] + [LookModulation(n, c1), LookModulation(n, c0)])

    def forward(self, x: torch.Tensor, look: torch.Tensor) -> torch.Tensor:
        """[N, 3, H, W] and the look weights per pixel, [N, looks, H, W], or the same at every pixel, [N, looks]
        (the same picture as that map, without carrying it through every stage)."""
        m = self.margin
        if not torch.jit.is_tracing() and min(x.shape[-2:]) <= m:
            return small_frame(self, x, m + 1, look)
        if look.dim() == 2:
            x, h, w = _pad_to(x, self.stride, m, "reflect")
            w2 = w4 = w8 = look
        else:
            both, h, w = _pad_to(torch.cat([x, look], 1), self.stride, m, "reflect")
            x, wt = both[:, :3], both[:, 3:]
            w2 = F.avg_pool2d(wt, 2)
            w4 = F.avg_pool2d(w2, 2)
            w8 = F.avg_pool2d(w4, 2)
        e1 = self.enc1(x)
        e2 = self.enc2(e1)
        y = self.mod[0](self.enc3(e2), w8)
        for block, mod in zip(self.blocks, self.mod[1 : len(self.blocks) + 1]):
            y = mod(block(y), w8)
        y = self.mod[-2](self.up2(y, e2), w4)
        y = self.mod[-1](self.up1(y, e1), w2)
        return self.finish(x, self.to_rgb(y))[..., m : m + h, m : m + w]


@GENERATORS.register("johnson")
class JohnsonGenerator(nn.Module):
    """Johnson et al. (2016) TransformerNet layer table: 9x9 conv 32, two stride-2
    convs to 128 channels, 5 residual blocks, two x2 upsamplings, 9x9 conv to RGB.
    Normalisation layers are left out (tile-exactness), replaced by ReZero gains."""

    inputs = (IMAGE,)
    stride = 4
    lr = 1e-3  # the paper's rate; 3e-3 diverges for this network: bench/studies/learning_rates.py
    halo = 64  # receptive-field radius (51 px) rounded up

    def __init__(self, n_blocks: int = 5):
        super().__init__()
        self.n_blocks = n_blocks
        act = lambda: nn.ReLU(inplace=True)  # noqa: E731
        self.net = nn.Sequential(
            conv(3, 32, 9), act(),
            conv(32, 64, 3, stride=2), act(),
            conv(64, 128, 3, stride=2), act(),
            *[ResidualBlock(128) for _ in range(n_blocks)],
            nn.Upsample(scale_factor=2, mode="nearest"), conv(128, 64, 3), act(),
            nn.Upsample(scale_factor=2, mode="nearest"), conv(64, 32, 3), act(),
            conv(32, 3, 9),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [N, 3, H, W] -> [N, 3, H, W]
        x, h, w = _pad_to(x, self.stride)
        return torch.sigmoid(self.net(x))[..., :h, :w]
