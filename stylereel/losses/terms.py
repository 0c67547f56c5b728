"""Loss terms: each a registered part with its weight, its options and what it needs.

A term reads what it needs from a `Step` (the batch, the generator's outputs,
feature maps, the critic's judgement), each computed once per step however many
terms ask for it. A term declares

- `needs`: the batch keys it reads (`plate`, `target`, `style`, ...); the trainer
  checks them against what the data provides before the first step;
- `layers`: the trunk layers it reads (each loss trunk is built only as deep as the
  deepest layer any active term needs from it); `trunk`: which trunk (`TRUNKS`), the
  run's (`loss.trunk`) unless the term names its own; terms whose layers follow the
  trunk take `layers: null` as "the trunk's own style (or content) layers";
- `uses_critic`: whether it reads the discriminator (the discriminator is built
  and trained only if some term does).

Its constructor's keyword arguments are its options, as written in the config
(`loss.NAME.OPTION`); `weight` is one of them, and a weight of 0 turns it off.
`forward(step)` returns the unweighted loss. See docs/architecture.md for adding one.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any, Callable, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from stylereel.errors import StylereelError, did_you_mean
from stylereel.losses.adversarial import D_LOSSES, G_LOSSES, d_loss_over_scales, feature_matching_loss, g_loss_over_scales
from stylereel.losses.perceptual import content_loss, luminance_correlation, mean_grams, pixel_l1_loss, sliced_wasserstein_over_layers, structure_loss, style_loss, tv_loss
from stylereel.flow import random_move
from stylereel.nets.features import DEFAULT_TRUNK, TRUNKS, check_layers, spec
from stylereel.registry import Registry

Feats = Mapping[str, torch.Tensor]


class Step:
    """One training step: the batch and everything derived from it, computed on first use.

    `batch` maps names to tensors `[N, C, S, S]` (or `[N, ...]` for non-spatial data);
    `generate(x)` runs the generator being trained, `features(img, trunk, key)` a frozen loss
    trunk on the image `key` names ("fake" or a batch entry), `critic(img, batch)` the discriminator (None when no term uses it).
    """

    def __init__(self, batch: dict[str, torch.Tensor], generate: Callable, features: Callable | None = None,
                 critic: Callable | None = None):
        self.batch = batch
        self._generate, self._features, self._critic = generate, features, critic
        self._outputs: dict[str, torch.Tensor] = {}
        self._feats: dict[tuple[str, str], Feats] = {}
        self._judged: dict[str, Any] = {}

    def output(self, key: str = "plate") -> torch.Tensor:
        """The generator's output for `batch[key]` (with gradients)."""
        if key not in self._outputs:
            self._outputs[key] = self._generate(self.batch[key])
        return self._outputs[key]

    @property
    def fake(self) -> torch.Tensor:
        return self.output("plate")

    def generate(self, x: torch.Tensor) -> torch.Tensor:
        """The generator on any image (with gradients, not cached): for terms that ask how it answers a variation."""
        return self._generate(x)

    def _image(self, key: str) -> torch.Tensor:
        return self.fake if key == "fake" else self.batch[key]

    def features(self, key: str, trunk: str) -> Feats:
        """Features on loss trunk `trunk` of `fake` (with gradients) or of a batch entry (without)."""
        if (key, trunk) not in self._feats:
            with torch.set_grad_enabled(key == "fake" and torch.is_grad_enabled()):
                self._feats[key, trunk] = self._features(self._image(key), trunk, key)
        return self._feats[key, trunk]

    def judge(self, img: torch.Tensor):
        """The critic's outputs on any image, not cached (the critic's own update judges detached outputs)."""
        return self._critic(img, self.batch)

    def critic(self, key: str):
        """The discriminator's outputs (logits and features per scale) on `fake` or a batch entry."""
        if key not in self._judged:
            with torch.set_grad_enabled(key == "fake" and torch.is_grad_enabled()):
                self._judged[key] = self._critic(self._image(key), self.batch)
        return self._judged[key]


def interior(feats: Feats, margin: int, trunk: str) -> dict[str, torch.Tensor]:
    """Feature maps without the `margin` pixels (in image pixels, shrinking with each layer's
    stride) along the crop's edges, where the trunk's padding shapes the features. A
    texture statistic taken there rewards the generator for drawing lines along every edge.

    >>> interior({"relu2_2": torch.zeros(1, 1, 8, 8)}, 4, "vgg19")["relu2_2"].shape
    torch.Size([1, 1, 4, 4])
    """
    out = {}
    for k, f in feats.items():
        m = margin // spec(trunk).stride(k) if margin else 0
        out[k] = f[..., m : f.shape[-2] - m, m : f.shape[-1] - m] if m else f
    return out


