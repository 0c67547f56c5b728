"""The inference engine: precision, layout and tiling must not change the picture."""

import os
import re
import subprocess
import sys

import pytest
import torch

from stylereel.nets.generator import build_generator
from stylereel.device import bf16_supported
from stylereel.errors import StylereelError
from stylereel.render.engine import InferenceEngine, PrecisionError, plan_tiles


def _generator(name: str) -> torch.nn.Module:
    """A generator with open gains and distinct looks; "reel_subpixel": the default one without its full-resolution stage."""
    torch.manual_seed(0)
    g = build_generator("reel", detail=False).eval() if name == "reel_subpixel" else build_generator(name).eval()
    for pname, p in g.named_parameters():
        if pname.endswith("gain"):
            p.data.fill_(0.3)  # ReZero gains start at 0; open them so every block matters
        if pname.startswith("mod."):
            p.data.normal_(0, 0.5)  # look modulations start as the identity; make each look differ
    return g


@pytest.mark.parametrize("backend", ["openvino", "torch"])  # CPU's runtime, and CUDA's (run here on the CPU)
@pytest.mark.parametrize("name", ["reel", "reel_subpixel"])
def test_engine_fp32_matches_the_plain_net_and_bf16_stays_close(backend, name):
    g = _generator(name)
    x = torch.rand(1, 3, 72, 100)
    with torch.no_grad():
        ref = g(x)
    fp32 = InferenceEngine(g, "cpu", precision="fp32", backend=backend)(x)
    assert fp32.shape == ref.shape and fp32.dtype == torch.float32
    assert torch.allclose(fp32, ref, atol=1e-5)
    if backend == "openvino" and not bf16_supported(torch.device("cpu")):
        with pytest.raises(PrecisionError, match="no bf16 units"):  # OpenVINO would quietly run fp32
            InferenceEngine(g, "cpu", precision="bf16", backend=backend)
        return
    bf16 = InferenceEngine(g, "cpu", precision="bf16", backend=backend)(x)
    assert bf16.dtype == torch.float32
    assert (bf16 - ref).abs().mean() < 2 / 255
    assert next(g.parameters()).dtype == torch.float32  # the caller's network is left alone


def test_one_engine_renders_any_frame_size():
    g = _generator("reel")
    engine = InferenceEngine(g, "cpu", precision="fp32")
    for h, w in [(64, 64), (101, 37), (64, 64), (2, 500)]:  # each size compiled for when it comes, again when it comes back
        x = torch.rand(2, 3, h, w)
        with torch.no_grad():
            assert torch.allclose(engine(x), g(x), atol=1e-5)


def test_the_cpu_engine_compiles_once_per_frame_size(monkeypatch):
    import openvino as ov

    from stylereel.render.engine import RenderGraph, _openvino_model, _openvino_runner

    shapes = []
    compile_model = ov.Core.compile_model
    monkeypatch.setattr(ov.Core, "compile_model", lambda core, m, *a: shapes.append(str(m.inputs[0].get_partial_shape())) or compile_model(core, m, *a))
    model = _openvino_model(RenderGraph(_generator("reel")))
    static, any_size = _openvino_runner(model, "f32"), _openvino_runner(model, "f32", static=False)
    frames = [torch.rand(1, 3, 64, 96), torch.rand(1, 3, 64, 96), torch.rand(1, 3, 80, 40), torch.rand(1, 3, 64, 96)]
    for x in frames:
        assert torch.allclose(static([x]), any_size([x]), atol=1e-5)
    assert shapes == ["[1,64,96,3]", "[?,?,?,3]", "[1,80,40,3]", "[1,64,96,3]"]  # NHWC in; the any-size network once


