"""tools/fewer_blocks.py starts from the look's own blocks, the ones that matter most, and saves a look that renders."""

import importlib.util
import sys
from pathlib import Path

import torch

from stylereel.nets.generator import build_generator

_root = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_root))
_spec = importlib.util.spec_from_file_location("fewer_blocks", _root / "tools" / "fewer_blocks.py")
fewer_blocks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fewer_blocks)


def _net():
    torch.manual_seed(0)
    net = build_generator("reel", channels=(8, 16, 32), n_blocks=3).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.1)  # a trained-like look: every layer matters
    return net


def test_fewer_keeps_the_blocks_named_in_order_and_leaves_the_look_alone():
    net = _net()
    student = fewer_blocks.fewer(net, (0, 2))
    assert student.n_blocks == 2 and len(student.blocks) == 2 and len(net.blocks) == 3
    assert torch.equal(student.blocks[1].gain, net.blocks[2].gain)
    with torch.no_grad():
        student.blocks[0].gain.add_(1)
    assert not torch.equal(student.blocks[0].gain, net.blocks[0].gain)


def test_a_block_that_does_nothing_is_the_one_left_out():
    net = _net()
    with torch.no_grad():
        net.blocks[1].gain.zero_()  # the identity: the network draws the same picture without it
    x = torch.rand(2, 3, 96, 96)
    with torch.no_grad():
        target = net(x)
    distances = {k: fewer_blocks.distance(fewer_blocks.fewer(net, k), x, target) for k in [(0, 1), (0, 2), (1, 2)]}
    assert distances[(0, 2)] < 1e-3 < min(distances[(0, 1)], distances[(1, 2)])


def test_a_fitted_look_is_saved_and_renders(tmp_path):
    import cv2
    import numpy as np

    from stylereel.model import load_model, save_model

    (tmp_path / "content").mkdir()  # the content set, already written (bench/distill.py's distill_set keeps it)
    rng = np.random.default_rng(0)
    for k in range(2):
        cv2.imwrite(str(tmp_path / "content" / f"p{k}.png"), (rng.random((200, 240, 3)) * 255).astype(np.uint8))
    kwargs = {"channels": [8, 16, 32], "n_blocks": 3}
    save_model(tmp_path / "look", _net(), {"generator": {"name": "reel", "kwargs": kwargs},
                                           "config": {"model": {"generator_kwargs": kwargs}}, "source": "a test look"})
    out = fewer_blocks.fit(tmp_path / "look", tmp_path, 2, minutes=0.002, work=tmp_path, crops=4, batch=2)
    net, info = load_model(out)
    assert info["generator"]["kwargs"]["n_blocks"] == 2 and len(net.blocks) == 2
    assert info["config"]["model"]["generator_kwargs"]["n_blocks"] == 2
    assert "tools/fewer_blocks.py" in info["source"] and info["source"].endswith("a test look")
    with torch.no_grad():
        y = net(torch.rand(1, 3, 64, 80))
    assert y.shape == (1, 3, 64, 80) and torch.isfinite(y).all()