class Term(nn.Module):
    needs: tuple[str, ...] = ()
    uses_critic = False
    reads_look = False  # True: `set_look` is given the look images' features on `layers` before training
    trunk = DEFAULT_TRUNK  # the loss trunk its `layers` are read on (set from its `trunk` option where it has one)

    def __init__(self, weight: float = 1.0):
        super().__init__()
        self.weight = float(weight)

    @property
    def layers(self) -> set[str]:
        return set()

    def set_look(self, feats: list[Feats]) -> None:
        """Targets from the look's whole images: one `{layer: [1, C, H, W]}` (float32) per image."""

    def forward(self, s: Step) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError


TERMS: Registry[type[Term]] = Registry("loss term")


@TERMS.register("adversarial")
class Adversarial(Term):
    """Fool the critic: `g_loss` on its logits for the output. The critic itself is
    trained with `d_loss` on the look's real examples against the output."""

    uses_critic = True

    def __init__(self, weight: float = 0.05, d_loss: str = "bce", g_loss: str = "nonsat"):
        super().__init__(weight)
        self.d_fn, self.g_fn = D_LOSSES.get(d_loss), G_LOSSES.get(g_loss)

    def forward(self, s: Step) -> torch.Tensor:
        return g_loss_over_scales(self.g_fn, s.critic("fake"))

    def critic_loss(self, real_out, fake_out) -> torch.Tensor:
        return d_loss_over_scales(self.d_fn, real_out, fake_out)


@TERMS.register("feature_matching")
class FeatureMatching(Term):
    """L1 between the critic's features on the output and on the aligned target (pix2pixHD)."""

    uses_critic = True
    needs = ("target",)

    def forward(self, s: Step) -> torch.Tensor:
        return feature_matching_loss(s.critic("target"), s.critic("fake"))


@TERMS.register("content")
class Content(Term):
    """Keep the feature maps of `of` (the plate, or a painted target) at `layers`."""

    def __init__(self, weight: float = 1.0, layers: list | None = None, of: str = "plate", trunk: str = DEFAULT_TRUNK):
        super().__init__(weight)
        self.trunk = trunk
        self.content_layers, self.of = list(layers if layers is not None else spec(trunk).content_layers), of
        self.needs = (of,)

    @property
    def layers(self) -> set[str]:
        return set(self.content_layers)

    def forward(self, s: Step) -> torch.Tensor:
        return content_loss(s.features("fake", self.trunk), s.features(self.of, self.trunk), self.content_layers)


@TERMS.register("style")
class Style(Term):
    """Match the Gram statistics of the look's images at `layers` (Gatys et al. 2016)."""

    reads_look = True

    def __init__(self, weight: float = 2.0, layers: dict | None = None, margin: int = 8, trunk: str = DEFAULT_TRUNK):
        super().__init__(weight)
        self.trunk = trunk
        self.layer_weights = {k: float(v) for k, v in (layers if layers is not None else spec(trunk).style_layers).items()}
        self.margin = int(margin)
        self.targets: dict[str, torch.Tensor] = {}

    @property
    def layers(self) -> set[str]:
        return set(self.layer_weights)

    def set_look(self, feats: list[Feats]) -> None:
        self.targets = mean_grams(feats, self.layer_weights)

    def forward(self, s: Step) -> torch.Tensor:
        return style_loss(interior(s.features("fake", self.trunk), self.margin, self.trunk), self.targets, self.layer_weights)


@TERMS.register("swd")
class SlicedWasserstein(Term):
    """Match the distribution of the look's features at `layers`, not only their Gram
    averages: sliced Wasserstein distance along `directions` random directions per layer,
    drawn anew each step (Heitz et al. 2021). It keeps the look's palette in its
    proportions (Starry Night's yellows and whites beside its blues) where a Gram loss
    averages it into one colour, and it draws no lines along the crop's edges.
    `samples`: feature vectors per layer kept from the look's images, and drawn from
    each output (a random subset each step where a layer has more)."""

    reads_look = True

    def __init__(self, weight: float = 1.0, layers: dict | None = None, samples: int = 4096, directions: int = 64,
                 trunk: str = DEFAULT_TRUNK):
        super().__init__(weight)
        self.trunk = trunk
        self.layer_weights = {k: float(v) for k, v in (layers if layers is not None else spec(trunk).style_layers).items()}
        self.samples, self.directions = int(samples), int(directions)
        if self.samples < 1 or self.directions < 1:
            raise StylereelError(f"loss.swd: samples and directions must be at least 1, got {samples} and {directions}")
        self.targets: dict[str, torch.Tensor] = {}

    @property
    def layers(self) -> set[str]:
        return set(self.layer_weights)

    def set_look(self, feats: list[Feats]) -> None:
        gen = torch.Generator().manual_seed(0)
        for k in self.layer_weights:
            t = torch.cat([f[k][0].flatten(1) for f in feats], 1)  # [C, all positions of all images]
            if t.shape[1] > self.samples:
                t = t[:, torch.randperm(t.shape[1], generator=gen)[: self.samples].to(t.device)]
            self.targets[k] = t.contiguous()

    def forward(self, s: Step) -> torch.Tensor:
        return sliced_wasserstein_over_layers(s.features("fake", self.trunk), self.targets, self.layer_weights, self.samples, self.directions)


