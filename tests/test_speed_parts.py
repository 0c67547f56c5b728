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


def test_freed_frames_stay_in_the_process_for_the_next_frame():
    # A fresh process each way. By default glibc maps a 4K float frame (100 MB) on its own and
    # gives it back to the kernel when it is freed, so the next frame's array is faulted in anew.
    # With keep_freed_memory it comes from the heap and its memory stays there once freed.
    import ctypes.util
    import json
    import subprocess
    import sys

    if not sys.platform.startswith("linux") or "libc" not in (ctypes.util.find_library("c") or ""):
        pytest.skip("glibc only")
    probe = (
        "import ctypes, json, sys, numpy as np\n"
        "from stylereel.device import keep_freed_memory\n"
        "kept = keep_freed_memory() if sys.argv[1] == 'keep' else None\n"
        "class Info(ctypes.Structure): _fields_ = [(n, ctypes.c_size_t) for n in "
        "('arena', 'ordblks', 'smblks', 'hblks', 'hblkhd', 'usmblks', 'fsmblks', 'uordblks', 'fordblks', 'keepcost')]\n"
        "mallinfo2 = ctypes.CDLL('libc.so.6').mallinfo2; mallinfo2.restype = Info\n"
        "a = np.ones((2160, 3840, 3), np.float32); mapped = mallinfo2().hblkhd\n"
        "del a; free = mallinfo2().fordblks\n"
        "print(json.dumps({'kept': kept, 'mapped': mapped, 'free': free}))\n"
    )
    runs = {mode: json.loads(subprocess.run([sys.executable, "-c", probe, mode], capture_output=True, text=True, check=True).stdout)
            for mode in ("keep", "default")}
    frame = 2160 * 3840 * 3 * 4
    assert runs["keep"]["kept"] is True
    assert runs["default"]["mapped"] >= frame and runs["default"]["free"] < frame  # mapped alone, then handed back
    assert runs["keep"]["mapped"] < frame and runs["keep"]["free"] >= frame  # from the heap, and kept there
