"""OpenEXR through the OpenEXR library (`stylereel.io.exr`): half or float, premultiplied alpha,
scene-linear; the header, other channels and parts are kept through `Frame.extra["exr"]`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stylereel.io.formats.core import Frame, ImageError, StillFormat, register


def read(p: Path) -> Frame:
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


def header(p: Path) -> tuple[int, int, int]:
    from stylereel.io.exr import probe_exr

    try:
        return probe_exr(str(p))
    except Exception as exc:  # noqa: BLE001 - OpenEXR raises plain exceptions
        raise ImageError(p, f"not a readable EXR ({exc})") from None


def write(p: Path, tmp: Path, rgb: np.ndarray, alpha: np.ndarray | None, sample: str, like: Frame | None) -> None:
    from stylereel.io.exr import write_exr

    write_exr(str(tmp), rgb, alpha, sample, like.extra.get("exr") if like is not None else None)


register(StillFormat("EXR", (".exr",), ("half", "float"), True, (b"\x76\x2f\x31\x01",), read, write, header))