@pytest.mark.parametrize("name", ["reel", "reel_subpixel", "johnson", "reel_guided", "reel_looks"])
def test_tiled_render_equals_one_pass(name):
    g = _generator(name)
    x = torch.rand(1, 3, 203, 347)  # odd sizes: tiles end off the stride grid at the frame edge
    more = {i.name: torch.rand(1, i.channels, 203, 347) for i in g.inputs[1:]}
    whole = InferenceEngine(g, "cpu", precision="fp32", tile_pixels=10**9)(x, **more)
    tiles = plan_tiles(203, 347, g.stride, g.halo, 260 * 260)
    assert len(tiles) > 1
    tiled = InferenceEngine(g, "cpu", precision="fp32", tile_pixels=260 * 260)(x, **more)
    assert torch.allclose(tiled, whole, atol=1e-6)


@pytest.mark.parametrize("backend", ["openvino", "torch"])
def test_look_weights_the_same_at_every_pixel_are_given_once_for_the_same_picture(backend):
    """A mix without a matte goes in as [N, looks] (a network made for it) and draws what its constant map draws:
    whole, in tiles, and on a frame smaller than the generator's margin."""
    g = _generator("reel_looks")
    n = len(g.looks)
    mix = torch.arange(1.0, n + 1)[None] / (n * (n + 1) / 2)  # 1/3, 2/3 for two looks
    for h, w, tile in [(203, 347, 10**9), (203, 347, 260 * 260), (20, 30, 10**9)]:
        x = torch.rand(1, 3, h, w)
        engine = InferenceEngine(g, "cpu", precision="fp32", tile_pixels=tile, backend=backend)
        everywhere = engine(x, look=mix[..., None, None].expand(1, n, h, w).contiguous())
        assert torch.allclose(engine(x, look=mix), everywhere, atol=1e-5)
        other = mix.roll(1, 1)  # and the weights are read, not baked in: another mix, another picture
        assert (engine(x, look=other) - everywhere).abs().mean() > 1e-3
    with pytest.raises(StylereelError, match=re.escape(f"look: expected [1, {n}, 20, 30] or [1, {n}], got [1, {n + 1}]")):
        engine(x, look=torch.rand(1, n + 1))


def test_tiles_without_a_halo_show_seams():
    # Guards the test above: the comparison it makes can fail.
    g = _generator("reel")
    x = torch.rand(1, 3, 203, 347)
    whole = InferenceEngine(g, "cpu", precision="fp32", tile_pixels=10**9)(x)
    g.halo = 0
    tiled = InferenceEngine(g, "cpu", precision="fp32", tile_pixels=200 * 200)(x)
    assert (tiled - whole).abs().max() > 1e-2


@pytest.mark.parametrize("h, w, budget", [(2160, 3840, 2**21), (4320, 7680, 2**21), (1080, 1920, 2**21), (203, 347, 260 * 260)])
def test_tile_plan_covers_the_frame_once_on_the_stride_grid(h, w, budget):
    stride, halo = 8, 80
    boxes = plan_tiles(h, w, stride, halo, budget)
    cover = torch.zeros(h, w, dtype=torch.int32)
    for y0, y1, x0, x1 in boxes:
        assert y0 % stride == 0 and x0 % stride == 0
        assert (min(y1 + halo, h) - max(y0 - halo, 0)) * (min(x1 + halo, w) - max(x0 - halo, 0)) <= max(budget, h * w if len(boxes) == 1 else 0)
        cover[y0:y1, x0:x1] += 1
    assert bool((cover == 1).all())


class _Guided(torch.nn.Module):
    """A generator with two render-time inputs beyond the frame: a 2-channel guide (spatial:
    a warped previous frame's luminance and its confidence, say) and look weights (a vector)."""

    from stylereel.nets.generator import IMAGE, Input

    inputs = (IMAGE, Input("guide", 2), Input("look", 4, spatial=False))
    stride, halo = 1, 8

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(5, 3, 5, padding=2)
        self.film = torch.nn.Linear(4, 3)

    def forward(self, x, guide, look):
        x = torch.nn.functional.pad(x, (2, 2, 2, 2), mode="replicate")
        guide = torch.nn.functional.pad(guide, (2, 2, 2, 2), mode="replicate")
        y = self.conv(torch.cat([x, guide], 1))[..., 2:-2, 2:-2]
        return torch.sigmoid(y * self.film(look)[..., None, None])


