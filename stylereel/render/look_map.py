"""Which look, how much of it, and where: the per-pixel look weights a multi-look generator
(`reel_looks`) takes beside the frame.

- `--look ink=0.7,fauve=0.3` mixes looks inside the network (weights relative, made to sum
  to 1); `--look ink` is one look.
- `--strength S` moves 1 - S of the weight to "none" (the plate itself), inside the network.
- `--region MATTE=SPEC` gives the region a matte covers its own look (`SPEC` as for
  `--look`, or `none` to leave it untouched), mixed by the matte's value, so a soft matte
  gives a soft edge. MATTE is a still, a sequence numbered like the shot
  (`matte.####.png`), or `alpha` (the plate's own alpha). Later regions go on top.

Where the weight on "none" is whole, the plate itself is written (`untouched`): outside a
`none` region, and at strength 0, the output is the plate exactly.

A single-look model takes strength and regions too: its look is called `look` beside `none`,
and the weights mix its output with the plate pixel by pixel (in the working encoding)
instead of inside the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from stylereel.errors import StylereelError, did_you_mean
from stylereel.io.frames import read_image
from stylereel.io.sequence import Sequence, is_pattern
from stylereel.io.working import float_alpha

NONE = "none"
SINGLE = "look"  # a single-look model's one look, beside "none"
UNTOUCHED = 0.999  # weight on "none" from which the plate itself is written


class LookError(StylereelError):
    pass


def parse_mix(spec: str, names: list[str], what: str = "--look") -> dict[str, float]:
    """'ink' or 'ink=0.7,fauve=0.3' (or 'none') -> weights summing to 1, checked against the model's looks."""
    mix: dict[str, float] = {}
    for part in [p.strip() for p in str(spec).split(",") if p.strip()]:
        name, sep, value = part.partition("=")
        if name not in names:
            raise LookError(f"{what}: this model has no look {name!r}{did_you_mean(name, names)} (it has: {', '.join(names)})")
        try:
            w = float(value) if sep else 1.0
        except ValueError:
            raise LookError(f"{what}: {part!r}: the weight must be a number") from None
        if not w >= 0:
            raise LookError(f"{what}: {part!r}: the weight must be 0 or more")
        mix[name] = mix.get(name, 0.0) + w
    total = sum(mix.values())
    if not mix or total <= 0:
        raise LookError(f"{what}: expected NAME or NAME=WEIGHT,NAME=WEIGHT with a positive total, got {spec!r}")
    return {k: v / total for k, v in mix.items()}


@dataclass
class Region:
    matte: str  # a still, a sequence pattern numbered like the shot, or "alpha"
    mix: dict[str, float]

    def values(self, number: int, plate_alpha, shape: tuple[int, int]) -> np.ndarray:
        """This frame's matte, [H, W] in [0, 1], at the frame's size."""
        if self.matte == "alpha":
            if plate_alpha is None:
                raise LookError("--region alpha=...: this frame has no alpha channel")
            m = float_alpha(plate_alpha)
        else:
            path = Sequence(self.matte).path(number) if is_pattern(self.matte) else Path(self.matte)
            frame = read_image(path)
            m = float_alpha(frame.alpha) if frame.alpha is not None else frame.rgb.mean(-1)
            if m.shape != shape:
                m = cv2.resize(m, shape[::-1], interpolation=cv2.INTER_LINEAR)
        return np.clip(m, 0, 1).astype(np.float32)


def parse_region(spec: str, names: list[str]) -> Region:
    # MATTE=SPEC, where SPEC may hold '=' itself (ink=0.5,fauve=0.5): split at the first '=' a look name follows.
    spec = str(spec)
    for i, ch in enumerate(spec):
        if ch == "=" and spec[i + 1 :].split("=")[0].split(",")[0] in names:
            matte, mix = spec[:i], spec[i + 1 :]
            break
    else:
        raise LookError(f"--region: expected MATTE=LOOK (a matte file, a sequence or 'alpha', then a look of this model: "
                        f"{', '.join(names)}), got {spec!r}")
    if matte != "alpha" and not is_pattern(matte) and not Path(matte).is_file():
        raise LookError(f"{matte}: no such matte file (--region)")
    if is_pattern(matte) and not Path(matte).parent.is_dir():
        raise LookError(f"{matte}: no such folder for the matte sequence (--region)")
    return Region(matte, parse_mix(mix, names, "--region"))


