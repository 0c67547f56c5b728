"""Colour management with OpenColorIO's built-in ACES config (`ocio://default`).

A look is trained on, and draws, display-referred sRGB pictures: the network's
working encoding is sRGB-encoded Rec.709 in [0, 1]. `WorkingEncoding(space)`
takes frames in any colour space of the config (or a role such as
`scene_linear`) to that encoding and back:

- an sRGB frame goes through untouched (8-bit plates round-trip bit-exact);
- any other space goes to linear Rec.709 through OCIO; the part in [0, 1] is
  sRGB-encoded for the network, and what lies outside it (highlights above 1.0,
  negative out-of-gamut values) is kept aside as a residual and added back after
  the network, so highlights survive and an identity look returns the frame
  exactly (to float precision).
- where OCIO's transform to linear Rec.709 is a 3x3 matrix (every linear space:
  ACEScg, ACES2065-1, linear P3 or Rec.2020), the matrix is read from OCIO once
  and applied with OpenCV (`cv2.transform`), and the sRGB curve with `cv2.pow`:
  about 20 ms of CPU per 1080p frame each way, where torch's matrix product and
  kornia's curve took 68 and 80 (and OCIO's CPU processor more); on a render
  these steps share the cores with the network (bench/RESULTS.md, "shots").
  `bench/studies/colour.py` measured this encoding against ACEScct as the network's
  input (bench/RESULTS.md, section "colour").

The ACES display/view transform is not invertible and is used only for previews
(`to_display`).
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from stylereel.errors import StylereelError, did_you_mean

CONFIG = "ocio://default"
SRGB = "sRGB Encoded Rec.709 (sRGB)"
LINEAR = "Linear Rec.709 (sRGB)"
SCENE_LINEAR = "scene_linear"  # the role: ACEScg in the built-in config


class ColorError(StylereelError):
    pass


@functools.cache
def config():
    import PyOpenColorIO as ocio

    return ocio.Config.CreateFromFile(CONFIG)


def resolve_space(name: str) -> str:
    """A colour space name, alias or role -> the config's colour space name."""
    cs = config().getColorSpace(name)
    if cs is None:
        names = [c.getName() for c in config().getColorSpaces()]
        aliases = [a for c in config().getColorSpaces() for a in c.getAliases()]
        roles = [r for r, _ in config().getRoles()]
        hint = did_you_mean(name, names + aliases + roles)
        raise ColorError(f"unknown colour space {name!r}{hint} (e.g. '{SRGB}', 'ACEScg', 'ACEScct', '{LINEAR}', role '{SCENE_LINEAR}')")
    return cs.getName()


def default_space(is_float: bool) -> str:
    """Float frames (EXR) are scene-linear; integer formats and movies are sRGB."""
    return resolve_space(SCENE_LINEAR if is_float else SRGB)


@functools.cache
def _processor(src: str, dst: str):
    return config().getProcessor(src, dst).getDefaultCPUProcessor()


def convert(rgb: np.ndarray, src: str, dst: str) -> np.ndarray:
    """float32 [H, W, 3] from colour space `src` to `dst` (a new array)."""
    out = np.array(rgb, dtype=np.float32, order="C", copy=True)
    if src != dst:
        _processor(src, dst).applyRGB(out)
    return out


@functools.cache
def linear_matrix(src: str, dst: str) -> np.ndarray | None:
    """OCIO's transform from `src` to `dst` as a 3x3 matrix (rows: output channels), or None
    where it is not linear (a log or gamma encoding on either side)."""
    basis = np.eye(3, dtype=np.float32)[None]  # [1, 3, 3]: the unit vectors as three pixels
    m = convert(basis, src, dst)[0].T  # column j: the image of unit vector j
    probe = np.random.default_rng(0).uniform(-0.5, 8.0, (1, 64, 3)).astype(np.float32)
    if not np.allclose(convert(probe, src, dst), probe @ m.T, rtol=1e-4, atol=1e-5):
        return None
    return m


# The sRGB curve (IEC 61966-2-1), the same constants as kornia's `linear_rgb_to_rgb` used in training.
_LINEAR_BELOW, _CODED_BELOW = 0.0031308, 0.04045


def srgb_encode(linear: np.ndarray) -> np.ndarray:
    """Linear values in [0, 1] -> sRGB-encoded (a new float32 array)."""
    out = cv2.pow(linear, 1 / 2.4)
    out *= np.float32(1.055)
    out -= np.float32(0.055)
    # the linear toe where it applies, in one masked pass (indexing by a mask gathers and scatters: 1.6x slower)
    np.copyto(out, linear * np.float32(12.92), where=linear <= _LINEAR_BELOW)
    return out


def srgb_decode(coded: np.ndarray) -> np.ndarray:
    """sRGB-encoded values in [0, 1] -> linear (a new float32 array)."""
    out = (coded + np.float32(0.055)) * np.float32(1 / 1.055)
    out = cv2.pow(out, 2.4, dst=out)
    np.copyto(out, coded * np.float32(1 / 12.92), where=coded <= _CODED_BELOW)
    return out


def _apply(m: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    """A 3x3 matrix on every pixel of float32 [H, W, 3] (a new array)."""
    return cv2.transform(np.ascontiguousarray(rgb, dtype=np.float32), m)


class WorkingEncoding:
    """Frames in `space` <-> the network's sRGB working encoding (see the module doc)."""

    def __init__(self, space: str):
        self.space = resolve_space(space)
        self.identity = self.space == SRGB

    def encode(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """-> (network input in [0, 1], residual to hand to `decode`; None for sRGB frames)."""
        if self.identity:
            return np.clip(rgb, 0.0, 1.0, dtype=np.float32), None
        m = linear_matrix(self.space, LINEAR)
        residual = convert(rgb, self.space, LINEAR) if m is None else _apply(m, rgb)
        inside = np.clip(residual, 0.0, 1.0)
        residual -= inside
        coded = srgb_encode(inside)
        return np.clip(coded, 0.0, 1.0, out=coded), residual

    def decode(self, rgb: np.ndarray, residual: np.ndarray | None, space: str | None = None) -> np.ndarray:
        """Network output (sRGB, [0, 1]) + the input's residual -> colour space `space` (default: the input's)."""
        space = self.space if space is None else resolve_space(space)
        if space == SRGB and residual is None:
            return np.asarray(rgb, dtype=np.float32)
        linear = srgb_decode(np.ascontiguousarray(rgb, dtype=np.float32))
        if residual is not None:
            linear += residual
        m = linear_matrix(LINEAR, space)
        if m is not None:
            return _apply(m, linear)
        if space != LINEAR:
            _processor(LINEAR, space).applyRGB(linear)
        return linear


def to_display(rgb: np.ndarray, space: str) -> np.ndarray:
    """A preview of a frame in `space`: the config's default display and view (ACES output
    transform for scene-linear frames), in [0, 1]. Not invertible: previews only."""
    import PyOpenColorIO as ocio

    space = resolve_space(space)
    if space == SRGB:
        return np.clip(rgb, 0, 1)
    cfg = config()
    display = cfg.getDefaultDisplay()
    t = ocio.DisplayViewTransform(src=space, display=display, view=cfg.getDefaultView(display))
    out = np.array(rgb, dtype=np.float32, order="C", copy=True)
    cfg.getProcessor(t).getDefaultCPUProcessor().applyRGB(out)
    return np.clip(out, 0, 1)
