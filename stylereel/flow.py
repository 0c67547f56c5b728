"""Optical flow between frames (OpenCV's DIS), warping along it, and where it can be
trusted. A leaf: the warping-error metric, the renderer's temporal blending and
training on shots all use it.
"""

from __future__ import annotations

import cv2
import numpy as np


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
