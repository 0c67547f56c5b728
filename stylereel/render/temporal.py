"""Render-time temporal consistency (`stylize --temporal`): each stylised frame is
blended with the previous stylised frame carried along the plate's motion, where
that motion can be trusted.

- `motion(prev, cur)` (the reader's thread, `flow.trusted_flow`): optical flow from the current plate
  frame to the previous one and back (OpenCV DIS at reduced resolution, then
  upsampled), and a confidence map: 1 where the forward-backward check passes and the
  previous plate, carried along the flow, matches the current one; 0 at occlusions,
  at new content entering the frame and where the light changes. Soft edges.
- `TemporalBlend` (the writer's thread, in order): out_t + strength * confidence *
  (carried(out'_{t-1}) - out_t). Static regions stop boiling; moving ones follow the
  flow; where nothing can be carried the frame is the network's own, so nothing
  ghosts or smears.

Blending happens in the network's working encoding, before colour goes back out.
bench/temporal.py measures the warping error it removes and the cost per frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stylereel.flow import trusted_flow, warp

FLOW_SIDE = 640  # flow is computed with the longer side at most this (bench/temporal.py: cost per 1080p frame)
STRENGTH = 0.5  # the strongest blend that keeps the look: style distance within 5% of the frame-by-frame render (bench/temporal.py)
PHOTOMETRIC = 0.06  # mean |plate_t - carried plate_{t-1}| above which a pixel is not trusted (light changes, flow errors)


@dataclass
class Motion:
    flow: np.ndarray  # [H, W, 2] from the current frame to the previous one, full resolution
    confidence: np.ndarray  # [H, W] in [0, 1]


def motion(prev: np.ndarray, cur: np.ndarray, side: int = FLOW_SIDE) -> Motion:
    """How the previous frame maps onto the current one, and where to trust it (frames in [0, 1] RGB)."""
    return Motion(*trusted_flow(cur, prev, side, PHOTOMETRIC))


class TemporalBlend:
    """Blends each stylised frame with the previous blended one, carried along the motion."""

    def __init__(self, strength: float = STRENGTH):
        if not 0 <= strength < 1:
            raise ValueError(f"temporal strength must be in [0, 1), got {strength}")
        self.strength = strength
        self.previous: np.ndarray | None = None

    def reset(self) -> None:
        self.previous = None

    def __call__(self, out: np.ndarray, m: Motion | None) -> np.ndarray:
        if m is not None and self.previous is not None and self.previous.shape == out.shape:
            carried = warp(self.previous, m.flow)
            k = (self.strength * m.confidence)[..., None]
            out = (out + k * (carried - out)).astype(np.float32)
        self.previous = np.ascontiguousarray(out, dtype=np.float32)
        return out
