"""tools/thin_stage.py fits the full-resolution stage the network really runs, starting from the look's own channels."""

import importlib.util
from pathlib import Path

import torch

from stylereel.nets.generator import build_generator

_spec = importlib.util.spec_from_file_location("thin_stage", Path(__file__).resolve().parents[1] / "tools" / "thin_stage.py")
thin_stage = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(thin_stage)


def _net(**kwargs):
    torch.manual_seed(0)
    net = build_generator("reel", channels=(8, 16, 32), n_blocks=2, **kwargs).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.1)  # a trained-like look: every layer matters
    return net


def test_the_stage_inputs_give_the_networks_own_picture():
    net = _net()
    photo = torch.rand(3, 260, 300)
    x, feat = thin_stage.stage_inputs(net, [photo], crops=3)
    m, c = net.margin, thin_stage.CROP
    assert x.shape[0] == feat.shape[0] == 3 and feat.shape[-2:] == (x.shape[-2] // 2, x.shape[-1] // 2)
    with torch.no_grad():
        staged = net.finish(x, net.to_rgb(feat))[..., m : m + c, m : m + c]
        whole = net(x[..., m : m + c, m : m + c])
    assert (staged - whole).abs().max() < 1e-5


def test_the_strongest_channels_are_the_ones_that_carry_the_output():
    net = _net()
    x, feat = thin_stage.stage_inputs(net, [torch.rand(3, 200, 200)], crops=2)
    with torch.no_grad():
        net.detail[0].bias[[1, 6]] = 2.0  # two channels that fire everywhere
        net.detail[2].weight[:, [1, 6]] *= 50  # and carry far more than the rest
    assert thin_stage.strongest(net, x, feat, 2) == [1, 6]
    assert thin_stage.strongest(net, x, feat, 8) == list(range(8))


def test_a_multi_look_network_gives_its_stage_each_look_in_turn():
    torch.manual_seed(0)
    net = build_generator("reel_looks", looks=("none", "a", "b"), channels=(8, 16, 32), n_blocks=1).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    x, feat = thin_stage.stage_inputs(net, [torch.rand(3, 230, 250)], crops=3)
    m, c = net.margin, thin_stage.CROP
    with torch.no_grad():
        for k in range(3):  # crop k in look k: the stage's picture is the network's in that look
            staged = net.finish(x[k : k + 1], net.to_rgb(feat[k : k + 1]))[..., m : m + c, m : m + c]
            assert (staged - net(x[k : k + 1, :, m : m + c, m : m + c], torch.eye(3)[k][None])).abs().max() < 1e-5


def test_a_fitted_look_is_saved_and_renders(tmp_path):
    import cv2
    import numpy as np

    from stylereel.looks import look_dir
    from stylereel.model import load_model

    (tmp_path / "content").mkdir()  # the content set, already written (bench/distill.py's distill_set keeps it)
    rng = np.random.default_rng(0)
    for k in range(2):
        cv2.imwrite(str(tmp_path / "content" / f"p{k}.png"), (rng.random((200, 240, 3)) * 255).astype(np.uint8))
    out = thin_stage.fit(look_dir("starry_night"), tmp_path, 1, minutes=0.002, work=tmp_path, crops=4, batch=2)
    net, info = load_model(out)
    assert info["generator"]["kwargs"]["detail_width"] == 1 and net.detail[0].out_channels == 1
    assert "tools/thin_stage.py" in info["source"]
    with torch.no_grad():
        y = net(torch.rand(1, 3, 64, 80))
    assert y.shape == (1, 3, 64, 80) and torch.isfinite(y).all()
