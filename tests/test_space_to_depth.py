"""The CPU engine's full-resolution stage on 2x2 blocks (stylereel.nets.space_to_depth) is the
trained stage itself: same pictures from the same weights, for every generator that has it."""

import pytest
import torch

from stylereel.nets.generator import build_generator
from stylereel.nets.space_to_depth import on_blocks


def trained_like(name: str, **kwargs) -> torch.nn.Module:
    """A generator with random weights and open ReZero gains (a fresh one's blocks do nothing)."""
    torch.manual_seed(0)
    g = build_generator(name, **kwargs).eval()
    for p in g.parameters():
        if p.dim() == 4 and p.shape[0] == 1 and p.shape[-1] == 1:
            p.data.normal_(0, 0.5)
        elif p.dim() == 2:  # look modulations
            p.data.normal_(0, 0.3)
    return g


@pytest.mark.parametrize("name,kwargs", [("reel", {}), ("reel", {"channels": (8, 16, 32), "n_blocks": 2, "detail_width": 4}), ("reel", {"detail": False}),
                                         ("reel_looks", {"looks": ("none", "a", "b")}), ("reel_guided", {})])
@pytest.mark.parametrize("hw", [(37, 53), (96, 130)])
def test_blocks_render_what_the_generator_draws(name, kwargs, hw):
    g = trained_like(name, **kwargs)
    blocks = on_blocks(g)
    assert blocks is not g and hasattr(blocks, "block_finish") and not hasattr(g, "block_finish")
    x = torch.rand(2, 3, *hw)
    extra = {"reel": [], "reel_looks": [torch.softmax(torch.randn(2, 3, *hw), 1)],
             "reel_guided": [torch.cat([torch.rand(2, 3, *hw), torch.rand(2, 1, *hw).pow(3)], 1)]}[name]
    with torch.no_grad():
        assert (blocks(x, *extra) - g(x, *extra)).abs().max() < 1e-5


def test_blocks_differ_from_the_stage_only_on_the_padded_frames_outer_pixels():
    g = trained_like("reel")
    stage = on_blocks(g).block_finish
    x, rgb = torch.rand(1, 3, 64, 80), torch.randn(1, 3, 32, 40)
    with torch.no_grad():
        diff = (stage(x, rgb) - g.finish(x, rgb)).abs()[0].amax(0)
    assert diff[2:-2, 2:-2].max() < 1e-5
    assert diff.max() > 1e-3  # the edge is where they part: bilinear clamps, the block conv sees zeros
    assert diff.max() == diff[[0, 1, -2, -1]].max() or diff.max() == diff[:, [0, 1, -2, -1]].max()
    assert g.margin > 2  # ... and those pixels are cropped with the generator's mirrored margin


def test_generators_without_that_stage_are_left_alone():
    g = build_generator("johnson")
    assert on_blocks(g) is g


@pytest.mark.parametrize("name", ["reel", "reel_guided"])
def test_every_pixel_of_a_block_reads_the_upsampled_rgb_with_the_convs_own_weights(name):
    """Per pixel of a block, the conv over the upsampled RGB holds exactly the trained weights (no products folded in),
    so bf16 rounds every pixel's weights alike and draws no 2x2 lattice on flat areas."""
    g = trained_like(name)
    stage = on_blocks(g).block_finish
    trained = g.detail[0].weight[:, 3:6]  # [hidden, RGB, 3, 3]
    for c in range(trained.shape[0]):
        for p in range(4):
            w = stage.rgb.weight[c * 4 + p]
            assert torch.equal(w[w != 0].sort().values, trained[c][trained[c] != 0].sort().values)
