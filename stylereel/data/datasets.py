"""What a training mode reads: one dataset class per `data.mode`, each giving batches
as a mapping of named tensors.

- `provides`: the batch keys (`plate` is always the generator's input);
- `look`: the key holding real examples of the look (the critic's "real");
- `condition`: the key the critic also sees beside an image when the data is aligned
  (a plate and its painted target), else None;
- `look_images`: whole images of the look, for its Gram statistics;
- `preview`: one sample (`plate`, and `target` if any) for TensorBoard;
- `complete(batch)`, where a dataset has it: entries made on the training device from the
  sampled ones (the distilled look's teacher paints its crops there).

A new kind of training data (frames of a shot with the flow between them, N looks
with a look id) is one class here; the loss terms say which keys they need.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from stylereel.config import DataConfig
from stylereel.data.crops import CropSampler
from stylereel.data.images import load_images, load_pairs
from stylereel.errors import StylereelError
from stylereel.flow import carry, mix, random_move
from stylereel.registry import Registry

DATASETS: Registry[type] = Registry("data mode")


def _check_paths(what: str, paths: list) -> None:
    if not paths:
        raise StylereelError(f"data.{what}: no images given")


Teacher = Callable[[list[torch.Tensor], list[torch.Tensor]], list[torch.Tensor]]


@DATASETS.register("unpaired")
class UnpairedData:
    """Content plates and, unaligned with them, style images (cropped at the stroke scale they are shown at).
    With a `teacher` (`data.teacher`: a network that paints any picture in a look given its images), each
    plate also comes painted by it (`teacher`, cropped alike): where the look's colours and strokes go."""

    look, condition = "style", None

    def __init__(self, cfg: DataConfig, teacher: Teacher | None = None):
        _check_paths("content", cfg.content)
        _check_paths("style", cfg.style)
        content = load_images(cfg.content, cfg.max_side)
        self.look_images = load_images(cfg.style, exact_side=cfg.style_size, trim=cfg.style_trim)
        self.provides = ("plate", "style")
        plates = [{"plate": c} for c in content]
        if teacher is not None:
            for p, painted in zip(plates, teacher(content, self.look_images)):
                p["teacher"] = painted  # [3, H, W], the plate's own size
            self.provides += ("teacher",)
        self._plates = CropSampler(plates, cfg.size, cfg.scale_jitter, cfg.flip)
        self._styles = CropSampler([{"style": s} for s in self.look_images], cfg.size, cfg.scale_jitter, cfg.flip)
        self.preview = plates[0]  # plate (and the teacher's painting of it), beside the look in TensorBoard

    def sample(self, n: int, gen: torch.Generator) -> dict[str, torch.Tensor]:
        return {**self._plates.sample(n, gen), **self._styles.sample(n, gen)}


@DATASETS.register("paired")
class PairedData:
    """Plates and the same frames painted over (DIR/input/NAME, DIR/target/NAME), cropped alike."""

    provides = ("plate", "target")
    look, condition = "target", "plate"

    def __init__(self, cfg: DataConfig):
        if not cfg.pairs:
            raise StylereelError("data.pairs: no keyframe folder given")
        self.names, xs, ys = load_pairs(cfg.pairs, cfg.max_side)
        self.look_images = ys
        self._pairs = CropSampler([{"plate": x, "target": y} for x, y in zip(xs, ys)], cfg.size, cfg.scale_jitter, cfg.flip)
        self.preview = {"plate": xs[0], "target": ys[0]}

    def sample(self, n: int, gen: torch.Generator) -> dict[str, torch.Tensor]:
        return self._pairs.sample(n, gen)


