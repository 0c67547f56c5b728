"""What a training mode reads: one dataset class per `data.mode`, each giving batches
as a mapping of named tensors.

- `provides`: the batch keys (`plate` is always the generator's input);
- `look`: the key holding real examples of the look (the critic's "real");
- `condition`: the key the critic also sees beside an image when the data is aligned
  (a plate and its painted target), else None;
- `look_images`: whole images of the look, for its Gram statistics;
- `preview`: one sample (`plate`, and `target` if any) for TensorBoard.

A new kind of training data (frames of a shot with the flow between them, N looks
with a look id) is one class here; the loss terms say which keys they need.
"""

from __future__ import annotations

import torch

from stylereel.config import DataConfig
from stylereel.data.crops import CropSampler
from stylereel.data.images import load_images, load_pairs
from stylereel.errors import StylereelError
from stylereel.registry import Registry

DATASETS: Registry[type] = Registry("data mode")


def _check_paths(what: str, paths: list) -> None:
    if not paths:
        raise StylereelError(f"data.{what}: no images given")


@DATASETS.register("unpaired")
class UnpairedData:
    """Content plates and, unaligned with them, style images (cropped at the stroke scale they are shown at)."""

    provides = ("plate", "style")
    look, condition = "style", None

    def __init__(self, cfg: DataConfig):
        _check_paths("content", cfg.content)
        _check_paths("style", cfg.style)
        content = load_images(cfg.content, cfg.max_side)
        self.look_images = load_images(cfg.style, exact_side=cfg.style_size, trim=cfg.style_trim)
        self._plates = CropSampler([{"plate": c} for c in content], cfg.size, cfg.scale_jitter, cfg.flip)
        self._styles = CropSampler([{"style": s} for s in self.look_images], cfg.size, cfg.scale_jitter, cfg.flip)
        self.preview = {"plate": content[0]}

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


def load_training_data(cfg: DataConfig):
    return DATASETS.get(cfg.mode)(cfg)
