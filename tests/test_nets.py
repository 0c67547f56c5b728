import pytest
import torch

from stylereel.nets.discriminator import DISCRIMINATORS, build_discriminator
from stylereel.nets.generator import GENERATORS, build_generator


def extras(g, n, h, w):
    """Random values for a generator's inputs after the frame (`g.inputs`), in [0, 1]."""
    return [torch.rand(n, i.channels, h, w) if i.spatial else torch.rand(n, i.channels) for i in g.inputs[1:]]


@pytest.mark.parametrize("name", GENERATORS.names())
@pytest.mark.parametrize("hw", [(37, 53), (64, 64), (8, 200)])
def test_generator_any_size_in_unit_range(name, hw):
    g = build_generator(name).eval()
    x = torch.rand(2, 3, *hw)
    with torch.no_grad():
        y = g(x, *extras(g, 2, *hw))
    assert y.shape == x.shape
    assert 0 <= float(y.min()) and float(y.max()) <= 1


@pytest.mark.parametrize("name", GENERATORS.names())
def test_generator_has_no_per_image_statistics(name):
    torch.manual_seed(0)
    g = build_generator(name).eval()
    for p in g.parameters():  # ReZero gains start at 0; give the blocks a say
        if p.dim() == 4 and p.shape[-1] == 1 and p.shape[0] == 1:
            p.data.fill_(0.5)
    x = torch.rand(3, 3, 48, 48)
    more = extras(g, 3, 48, 48)
    with torch.no_grad():
        whole = g(x, *more)
        # A frame's result does not depend on what else is in the batch ...
        assert torch.allclose(g(x[1:2], *[e[1:2] for e in more]), whole[1:2], atol=1e-6)
        # ... nor on its brightness statistics: scaling one frame changes only that frame.
        x2 = x.clone()
        x2[0] *= 0.2
        assert torch.allclose(g(x2, *more)[1:], whole[1:], atol=1e-6)


def test_guided_generator_takes_the_carried_paint_where_it_is_trusted():
    torch.manual_seed(0)
    g = build_generator("reel_guided").eval()
    with torch.no_grad():
        g.detail[-1].bias[3] = 20.0  # open the gate fully: the output is the guide wherever confidence is 1
        x, paint = torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64)
        confidence = torch.zeros(1, 1, 64, 64)
        confidence[..., :, :32] = 1
        y = g(x, torch.cat([paint, confidence], 1))
        unguided = g(x, torch.cat([paint, torch.zeros_like(confidence)], 1))
    assert torch.allclose(y[..., :32], paint[..., :32], atol=1e-4)  # trusted: the painted keyframe's pixels
    assert not torch.allclose(y[..., 40:], paint[..., 40:], atol=0.05)  # untrusted: drawn by the network
    assert not torch.allclose(unguided[..., :32], paint[..., :32], atol=0.05)  # no confidence, no copying


@pytest.mark.parametrize("detail", [True, False])
def test_reel_generator_tiles_exactly(detail):
    # A crop sharing the frame's top-left corner reproduces the frame's output away
    # from the crop's other edges: nothing global (no norm statistics) is computed.
    torch.manual_seed(0)
    g = build_generator("reel", detail=detail).eval()
    for name, p in g.named_parameters():
        if name.endswith("gain"):
            p.data.fill_(0.5)
    x = torch.rand(1, 3, 400, 400)
    with torch.no_grad():
        full = g(x)
        tile = g(x[..., :256, :256])
    assert torch.allclose(tile[..., :96, :96], full[..., :96, :96], atol=1e-5)
    # and the crop's far edge really does differ (the test can fail)
    assert not torch.allclose(tile[..., 250:, 250:], full[..., 250:256, 250:256], atol=1e-5)


def test_registry_error_lists_names():
    with pytest.raises(KeyError, match="valid: johnson, reel"):
        build_generator("unet9000")
    with pytest.raises(KeyError, match="multiscale_patch"):
        build_discriminator("nope")


