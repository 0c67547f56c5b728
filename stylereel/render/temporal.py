"""Render-time temporal consistency (`stylize --temporal`): each stylised frame is
blended with its neighbours carried along the plate's motion, where that motion can
be trusted.

- `motions(prev, cur)` (the reader's thread, `flow.trusted_flows`): optical flow between
  consecutive plate frames both ways (OpenCV DIS at reduced resolution, then upsampled),
  each with a confidence map: 1 where the forward-backward check passes and the other
  plate, carried along the flow, matches this one; 0 at occlusions, at new content
  entering the frame and where the light changes. Soft edges.
- `SteadyPlate` (the reader's thread): the plate the network sees, blended with the
  previous one along the same motion, so grain and compression noise do not make the
  strokes boil; the look's texture stays the network's own.
- `TemporalBlend` (the writer's thread, in order): the network's frame, the previous
  blended frame and (`both_ways`, for offline renders) the next network frame, each
  neighbour carried along the motion and weighted by `strength / (1 - strength)` times
  its confidence: out = (net + w c_prev prev + w c_next next) / (1 + w c_prev + w c_next).
  Static regions stop boiling; moving ones follow the flow; where nothing can be carried
  the frame is the network's own, so nothing ghosts or smears. Both ways, the frame is
  written once the next one is rendered (one frame of delay, bounded memory) and the
  filter has no lag.

Blending happens in the network's working encoding, before colour goes back out.
bench/temporal.py measures the warping error it removes and the cost per frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stylereel.flow import trusted_flow, trusted_flows, warp

FLOW_SIDE = 640  # flow is computed with the longer side at most this (bench/temporal.py: cost per 1080p frame)
STRENGTH = 0.4  # the strongest blend that keeps the look: style distance within 5% of the frame-by-frame render (bench/temporal.py)
PLATE_STRENGTH = 0.9  # the steadied plate's blend (bench/temporal.py): grain averages out, the look keeps its texture
PHOTOMETRIC = 0.06  # mean |plate_t - carried plate_{t-1}| above which a pixel is not trusted (light changes, flow errors)


@dataclass
class Motion:
    flow: np.ndarray  # [H, W, 2] from this frame to its neighbour, full resolution
    confidence: np.ndarray  # [H, W] in [0, 1]


def motion(prev: np.ndarray, cur: np.ndarray, side: int = FLOW_SIDE) -> Motion:
    """How the previous frame maps onto the current one, and where to trust it (frames in [0, 1] RGB)."""
    return Motion(*trusted_flow(cur, prev, side, PHOTOMETRIC))


def motions(prev: np.ndarray, cur: np.ndarray, side: int = FLOW_SIDE) -> tuple[Motion, Motion]:
    """`motion(prev, cur)` and the same for the previous frame looking ahead to the current one."""
    back, ahead = trusted_flows(cur, prev, side, PHOTOMETRIC)
    return Motion(*back), Motion(*ahead)


class TemporalBlend:
    """Blends each stylised frame with the previous blended one (and, both ways, the next
    network frame), carried along the motion."""

    def __init__(self, strength: float = STRENGTH, both_ways: bool = False):
        if not 0 <= strength < 1:
            raise ValueError(f"temporal strength must be in [0, 1), got {strength}")
        self.strength, self.both_ways = strength, both_ways
        self.previous: np.ndarray | None = None

    def reset(self) -> None:
        self.previous = None

    def __call__(self, out: np.ndarray, back: Motion | None, ahead: tuple[Motion, np.ndarray] | None = None) -> np.ndarray:
        """`back`: motion to the previous frame; `ahead`: motion to the next frame and its network output."""
        neighbours = []
        if back is not None and self.previous is not None and self.previous.shape == out.shape:
            neighbours.append((back, self.previous))
        if ahead is not None and ahead[1].shape == out.shape:
            neighbours.append(ahead)
        self.previous = _blend(out, neighbours, self.strength)
        return self.previous


class SteadyPlate:
    """The plate as the network sees it under `--temporal`: each frame blended with the
    previous steadied plate carried along the motion (the same trusted flow and
    confidence). Sensor grain and compression noise, which a feed-forward network turns
    into boiling strokes, average out before the network; the look's texture is still
    drawn fresh on every frame, so steadiness here costs no style (bench/temporal.py).
    Runs on the reader's thread, in frame order."""

    def __init__(self, strength: float = PLATE_STRENGTH):
        self.strength = strength
        self.previous: np.ndarray | None = None

    def __call__(self, plate: np.ndarray, back: Motion | None) -> np.ndarray:
        """`back`: motion to the previous frame (None at the first frame or a cut: the plate itself)."""
        fits = back is not None and self.previous is not None and self.previous.shape == plate.shape
        self.previous = _blend(plate, [(back, self.previous)] if fits else [], self.strength)
        return self.previous


def _blend(frame: np.ndarray, neighbours: list[tuple[Motion, np.ndarray]], strength: float) -> np.ndarray:
    """(frame + sum of w c_i carried_i) / (1 + sum of w c_i), w = strength / (1 - strength)."""
    if not neighbours:
        return np.ascontiguousarray(frame, dtype=np.float32)
    w = strength / (1 - strength)
    total, weight = frame.astype(np.float32), np.ones(frame.shape[:2] + (1,), np.float32)
    for m, other in neighbours:
        k = (w * m.confidence)[..., None]
        total += k * warp(other, m.flow)
        weight += k
    return np.ascontiguousarray(total / weight, dtype=np.float32)
