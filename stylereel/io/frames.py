"""Reading and writing image frames: PNG/JPEG/TIFF (OpenCV), DPX (PyAV's FFmpeg)
and OpenEXR (`stylereel.io.exr`).

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
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from stylereel.device import check_memory
from stylereel.io.atomic import temp_path
from stylereel.errors import StylereelError

# OpenCV logs decoder complaints to stderr itself; our ImageError already says what went wrong, in one line.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)



@dataclass(frozen=True)
class StillFormat:
    """What stylereel knows of one still format: every fact about it lives here.

    `extensions` (the first is the format's own), `samples` it stores (the first its default),
    `premultiplied` (its alpha convention: EXR premultiplies, the rest carry straight alpha),
    `float_space` (True: its frames are scene-linear unless told otherwise, as float frames
    of any format are), `magic`: how its files begin, so a file is read as what it holds
    whatever its name says. Reading, the header probe and writing dispatch on `name`."""

    name: str
    extensions: tuple[str, ...]
    samples: tuple[str, ...]
    premultiplied: bool
    magic: tuple[bytes, ...]


STILL_FORMATS = (
    StillFormat("PNG", (".png",), ("uint8", "uint16"), False, (b"\x89PNG\r\n\x1a\n",)),
    StillFormat("JPEG", (".jpg", ".jpeg"), ("uint8",), False, (b"\xff\xd8\xff",)),
    StillFormat("TIFF", (".tif", ".tiff"), ("uint8", "uint16", "float"), False, (b"II*\x00", b"MM\x00*")),
    StillFormat("EXR", (".exr",), ("half", "float"), True, (b"\x76\x2f\x31\x01",)),
    StillFormat("DPX", (".dpx",), ("uint10", "uint8", "uint12", "uint16"), False, (b"SDPX", b"XPDS")),
)
_BY_EXTENSION = {e: f for f in STILL_FORMATS for e in f.extensions}
IMAGE_EXTENSIONS: tuple[str, ...] = tuple(_BY_EXTENSION)
MAGIC_BYTES = max(len(m) for f in STILL_FORMATS for m in f.magic)
INTEGER_SAMPLES = {"uint8": 8, "uint10": 10, "uint12": 12, "uint16": 16}
FLOAT_SAMPLES = ("half", "float")


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


# DPX through FFmpeg: decoder pixel format -> (sample, has alpha); encoder pixel format per (sample, alpha).
_DPX_READ = {"rgb24": ("uint8", False), "rgba": ("uint8", True), "gbrp10le": ("uint10", False), "gbrp10be": ("uint10", False),
             "gbrp12le": ("uint12", False), "gbrp12be": ("uint12", False), "rgb48le": ("uint16", False),
             "rgb48be": ("uint16", False), "rgba64le": ("uint16", True), "rgba64be": ("uint16", True),
             "gray": ("uint8", False), "gray16le": ("uint16", False), "gray16be": ("uint16", False),
             "gbrap10le": ("uint10", True), "gbrap12le": ("uint12", True)}
_DPX_WRITE = {("uint8", False): "rgb24", ("uint8", True): "rgba", ("uint10", False): "gbrp10le",
              ("uint12", False): "gbrp12le", ("uint16", False): "rgb48le", ("uint16", True): "rgba64le"}


class ImageError(StylereelError):
    """An image could not be read or written; the message is one line naming the file."""

    def __init__(self, path: str | os.PathLike, problem: str):
        # Collapse whitespace so multi-line library errors still give one-line messages in logs.
        problem = " ".join(str(problem).split())
        super().__init__(f"{os.fspath(path)}: {problem}")
        self.path = os.fspath(path)
        self.problem = problem


@dataclass
class Frame:
    rgb: np.ndarray  # float32 [H, W, 3]: integer formats in [0, 1]; EXR as stored (scene-linear, unbounded)
    alpha: np.ndarray | None  # [H, W] in the stored dtype (uint8/uint16, float16/float32 for EXR)
    sample: str  # stored precision of the colour channels: uint8/10/12/16, half, float
    path: str
    extra: dict[str, Any] = field(default_factory=dict)  # format passthrough (EXR: "exr")
    premultiplied: bool = False  # the colour is multiplied by alpha (the file format's convention: EXR's)

    @property
    def bit_depth(self) -> int:
        return INTEGER_SAMPLES.get(self.sample) or (16 if self.sample == "half" else 32)

    @property
    def is_float(self) -> bool:
        return self.sample in FLOAT_SAMPLES


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
    declared = _header(p, fmt)
    if declared is not None:
        w, h, c = declared
        check_memory(str(p), w * h * max(c, 3) * DECODE_BYTES, f"decoding {w}x{h} pixels")
    if fmt.name == "EXR":
        return _read_exr(p)
    if fmt.name == "DPX":
        return _read_dpx(p)
    if fmt.name == "JPEG" and not _jpeg_complete(p):  # before libjpeg, which fills a cut-off scan grey (and says so on stderr)
        raise ImageError(p, "not a decodable image (truncated: no end-of-image marker)")
    # cv2.imread just returns None on any failure, so the common causes are diagnosed above.
    try:
        img = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
    except cv2.error as exc:
        raise ImageError(p, f"not a decodable image ({exc})") from None
    if img is None:
        if declared is not None and declared[2] > 4:
            raise ImageError(p, f"unsupported channel count {declared[2]} (1 to 4: grey, grey and alpha, RGB, RGBA)")
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
        raise ImageError(p, f"unsupported channel count {channels} (1 to 4: grey, grey and alpha, RGB, RGBA)")

    rgb = np.ascontiguousarray(color, dtype=np.float32)
    if sample != "float":
        rgb /= np.float32(_max_code(sample))
    if alpha is not None:
        alpha = alpha.copy()  # don't keep the whole decoded image alive through a view
    return Frame(rgb=rgb, alpha=alpha, sample=sample, path=str(p))


def _read_exr(p: Path) -> Frame:
    from stylereel.io.exr import read_exr

    try:
        got = read_exr(str(p))
    except (RuntimeError, ValueError, OSError) as exc:
        raise ImageError(p, f"not a readable EXR ({exc})") from None
    if not np.isfinite(got["rgb"]).all():
        bad = int((~np.isfinite(got["rgb"])).any(-1).sum())
        raise ImageError(p, f"{bad} pixels hold NaN or infinite values")
    return Frame(rgb=got["rgb"], alpha=got["alpha"], sample=got["sample"], path=str(p), extra={"exr": got["exr"]},
                 premultiplied=True)


def _read_dpx(p: Path) -> Frame:
    import av

    try:
        with av.open(str(p), format="image2", options={"pattern_type": "none"}) as c:
            frame = next(c.decode(video=0))
    except (av.FFmpegError, StopIteration, OSError) as exc:
        raise ImageError(p, f"not a decodable DPX ({exc or 'no picture'})") from None
    fmt = frame.format.name
    if fmt not in _DPX_READ:
        raise ImageError(p, f"unsupported DPX pixel format {fmt}")
    sample, has_alpha = _DPX_READ[fmt]
    a = frame.to_ndarray()
    if fmt.startswith("gbr"):  # planar G, B, R(, A)
        a = a[..., [2, 0, 1, 3][: a.shape[-1]]]
    if a.ndim == 2:
        a = a[..., None]
    if a.shape[-1] == 1:
        a = np.repeat(a, 3, axis=-1)
    rgb = np.ascontiguousarray(a[..., :3], dtype=np.float32) / np.float32(_max_code(sample))
    alpha = np.ascontiguousarray(a[..., 3]) if has_alpha else None
    if alpha is not None and sample in ("uint10", "uint12"):  # codes in a uint16 would read as 16-bit: keep the value
        alpha = alpha.astype(np.float32) / np.float32(_max_code(sample))
    return Frame(rgb=rgb, alpha=alpha, sample=sample, path=str(p))


def _max_code(sample: str) -> int:
    return (1 << INTEGER_SAMPLES[sample]) - 1


def _quantize(values: np.ndarray, sample: str) -> np.ndarray:
    scaled = np.clip(values.astype(np.float64), 0.0, 1.0) * _max_code(sample)
    return np.rint(scaled).astype(np.uint8 if sample == "uint8" else np.uint16)


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
        dst_max = _max_code(sample)
        if src_max == dst_max:
            return alpha
        if alpha.dtype == np.uint8 and sample == "uint16":
            return alpha.astype(np.uint16) * np.uint16(257)  # 0xAB -> 0xABAB, exact inverse of the 16->8 below
        return _quantize(alpha.astype(np.float64) / src_max, sample)
    elif alpha.dtype.kind == "f":
        return _quantize(alpha, sample)
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
        if fmt.name == "EXR":
            sample = {16: "half", 32: "float"}.get(bit_depth)
        else:
            sample = {v: k for k, v in INTEGER_SAMPLES.items()}.get(bit_depth)
        if sample is None:
            raise ImageError(p, f"unsupported bit depth {bit_depth} for {p.suffix}")
    requested = sample
    sample = output_sample(p, sample, like)
    if fmt.name == "DPX" and alpha is not None and requested is None and (sample, True) not in _DPX_WRITE:
        sample = "uint16"  # FFmpeg writes 10- and 12-bit DPX without alpha only
    if fmt.name == "JPEG" and alpha is not None:
        raise ImageError(p, "JPEG cannot store alpha")
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ImageError(p, f"expected rgb of shape [H, W, 3], got {list(rgb.shape)}")
    if not np.isfinite(rgb).all():
        raise ImageError(p, "rgb contains NaN or infinite values")
    if alpha is not None:
        alpha = _convert_alpha(p, alpha, rgb.shape[:2], sample)
    if fmt.name == "DPX" and (sample, alpha is not None) not in _DPX_WRITE:
        raise ImageError(p, f"DPX cannot store {sample} with alpha here (write 8- or 16-bit DPX, or EXR)")

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
            if fmt.name == "EXR":
                from stylereel.io.exr import write_exr

                write_exr(str(tmp), rgb, alpha, sample, like.extra.get("exr") if like is not None else None)
            elif fmt.name == "DPX":
                _write_dpx(tmp, rgb, alpha, sample)
            else:
                _write_cv2(p, tmp, rgb, alpha, sample, fmt.extensions[0])
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


def _write_cv2(p: Path, tmp: Path, rgb: np.ndarray, alpha: np.ndarray | None, sample: str, ext: str) -> None:
    bgr = rgb[:, :, 2::-1]
    channels = [np.asarray(bgr, np.float32) if sample == "float" else _quantize(bgr, sample)]
    if alpha is not None:
        channels.append(alpha[:, :, None])
    img = np.ascontiguousarray(np.concatenate(channels, axis=2))
    params = [cv2.IMWRITE_JPEG_QUALITY, 95] if ext == ".jpg" else []
    try:
        ok, encoded = cv2.imencode(ext, img, params)
    except cv2.error as exc:
        raise ImageError(p, f"cannot write image ({exc})") from None
    if not ok:
        raise ImageError(p, "cannot write image (the encoder failed)")
    # Encoded in memory, written here: a full disk or a refused write is the system's own error.
    with open(tmp, "wb") as f:
        f.write(encoded.tobytes())


def _write_dpx(tmp: Path, rgb: np.ndarray, alpha: np.ndarray | None, sample: str) -> None:
    import av

    fmt = _DPX_WRITE[(sample, alpha is not None)]
    planes = [_quantize(rgb, sample)] + ([alpha[:, :, None]] if alpha is not None else [])
    a = np.concatenate(planes, axis=2)
    if fmt.startswith("gbr"):
        a = a[..., [1, 2, 0]]
    h, w = a.shape[:2]
    with av.open(str(tmp), "w", format="image2", options={"update": "1"}) as out:
        s = out.add_stream("dpx")
        s.width, s.height, s.pix_fmt = w, h, fmt
        for packet in s.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(a), format=fmt)):
            out.mux(packet)
        for packet in s.encode():
            out.mux(packet)


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
    if fmt.name == "JPEG" and not _jpeg_complete(p):
        raise ImageError(p, "not a decodable image (truncated: no end-of-image marker)")
    got = _header(p, fmt)
    if got is not None:
        if got[2] > 4:
            raise ImageError(p, f"unsupported channel count {got[2]} (1 to 4: grey, grey and alpha, RGB, RGBA)")
        return got
    f = read_image(p)
    return f.rgb.shape[1], f.rgb.shape[0], 3 + (f.alpha is not None)


# DPX image element descriptor -> channels (SMPTE 268M): luma, RGB, RGBA, ABGR.
_DPX_CHANNELS = {6: 1, 50: 3, 51: 4, 52: 4}


def _header(p: Path, fmt: StillFormat) -> tuple[int, int, int] | None:
    """(width, height, channels) as the header declares them, read without decoding any
    pixels; None where the header library cannot tell (the decoder then names the problem)."""
    if fmt.name == "EXR":
        from stylereel.io.exr import probe_exr

        try:
            return probe_exr(str(p))
        except Exception as exc:  # noqa: BLE001 - OpenEXR raises plain exceptions
            raise ImageError(p, f"not a readable EXR ({exc})") from None
    if fmt.name == "DPX":
        import struct

        with open(p, "rb") as f:
            head = f.read(804)
        order = {b"SDPX": ">", b"XPDS": "<"}.get(head[:4])
        if order is None or len(head) < 804:
            raise ImageError(p, "not a decodable DPX (no DPX header)")
        w, h = struct.unpack(order + "II", head[772:780])
        return w, h, _DPX_CHANNELS.get(head[800], 3)
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


def _jpeg_complete(p: Path) -> bool:
    """A JPEG's end-of-image marker is present (some writers pad after it)."""
    with open(p, "rb") as f:
        f.seek(max(0, p.stat().st_size - 4096))
        return b"\xff\xd9" in f.read()