@TERMS.register("texture")
class Texture(Term):
    """Take the texture of an aligned picture (`of`: the teacher's painting of the plate) where it
    is, without copying it pixel for pixel: on each trunk layer, the channels' mean and deviation
    over every `cell` x `cell` pixels of the output must be the picture's there. Strokes may fall
    anywhere inside a cell; which strokes, which colours and how strong must follow the picture.
    A pixel loss to the same picture averages its strokes into a blur (bench/RESULTS.md, unpaired)."""

    def __init__(self, weight: float = 1.0, layers: dict | None = None, of: str = "teacher", cell: int = 32, trunk: str = DEFAULT_TRUNK):
        super().__init__(weight)
        if int(cell) < 1:
            raise StylereelError(f"loss.texture.cell: must be at least 1 pixel, got {cell}")
        self.trunk, self.of, self.cell = trunk, of, int(cell)
        self.layer_weights = {k: float(v) for k, v in (layers if layers is not None else spec(trunk).style_layers).items()}
        self.needs = (of,)

    @property
    def layers(self) -> set[str]:
        return set(self.layer_weights)

    def forward(self, s: Step) -> torch.Tensor:
        fo, ft = s.features("fake", self.trunk), s.features(self.of, self.trunk)
        total, wsum = 0.0, 0.0
        for k, w in self.layer_weights.items():
            c = max(1, self.cell // spec(self.trunk).stride(k))
            a, b = fo[k], ft[k].detach()
            ma, mb = F.avg_pool2d(a, c, ceil_mode=True), F.avg_pool2d(b, c, ceil_mode=True)  # [N, C, H / c, W / c]
            da = (F.avg_pool2d(a * a, c, ceil_mode=True) - ma * ma).clamp_min(0).add(1e-6).sqrt()
            db = (F.avg_pool2d(b * b, c, ceil_mode=True) - mb * mb).clamp_min(0).add(1e-6).sqrt()
            scale = b.square().mean().clamp_min(1e-8)
            total = total + w * ((ma - mb).square().mean() + (da - db).square().mean()) / scale
            wsum += w
        return total / max(wsum, 1e-12)


@TERMS.register("light")
class Light(Term):
    """Keep the plate's light: the output's luminance, blurred to `scale` (pixels averaged
    per side), must correlate with the plate's (1 - Pearson correlation per image). Any
    brighter or darker tone curve the look wants is free; turning light into dark is not.
    The loss trunks see little of it (HED's edge-tuned VGG16 none): without this term a look
    may invert a white cup into a dark one."""

    def __init__(self, weight: float = 1.0, of: str = "plate", scale: int = 16):
        super().__init__(weight)
        if int(scale) < 1:
            raise StylereelError(f"loss.light.scale: must be at least 1 pixel, got {scale}")
        self.of, self.scale = of, int(scale)
        self.needs = (of,)

    def forward(self, s: Step) -> torch.Tensor:
        return 1 - luminance_correlation(s.fake, s.batch[self.of], self.scale).mean()


@TERMS.register("stability")
class Stability(Term):
    """The output for a slightly moved, re-grained plate must be the output for the plate,
    moved the same way (Eilertsen et al. 2019, "Single-frame regularization for temporally
    stable CNNs"): what a frame-by-frame render meets between two frames of a shot, learnt
    without flow. A random affine move per crop (up to `shift` px, `rotate` degrees, `zoom`),
    Gaussian grain of `noise`; L1 inside a `margin` where the move brought in no new picture.
    Costs one more generator pass per step; inference is unchanged."""

    needs = ("plate",)

    def __init__(self, weight: float = 1.0, shift: float = 3.0, rotate: float = 1.0, zoom: float = 0.03, noise: float = 0.01, margin: int = 8):
        super().__init__(weight)
        self.shift, self.rotate, self.zoom, self.noise, self.margin = float(shift), float(rotate), float(zoom), float(noise), int(margin)

    def forward(self, s: Step) -> torch.Tensor:
        x = s.batch["plate"]
        n, _, h, w = x.shape
        grid = random_move(n, h, w, self.shift, self.rotate, self.zoom).to(x.device)
        moved = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
        moved = (moved + self.noise * torch.randn_like(moved)).clamp(0, 1)
        expected = F.grid_sample(s.fake, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
        m = self.margin
        return (s.generate(moved) - expected)[..., m : h - m, m : w - m].abs().mean()


@TERMS.register("l1")
class L1(Term):
    """Pixel L1 to an aligned batch entry (the painted target)."""

    def __init__(self, weight: float = 10.0, of: str = "target"):
        super().__init__(weight)
        self.of = of
        self.needs = (of,)

    def forward(self, s: Step) -> torch.Tensor:
        return pixel_l1_loss(s.fake, s.batch[self.of])


@TERMS.register("ssim")
class Structure(Term):
    """1 - SSIM to an aligned batch entry (the painted target): beside L1, it keeps the painted
    strokes' local contrast, which L1 alone averages into blur (Zhao et al. 2017)."""

    def __init__(self, weight: float = 20.0, of: str = "target", window: int = 11):
        super().__init__(weight)
        if int(window) < 3 or int(window) % 2 == 0:
            raise StylereelError(f"loss.ssim.window: an odd number of pixels, at least 3, got {window}")
        self.of, self.window = of, int(window)
        self.needs = (of,)

    def forward(self, s: Step) -> torch.Tensor:
        return structure_loss(s.fake, s.batch[self.of], self.window)


@TERMS.register("tv")
class TotalVariation(Term):
    """Smoothness of the output (anisotropic total variation)."""

    def forward(self, s: Step) -> torch.Tensor:
        return tv_loss(s.fake)


def _options(cls: type[Term]) -> dict[str, Any]:
    params = inspect.signature(cls.__init__).parameters
    return {k: list(p.default) if isinstance(p.default, tuple) else copy.deepcopy(p.default) for k, p in params.items() if k != "self"}


def resolve_terms(loss: Mapping[str, Any]) -> dict[str, Any]:
    """Every term's full options (its defaults filled in), checked by name and type; `trunk`:
    the run's loss trunk, which every term that reads a trunk uses unless it names its own,
    and whose style or content layers fill a term's `layers: null`.

    >>> resolve_terms({"tv": {"weight": 0.5}})
    {'trunk': 'vgg19', 'tv': {'weight': 0.5}}
    """
    run_trunk = loss.get("trunk", DEFAULT_TRUNK)
    TRUNKS.get(run_trunk)
    out: dict[str, Any] = {"trunk": run_trunk}
    for name, opts in loss.items():
        if name == "trunk":
            continue
        cls = TERMS.get(name)
        if not isinstance(opts, Mapping):
            raise StylereelError(f"loss.{name}: expected a mapping of options, got {opts!r}")
        full = _options(cls)
        if "trunk" in full:
            full["trunk"] = run_trunk
        for k, v in opts.items():
            if k not in full:
                raise StylereelError(f"unknown option 'loss.{name}.{k}'{did_you_mean(str(k), full)} (valid for {name}: {', '.join(full)})")
            default = full[k]
            if isinstance(default, bool) or default is None or v is None:
                ok = True
            elif isinstance(default, (int, float)):
                ok = isinstance(v, (int, float)) and not isinstance(v, bool)
            else:
                ok = isinstance(v, type(default))
            if not ok:
                raise StylereelError(f"loss.{name}.{k}: expected {type(default).__name__}, got {v!r}")
            full[k] = float(v) if isinstance(default, float) else v
        if "trunk" in full:
            TRUNKS.get(full["trunk"])
        term = cls(**full)  # options a term rejects (an unknown adversarial loss, say) fail here, before training
        if "layers" in full:
            full["layers"] = _plain(getattr(term, "layer_weights", None) or getattr(term, "content_layers", None) or full["layers"])
            check_layers(full.get("trunk", term.trunk), term.layers, f"loss.{name}.layers")
        out[name] = full
    return out


def _plain(layers):
    return dict(layers) if isinstance(layers, Mapping) else list(layers)


def build_terms(loss: Mapping[str, Any]) -> dict[str, Term]:
    """The active terms (weight != 0), built from their options."""
    return {name: TERMS.get(name)(**opts) for name, opts in resolve_terms(loss).items() if name != "trunk" and opts.get("weight", 0)}
