"""PNG, JPEG and TIFF through OpenCV (headers through Pillow): 8/16-bit integer, and 32-bit
float TIFF (as Photoshop and Nuke write it); grey, grey + alpha, RGB, RGBA; straight alpha."""

from __future__ import annotations

import warnings
from pathlib import Path

import cv2
import numpy as np

from stylereel.io.formats.core import Frame, ImageError, StillFormat, keep_sample, max_code, no_check, quantize, register

# OpenCV logs decoder complaints to stderr itself; our ImageError already says what went wrong, in one line.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)

CHANNELS = "1 to 4: grey, grey and alpha, RGB, RGBA"


def read(p: Path) -> Frame:
    # cv2.imread just returns None on any failure, so the common causes are diagnosed by the header first.
    try:
        img = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
    except cv2.error as exc:
        raise ImageError(p, f"not a decodable image ({exc})") from None
    if img is None:
        declared = header(p)
        if declared is not None and declared[2] > 4:
            raise ImageError(p, f"unsupported channel count {declared[2]} ({CHANNELS})")
        raise ImageError(p, "not a decodable image (truncated or corrupt)")

    if img.dtype == np.uint8:
        sample = "uint8"
    elif img.dtype == np.uint16:
        sample = "uint16"
    elif img.dtype == np.float32:
        sample = "float"
        if not np.isfinite(img).all():
            raise ImageError(p, f"{int((~np.isfinite(img)).any(-1).sum()) if img.ndim == 3 else int((~np.isfinite(img)).sum())} pixels hold NaN or infinite values")
    else:
        raise ImageError(p, f"unsupported sample type {img.dtype} (need 8- or 16-bit unsigned, or 32-bit float)")

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
        raise ImageError(p, f"unsupported channel count {channels} ({CHANNELS})")

    rgb = np.ascontiguousarray(color, dtype=np.float32)
    if sample != "float":
        rgb /= np.float32(max_code(sample))
    if alpha is not None:
        alpha = alpha.copy()  # don't keep the whole decoded image alive through a view
    return Frame(rgb=rgb, alpha=alpha, sample=sample, path=str(p))


def header(p: Path) -> tuple[int, int, int] | None:
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = None  # stylereel weighs a frame against the memory it has (check_memory), not a fixed cap
    try:
        with warnings.catch_warnings():  # Pillow warns about damage the decoder will name in its own error
            warnings.simplefilter("ignore")
            with Image.open(p) as im:
                w, h = im.size
                samples = getattr(im, "tag_v2", {}).get(277)  # TIFF SamplesPerPixel: Pillow shows 3 of a 5-channel file
                return w, h, int(samples) if samples else len(im.getbands())
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None


def writer(ext: str, params: tuple = ()):
    def write(p: Path, tmp: Path, rgb: np.ndarray, alpha: np.ndarray | None, sample: str, like: Frame | None) -> None:
        bgr = rgb[:, :, 2::-1]
        channels = [np.asarray(bgr, np.float32) if sample == "float" else quantize(bgr, sample)]
        if alpha is not None:
            channels.append(alpha[:, :, None])
        img = np.ascontiguousarray(np.concatenate(channels, axis=2))
        try:
            ok, encoded = cv2.imencode(ext, img, list(params))
        except cv2.error as exc:
            raise ImageError(p, f"cannot write image ({exc})") from None
        if not ok:
            raise ImageError(p, "cannot write image (the encoder failed)")
        # Encoded in memory, written here: a full disk or a refused write is the system's own error.
        with open(tmp, "wb") as f:
            f.write(encoded.tobytes())
    return write


def jpeg_complete(p: Path) -> None:
    """Refuse a JPEG without its end-of-image marker (some writers pad after it), before libjpeg,
    which fills a cut-off scan grey (and says so on stderr)."""
    with open(p, "rb") as f:
        f.seek(max(0, p.stat().st_size - 4096))
        if b"\xff\xd9" not in f.read():
            raise ImageError(p, "not a decodable image (truncated: no end-of-image marker)")


def jpeg_fit(p: Path, sample: str, has_alpha: bool, requested: bool) -> str:
    if has_alpha:
        raise ImageError(p, "JPEG cannot store alpha")
    return sample


register(StillFormat("PNG", (".png",), ("uint8", "uint16"), False, (b"\x89PNG\r\n\x1a\n",), read, writer(".png"), header))
register(StillFormat("JPEG", (".jpg", ".jpeg"), ("uint8",), False, (b"\xff\xd8\xff",), read,
                     writer(".jpg", (cv2.IMWRITE_JPEG_QUALITY, 95)), header, jpeg_complete, jpeg_fit))
register(StillFormat("TIFF", (".tif", ".tiff"), ("uint8", "uint16", "float"), False, (b"II*\x00", b"MM\x00*"), read,
                     writer(".tif"), header, no_check, keep_sample))
