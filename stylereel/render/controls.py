"""Render-time controls around any look, applied in the network's working encoding:

- `texture_scale`: stroke size relative to the frame. The frame goes through the network
  at `REFERENCE_HEIGHT / texture_scale` rows (1 reads at any resolution as the look does
  at 1080p; 2 draws strokes twice as large, 0.5 half as large), and the look comes back
  to the frame's size. Unset, the network sees the frame's own pixels.
- `preserve_color`: "luminance" keeps the plate's chroma and takes only the look's
  luminance (Gatys et al. 2016, "Preserving Color in Neural Artistic Style Transfer",
  luminance-only transfer, here in BT.709 Y'CbCr); "palette" keeps the look's texture and
  relative colours but moves its colour distribution onto the plate's (mean and
  covariance, the linear Monge-Kantorovich map of Pitie & Kokaram 2007).
- `preserve_lighting` (0..1): the plate's low-frequency luminance (shading, exposure,
  light direction: a Gaussian of `LIGHT_SIGMA` of the frame's longer side) replaces the
  look's, in that proportion; the look's strokes (its high frequencies) stay.

Each is a function of whole frames (`Controls.apply`), so tiling inside the network is
untouched; `bench/looks.py` renders each one (docs/images/looks_controls.png).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from stylereel.errors import StylereelError
from stylereel.palette import match_palette

REFERENCE_HEIGHT = 1080  # texture_scale 1: strokes as the look draws them on a 1080-row frame
LIGHT_SIGMA = 0.03  # preserve_lighting's low-pass, a fraction of the frame's longer side
COLOR_MODES = ("luminance", "palette")

# BT.709 Y'CbCr on the encoded values (the working encoding is display-referred, like video).
_KR, _KB = 0.2126, 0.0722
_YCC = np.array([[_KR, 1 - _KR - _KB, _KB],
                 [-_KR / (2 * (1 - _KB)), -(1 - _KR - _KB) / (2 * (1 - _KB)), 0.5],
                 [0.5, -(1 - _KR - _KB) / (2 * (1 - _KR)), -_KB / (2 * (1 - _KR))]], np.float32)
_RGB = np.linalg.inv(_YCC).astype(np.float32)


def to_ycc(rgb: np.ndarray) -> np.ndarray:
    return rgb @ _YCC.T


def to_rgb(ycc: np.ndarray) -> np.ndarray:
    return ycc @ _RGB.T


def luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb @ _YCC[0]


def low_pass(img: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of `sigma` pixels, computed at a reduced size when large (same result, fewer operations)."""
    h, w = img.shape[:2]
    k = max(1, int(sigma // 4))
    if k == 1:
        return cv2.GaussianBlur(img, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    small = cv2.resize(img, (max(1, w // k), max(1, h // k)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / k, borderType=cv2.BORDER_REFLECT)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def keep_chroma(out: np.ndarray, plate: np.ndarray) -> np.ndarray:
    """The look's luminance with the plate's chroma."""
    ycc = to_ycc(plate)
    ycc[..., 0] = luminance(out)
    return to_rgb(ycc)


def keep_lighting(out: np.ndarray, plate: np.ndarray, amount: float) -> np.ndarray:
    """The plate's low-frequency luminance in place of the look's, by `amount`."""
    sigma = LIGHT_SIGMA * max(out.shape[:2])
    y_out, y_plate = luminance(out), luminance(plate)
    shift = amount * (low_pass(y_plate, sigma) - low_pass(y_out, sigma))
    return out + shift[..., None]  # a grey shift: Y' moves by `shift`, chroma stays


class ControlError(StylereelError):
    pass


@dataclass(frozen=True)
class Controls:
    texture_scale: float | None = None
    preserve_color: str | None = None
    preserve_lighting: float = 0.0

    def __post_init__(self):
        if self.texture_scale is not None and not 0.05 <= self.texture_scale <= 100:
            raise ControlError(f"--texture-scale: expected 0.05 to 100, got {self.texture_scale}")
        if self.preserve_color is not None and self.preserve_color not in COLOR_MODES:
            raise ControlError(f"--preserve-color: expected one of {', '.join(COLOR_MODES)}, got {self.preserve_color!r}")
        if not 0 <= self.preserve_lighting <= 1:
            raise ControlError(f"--preserve-lighting: expected 0 to 1, got {self.preserve_lighting}")

    @property
    def active(self) -> bool:
        return self.texture_scale is not None or self.preserve_color is not None or self.preserve_lighting > 0

    def settings(self) -> dict:
        return {"texture_scale": self.texture_scale, "preserve_color": self.preserve_color,
                "preserve_lighting": self.preserve_lighting}

    def apply(self, stylizer, plate: np.ndarray, **extras: np.ndarray) -> np.ndarray:
        """`stylizer(plate, **extras)` (on [H, W, C] arrays in the working encoding) with the controls."""
        h, w = plate.shape[:2]
        if self.texture_scale is None:
            out = stylizer(plate, **extras)
        else:
            rows = max(8, round(REFERENCE_HEIGHT / self.texture_scale))
            size = (max(8, round(w * rows / h)), rows)
            down = lambda a: cv2.resize(a, size, interpolation=cv2.INTER_AREA if rows < h else cv2.INTER_CUBIC)  # noqa: E731
            out = stylizer(down(plate), **{k: down(e) if e.ndim == 3 else e for k, e in extras.items()})
            out = cv2.resize(out, (w, h), interpolation=cv2.INTER_AREA if rows > h else cv2.INTER_CUBIC)
        if self.preserve_color == "luminance":
            out = keep_chroma(out, plate)
        elif self.preserve_color == "palette":
            out = match_palette(out, plate)
        if self.preserve_lighting > 0:
            out = keep_lighting(out, plate, self.preserve_lighting)
        # Clipped where it lies: a 1080p frame is 25 MB, and a fresh array for it costs a pass and its page
        # faults on the network's thread every frame. Only a result that may be the plate itself is copied first.
        out = np.asarray(out, dtype=np.float32)
        if not out.flags.writeable or np.may_share_memory(out, plate):
            out = out.copy()
        return np.clip(out, 0, 1, out=out)
