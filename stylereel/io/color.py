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
  and applied, with kornia's sRGB curve, as multi-threaded torch ops: a third of
  the CPU time of OCIO's single-threaded CPU processor per 1080p frame
  (bench/RESULTS.md, section "shots"). `bench/colour.py` measured this against ACEScct as
  the network's input (bench/RESULTS.md, section "colour").

The ACES display/view transform is not invertible and is used only for previews
(`to_display`).
"""

from __future__ import annotations

import functools

import kornia
import numpy as np
import torch

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


def _apply(m: np.ndarray, rgb: torch.Tensor) -> torch.Tensor:
    return rgb @ torch.from_numpy(np.ascontiguousarray(m.T))


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
        if m is None:
            residual = convert(rgb, self.space, LINEAR)
            inside = np.clip(residual, 0.0, 1.0)
            residual -= inside
            _processor(LINEAR, SRGB).applyRGB(inside)
            return np.clip(inside, 0.0, 1.0, out=inside), residual
        linear = _apply(m, torch.from_numpy(np.ascontiguousarray(rgb, dtype=np.float32)))
        inside = linear.clamp(0.0, 1.0)
        residual = linear.sub_(inside)
        coded = kornia.color.linear_rgb_to_rgb(inside.permute(2, 0, 1)).permute(1, 2, 0).clamp_(0.0, 1.0)
        return coded.contiguous().numpy(), residual.numpy()

    def decode(self, rgb: np.ndarray, residual: np.ndarray | None, space: str | None = None) -> np.ndarray:
        """Network output (sRGB, [0, 1]) + the input's residual -> colour space `space` (default: the input's)."""
        space = self.space if space is None else resolve_space(space)
        if space == SRGB and residual is None:
            return np.asarray(rgb, dtype=np.float32)
        m = linear_matrix(LINEAR, space)
        x = torch.from_numpy(np.ascontiguousarray(rgb, dtype=np.float32))
        linear = kornia.color.rgb_to_linear_rgb(x.permute(2, 0, 1)).permute(1, 2, 0)
        if residual is not None:
            linear = linear + torch.from_numpy(residual)
        if m is not None:
            return _apply(m, linear).contiguous().numpy()
        out = np.ascontiguousarray(linear.numpy())
        if space != LINEAR:
            _processor(LINEAR, space).applyRGB(out)
        return out


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
