"""Painted keyframes for a guided look (`stylize --keyframes`): the painted frames in the
network's working encoding, and per frame the guide the generator sees beside it (the
keyframes on either side carried to it along the optical flow, `stylereel.flow.carry`)."""

from __future__ import annotations

import numpy as np

from stylereel.flow import carry, mix
from stylereel.io.media import Source, open_source
from stylereel.io.sequence import format_frames
from stylereel.io.working import to_working
from stylereel.render.options import RenderError


def load_keyframes(source: Source, spec: str | None, space_in: str | None) -> dict[int, tuple]:
    """{frame number: (plate, painted look)} in the working encoding, from the painted sequence `spec`
    and the source's frames of the same numbers."""
    if spec is None:
        return {}
    painted = open_source(spec)
    if painted.kind == "stills":
        raise RenderError(f"{spec}: keyframes are a sequence numbered like the shot's frames (painted.####.png)")
    numbers = {n: i for i, n in enumerate(source.numbers)}
    missing = [n for n in painted.numbers if n not in numbers]
    if missing:
        raise RenderError(f"{spec}: keyframes {format_frames(missing)} are not frames of {source.path} being rendered")
    shown = lambda f: to_working(f, space_in)[0]  # noqa: E731
    plates = {source.numbers[i]: shown(f) for i, f, problem in source.frames({numbers[n] for n in painted.numbers}) if f is not None}
    keys = {}
    for i, f, problem in painted.frames():
        if f is None:
            raise RenderError(problem)
        n = painted.numbers[i]
        look = shown(f)
        if look.shape != plates[n].shape:
            import cv2

            look = cv2.resize(look, plates[n].shape[1::-1], interpolation=cv2.INTER_AREA)
        keys[n] = (plates[n], look)
    return keys


def guide_for(keys: dict[int, tuple], number: int, plate: np.ndarray) -> np.ndarray:
    """The painted keyframes on either side of this frame carried to it and mixed per pixel by
    confidence and by closeness in time (so the mix moves smoothly from one keyframe to the
    next), with the larger confidence: [H, W, 4] (zeros without keyframes)."""
    if not keys:
        return np.zeros(plate.shape[:2] + (4,), np.float32)
    before = [k for k in keys if k <= number]
    after = [k for k in keys if k >= number]
    sides = ({max(before)} if before else set()) | ({min(after)} if after else set())
    return mix([(*carry(keys[k][0], keys[k][1], plate), k - number) for k in sorted(sides)])
