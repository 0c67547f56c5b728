"""Colour distributions: move one picture's colours onto another's mean and covariance (the
linear Monge-Kantorovich map, Pitie & Kokaram 2007). A leaf: the render-time `preserve_color
palette` control takes the plate's palette with it, the AdaIN teacher the painting's."""

from __future__ import annotations

import numpy as np


def match_palette(out: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """`out` `[..., 3]` with its colours moved so their mean and covariance are those of `reference`
    `[..., 3]` (any number of pixels).

    >>> a = np.random.default_rng(0).random((8, 8, 3)); b = 0.5 * a[..., ::-1] + 0.2
    >>> m = match_palette(a, b); bool(np.allclose(m.reshape(-1, 3).mean(0), b.reshape(-1, 3).mean(0), atol=1e-5))
    True
    """
    x, y = out.reshape(-1, 3).astype(np.float64), reference.reshape(-1, 3).astype(np.float64)
    mx, my = x.mean(0), y.mean(0)
    cx, cy = np.cov(x, rowvar=False) + 1e-5 * np.eye(3), np.cov(y, rowvar=False) + 1e-5 * np.eye(3)

    def sqrtm(c):
        vals, vecs = np.linalg.eigh(c)
        return (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T

    rx = sqrtm(cx)
    rx_inv = np.linalg.inv(rx)
    t = rx_inv @ sqrtm(rx @ cy @ rx) @ rx_inv
    return ((x - mx) @ t.T + my).reshape(out.shape).astype(np.float32)
