"""Loading training images into memory as tensors.

Training sets here are small (a shot's keyframes, a handful of style images), so
every image is decoded once, downscaled, and kept as a tensor; random crops are
then cheap enough to take on the training thread, which keeps the run exactly
reproducible and resumable from a saved RNG state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import torch
import torch.nn.functional as F

from stylereel.io.frames import ImageError, list_images, read_image, to_tensor


def resize_longer_side(img: torch.Tensor, side: int, allow_upscale: bool = False) -> torch.Tensor:
    """[3, H, W] or [N, 3, H, W] -> same, longer side `side` (antialiased)."""
    h, w = img.shape[-2:]
    scale = side / max(h, w)
    if scale >= 1 and not allow_upscale:
        return img
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    batched = img if img.dim() == 4 else img[None]
    out = F.interpolate(batched, size=size, mode="bilinear", antialias=scale < 1, align_corners=False)
    return out if img.dim() == 4 else out[0]


def load_images(paths: Iterable[str | Path], max_side: int | None = None, exact_side: int | None = None,
                trim: float = 0.0) -> list[torch.Tensor]:
    """Decode images (dirs expand to their images) to [3, H, W] float tensors in [0, 1];
    `trim`: the fraction of each side's length cut from each edge first."""
    out = []
    for p in list_images(paths):
        img = to_tensor(read_image(p).rgb)[0]  # [3, H, W]
        if trim:
            h, w = img.shape[-2:]
            dh, dw = round(trim * h), round(trim * w)
            img = img[:, dh : h - dh, dw : w - dw]
        if exact_side is not None:
            img = resize_longer_side(img, exact_side, allow_upscale=True)
        elif max_side is not None:
            img = resize_longer_side(img, max_side)
        out.append(img.contiguous())
    return out


def load_pairs(root: str | Path, max_side: int | None = None) -> tuple[list[str], list[torch.Tensor], list[torch.Tensor]]:
    """Pairs `root/input/NAME` with `root/target/NAME` (matched by file stem, so a
    painted-over keyframe may be saved in another format)."""
    root = Path(root)
    inp_dir, tgt_dir = root / "input", root / "target"
    for d in (inp_dir, tgt_dir):
        if not d.is_dir():
            raise ImageError(d, f"missing folder (paired data needs {root}/input/NAME and {root}/target/NAME)")
    inputs = {p.stem: p for p in list_images([inp_dir])}
    targets = {p.stem: p for p in list_images([tgt_dir])}
    names = sorted(set(inputs) & set(targets))
    unmatched = sorted(set(inputs) ^ set(targets))
    if not names:
        raise ImageError(root, "no input/target pairs share a file name")
    if unmatched:
        raise ImageError(root, f"files without a partner: {', '.join(unmatched[:5])}")
    xs, ys = [], []
    for n in names:
        x = load_images([inputs[n]], max_side)[0]
        y = to_tensor(read_image(targets[n]).rgb)[0]
        if y.shape[-2:] != x.shape[-2:]:
            # Targets are usually painted at the plate's resolution; match the (possibly downscaled) input.
            y = F.interpolate(y[None], size=x.shape[-2:], mode="bilinear", antialias=True, align_corners=False)[0]
        xs.append(x)
        ys.append(y.contiguous())
    return names, xs, ys