@DATASETS.register("guided")
class GuidedData:
    """Painted keyframes as in paired mode, each crop also shown as another frame of the
    shot: moved by a random affine (the camera: up to `MOVE` px, degrees, zoom) and a smooth
    non-rigid wobble (leaves, cloth: up to `WOBBLE` px), with a patch of another crop's
    picture moved in over part of it (`OCCLUDE` of the crops: something passing in front,
    not seen in the keyframe), and the keyframe's look carried onto it by estimated optical
    flow with its confidence (`flow.carry`), exactly as the renderer carries it, flow errors
    included. `TWO_SIDED` of the guided crops lie between two keyframes, as most frames of
    a shot do: a second view of the keyframe (its own random move) is carried too, and the
    two are mixed by confidence and a random distance in time (`flow.mix`, the renderer's
    mix). A fraction `NO_GUIDE` of the crops get no guide at all (a frame far from every
    keyframe), so the network also draws the look by itself."""

    provides = ("plate", "target", "guide")
    look, condition = "target", "plate"
    MOVE = (12.0, 3.0, 0.06)  # shift in pixels, rotation in degrees, zoom
    WOBBLE = 4.0
    OCCLUDE = 0.5
    TWO_SIDED = 0.5
    FAR = 30  # frames to a keyframe, at most
    NO_GUIDE = 0.2

    def __init__(self, cfg: DataConfig):
        if not cfg.pairs:
            raise StylereelError("data.pairs: no keyframes given")
        self.names, xs, ys = load_pairs(cfg.pairs, cfg.max_side)
        self.look_images = ys
        self.size = cfg.size
        # Crops a quarter larger than trained on, so the move brings real picture, not padding, into view.
        self._pairs = CropSampler([{"plate": x, "target": y} for x, y in zip(xs, ys)], round(cfg.size * 1.25),
                                  cfg.scale_jitter, cfg.flip)
        self.preview = {"plate": xs[0], "target": ys[0], "guide": torch.cat([ys[0], torch.ones_like(ys[0][:1])])}

    def _moved(self, crops: dict[str, torch.Tensor], gen: torch.Generator) -> dict[str, torch.Tensor]:
        n, big = crops["plate"].shape[0], crops["plate"].shape[-1]
        grid = random_move(n, big, big, *self.MOVE, generator=gen)
        wobble = torch.randn(n, 2, 4, 4, generator=gen) * (self.WOBBLE * 2 / big)
        grid = grid + F.interpolate(wobble, size=(big, big), mode="bicubic", align_corners=False).permute(0, 2, 3, 1)
        return {k: F.grid_sample(v, grid, mode="bilinear", padding_mode="reflection", align_corners=False) for k, v in crops.items()}

    def sample(self, n: int, gen: torch.Generator) -> dict[str, torch.Tensor]:
        crops = self._pairs.sample(n, gen)
        big = crops["plate"].shape[-1]
        moved = self._moved(crops, gen)
        for i in torch.nonzero(torch.rand(n, generator=gen) < self.OCCLUDE).flatten().tolist():
            side = int(torch.randint(big // 6, big // 3, (1,), generator=gen))
            (y0, x0), (y1, x1) = (torch.randint(0, big - side, (2, 2), generator=gen)).tolist()
            j = (i + 1) % n  # another crop's picture and its painted look (the crop's own when alone)
            for k in moved:
                moved[k][i, :, y0 : y0 + side, x0 : x0 + side] = crops[k][j, :, y1 : y1 + side, x1 : x1 + side]
        other = self._moved(crops, gen)  # the keyframe on the other side of the frame
        kind = torch.rand(n, generator=gen)
        far = torch.randint(1, self.FAR + 1, (n, 2), generator=gen).tolist()
        hwc = lambda t: np.ascontiguousarray(t.permute(1, 2, 0).numpy())  # noqa: E731
        guides = []
        for i in range(n):
            if kind[i] < self.NO_GUIDE:
                guides.append(torch.zeros(4, big, big))
                continue
            frame = hwc(moved["plate"][i])
            carried = [(*carry(hwc(crops["plate"][i]), hwc(crops["target"][i]), frame, side=big), -far[i][0])]
            if kind[i] < self.NO_GUIDE + (1 - self.NO_GUIDE) * self.TWO_SIDED:
                carried.append((*carry(hwc(other["plate"][i]), hwc(other["target"][i]), frame, side=big), far[i][1]))
            guides.append(torch.from_numpy(mix(carried)).permute(2, 0, 1))
        o, s = (big - self.size) // 2, self.size
        cut = lambda t: t[..., o : o + s, o : o + s].contiguous()  # noqa: E731
        return {"plate": cut(moved["plate"]), "target": cut(moved["target"]), "guide": cut(torch.stack(guides))}


@DATASETS.register("looks")
class LooksData:
    """Several paired looks for one generator (`data.looks`: name -> keyframe pairs), and
    "none": any of their plates as its own target, so the network also knows the plate
    itself (render-time strength moves weight to it). Each crop is drawn from one look,
    chosen uniformly, and carries that look as a one-hot weight map (`look`, the generator's
    second input)."""

    provides = ("plate", "target", "look")
    look, condition = "target", "plate"

    def __init__(self, cfg: DataConfig):
        if not cfg.looks:
            raise StylereelError("data.looks: no looks given")
        self.names = ["none", *cfg.looks]
        samplers, plates, self.look_images = [], [], []
        for name, spec in cfg.looks.items():
            _, xs, ys = load_pairs(spec, cfg.max_side)
            samplers.append(CropSampler([{"plate": x, "target": y} for x, y in zip(xs, ys)], cfg.size, cfg.scale_jitter, cfg.flip))
            plates += xs
            self.look_images += ys
        self._samplers = [CropSampler([{"plate": x, "target": x} for x in plates], cfg.size, cfg.scale_jitter, cfg.flip)] + samplers
        first = samplers[0].samples[0]
        onehot = torch.zeros(len(self.names), *first["plate"].shape[-2:])
        onehot[1] = 1
        self.preview = {"plate": first["plate"], "target": first["target"], "look": onehot}

    def sample(self, n: int, gen: torch.Generator) -> dict[str, torch.Tensor]:
        which = torch.randint(0, len(self.names), (n,), generator=gen).tolist()
        crops = [self._samplers[k].sample(1, gen) for k in which]
        batch = {key: torch.cat([c[key] for c in crops]) for key in ("plate", "target")}
        look = torch.zeros(n, len(self.names), *batch["plate"].shape[-2:])
        look[torch.arange(n), torch.tensor(which)] = 1
        return {**batch, "look": look}


@dataclass
class Painter:
    """A trained look as the teacher of data.mode distill: `paint(batch)` -> [N, 3, H, W], the look of
    `batch["plate"]` (and, for a multi-look model, of `batch["look"]`: its weight map), without gradients,
    on the batch's device; `looks`: a multi-look model's looks ("none" first), else empty."""

    paint: Callable[[dict[str, torch.Tensor]], torch.Tensor]
    looks: tuple[str, ...] = ()


@DATASETS.register("distill")
class DistillData:
    """Content plates, each crop painted by a trained look as it is drawn (`data.teacher`): the same
    crop, scale and flip the student sees, so it learns the teacher's function itself, not a resampled
    copy of it. With a multi-look teacher every crop also carries a look weight map (`look`):
    half the crops one look (or "none"), half a mix of two at a random weight, the fusion users render."""

    look, condition = "target", "plate"

    def __init__(self, cfg: DataConfig, teacher: Painter):
        _check_paths("content", cfg.content)
        self.teacher, self.n_looks = teacher, len(teacher.looks)
        content = load_images(cfg.content, cfg.max_side)
        self.provides = ("plate", "target") + (("look",) if self.n_looks else ())
        self._plates = CropSampler([{"plate": c} for c in content], cfg.size, cfg.scale_jitter, cfg.flip)
        # The teacher's painting of each whole plate (in the looks in turn): the look's statistics kept with the model.
        wholes = [{"plate": c[None], **self._whole_look(i, c)} for i, c in enumerate(content)]
        self.look_images = [teacher.paint(b)[0].clamp(0, 1) for b in wholes]
        self.preview = {k: v[0] for k, v in wholes[0].items()}

    def _whole_look(self, i: int, c: torch.Tensor) -> dict[str, torch.Tensor]:
        if not self.n_looks:
            return {}
        look = torch.zeros(1, self.n_looks, *c.shape[-2:])
        look[:, 1 + i % (self.n_looks - 1)] = 1
        return {"look": look}

    def sample(self, n: int, gen: torch.Generator) -> dict[str, torch.Tensor]:
        """Plates (and look maps); the trainer adds the teacher's `target` on its device (`complete`)."""
        batch = self._plates.sample(n, gen)
        if self.n_looks:
            k = self.n_looks
            w = torch.zeros(n, k)
            pick = torch.randint(0, k, (n, 2), generator=gen)
            mixed = torch.rand(n, generator=gen) < 0.5
            share = torch.where(mixed, torch.rand(n, generator=gen), torch.ones(n))
            w[torch.arange(n), pick[:, 0]] += share
            w[torch.arange(n), pick[:, 1]] += 1 - share
            batch["look"] = w[:, :, None, None].expand(-1, -1, *batch["plate"].shape[-2:]).contiguous()
        return batch

    def complete(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {**batch, "target": self.teacher.paint(batch)}


def load_training_data(cfg: DataConfig, teacher: Teacher | Painter | None = None):
    """The mode's data; `teacher` paints each plate in the look: an unpaired look's (a `Teacher` that
    paints whole images once), or the trained look a distilled one learns (a `Painter`, every crop)."""
    if cfg.mode == "distill":
        if not isinstance(teacher, Painter):
            raise StylereelError("data.teacher: a distilled look needs the trained look it learns (data.teacher: a look or model)")
        return DistillData(cfg, teacher)
    if teacher is not None and cfg.mode != "unpaired":
        raise StylereelError(f"data.teacher: only an unpaired look (content + style images) learns from a teacher, not data.mode {cfg.mode}")
    return DATASETS.get(cfg.mode)(cfg, teacher) if teacher is not None else DATASETS.get(cfg.mode)(cfg)
