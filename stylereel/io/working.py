"""The one colour path between a frame and the network's working encoding.

Training, rendering, keyframes and evaluation all see a frame as `to_working(frame)`: its
colour unpremultiplied where the format premultiplies (EXR), then taken from its colour
space (given, else by its samples: float scene-linear, integer sRGB) to the working encoding
(`stylereel.io.color.WorkingEncoding`), with what lies outside [0, 1] kept aside.
`from_working` is the way back to an output's space, premultiplied again where the frame was.
A look trained on EXR plates therefore draws on the same pixels the render gives it.
"""

from __future__ import annotations

import functools

import numpy as np

from stylereel.io.color import WorkingEncoding, default_space
from stylereel.io.frames import Frame


@functools.cache
def encoding(space: str) -> WorkingEncoding:
    """The working encoding from `space` (built once per space: OCIO looks the transform up)."""
    return WorkingEncoding(space)


def float_alpha(alpha: np.ndarray | None) -> np.ndarray | None:
    """Alpha as float32 in [0, 1] whatever it is stored as (integer codes over their maximum)."""
    if alpha is None:
        return None
    a = np.asarray(alpha)
    return a.astype(np.float32) / np.float32(np.iinfo(a.dtype).max) if a.dtype.kind == "u" else a.astype(np.float32)


def space_of(frame: Frame, space: str | None = None) -> str:
    """The colour space a frame is read in: `space` where given, else by its samples."""
    return space or default_space(frame.is_float)


def to_working(frame: Frame, space: str | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """(working-encoded RGB [H, W, 3] in [0, 1], the residual outside it or None)."""
    rgb = frame.rgb
    if frame.alpha is not None and frame.premultiplied:
        a = float_alpha(frame.alpha)[..., None]
        rgb = np.where(a > 0, rgb / np.where(a > 0, a, 1), 0).astype(np.float32)
    coding = encoding(space_of(frame, space))
    if coding.identity and not frame.is_float and rgb.dtype == np.float32:
        return rgb, None  # integer codes already lie in [0, 1]: the frame itself, not a clipped 25 MB copy a 1080p frame
    return coding.encode(rgb)


def from_working(rgb: np.ndarray, residual: np.ndarray | None, frame: Frame, space_in: str | None = None,
                 space_out: str | None = None) -> np.ndarray:
    """The network's output for `frame` in `space_out` (default: the frame's own), premultiplied
    by the frame's alpha where the frame was."""
    out = encoding(space_of(frame, space_in)).decode(rgb, residual, space_out or space_of(frame, space_in))
    if frame.alpha is not None and frame.premultiplied:
        out = out * float_alpha(frame.alpha)[..., None]
    return out
