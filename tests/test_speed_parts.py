"""The parts the speed benchmark relies on: MAC counting and the peers' layer tables."""

import pytest
from torch import nn

from stylereel.benchmark.peers import ResnetGenerator9, TransformerNet
from stylereel.benchmark.speed import conv_macs
from stylereel.nets.generator import build_generator


def test_conv_macs_counts_convs_and_transposed_convs():
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.ConvTranspose2d(8, 4, 2, stride=2))
    expected = 16 * 16 * 8 * 27 + 16 * 16 * 8 * 9 + 16 * 16 * 8 * (2 * 2 * 4)
    assert conv_macs(net, (1, 3, 16, 16)) == expected


@pytest.mark.parametrize("net, gmac_1080p", [(TransformerNet, 319), (ResnetGenerator9, 1568)])
def test_peer_layer_tables_match_published_cost(net, gmac_1080p):
    # The peers' cost at 1920x1080 as measured when the project was planned.
    assert conv_macs(net().eval(), (1, 3, 1080, 1920)) / 1e9 == pytest.approx(gmac_1080p, rel=0.02)


def test_conv_macs_include_the_generators_own_padding():
    # The default generator pads a 32 px margin around the frame and rounds up to
    # its stride: at 64x64 that is 4x the pixels, at 1080p about 10% more.
    # Scaling a small probe up would overstate the cost (and the achieved GFLOP/s).
    net = build_generator("reel").eval()
    small, full = conv_macs(net, (1, 3, 64, 64)), conv_macs(net, (1, 3, 1080, 1920))
    assert small * (1080 * 1920) / (64 * 64) > 2 * full