@dataclass
class LookMap:
    """The look weights for each frame of a render."""

    names: list[str]
    mix: dict[str, float]
    strength: float = 1.0
    regions: tuple[Region, ...] = ()
    in_network: bool = True  # False: a single-look model, mixed with the plate after it

    @classmethod
    def resolve(cls, names: list[str] | None, look: str | None = None, strength: float = 1.0,
                regions: tuple[str, ...] = ()) -> "LookMap | None":
        """The look weights a render uses, from the render options (`look`, `strength`, `regions`
        specs) and the model's looks (`names`, "none" first; None for a single-look model, which
        needs none unless a strength or a region asks for one)."""
        if names is None:
            if look is not None:
                raise LookError(f"--look {look!r}: a single-look model; looks and mixes need a multi-look model "
                                "(strength and regions work with any)")
            if strength == 1 and not regions:
                return None
            names, in_network = [NONE, SINGLE], False
        else:
            in_network = True
        mix = parse_mix(look, names) if look is not None else {names[1]: 1.0}
        return cls(list(names), mix, strength, tuple(parse_region(r, names) for r in regions), in_network)

    def __post_init__(self):
        if not 0 <= self.strength <= 1:
            raise LookError(f"--strength: expected 0 to 1, got {self.strength}")

    def vector(self, mix: dict[str, float]) -> np.ndarray:
        v = np.zeros(len(self.names), np.float32)
        for name, w in mix.items():
            v[self.names.index(name)] += w * self.strength
        v[self.names.index(NONE)] += 1 - v.sum()
        return v

    def weights(self, number: int, shape: tuple[int, int], plate_alpha=None) -> np.ndarray:
        """[H, W, looks], summing to 1 at every pixel (read-only where there are no regions: the same everywhere)."""
        out = np.broadcast_to(self.vector(self.mix), shape + (len(self.names),))
        if not self.regions:
            return out
        out = out.copy()
        for region in self.regions:
            m = region.values(number, plate_alpha, shape)[..., None]
            out += m * (self.vector(region.mix) - out)
        return out

    def stylize(self, stylizer, plate: np.ndarray, number: int = 1, plate_alpha=None) -> np.ndarray:
        """One frame (working encoding) through `stylizer` with these weights, as a render does it."""
        return stylize_frame(stylizer, plate, plate, {}, None, self, self.weights(number, plate.shape[:2], plate_alpha))

    def settings(self) -> dict:
        return {"look": self.mix, "strength": self.strength,
                "regions": [{"matte": r.matte, "look": r.mix} for r in self.regions]}


def stylize_frame(stylizer, seen: np.ndarray, plate: np.ndarray, extras: dict, controls, look_map: LookMap | None,
                  weights: np.ndarray | None) -> np.ndarray:
    """The one path of a frame through a look: the network on `seen` (the plate, or the plate
    steadied along the motion) with its other inputs (`extras`: a guide), the render controls
    (`stylereel.render.controls.Controls`, or None), then the look weights (`look_map.weights`
    for this frame): inside a multi-look network, or a pixel mix with the plate for a single look;
    the plate itself where "none" is whole."""
    if look_map is not None and look_map.in_network:  # without a matte, the same weights everywhere: given once, [looks]
        extras = {**extras, "look": weights if look_map.regions else look_map.vector(look_map.mix)}
    out = controls.apply(stylizer, seen, **extras) if controls is not None else stylizer(seen, **extras)
    if look_map is None:
        return out
    if not look_map.in_network:
        out = (plate + weights[..., 1:2] * (out - plate)).astype(np.float32)
    none = look_map.names.index(NONE)
    if not look_map.regions:  # the same weights everywhere: the plate, or the look, at every pixel
        return plate.astype(np.float32, copy=True) if look_map.vector(look_map.mix)[none] >= UNTOUCHED else out
    return untouched(out, plate, weights, none)


def untouched(out: np.ndarray, plate: np.ndarray, weights: np.ndarray, none_index: int) -> np.ndarray:
    """The plate itself where the whole weight is on "none" (a soft edge of a few pixels)."""
    whole = (weights[..., none_index] >= UNTOUCHED).astype(np.float32)
    if not whole.any():
        return out
    keep = cv2.GaussianBlur(cv2.erode(whole, np.ones((3, 3), np.uint8)), (0, 0), 1.0) * whole
    keep = keep[..., None]
    return (out * (1 - keep) + plate * keep).astype(np.float32)  # exactly the plate where keep is 1