@pytest.mark.parametrize("backend", ["openvino", "torch"])
def test_extra_inputs_go_through_the_same_engine_and_tiles(backend):
    torch.manual_seed(0)
    g = _Guided().eval()
    x, guide, look = torch.rand(2, 3, 61, 83), torch.rand(2, 2, 61, 83), torch.rand(2, 4)
    with torch.no_grad():
        ref = g(x, guide, look)
    whole = InferenceEngine(g, "cpu", precision="fp32", backend=backend)(x, guide=guide, look=look)
    tiled = InferenceEngine(g, "cpu", precision="fp32", backend=backend, tile_pixels=30 * 30)(x, guide=guide, look=look)
    assert len(plan_tiles(61, 83, 1, 8, 30 * 30)) > 1
    assert torch.allclose(whole, ref, atol=1e-5) and torch.allclose(tiled, ref, atol=1e-5)
    # The guide matters (so tiling it wrongly would show), and so does the look vector.
    with torch.no_grad():
        assert (g(x, guide.flip(-1), look) - ref).abs().max() > 1e-2 and (g(x, guide, look.flip(-1)) - ref).abs().max() > 1e-2


def test_engine_names_missing_or_unknown_inputs():
    from stylereel.errors import StylereelError

    engine = InferenceEngine(_Guided().eval(), "cpu", precision="fp32", backend="torch")
    x = torch.rand(1, 3, 16, 16)
    with pytest.raises(StylereelError, match="takes image, guide, look; missing: guide, look"):
        engine(x)
    with pytest.raises(StylereelError, match="unknown: matte"):
        engine(x, guide=torch.rand(1, 2, 16, 16), look=torch.rand(1, 4), matte=torch.rand(1, 1, 16, 16))
    with pytest.raises(StylereelError, match=r"guide: expected \[1, 2, 16, 16\], got \[1, 2, 8, 8\]"):
        engine(x, guide=torch.rand(1, 2, 8, 8), look=torch.rand(1, 4))


@pytest.mark.parametrize("backend", ["openvino", "torch"])
def test_a_frame_goes_in_and_comes_out_channels_last(backend):
    # Frames live in memory as [H, W, C]; the engine takes their NCHW view as it is and returns an
    # NCHW view over [H, W, 3] memory, so neither side copies a transposed frame.
    import numpy as np

    g = _generator("reel_looks")
    hwc = np.random.default_rng(0).random((72, 100, 3), dtype=np.float32)
    x = torch.from_numpy(hwc).permute(2, 0, 1)[None]  # not contiguous as NCHW
    look = torch.rand(1, 100, len(g.looks), 72).permute(0, 2, 3, 1)  # a strided extra input
    out = InferenceEngine(g, "cpu", precision="fp32", backend=backend)(x, look=look)
    with torch.no_grad():
        ref = g(x.contiguous(), look.contiguous())
    assert torch.allclose(out, ref, atol=1e-5)
    assert out[0].permute(1, 2, 0).is_contiguous()



CAP_PROBE = """
import torch
from stylereel.nets.generator import build_generator
from stylereel.render.engine import InferenceEngine
engine = InferenceEngine(build_generator("reel").eval(), "cpu", precision="fp32")
assert engine.kernels() is None  # nothing compiled yet
engine(torch.rand(1, 3, 64, 64))
print(engine.kernels())
"""


def test_the_engine_says_which_instruction_set_its_convolutions_ran_on():
    """`kernels()` reads the compiled network: an AVX2 cap (what a CPU without AVX-512 runs) shows as avx2."""
    from stylereel.device import cpu_description

    def probe(env: dict) -> str:
        r = subprocess.run([sys.executable, "-c", CAP_PROBE], capture_output=True, text=True, env={**os.environ, **env})
        assert r.returncode == 0, r.stderr
        return r.stdout.split()[-1]

    native = probe({})
    isa = cpu_description()["isa"]
    assert native == ("avx512" if "AVX-512" in isa else "avx2")  # fp32: no AMX kernels
    assert probe({"OV_CPU_MAX_ISA": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"}) == "avx2"
