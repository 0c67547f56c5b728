"""The shipped base generator a look can start from (`model.init=base`, the demo)."""

import json
from importlib import resources

import pytest
import torch

from stylereel.data.images import load_images
from stylereel.metrics.image import psnr
from stylereel.nets.generator import build_generator, load_base_weights


def test_base_reproduces_an_unseen_photo(data_dir):
    # home.jpg was held out of the base's pre-training: the base must already draw
    # photos it has not seen, so a look started from it is recognisable at once.
    g = build_generator("reel")
    load_base_weights(g, "reel", {})
    x = load_images([data_dir / "home.png"])[0][None]
    with torch.no_grad():
        y = g.eval()(x)
    assert psnr(y, x) > 19.0  # 23.6 dB when shipped; a random init scores about 13
    fresh = build_generator("reel").eval()
    with torch.no_grad():
        assert psnr(fresh(x), x) < 15.0  # and a random init does not


def test_base_metadata_and_mismatch_error():
    meta = json.loads((resources.files("stylereel") / "assets" / "base_reel.json").read_text())
    assert meta["generator"] == {"name": "reel", "kwargs": {}}
    assert "home.jpg" not in meta["photos"] and "orange.jpg" not in meta["photos"]
    with pytest.raises(ValueError, match="model.init=random"):
        load_base_weights(build_generator("reel", n_blocks=2), "reel", {"n_blocks": 2})
    with pytest.raises(ValueError, match="no pre-trained base for generator 'johnson'"):
        load_base_weights(build_generator("johnson"), "johnson", {})
