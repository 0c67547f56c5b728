"""Reading and writing image frames in any registered still format (`stylereel.io.formats`:
PNG/JPEG/TIFF through OpenCV, DPX through PyAV's FFmpeg, OpenEXR), told apart by their bytes.

A `Frame` holds RGB as float32 and alpha as stored. Integer formats are code
values divided by their maximum ([0, 1], display-referred, no colour management
here: `stylereel.io.color` does that); EXR holds whatever the file holds
(scene-linear, unbounded). `sample` names the stored precision ("uint8",
"uint10", "uint12", "uint16", "half", "float") and `extra` carries what a format
keeps besides the pixels (an EXR's header, other channels and parts), so
`write_image(path, rgb, like=frame)` writes the same kind of file back. Every
write is atomic: a temp file beside the target, renamed into place.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from stylereel.device import check_memory
from stylereel.io.atomic import temp_path
from stylereel.io.formats import FLOAT_SAMPLES, FORMATS, INTEGER_SAMPLES, Frame, ImageError, StillFormat, quantize  # noqa: F401

STILL_FORMATS: tuple[StillFormat, ...] = tuple(FORMATS.values())
_BY_EXTENSION = {e: f for f in STILL_FORMATS for e in f.extensions}
IMAGE_EXTENSIONS: tuple[str, ...] = tuple(_BY_EXTENSION)
MAGIC_BYTES = max(len(m) for f in STILL_FORMATS for m in f.magic)


def still_format(path: str | os.PathLike) -> StillFormat:
    """The format a file of this name is written as (by its extension)."""
    return _BY_EXTENSION[_check_extension(Path(path))]


def sniff(path: str | os.PathLike) -> StillFormat:
    """The format a file holds, told by its first bytes (a PNG saved as .jpg is a PNG)."""
    p = Path(path)
    with open(p, "rb") as f:
        head = f.read(MAGIC_BYTES)
    for fmt in STILL_FORMATS:
        if head.startswith(fmt.magic):
            return fmt
    raise ImageError(p, f"not a decodable image (its bytes are none of {', '.join(f.name for f in STILL_FORMATS)})")


def _check_extension(path: Path) -> str:
    ext = path.suffix.lower()
    if ext not in IMAGE_EXTENSIONS:
        raise ImageError(
            path, f"unsupported extension '{path.suffix}' (supported: {', '.join(IMAGE_EXTENSIONS)})"
        )
    return ext


def _check_readable(p: Path) -> None:
    if not p.exists():
        raise ImageError(p, "cannot read image (file missing)")
    if p.is_dir():
        raise ImageError(p, "cannot read image (is a directory)")
    if not os.access(p, os.R_OK):
        raise ImageError(p, "cannot read image (permission denied)")
    if p.stat().st_size == 0:
        raise ImageError(p, "not a decodable image (empty file)")


# Bytes per pixel and channel while a frame is decoded: the decoder's buffer, the float32 copy, slack.
DECODE_BYTES = 12


def read_image(path: str | os.PathLike) -> Frame:
    """The frame a still holds, read as the format its bytes are (`sniff`), whatever its name."""
    p = Path(path)
    _check_extension(p)
    _check_readable(p)
    fmt = sniff(p)
    fmt.check(p)
    declared = fmt.header(p)
    if declared is not None:
        w, h, c = declared
        check_memory(str(p), w * h * max(c, 3) * DECODE_BYTES, f"decoding {w}x{h} pixels")
    return fmt.read(p)


def _convert_alpha(path: Path, alpha: np.ndarray, shape: tuple[int, int], sample: str) -> np.ndarray:
    """Alpha in the storage type of `sample`; an integer alpha of another depth is rescaled exactly where it can be."""
    alpha = np.asarray(alpha)
    if alpha.ndim == 3 and alpha.shape[2] == 1:
        alpha = alpha[:, :, 0]
    if alpha.shape != shape:
        raise ImageError(path, f"alpha shape {alpha.shape} does not match image size {shape}")
    if alpha.dtype.kind == "f" and not np.isfinite(alpha).all():
        raise ImageError(path, "alpha contains NaN or infinite values")
    if sample in FLOAT_SAMPLES:
        if alpha.dtype.kind == "f":
            return alpha
        if alpha.dtype.kind == "u":
            return alpha.astype(np.float32) / np.float32(np.iinfo(alpha.dtype).max)
    elif alpha.dtype.kind == "u":
        src_max = np.iinfo(alpha.dtype).max
        dst_max = (1 << INTEGER_SAMPLES[sample]) - 1
        if src_max == dst_max:
            return alpha
        if alpha.dtype == np.uint8 and sample == "uint16":
            return alpha.astype(np.uint16) * np.uint16(257)  # 0xAB -> 0xABAB, exact inverse of the 16->8 below
        return quantize(alpha.astype(np.float64) / src_max, sample)
    elif alpha.dtype.kind == "f":
        return quantize(alpha, sample)
    raise ImageError(path, f"unsupported alpha dtype {alpha.dtype} (need unsigned integer or float)")


def output_sample(path: str | os.PathLike, requested: str | None = None, like: Frame | None = None) -> str:
    """The precision a frame is written at: `requested`, else the input's (`like`) where the
    format stores it, else the nearest the format has (float -> 16-bit integer, integer ->
    half), else the format's default."""
    p = Path(path)
    allowed = still_format(p).samples
    if requested is not None:
        if requested not in allowed:
            raise ImageError(p, f"{p.suffix} cannot store {requested} samples (can: {', '.join(allowed)})")
        return requested
    if like is not None:
        if like.sample in allowed:
            return like.sample
        if like.is_float and "uint16" in allowed:
            return "uint16"
        if not like.is_float and "half" in allowed:
            return "half"
        if not like.is_float and "uint16" in allowed and INTEGER_SAMPLES[like.sample] > 8:
            return "uint16"
    return allowed[0]


