"""DPX (SMPTE 268M) through PyAV's FFmpeg: 8, 10, 12 or 16-bit RGB; alpha at 8 or 16 bits only
(FFmpeg writes 10- and 12-bit DPX without alpha); the header read directly."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from stylereel.io.formats.core import Frame, ImageError, StillFormat, max_code, quantize, register

# decoder pixel format -> (sample, has alpha); encoder pixel format per (sample, alpha).
READS = {"rgb24": ("uint8", False), "rgba": ("uint8", True), "gbrp10le": ("uint10", False), "gbrp10be": ("uint10", False),
         "gbrp12le": ("uint12", False), "gbrp12be": ("uint12", False), "rgb48le": ("uint16", False),
         "rgb48be": ("uint16", False), "rgba64le": ("uint16", True), "rgba64be": ("uint16", True),
         "gray": ("uint8", False), "gray16le": ("uint16", False), "gray16be": ("uint16", False),
         "gbrap10le": ("uint10", True), "gbrap12le": ("uint12", True)}
WRITES = {("uint8", False): "rgb24", ("uint8", True): "rgba", ("uint10", False): "gbrp10le",
          ("uint12", False): "gbrp12le", ("uint16", False): "rgb48le", ("uint16", True): "rgba64le"}
# image element descriptor -> channels: luma, RGB, RGBA, ABGR.
CHANNELS = {6: 1, 50: 3, 51: 4, 52: 4}


def read(p: Path) -> Frame:
    import av

    try:
        with av.open(str(p), format="image2", options={"pattern_type": "none"}) as c:
            frame = next(c.decode(video=0))
    except (av.FFmpegError, StopIteration, OSError) as exc:
        raise ImageError(p, f"not a decodable DPX ({exc or 'no picture'})") from None
    fmt = frame.format.name
    if fmt not in READS:
        raise ImageError(p, f"unsupported DPX pixel format {fmt}")
    sample, has_alpha = READS[fmt]
    a = frame.to_ndarray()
    if fmt.startswith("gbr"):  # planar G, B, R(, A)
        a = a[..., [2, 0, 1, 3][: a.shape[-1]]]
    if a.ndim == 2:
        a = a[..., None]
    if a.shape[-1] == 1:
        a = np.repeat(a, 3, axis=-1)
    rgb = np.ascontiguousarray(a[..., :3], dtype=np.float32) / np.float32(max_code(sample))
    alpha = np.ascontiguousarray(a[..., 3]) if has_alpha else None
    if alpha is not None and sample in ("uint10", "uint12"):  # codes in a uint16 would read as 16-bit: keep the value
        alpha = alpha.astype(np.float32) / np.float32(max_code(sample))
    return Frame(rgb=rgb, alpha=alpha, sample=sample, path=str(p))


def header(p: Path) -> tuple[int, int, int]:
    with open(p, "rb") as f:
        head = f.read(804)
    order = {b"SDPX": ">", b"XPDS": "<"}.get(head[:4])
    if order is None or len(head) < 804:
        raise ImageError(p, "not a decodable DPX (no DPX header)")
    w, h = struct.unpack(order + "II", head[772:780])
    return w, h, CHANNELS.get(head[800], 3)


def fit(p: Path, sample: str, has_alpha: bool, requested: bool) -> str:
    if (sample, has_alpha) in WRITES:
        return sample
    if has_alpha and not requested:
        return "uint16"  # the input's 10 or 12 bits, kept whole at 16 with the alpha
    raise ImageError(p, f"DPX holds alpha at 8 or 16 bits only (the frames have alpha), not {sample}; use --depth 16 or EXR")


def write(p: Path, tmp: Path, rgb: np.ndarray, alpha: np.ndarray | None, sample: str, like: Frame | None) -> None:
    import av

    fmt = WRITES[(sample, alpha is not None)]
    planes = [quantize(rgb, sample)] + ([alpha[:, :, None]] if alpha is not None else [])
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


register(StillFormat("DPX", (".dpx",), ("uint10", "uint8", "uint12", "uint16"), False, (b"SDPX", b"XPDS"), read, write, header,
                     fit=fit))
