"""Loading training images into memory as tensors.

Training sets here are small (a shot's keyframes, a handful of style images), so
every image is decoded once, downscaled, and kept as a tensor; random crops are
then cheap enough to take on the training thread, which keeps the run exactly
reproducible and resumable from a saved RNG state.

Any input a render takes is a training input too: stills and folders, sequences
(`plate.####.exr`, with a `:1001-1100` range) and movies; a long shot is evenly
thinned to `SHOT_FRAMES` frames. Frames enter in the network's working encoding
(`stylereel.io.color`): scene-linear EXR as a render would show it to the network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np
import torch
import torch.nn.functional as F

from stylereel.device import check_memory
from stylereel.errors import StylereelError
from stylereel.io.frames import Frame, ImageError, list_images, read_image
from stylereel.io.media import open_source, read_frames
from stylereel.io.working import to_working

SHOT_FRAMES = 64  # frames taken from one sequence or movie (evenly spaced): neighbours add little but memory


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
    `trim`: the fraction of each side's length cut from each edge first. Refused up front:
    a set that would not fit in memory once loaded; then an image under MIN_SIDE pixels a
    side, or a set of nothing but flat (one-colour) images: nothing to learn from."""
    paths = list(paths)
    sources = [open_source(item) for item in paths]
    _check_fits(paths, sources, exact_side or max_side, upscale=exact_side is not None)
    out = []
    for frame in (f for src in sources for f in read_frames(src, limit=SHOT_FRAMES)):
        h, w = frame.rgb.shape[:2]
        if min(h, w) < MIN_SIDE:
            raise ImageError(frame.path, f"{w}x{h} is too small to learn a look from (at least {MIN_SIDE} px a side)")
        img = frame_tensor(frame)
        if trim:
            h, w = img.shape[-2:]
            dh, dw = round(trim * h), round(trim * w)
            img = img[:, dh : h - dh, dw : w - dw]
        if exact_side is not None:
            img = resize_longer_side(img, exact_side, allow_upscale=True)
        elif max_side is not None:
            img = resize_longer_side(img, max_side)
        out.append(img.contiguous())
    if out and all(float(img.amax() - img.amin()) < FLAT for img in out):
        raise StylereelError(f"{', '.join(map(str, paths))}: {'every image is' if len(out) > 1 else 'the image is'} "
                             "flat (a single colour): nothing to learn a look from")
    return out


MIN_SIDE = 16  # the smallest image worth training on
FLAT = 2 / 255  # an image whose values span less than this is one colour


def _check_fits(paths: list, sources: list, side: int | None, upscale: bool) -> None:
    """Refuse a training set that would not fit in memory once loaded (float32, at most `side` px)."""
    total, count = 0, 0
    for src in sources:
        w, h = src.largest or (side or 1, side or 1)
        s = side / max(w, h) if side and (upscale or max(w, h) > side) else 1.0
        n = min(len(src), SHOT_FRAMES)
        total += n * round(w * s) * round(h * s) * 3 * 4
        count += n
    check_memory(", ".join(map(str, paths)), total, f"keeping {count} training images in memory")


def frame_tensor(frame: Frame) -> torch.Tensor:
    """A frame as the network sees it when rendered: [3, H, W] in the working encoding (`io.working`)."""
    rgb = to_working(frame)[0]
    return torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1), dtype=np.float32))


def load_pairs(spec: str | Path, max_side: int | None = None) -> tuple[list[str], list[torch.Tensor], list[torch.Tensor]]:
    """Keyframe pairs: `DIR` pairs `DIR/input/NAME` with `DIR/target/NAME` (matched by
    file stem, so a painted-over keyframe may be saved in another format); `PLATE=PAINTED`
    pairs the frames of a shot (sequence or movie, optional range) with the painted
    frames of the same numbers (a sequence holding only the keyframes)."""
    if "=" in str(spec) and not Path(spec).is_dir():
        names, xs, ys = _shot_pairs(*str(spec).split("=", 1))
    else:
        names, xs, ys = _folder_pairs(Path(spec))
    out_x, out_y = [], []
    for x, y in zip(xs, ys):
        if max_side is not None:
            x = resize_longer_side(x, max_side)
        if y.shape[-2:] != x.shape[-2:]:
            # Targets are usually painted at the plate's resolution; match the (possibly downscaled) input.
            y = F.interpolate(y[None], size=x.shape[-2:], mode="bilinear", antialias=True, align_corners=False)[0]
        out_x.append(x.contiguous())
        out_y.append(y.contiguous())
    return names, out_x, out_y


def _folder_pairs(root: Path) -> tuple[list[str], list[torch.Tensor], list[torch.Tensor]]:
    inp_dir, tgt_dir = root / "input", root / "target"
    for d in (inp_dir, tgt_dir):
        if not d.is_dir():
            raise ImageError(d, f"missing folder (paired data needs {root}/input/NAME and {root}/target/NAME, or PLATE=PAINTED)")
    inputs = {p.stem: p for p in list_images([inp_dir])}
    targets = {p.stem: p for p in list_images([tgt_dir])}
    names = sorted(set(inputs) & set(targets))
    unmatched = sorted(set(inputs) ^ set(targets))
    if not names:
        raise ImageError(root, "no input/target pairs share a file name")
    if unmatched:
        raise ImageError(root, f"files without a partner: {', '.join(unmatched[:5])}")
    return names, [frame_tensor(read_image(inputs[n])) for n in names], [frame_tensor(read_image(targets[n])) for n in names]


def _shot_pairs(plate: str, painted: str) -> tuple[list[str], list[torch.Tensor], list[torch.Tensor]]:
    from stylereel.io.media import open_source

    targets = open_source(painted)
    plates = open_source(plate)
    if targets.kind == "stills":
        raise ImageError(painted, "painted keyframes of a shot are a sequence (painted.####.png) numbered like the plate's frames")
    missing = sorted(set(targets.numbers) - set(plates.numbers))
    if missing:
        raise ImageError(plate, f"has no frame {', '.join(map(str, missing[:5]))} for the painted keyframes in {painted}")
    wanted = {plates.numbers.index(n) for n in targets.numbers}
    xs = {}
    for i, frame, problem in plates.frames(wanted):
        if frame is None:
            raise StylereelError(problem)
        xs[plates.numbers[i]] = frame_tensor(frame)
    names, out_x, out_y = [], [], []
    for i, frame, problem in targets.frames():
        if frame is None:
            raise StylereelError(problem)
        n = targets.numbers[i]
        names.append(str(n))
        out_x.append(xs[n])
        out_y.append(frame_tensor(frame))
    return names, out_x, out_y
