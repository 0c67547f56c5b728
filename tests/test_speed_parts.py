"""The parts the speed benchmark relies on: MAC counting, peer layer tables, the inference engine."""

import pytest
import torch
from torch import nn

from stylereel.benchmark.peers import ResnetGenerator9, TransformerNet
from stylereel.benchmark.speed import conv_macs
from stylereel.nets.generator import build_generator
from stylereel.render.engine import InferenceEngine


def test_conv_macs_counts_convs_and_transposed_convs():
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.ConvTranspose2d(8, 4, 2, stride=2))
    expected = 16 * 16 * 8 * 27 + 16 * 16 * 8 * 9 + 16 * 16 * 8 * (2 * 2 * 4)
    assert conv_macs(net, (1, 3, 16, 16)) == expected


@pytest.mark.parametrize("net, gmac_1080p", [(TransformerNet, 319), (ResnetGenerator9, 1568)])
def test_peer_layer_tables_match_published_cost(net, gmac_1080p):
    # The peers' cost at 1920x1080 as measured when the project was planned.
    macs = conv_macs(net().eval(), (1, 3, 64, 64)) * (1080 * 1920) / (64 * 64)
    assert macs / 1e9 == pytest.approx(gmac_1080p, rel=0.02)


def test_engine_fp32_matches_the_plain_net_and_bf16_stays_close():
    torch.manual_seed(0)
    g = build_generator("reel").eval()
    for name, p in g.named_parameters():
        if name.endswith("gain"):
            p.data.fill_(0.3)
    x = torch.rand(1, 3, 72, 100)
    with torch.no_grad():
        ref = g(x)
    fp32 = InferenceEngine(g, "cpu", bf16=False)(x)
    assert fp32.shape == ref.shape and fp32.dtype == torch.float32
    assert torch.allclose(fp32, ref, atol=1e-5)
    bf16 = InferenceEngine(g, "cpu", bf16=True)(x)
    assert (bf16 - ref).abs().mean() < 2 / 255
