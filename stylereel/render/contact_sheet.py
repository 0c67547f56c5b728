"""Contact sheets: a grid of labelled images, one row per shot or still."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from stylereel.io.frames import write_image

LABEL_H = 22


def _fit(img: np.ndarray, height: int) -> np.ndarray:
    h, w = img.shape[:2]
    width = max(1, round(w * height / h))
    return cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA if height < h else cv2.INTER_LINEAR)


def _label(cell: np.ndarray, text: str) -> np.ndarray:
    bar = np.full((LABEL_H, cell.shape[1], 3), 25, np.uint8)  # putText draws on 8-bit images only
    cv2.putText(bar, text, (4, LABEL_H - 7), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (240, 240, 240), 1, cv2.LINE_AA)
    return np.concatenate([bar.astype(np.float32) / 255, cell], 0)


def contact_sheet(rows: Sequence[Sequence[np.ndarray]], labels: Sequence[Sequence[str]] | None = None, height: int = 256, gap: int = 4) -> np.ndarray:
    """`rows[i][j]` float [H, W, 3] in [0, 1] -> one float [H, W, 3] image."""
    built = []
    for i, row in enumerate(rows):
        cells = [_fit(np.clip(img, 0, 1).astype(np.float32), height) for img in row]
        if labels:
            cells = [_label(c, labels[i][j]) for j, c in enumerate(cells)]
        spacer = np.ones((cells[0].shape[0], gap, 3), np.float32)
        parts = []
        for c in cells:
            parts += [c, spacer]
        built.append(np.concatenate(parts[:-1], 1))
    width = max(r.shape[1] for r in built)
    padded = [np.pad(r, ((0, gap), (0, width - r.shape[1]), (0, 0)), constant_values=1.0) for r in built]
    return np.concatenate(padded, 0)[:-gap]


def write_contact_sheet(path: str | Path, rows, labels=None, height: int = 256) -> Path:
    write_image(path, contact_sheet(rows, labels, height), bit_depth=8)
    return Path(path)
