"""OpenEXR frames through the `OpenEXR` package (OpenCV has no EXR codec).

A frame's RGB (and A) are read as float32; everything else in the file travels
with it untouched, so a stylised frame is written back as the same kind of file:
other channels and layers (`depth.Z`, AOVs), other parts of a multi-part file, the
pixel type of each channel (half or float), the compression and every header
attribute (`dataWindow`, `displayWindow`, `pixelAspectRatio`, `framesPerSecond`,
timecode, owner...).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from typing import Any

import numpy as np

try:
    import OpenEXR

    # Let the library (de)compress a frame's chunks on as many threads as there are cores: a render
    # reads and writes in threads beside the network, so what is idle there goes to the codec.
    OpenEXR.set_global_thread_count(os.cpu_count() or 1)
except ImportError:  # pragma: no cover - a dependency; kept so the error names the fix
    OpenEXR = None

# Header attributes the library recomputes for what is written; everything else is kept.
_DERIVED = ("channels", "chunkCount", "name", "type", "tiles", "version")
HALF, FLOAT = "half", "float"


def _require() -> None:
    if OpenEXR is None:
        raise RuntimeError("EXR support needs the OpenEXR package: pip install OpenEXR")


_QUIET = threading.Lock()


@contextlib.contextmanager
def _library_output_captured():
    """The OpenEXR library writes its own complaints about a damaged file to the process's
    stdout and stderr; capture them (to name the problem in our one-line error) instead."""
    with _QUIET, tempfile.TemporaryFile(mode="w+b") as sink:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = [os.dup(1), os.dup(2)]
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        captured: list[str] = []
        try:
            yield captured
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            sink.seek(0)
            captured += [line for line in sink.read().decode(errors="replace").splitlines() if line.strip()]


def _rgb_names(names: list[str]) -> tuple[list[str], str | None, str]:
    """The colour channels of a part: `R, G, B` (or `layer.R ...` if that is all there is), `A` if present."""
    for prefix in ("", *sorted({n.rsplit(".", 1)[0] + "." for n in names if "." in n})):
        rgb = [prefix + c for c in "RGB"]
        if all(c in names for c in rgb):
            a = prefix + "A"
            return rgb, (a if a in names else None), prefix
    if "Y" in names:  # luminance-only plates
        return ["Y", "Y", "Y"], ("A" if "A" in names else None), ""
    raise ValueError(f"no RGB or Y channels (has {', '.join(sorted(names)) or 'none'})")


def read_exr(path: str) -> dict[str, Any]:
    """{"rgb": float32 [H, W, 3], "alpha": float [H, W] or None, "sample": "half"|"float", "exr": passthrough}."""
    _require()
    try:
        with _library_output_captured() as said:
            got = _read(path)
    except (RuntimeError, ValueError, OSError) as exc:
        named = [line for line in said if "EXR_ERR" in line] or said
        detail = named[-1].split(": ", 1)[-1] if named else str(exc)
        raise ValueError(detail) from None
    return got


def _read(path: str) -> dict[str, Any]:
    with OpenEXR.File(path, separate_channels=True) as f:
        parts = f.parts
        if not parts:
            raise ValueError("no image parts")
        first = parts[0]
        header = dict(first.header)
        if header.get("type") not in (OpenEXR.scanlineimage, OpenEXR.tiledimage):
            raise ValueError(f"{header.get('type')} EXR not supported (need a scanline or tiled image)")
        chans = {name: ch.pixels for name, ch in first.channels.items()}
        names = list(chans)
        rgb_names, a_name, _ = _rgb_names(names)
        planes = [chans[n] for n in rgb_names]
        if any(p is None or p.ndim != 2 for p in planes) or len({p.shape for p in planes}) != 1:
            raise ValueError("colour channels are subsampled or of different sizes (not supported)")
        sample = FLOAT if any(p.dtype == np.float32 for p in planes) else HALF
        if any(p.dtype.kind != "f" for p in planes):
            raise ValueError("colour channels hold integer (UINT) samples; need half or float")
        rgb = np.stack(planes, axis=-1).astype(np.float32)
        alpha = chans[a_name] if a_name else None
        used = set(rgb_names) | ({a_name} if a_name else set())
        passthrough = {
            "header": {k: v for k, v in header.items() if k not in _DERIVED},
            "name": first.name() if len(parts) > 1 else None,
            "tiled": header.get("type") == OpenEXR.tiledimage,
            "tiles": header.get("tiles"),
            "rgb_names": rgb_names,
            "alpha_name": a_name,
            "types": {n: chans[n].dtype for n in used},
            "other": {n: p.copy() for n, p in chans.items() if n not in used},
            "parts": [(p.name(), dict(p.header), {n: c.pixels.copy() for n, c in p.channels.items()}) for p in parts[1:]],
        }
    return {"rgb": rgb, "alpha": alpha, "sample": sample, "exr": passthrough}


def write_exr(path: str, rgb: np.ndarray, alpha: np.ndarray | None, sample: str, like: dict | None = None) -> None:
    """Write float RGB (+ alpha) at `sample` precision; `like` (an input's passthrough)
    supplies the header, channel names, extra channels and parts."""
    _require()
    dtype = np.float16 if sample == HALF else np.float32
    if like:
        header = dict(like["header"])
        rgb_names = like["rgb_names"] if like["rgb_names"][0] != like["rgb_names"][1] else ["R", "G", "B"]
        a_name = like["alpha_name"] or "A"
        channels = dict(like["other"])
    else:
        header = {"compression": OpenEXR.ZIP_COMPRESSION}
        rgb_names, a_name, channels = ["R", "G", "B"], "A", {}
    if like and like.get("tiled"):
        header["type"] = OpenEXR.tiledimage
        header["tiles"] = like["tiles"]
    else:
        header["type"] = OpenEXR.scanlineimage
    h, w = rgb.shape[:2]
    window = header.get("dataWindow")
    if window is None or (int(window[1][0]) - int(window[0][0]) + 1, int(window[1][1]) - int(window[0][1]) + 1) != (w, h):
        box = (np.array([0, 0], np.int32), np.array([w - 1, h - 1], np.int32))
        header["dataWindow"] = box
        header["displayWindow"] = box if window is None else header.get("displayWindow", box)
    # (OpenEXR.File replaces the arrays in the dict it is given by Channel objects: `channels` is ours.)
    for name, plane in zip(rgb_names, np.moveaxis(rgb, -1, 0)):
        channels[name] = np.ascontiguousarray(plane, dtype=dtype)
    if alpha is not None:
        a_dtype = like["types"].get(a_name, dtype) if like else dtype
        channels[a_name] = np.ascontiguousarray(alpha, dtype=a_dtype)
    parts = like["parts"] if like else []
    if parts:
        first = OpenEXR.Part(header, channels, name=like.get("name") or "rgba")
        rest = [OpenEXR.Part({k: v for k, v in hd.items() if k not in _DERIVED or k == "type"}, ch, name=n) for n, hd, ch in parts]
        with OpenEXR.File([first, *rest]) as f:
            f.write(path)
    else:
        with OpenEXR.File(header, channels) as f:
            f.write(path)


def probe_exr(path: str) -> tuple[int, int, int]:
    """(width, height, channels of the colour part) from the header alone."""
    _require()
    with OpenEXR.File(path, header_only=True) as f:
        header = f.header()
        (x0, y0), (x1, y1) = header["dataWindow"]
        names = [c.name for c in header["channels"]]
    rgb_names, a_name, _ = _rgb_names(names)
    return int(x1 - x0 + 1), int(y1 - y0 + 1), 4 if a_name else 3
