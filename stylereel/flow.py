"""Optical flow between frames (OpenCV's DIS), warping along it, and where it can be
trusted. A leaf: the warping-error metric, the renderer's temporal blending and
training on shots all use it.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import torch
import torch.nn.functional as F


def _gray8(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)


def flow(a: np.ndarray, b: np.ndarray, preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM) -> np.ndarray:
    """Optical flow from RGB frame `a` to `b` (float [H, W, 3] in [0, 1]): [H, W, 2] pixel
    offsets (dx, dy) such that a(x) ~ b(x + flow(x))."""
    dis = cv2.DISOpticalFlow_create(preset)
    return dis.calc(_gray8(a), _gray8(b), None)


def warp(img: np.ndarray, fl: np.ndarray) -> np.ndarray:
    """`img` sampled at x + fl(x) (bilinear; outside the frame: the nearest edge pixel)."""
    h, w = fl.shape[:2]
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(img, gx + fl[..., 0], gy + fl[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def occlusion_mask(fw: np.ndarray, bw: np.ndarray) -> np.ndarray:
    """1 where the flow `fw` (a -> b) is trusted, 0 where it is occluded or leaves the frame:
    |fw + bw(x + fw)|^2 <= 0.01 (|fw|^2 + |bw(x + fw)|^2) + 0.5."""
    h, w = fw.shape[:2]
    back = warp(bw, fw)
    diff = ((fw + back) ** 2).sum(-1)
    bound = 0.01 * ((fw**2).sum(-1) + (back**2).sum(-1)) + 0.5
    gx, gy = np.meshgrid(np.arange(w), np.arange(h))
    inside = (gx + fw[..., 0] >= 0) & (gx + fw[..., 0] <= w - 1) & (gy + fw[..., 1] >= 0) & (gy + fw[..., 1] <= h - 1)
    return ((diff <= bound) & inside).astype(np.float32)


def trusted_flow(frame: np.ndarray, other: np.ndarray, side: int = 640, photometric: float = 0.12) -> tuple[np.ndarray, np.ndarray]:
    """How `frame` maps onto `other` (frames float [H, W, 3] in [0, 1]), and where to trust it:
    (flow [H, W, 2] from `frame` to `other`, confidence [H, W] in [0, 1]).

    Flow both ways at most `side` px on the longer side, upsampled; confidence is 1 where the
    forward-backward check passes and `other` carried along the flow matches `frame` to
    within `photometric` (mean absolute), eroded and softened at its edges; 0 at
    occlusions, new content and changed light."""
    return trusted_flows(frame, other, side, photometric, both=False)[0]


def trusted_flows(frame: np.ndarray, other: np.ndarray, side: int = 640, photometric: float = 0.12,
                  both: bool = True) -> list[tuple[np.ndarray, np.ndarray]]:
    """`trusted_flow` from `frame` to `other` and, with `both`, from `other` to `frame`, from the
    same pair of flows (no extra flow computed)."""
    h, w = frame.shape[:2]
    s = min(1.0, side / max(h, w))
    size = (max(8, round(w * s)), max(8, round(h * s)))
    small = (lambda im: cv2.resize(im, size, interpolation=cv2.INTER_AREA)) if s < 1 else (lambda im: im)
    a, b = small(frame), small(other)
    there, back = flow(a, b), flow(b, a)
    out = []
    for fw, bw, x, y in [(there, back, a, b), (back, there, b, a)][: 2 if both else 1]:
        trusted = occlusion_mask(fw, bw)
        trusted *= (np.abs(warp(np.ascontiguousarray(y, dtype=np.float32), fw) - x).mean(-1) < photometric).astype(np.float32)
        trusted = cv2.GaussianBlur(cv2.erode(trusted, np.ones((3, 3), np.uint8)), (0, 0), 1.5)  # clear of edges, soft
        if s < 1:
            fw = cv2.resize(fw, (w, h), interpolation=cv2.INTER_LINEAR) / s
            trusted = cv2.resize(trusted, (w, h), interpolation=cv2.INTER_LINEAR)
        out.append((fw.astype(np.float32), np.clip(trusted, 0, 1).astype(np.float32)))
    return out


def carry(key_plate: np.ndarray, key_look: np.ndarray, plate: np.ndarray, side: int = 640,
          photometric: float = 0.12) -> tuple[np.ndarray, np.ndarray]:
    """A keyframe's look carried onto another frame of the shot along the optical flow:
    (look [H, W, 3], confidence [H, W]) (`trusted_flow` from `plate` to `key_plate`)."""
    to_key, trusted = trusted_flow(plate, key_plate, side, photometric)
    return warp(np.ascontiguousarray(key_look, dtype=np.float32), to_key), trusted


def mix(carried: list[tuple[np.ndarray, np.ndarray, float]]) -> np.ndarray:
    """Looks carried from several keyframes (`carry`), each with its distance in frames,
    mixed per pixel by confidence and closeness in time, so the mix moves smoothly from
    one keyframe to the next, with the larger confidence: [H, W, 4]."""
    weights = [confidence / (1.0 + abs(distance)) + 1e-6 for _, confidence, distance in carried]
    total = sum(weights)
    look = sum(w[..., None] * lk for w, (lk, _, _) in zip(weights, carried)) / total[..., None]
    confidence = np.maximum.reduce([c for _, c, _ in carried])
    return np.concatenate([look, confidence[..., None]], -1).astype(np.float32)


def random_move(n: int, h: int, w: int, shift: float, rotate: float, zoom: float,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """A sampling grid `[n, h, w, 2]` (for `F.grid_sample`) per image: a random affine move of up
    to `shift` pixels, `rotate` degrees and `zoom` (a fraction) about the centre: a camera move."""
    u = lambda: torch.rand(n, generator=generator) * 2 - 1  # noqa: E731 - uniform in [-1, 1]
    angle, scale = u() * math.radians(rotate), 1 + u() * zoom
    tx, ty = u() * shift * 2 / w, u() * shift * 2 / h  # grid coordinates span 2 across the image
    theta = torch.stack([torch.stack([scale * torch.cos(angle), -scale * torch.sin(angle), tx], -1),
                         torch.stack([scale * torch.sin(angle), scale * torch.cos(angle), ty], -1)], 1)
    return F.affine_grid(theta, [n, 1, h, w], align_corners=False)