def write_image(
    path: str | os.PathLike,
    rgb: np.ndarray,
    alpha: np.ndarray | None = None,
    bit_depth: int | None = None,
    *,
    sample: str | None = None,
    like: Frame | None = None,
) -> None:
    """Write float RGB atomically to `path`: clipped to [0, 1] and rounded for integer
    formats, as is for EXR. Precision: `sample` (or `bit_depth` 8/10/12/16 for an
    integer format), else `output_sample`. `like`: the frame this one was made from;
    an EXR keeps its header, other channels and parts."""
    p = Path(path)
    fmt = still_format(p)
    if bit_depth is not None and sample is None:
        bits = {**INTEGER_SAMPLES, "half": 16, "float": 32}
        held = [s for s in fmt.samples if bits[s] == bit_depth]  # what the format holds at that depth, else the
        sample = held[0] if held else {v: k for k, v in INTEGER_SAMPLES.items()}.get(bit_depth)  # integer one, refused by name below
        if sample is None:
            raise ImageError(p, f"unsupported bit depth {bit_depth} for {p.suffix}")
    requested = sample
    sample = fmt.fit(p, output_sample(p, sample, like), alpha is not None, requested is not None)
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ImageError(p, f"expected rgb of shape [H, W, 3], got {list(rgb.shape)}")
    if not np.isfinite(rgb).all():
        raise ImageError(p, "rgb contains NaN or infinite values")
    if alpha is not None:
        alpha = _convert_alpha(p, alpha, rgb.shape[:2], sample)

    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImageError(p, f"cannot create directory ({exc.strerror or exc})") from None
    # Temp file in the same directory so os.replace is an atomic rename: readers (and a crashed
    # render) never see a half-written frame. The leading dot keeps it out of list_images, and
    # the real extension is kept because the encoders pick the codec from it.
    tmp = temp_path(p)
    try:
        try:
            fmt.write(p, tmp, rgb, alpha, sample, like)
        except ImageError:
            raise
        except OSError as exc:
            raise ImageError(p, f"cannot write image ({exc.strerror or exc})") from None
        except Exception as exc:  # encoder libraries raise their own types; the message is what matters
            raise ImageError(p, f"cannot write image ({exc})") from None
        try:
            os.replace(tmp, p)
        except OSError as exc:
            raise ImageError(p, f"cannot write image ({exc.strerror or exc})") from None
    finally:
        tmp.unlink(missing_ok=True)


def check_writable(folder: str | os.PathLike) -> None:
    """Create `folder` if needed and prove a file can be made in it, before any work: a
    read-only mount, a folder without write permission or a full inode table is the
    system's OSError, naming the folder (the CLI's exit code 4)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    probe = folder / f".stylereel-write-test-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(folder)) from None
    probe.unlink(missing_ok=True)


def blocking_file(path: str | os.PathLike) -> Path | None:
    """The file standing where `path` or one of its folders would have to be made, if any."""
    p = Path(path)
    existing = next((q for q in [p, *p.parents] if q.exists()), None)
    return existing if existing is not None and not existing.is_dir() else None


def _natural_key(path: Path) -> tuple:
    # re.split with a capture group alternates str/int pieces, so keys always compare cleanly.
    parts = re.split(r"(\d+)", path.name.lower())
    return ([int(s) if i % 2 else s for i, s in enumerate(parts)], path.name)


def list_images(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Expand directories (non-recursive, natural order) into image files; pass files through."""
    out: list[Path] = []
    for item in paths:
        p = Path(item)
        if p.is_dir():
            found = [
                c
                for c in p.iterdir()
                if not c.name.startswith(".") and c.suffix.lower() in IMAGE_EXTENSIONS and c.is_file()
            ]
            if not found:
                raise ImageError(p, f"no images in directory (supported: {', '.join(IMAGE_EXTENSIONS)})")
            out.extend(sorted(found, key=_natural_key))
        elif p.exists():
            out.append(p)
        else:
            raise ImageError(p, "no such file or directory")
    return out


def probe_image(path: str | os.PathLike) -> tuple[int, int, int]:
    """(width, height, channels) from the file's header where the format allows, else by decoding it."""
    p = Path(path)
    _check_extension(p)
    _check_readable(p)
    fmt = sniff(p)
    fmt.check(p)
    got = fmt.header(p)
    if got is not None:
        if got[2] > 4:
            raise ImageError(p, f"unsupported channel count {got[2]} (1 to 4: grey, grey and alpha, RGB, RGBA)")
        return got
    f = read_image(p)
    return f.rgb.shape[1], f.rgb.shape[0], 3 + (f.alpha is not None)
