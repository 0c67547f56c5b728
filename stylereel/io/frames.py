"""Reading and writing image frames (PNG, JPEG, TIFF) through OpenCV.

Pixel values are display-referred: we normalise integer code values to [0, 1]
and do no colour management or linearisation. Alpha is carried through
untouched so matte channels from comp survive a stylisation pass bit-exact.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from stylereel.errors import StylereelError

# OpenCV logs decoder complaints to stderr itself; our ImageError already says what went wrong, in one line.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)

IMAGE_EXTENSIONS: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
_JPEG_EXTENSIONS = (".jpg", ".jpeg")
_MAX_CODE = {8: 255, 16: 65535}
_DTYPE = {8: np.uint8, 16: np.uint16}


class ImageError(StylereelError):
    """An image could not be read or written; the message is one line naming the file."""

    def __init__(self, path: str | os.PathLike, problem: str):
        # Collapse whitespace so multi-line cv2 errors still give one-line messages in logs.
        problem = " ".join(str(problem).split())
        super().__init__(f"{os.fspath(path)}: {problem}")
        self.path = os.fspath(path)
        self.problem = problem


@dataclass
class Frame:
    rgb: np.ndarray  # float32 [H, W, 3], RGB, [0, 1]
    alpha: np.ndarray | None  # [H, W] in the stored dtype (uint8/uint16)
    bit_depth: int  # 8 or 16
    path: str


def _check_extension(path: Path) -> str:
    ext = path.suffix.lower()
    if ext not in IMAGE_EXTENSIONS:
        raise ImageError(
            path, f"unsupported extension '{path.suffix}' (supported: {', '.join(IMAGE_EXTENSIONS)})"
        )
    return ext


def read_image(path: str | os.PathLike) -> Frame:
    p = Path(path)
    _check_extension(p)
    # cv2.imread just returns None on any failure, so diagnose the common causes first.
    if not p.exists():
        raise ImageError(p, "cannot read image (file missing)")
    if p.is_dir():
        raise ImageError(p, "cannot read image (is a directory)")
    if not os.access(p, os.R_OK):
        raise ImageError(p, "cannot read image (permission denied)")
    if p.stat().st_size == 0:
        raise ImageError(p, "not a decodable image (empty file)")

    try:
        img = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
    except cv2.error as exc:
        raise ImageError(p, f"not a decodable image ({exc})") from None
    if img is None:
        raise ImageError(p, "not a decodable image (truncated or corrupt)")

    if img.dtype == np.uint8:
        bit_depth = 8
    elif img.dtype == np.uint16:
        bit_depth = 16
    elif img.dtype.kind == "f":
        raise ImageError(p, f"{img.dtype.itemsize * 8}-bit float TIFF not supported")
    else:
        raise ImageError(p, f"unsupported sample type {img.dtype} (need 8- or 16-bit unsigned)")

    if img.ndim == 2:
        img = img[:, :, None]
    channels = img.shape[2]
    alpha = None
    if channels in (1, 2):
        color = np.repeat(img[:, :, :1], 3, axis=2)
        if channels == 2:
            alpha = img[:, :, 1]
    elif channels in (3, 4):
        color = img[:, :, 2::-1]  # BGR -> RGB
        if channels == 4:
            alpha = img[:, :, 3]
    else:
        raise ImageError(p, f"unsupported channel count {channels}")

    rgb = np.ascontiguousarray(color, dtype=np.float32) / np.float32(_MAX_CODE[bit_depth])
    if alpha is not None:
        alpha = alpha.copy()  # don't keep the whole decoded image alive through a view
    return Frame(rgb=rgb, alpha=alpha, bit_depth=bit_depth, path=str(p))


def _quantize(values: np.ndarray, bit_depth: int) -> np.ndarray:
    scaled = np.clip(values.astype(np.float64), 0.0, 1.0) * _MAX_CODE[bit_depth]
    return np.rint(scaled).astype(_DTYPE[bit_depth])


def _convert_alpha(path: Path, alpha: np.ndarray, shape: tuple[int, int], bit_depth: int) -> np.ndarray:
    alpha = np.asarray(alpha)
    if alpha.ndim == 3 and alpha.shape[2] == 1:
        alpha = alpha[:, :, 0]
    if alpha.shape != shape:
        raise ImageError(path, f"alpha shape {alpha.shape} does not match image size {shape}")
    if alpha.dtype == _DTYPE[bit_depth]:
        return alpha
    if alpha.dtype == np.uint8 and bit_depth == 16:
        return alpha.astype(np.uint16) * np.uint16(257)  # 0xAB -> 0xABAB, exact inverse of the 16->8 below
    if alpha.dtype == np.uint16 and bit_depth == 8:
        return np.rint(alpha / 257.0).astype(np.uint8)
    if alpha.dtype.kind == "f":
        if not np.isfinite(alpha).all():
            raise ImageError(path, "alpha contains NaN or infinite values")
        return _quantize(alpha, bit_depth)
    raise ImageError(path, f"unsupported alpha dtype {alpha.dtype} (need uint8, uint16 or float)")


def write_image(
    path: str | os.PathLike,
    rgb: np.ndarray,
    alpha: np.ndarray | None = None,
    bit_depth: int = 8,
) -> None:
    """Write float RGB in [0, 1] (clipped, rounded to nearest) atomically to `path`."""
    p = Path(path)
    ext = _check_extension(p)
    if bit_depth not in _MAX_CODE:
        raise ImageError(p, f"unsupported bit depth {bit_depth} (use 8 or 16)")
    if ext in _JPEG_EXTENSIONS:
        # cv2 would silently fall back to 8-bit and drop alpha; refuse instead.
        if bit_depth != 8:
            raise ImageError(p, f"JPEG is 8-bit only (requested {bit_depth}-bit)")
        if alpha is not None:
            raise ImageError(p, "JPEG cannot store alpha")
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ImageError(p, f"expected rgb of shape [H, W, 3], got {list(rgb.shape)}")
    if not np.isfinite(rgb).all():
        raise ImageError(p, "rgb contains NaN or infinite values")

    channels = [_quantize(rgb[:, :, 2::-1], bit_depth)]  # RGB -> BGR
    if alpha is not None:
        channels.append(_convert_alpha(p, alpha, rgb.shape[:2], bit_depth)[:, :, None])
    img = np.ascontiguousarray(np.concatenate(channels, axis=2))
    params = [cv2.IMWRITE_JPEG_QUALITY, 95] if ext in _JPEG_EXTENSIONS else []

    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImageError(p, f"cannot create directory ({exc.strerror or exc})") from None
    # Temp file in the same directory so os.replace is an atomic rename: readers (and a crashed
    # render) never see a half-written frame. The leading dot keeps it out of list_images, and
    # the real extension is kept because cv2 picks the codec from it.
    tmp = p.with_name(f".{p.stem}.tmp-{secrets.token_hex(4)}{p.suffix}")
    try:
        try:
            ok = cv2.imwrite(str(tmp), img, params)
        except cv2.error as exc:
            raise ImageError(p, f"cannot write image ({exc})") from None
        if not ok:
            raise ImageError(p, "cannot write image (encoder failed or directory not writable)")
        try:
            os.replace(tmp, p)
        except OSError as exc:
            raise ImageError(p, f"cannot write image ({exc.strerror or exc})") from None
    finally:
        tmp.unlink(missing_ok=True)


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


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """[H, W, 3] array -> float32 tensor [1, 3, H, W]."""
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected [H, W, 3] array, got {list(rgb.shape)}")
    chw = np.ascontiguousarray(rgb.transpose(2, 0, 1), dtype=np.float32)
    return torch.from_numpy(chw).unsqueeze(0)


def from_tensor(t: torch.Tensor) -> np.ndarray:
    """Tensor [1, 3, H, W] or [3, H, W] -> float32 array [H, W, 3] (not clipped)."""
    if t.ndim == 4 and t.shape[0] == 1:
        t = t[0]
    if t.ndim != 3 or t.shape[0] != 3:
        raise ValueError(f"expected tensor [1, 3, H, W] or [3, H, W], got {list(t.shape)}")
    return np.ascontiguousarray(t.detach().to("cpu", torch.float32).permute(1, 2, 0).numpy())