@pytest.mark.parametrize("sn", [True, False])
def test_multiscale_discriminator(sn):
    d = build_discriminator("multiscale_patch", in_ch=6, n_scales=3, spectral_norm=sn)
    out = d(torch.rand(2, 6, 64, 64))
    assert len(out) == 3
    sizes = [logits.shape[-1] for logits, _ in out]
    assert sizes == [8, 4, 2]
    for logits, feats in out:
        assert logits.shape[:2] == (2, 1)
        assert len(feats) == 3
    has_sn = any("weight_orig" in n for n, _ in d.named_parameters())
    assert has_sn == sn
    assert "multiscale_patch" in DISCRIMINATORS


def test_look_weights_mix_inside_the_network():
    torch.manual_seed(0)
    g = build_generator("reel_looks", looks=["none", "a", "b"]).eval()
    for name, p in g.named_parameters():
        if name.endswith("gain"):
            p.data.fill_(0.3)
        if name.startswith("mod."):
            p.data.normal_(0, 0.5)
    x = torch.rand(1, 3, 96, 96)
    look = lambda *w: torch.tensor(w, dtype=torch.float32)[None, :, None, None].expand(1, 3, 96, 96)  # noqa: E731
    with torch.no_grad():
        a, b, half = g(x, look(0, 1, 0)), g(x, look(0, 0, 1)), g(x, look(0, 0.5, 0.5))
        sweep = [g(x, look(0, 1 - t, t)) for t in torch.linspace(0, 1, 6).tolist()]
    assert (a - b).abs().mean() > 0.02  # the looks differ
    assert (half - (a + b) / 2).abs().mean() > 1e-3  # a mix is not a cross-fade of the outputs ...
    steps = [(s1 - s0).abs().mean().item() for s0, s1 in zip(sweep, sweep[1:])]
    assert max(steps) < 0.6 * (a - b).abs().mean().item()  # ... and a sweep moves smoothly from one to the other
    with pytest.raises(ValueError, match="'none' first"):
        build_generator("reel_looks", looks=["a", "b"])


def test_the_sub_pixel_head_draws_each_pixel_of_a_block_from_its_own_channels():
    """Without the full-resolution stage, half-resolution channel 3 + c * 4 + a * 2 + b is the detail of RGB channel c
    of pixel (a, b) of each 2x2 block, over the first three channels upsampled: with those at 0, a constant per
    channel gives the pixel pattern those channels name, in any frame size."""
    g = build_generator("reel", detail=False).eval()
    with torch.no_grad():
        g.to_rgb.weight.zero_()
        g.to_rgb.bias.copy_(torch.cat([torch.zeros(3), torch.logit(torch.arange(1.0, 13.0) / 13)]))
        y = g(torch.rand(1, 3, 70, 90))
    assert y.shape == (1, 3, 70, 90)
    for c in range(3):
        for a in range(2):
            for b in range(2):  # the margin (32) and stride keep the blocks on the frame's even pixels
                assert torch.allclose(y[0, c, a::2, b::2], torch.tensor((c * 4 + a * 2 + b + 1) / 13), atol=1e-6)


def test_without_detail_the_upsampled_rgb_is_the_picture_where_blocks_add_nothing():
    """The first three channels are drawn smooth (bilinear x2), so a block's detail channels at 0 leave no lattice."""
    import torch.nn.functional as F

    torch.manual_seed(0)
    g = build_generator("reel", detail=False).eval()
    rgb = torch.cat([torch.randn(1, 3, 20, 24), torch.zeros(1, 12, 20, 24)], 1)
    with torch.no_grad():
        y = g.finish(torch.rand(1, 3, 40, 48), rgb)
    assert torch.allclose(y, torch.sigmoid(F.interpolate(rgb[:, :3], scale_factor=2, mode="bilinear", align_corners=False)), atol=1e-6)
