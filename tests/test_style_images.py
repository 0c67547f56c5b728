"""Style images as training sees them: a reference scan's frame is left out."""

import numpy as np
import torch

from stylereel.config import DataConfig
from stylereel.data.datasets import UnpairedData
from stylereel.data.images import load_images
from stylereel.io.frames import write_image


def test_trim_cuts_each_edge_by_its_fraction(tmp_path):
    img = np.repeat(np.linspace(0, 0.5, 60, dtype=np.float32)[None, :, None], 40, 0).repeat(3, 2)  # a dim ramp
    img[:2], img[-2:], img[:, :3], img[:, -3:] = 1.0, 1.0, 1.0, 1.0  # a bright 2-3 px mat all round
    write_image(tmp_path / "framed.png", img)
    whole = load_images([tmp_path / "framed.png"])[0]
    trimmed = load_images([tmp_path / "framed.png"], trim=0.05)[0]
    assert whole.shape == (3, 40, 60) and trimmed.shape == (3, 36, 54)
    assert whole.max() == 1.0 and trimmed.max() <= 0.5


def test_the_look_never_sees_the_frame(tmp_path):
    img = np.repeat(np.linspace(0.1, 0.2, 80, dtype=np.float32)[None, :, None], 100, 0).repeat(3, 2)  # dim strokes
    img[:2], img[-2:], img[:, :2], img[:, -2:] = 0.95, 0.95, 0.95, 0.95  # within 3% of every side
    write_image(tmp_path / "painting.png", img)
    write_image(tmp_path / "plate.png", np.random.default_rng(0).random((64, 64, 3)).astype(np.float32))
    cfg = DataConfig(content=[str(tmp_path / "plate.png")], style=[str(tmp_path / "painting.png")], size=32, style_size=64)
    data = UnpairedData(cfg)  # default style_trim
    assert float(data.look_images[0].max()) < 0.25
    batch = data.sample(16, torch.Generator().manual_seed(0))
    assert float(batch["style"].max()) < 0.25
