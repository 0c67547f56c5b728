"""Magenta's arbitrary-style networks (Ghiasi et al. 2017), as a peer and as an independent judge.

`arbitrary_predict.onnx` maps a style image to a 100-d style vector; the distance
between the vectors of an output and of the reference is a style distance in a
feature space stylereel never trains on (MobileNet-based, ImageNet + paintings).
`arbitrary_transform.onnx` renders a content image in the style of a vector: the
peer that stylereel's looks are compared with. Both are int8 graphs of fixed size
(256x256 style, 384x384 content), so images are resized to them and back.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F


def _resize(x: torch.Tensor, h: int, w: int) -> torch.Tensor:  # [1, 3, H, W]
    big = h < x.shape[-2] or w < x.shape[-1]
    return F.interpolate(x, size=(h, w), mode="bilinear", antialias=big, align_corners=False)


class Magenta:
    def __init__(self, models: Path):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        kw = {"sess_options": opts, "providers": ["CPUExecutionProvider"]}
        self.predict = ort.InferenceSession(str(models / "arbitrary_predict.onnx"), **kw)
        self.transform = ort.InferenceSession(str(models / "arbitrary_transform.onnx"), **kw)

    def style_vector(self, img: torch.Tensor) -> np.ndarray:
        """[1, 3, H, W] in [0, 1] -> [100]."""
        x = _resize(img.float(), 256, 256).clamp(0, 1)[0].permute(1, 2, 0)[None].numpy()
        return self.predict.run(None, {"style_image": np.ascontiguousarray(x)})[0].reshape(-1)

    def distance(self, img: torch.Tensor, reference_vector: np.ndarray) -> float:
        return float(np.linalg.norm(self.style_vector(img) - reference_vector))

    def stylize(self, content: torch.Tensor, style_vector: np.ndarray) -> torch.Tensor:
        """[1, 3, H, W] -> [1, 3, H, W], rendered at 384x384 and resized back."""
        h, w = content.shape[-2:]
        x = _resize(content.float(), 384, 384).clamp(0, 1)[0].permute(1, 2, 0)[None].numpy()
        name = self.transform.get_inputs()[1].name
        y = self.transform.run(None, {"content_image": np.ascontiguousarray(x), name: style_vector.reshape(1, 1, 1, 100)})[0]
        return _resize(torch.from_numpy(y).permute(0, 3, 1, 2), h, w).clamp(0, 1)
