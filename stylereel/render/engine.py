"""The inference path every renderer goes through: one place decides runtime,
precision and tiling for a generator on a device.

- CPU: the generator is converted once to OpenVINO and run by its CPU plugin,
  compiled for the frame's size (again when the size changes; tiles of a large
  frame share one network compiled for any size), which fuses the thin layers
  this network is made of; in bf16
  where the CPU has bf16 units (AVX-512 BF16 / AMX). Measured against PyTorch
  eager (channels_last, bf16 weights), torch.compile and ONNX Runtime in
  bench/RESULTS.md, section "backends": it was the fastest.
- CUDA: PyTorch, channels_last, a bf16 copy of the weights where supported.
- Either way the output is float32; bf16 moves it by well under one 8-bit code
  value on average (tests/test_engine.py).
- A generator may take more than the frame (`net.inputs`: guide channels, look
  weights, a matte): every input goes through the same graph (`RenderGraph`, the
  one definition of the network that every runtime and exporter converts), spatial
  inputs are tiled exactly like the frame and the others are given to every tile. A spatial
  input given the same at every pixel (`[N, C]`: a multi-look model's look weights without a
  matte; `UNIFORM_INPUTS`) goes through a network made for that, with the same picture and
  without a constant map carried through every stage: the six-look model 1.2-1.5x faster at
  1080p (bench/RESULTS.md, "uniform-looks").
- Frames larger than `tile_pixels` are rendered in tiles, each with a halo of
  real picture as wide as the generator's receptive field (`net.halo`) and
  aligned to its stride, so the result is the same as one pass over the whole
  frame while memory stays bounded (8K and up). bench/RESULTS.md, section
  "backends", has the tile-size sweep that picked TILE_PIXELS: OpenVINO blocks
  a large frame well by itself, so tiles only pay beyond 4K.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from stylereel.device import bf16_supported
from stylereel.errors import StylereelError
from stylereel.nets.generator import IMAGE, Input
from stylereel.nets.space_to_depth import on_blocks
from stylereel.render.ov import openvino

TILE_PIXELS = 2**24  # 4K in one piece: OpenVINO ran it in 607 ms whole, 706-822 ms in 3-12 tiles
# Working memory of the network per pixel it runs at once (a tile, or the frame): 890 MiB of growth
# at 2160p in bench/RESULTS.md ("speed"), ~110 bytes a pixel, rounded up.
NET_BYTES_PER_PIXEL = 128


def plan_tiles(h: int, w: int, stride: int, halo: int, budget: int) -> list[tuple[int, int, int, int]]:
    """Split an h x w frame into core boxes (y0, y1, x0, x1) whose haloed size fits `budget` pixels.

    Cores start on multiples of `stride` (so every tile sees the same sampling
    grid as the whole frame). Among the splits that fit, the one that processes
    the fewest pixels in all wins; full-width strips win ties (contiguous rows).
    """
    if h * w <= budget:
        return [(0, h, 0, w)]
    best = None
    for columns in range(1, 33):
        cw = _stride_ceil(w / columns, stride)
        ch = _core_height(h, cw, stride, halo, budget)
        if ch is None:
            continue
        boxes = [(y, min(y + ch, h), x, min(x + cw, w)) for y in range(0, h, ch) for x in range(0, w, cw)]
        cost = sum((min(y1 + halo, h) - max(y0 - halo, 0)) * (min(x1 + halo, w) - max(x0 - halo, 0)) for y0, y1, x0, x1 in boxes)
        if best is None or cost < best[0]:
            best = (cost, boxes)
    if best is None:
        raise ValueError(f"no tiling of {w}x{h} fits {budget} pixels with a {halo}-pixel halo")
    return best[1]


def _stride_ceil(v: float, stride: int) -> int:
    return math.ceil(v / stride) * stride


def _core_height(h: int, cw: int, stride: int, halo: int, budget: int) -> int | None:
    """Core height for the fewest rows of tiles `cw` wide whose haloed size fits `budget`."""
    for rows in range(1, h // stride + 2):
        ch = _stride_ceil(h / rows, stride)
        if (ch + 2 * halo) * (cw + 2 * halo) <= budget:
            return ch
    return None


class RenderGraph(nn.Module):
    """The network as every runtime sees it: positional float32 inputs in the generator's
    declared order (`net.inputs`), one RGB output `[N, 3, H, W]` in [0, 1]. The spatial inputs
    named in `uniform` are taken as `[N, C]`, the same at every pixel (a generator that accepts
    that: `reel_looks`' look weights)."""

    def __init__(self, net: nn.Module, uniform: frozenset[str] = frozenset()):
        super().__init__()
        self.net, self.uniform = net, frozenset(uniform)
        declared = tuple(getattr(net, "inputs", (IMAGE,)))
        self.inputs: tuple[Input, ...] = tuple(Input(i.name, i.channels, False) if i.name in uniform else i for i in declared)
        if not self.inputs or self.inputs[0] != IMAGE:
            raise ValueError(f"a generator's first input must be the frame {IMAGE}, got {self.inputs[:1]}")

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return self.net(*xs)

    def example_inputs(self, n: int = 1, h: int = 64, w: int = 64) -> tuple[torch.Tensor, ...]:
        return tuple(torch.rand(n, i.channels, h, w) if i.spatial else torch.rand(n, i.channels) for i in self.inputs)


PRECISIONS = ("auto", "fp32", "bf16", "int8")
# Spatial inputs a generator also takes as `[N, C]`, the same at every pixel: a multi-look model's look weights
# without a matte. The engine then runs a network made for that (the same picture as the constant map, which
# every stage would otherwise carry, pad and pool at its resolution).
UNIFORM_INPUTS = frozenset({"look"})


class PrecisionError(StylereelError):
    pass


def choose_precision(asked: str, device: torch.device, backend: str) -> tuple[str, str]:
    """(the precision a render runs at, why, in words). `auto`: bf16 where the device has bf16 units,
    else fp32 (int8 only when asked: `--precision int8`). An explicit bf16 is refused where the
    device has no bf16 units (OpenVINO would quietly run fp32)."""
    if asked not in PRECISIONS:
        raise PrecisionError(f"--precision: expected one of {', '.join(PRECISIONS)}, got {asked!r}")
    bf16 = bf16_supported(device)
    if asked == "auto":
        return ("bf16", "auto: this device has bf16 units") if bf16 else ("fp32", "auto: no bf16 units on this device")
    if asked == "bf16" and not bf16 and backend == "openvino":
        raise PrecisionError("--precision bf16: this CPU has no bf16 units (AVX-512 BF16 or AMX); use fp32, int8 or auto")
    return asked, "asked for"


class InferenceEngine:
    """Runs a generator on frames of any size: OpenVINO on CPU, PyTorch on CUDA.

    `engine(frame, **extras)`: the frame `[N, 3, H, W]` and the generator's other
    declared inputs by name. `backend` ("openvino" or "torch") overrides the choice,
    for benchmarks and tests.
    """

    def __init__(self, net: nn.Module, device: torch.device | str | None = None, precision: str = "auto",
                 tile_pixels: int | None = None, backend: str | None = None, model_dir=None):
        """`precision`: "fp32", "bf16" (CPUs with bf16 units, CUDA), "int8" (the CPU engine; the network
        quantized once and cached beside the model in `model_dir`: `stylereel.render.int8`) or "auto"
        (`choose_precision`). `self.precision` is what runs, `self.precision_note` why, in words."""
        self.device = torch.device(device) if device is not None else next(net.parameters()).device
        self.backend = backend or ("openvino" if self.device.type == "cpu" else "torch")
        self.tile_pixels = tile_pixels or TILE_PIXELS
        self.stride = getattr(net, "stride", 1)
        self.halo = getattr(net, "halo", None)
        self.min_side = getattr(net, "min_side", 1)
        graph = RenderGraph(copy.deepcopy(net).float().eval().requires_grad_(False))
        self.inputs = graph.inputs
        self.precision, self.precision_note = choose_precision(precision, self.device, self.backend)
        self.int8 = None  # int8's record against fp32 (stylereel.render.int8), where it runs
        # The network for spatial inputs given the same at every pixel ([N, C]), by their names; made when first asked for.
        self._uniform: dict[frozenset[str], tuple] = {}
        self._graph = graph
        if self.backend == "openvino":
            if self.device.type != "cpu":
                raise ValueError(f"the openvino backend runs on the CPU, not {self.device}")
            model = _openvino_model(graph)
            if self.precision == "int8":
                if len(self.inputs) > 1:
                    raise PrecisionError(f"--precision int8: this look takes {', '.join(i.name for i in self.inputs)}; "
                                         "int8 is made for looks that take the frame alone")
                if model_dir is None:
                    raise PrecisionError("--precision int8 needs the model's folder, where its int8 network is kept")
                from stylereel.render.int8 import quantized

                model, self.int8 = quantized(Path(model_dir), model, lambda m: _openvino_runner(m, "f32"))
                self.precision_note += f"; {self.int8['mean_codes']:.2f} 8-bit codes from fp32 on average"
            hint = "bf16" if self.precision == "bf16" else "f32"
            # int8 keeps one any-size network for frames and tiles alike: compiled for a fixed shape, OpenVINO picks
            # other int8 kernels, up to 4 codes from the any-size network's picture, and tiles must equal the whole frame.
            static = self.precision != "int8"
            self._run, self._run_tile = _openvino_runner(model, hint, static=static), _openvino_runner(model, hint, static=False)
            self._variant = lambda g: _runners(_openvino_model(g), hint)  # converted once, compiled per frame size and for tiles
        elif self.backend == "torch":
            if self.precision == "int8":
                raise PrecisionError(f"--precision int8 runs on the CPU engine, not on {self.device}")
            self._run = self._run_tile = _torch_runner(graph, self.device, self.precision == "bf16")
            self._variant = lambda g: (self._run, self._run_tile)  # the generator itself takes either shape
        else:
            raise ValueError(f"unknown inference backend {backend!r}; use 'openvino' or 'torch'")

    def kernels(self) -> str | None:
        """The instruction set the CPU engine's convolutions run on ("avx512", "avx2", "amx"; `kernel_isa`), known
        once a frame has been rendered; None before, or on CUDA. It says what the precision alone does not: a
        CPU's own vector units, or a cap (ONEDNN_MAX_CPU_ISA) that holds them back."""
        if self.backend != "openvino":
            return None
        runners = [self._run, self._run_tile] + [r for _, *pair in self._uniform.values() for r in pair]
        return kernel_isa([k for r in runners for k in r.kernels()])

    def memory_needed(self, h: int, w: int) -> int:
        """Bytes a frame of h x w takes through the network: its working memory over one tile
        (haloed tiles fit `tile_pixels`), plus the whole frame in and out as float32."""
        return min(h * w, self.tile_pixels) * NET_BYTES_PER_PIXEL + 2 * h * w * 3 * 4

    def _gather(self, x: torch.Tensor, extras: dict[str, torch.Tensor]) -> tuple[list[torch.Tensor], frozenset[str]]:
        """The inputs in declared order, on the engine's device, checked against the declaration; and the
        names of the spatial ones given the same at every pixel (`[N, C]`, where the generator takes that)."""
        names = [i.name for i in self.inputs[1:]]
        unknown, missing = sorted(set(extras) - set(names)), [n for n in names if n not in extras]
        if unknown or missing:
            raise StylereelError(f"this model takes {', '.join(['image', *names])}; "
                                 + (f"unknown: {', '.join(unknown)}" if unknown else f"missing: {', '.join(missing)}"))
        if x.dim() != 4 or x.shape[1] != 3:
            raise StylereelError(f"image: expected RGB [N, 3, H, W], got {list(x.shape)}")
        n, _, h, w = x.shape
        out, uniform = [x.to(self.device, torch.float32)], set()
        for spec in self.inputs[1:]:
            t = extras[spec.name]
            want = [n, spec.channels, h, w] if spec.spatial else [n, spec.channels]
            if spec.spatial and spec.name in UNIFORM_INPUTS and list(t.shape) == [n, spec.channels]:
                uniform.add(spec.name)
            elif list(t.shape) != want:
                raise StylereelError(f"{spec.name}: expected {want}" + (f" or {[n, spec.channels]}" if spec.name in UNIFORM_INPUTS else "")
                                     + f", got {list(t.shape)}")
            out.append(t.to(self.device, torch.float32))
        return out, frozenset(uniform)

    def _network(self, uniform: frozenset[str]) -> tuple[tuple[Input, ...], object, object]:
        """(inputs, whole-frame runner, tile runner) for frames whose `uniform` inputs are the same at every pixel."""
        if not uniform:
            return self.inputs, self._run, self._run_tile
        if uniform not in self._uniform:
            graph = RenderGraph(self._graph.net, uniform)
            self._uniform[uniform] = (graph.inputs, *self._variant(graph))
        return self._uniform[uniform]

    @torch.inference_mode()
    def __call__(self, x: torch.Tensor, **extras: torch.Tensor) -> torch.Tensor:
        """[N, 3, H, W] float in [0, 1] (any device) + declared extras -> [N, 3, H, W] float32 on the engine's device."""
        xs, uniform = self._gather(x, extras)
        inputs, run, run_tile = self._network(uniform)
        n, _, h, w = xs[0].shape
        if min(h, w) < self.min_side:  # a frame smaller than the generator's mirrored margin: replicated up to it
            big = [F.pad(t, (0, max(0, self.min_side - w), 0, max(0, self.min_side - h)), mode="replicate") if spec.spatial else t
                   for spec, t in zip(inputs, xs)]
            return run(big)[..., :h, :w]
        if self.halo is None or h * w <= self.tile_pixels:
            return run(xs)
        out = torch.empty(n, 3, h, w, device=self.device, memory_format=torch.channels_last)
        hl = self.halo
        for y0, y1, x0, x1 in plan_tiles(h, w, self.stride, hl, self.tile_pixels):
            ty, tx = max(y0 - hl, 0), max(x0 - hl, 0)
            window = (..., slice(ty, min(y1 + hl, h)), slice(tx, min(x1 + hl, w)))
            tile = run_tile([t[window] if spec.spatial else t for spec, t in zip(inputs, xs)])
            out[..., y0:y1, x0:x1] = tile[..., y0 - ty : y1 - ty, x0 - tx : x1 - tx]
        return out


def _openvino_model(graph: RenderGraph):
    """The network as an OpenVINO model taking inputs of any size.

    The default generator's full-resolution stage is converted as `stylereel.nets.space_to_depth`
    computes it, on 2x2 blocks at half resolution (equal to float rounding inside the frame).
    The conversion goes through OpenVINO's PyTorch frontend directly rather than
    `openvino.convert_model`, which reports usage over the network unless the
    user has opted out: rendering must stay offline (and OpenVINO itself is imported through
    `stylereel.render.ov`, which declines the reporting its import sets up).
    """
    ov = openvino()
    from openvino.frontend import FrontEndManager
    from openvino.frontend.pytorch.ts_decoder import TorchScriptPythonDecoder

    graph = RenderGraph(on_blocks(graph.net), graph.uniform)  # the full-resolution stage on 2x2 blocks: the same function, faster here
    frontend = FrontEndManager().load_by_framework("pytorch")
    decoder = TorchScriptPythonDecoder(graph, example_input=graph.example_inputs())  # must outlive convert()
    model = frontend.convert(frontend.load(decoder))
    model.reshape({i: ov.PartialShape([-1, spec.channels, -1, -1] if spec.spatial else [-1, spec.channels])
                   for i, spec in enumerate(graph.inputs)})
    return model


def _openvino_runner(model, hint: str, static: bool = True):
    """Compile for this CPU at this precision hint ("f32", "bf16"); float32 in and out.

    `static`: compiled for the shape of the frame it is given, once, and kept until a frame of another
    shape comes (which compiles its own, 0.1-0.2 s). With the shape fixed, OpenVINO folds the shape
    arithmetic away (the stride padding a 1080p frame does not need is then gone, not a copy on a
    reference kernel) and plans the network's memory once: the same pictures in 0.71-0.97x the time of
    one network compiled for any size (1080p, every model, precision and ISA cap; bench/RESULTS.md, "static"). Otherwise (tiles of a large frame,
    of several sizes) one network serves every size.

    Frames cross into OpenVINO channels-last (NHWC) and come back channels-last: a frame read from
    disk is [H, W, C] in memory, so its NCHW view goes in without a copy, and the output's NCHW view
    over NHWC memory is a plain [H, W, 3] array again. The layout change happens inside the compiled
    graph, where it merges into the first and last layers: two full-frame transposes and their
    fresh 25 MB arrays fewer per frame (1080p bf16 on 2 cores, [H, W, 3] in to a contiguous
    [H, W, 3] out: 140 ms, against 163-189 ms with NCHW in and out)."""
    ov = openvino()
    from openvino.preprocess import PrePostProcessor

    config = {"INFERENCE_PRECISION_HINT": hint, "PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": torch.get_num_threads()}

    def compiled(shapes: tuple | None):
        m = model.clone()  # the shape and layout are set on a copy: the caller's model stays NCHW, any size
        if shapes is not None:
            m.reshape({i: ov.PartialShape(list(shape)) for i, shape in enumerate(shapes)})
        ppp = PrePostProcessor(m)
        for i, port in enumerate(m.inputs):
            if port.get_partial_shape().rank.get_length() == 4:
                ppp.input(i).tensor().set_layout(ov.Layout("NHWC"))
                ppp.input(i).model().set_layout(ov.Layout("NCHW"))
        ppp.output(0).tensor().set_layout(ov.Layout("NHWC"))
        ppp.output(0).model().set_layout(ov.Layout("NCHW"))
        return ov.Core().compile_model(ppp.build(), "CPU", config).create_infer_request()

    return _OpenVINORunner(compiled, static)


def _runners(model, hint: str) -> tuple:
    """(whole-frame runner, tile runner) of one converted network."""
    return _openvino_runner(model, hint), _openvino_runner(model, hint, static=False)


class _OpenVINORunner:
    """Frames through the network compiled by `compiled(shapes)`: for each new frame shape where `static`,
    else once for any size (shapes None)."""

    def __init__(self, compiled, static: bool):
        self.compiled, self.static = compiled, static
        self.held: dict = {}  # the shapes the request was compiled for -> the request (one at a time)

    def __call__(self, xs: list) -> torch.Tensor:
        """NCHW tensors or arrays (any strides) -> NCHW float32 tensor whose memory is NHWC (a new one)."""
        ts = [torch.from_numpy(t) if isinstance(t, np.ndarray) else t for t in xs]
        shapes = tuple(tuple(t.shape) for t in ts) if self.static else None
        if shapes not in self.held:
            self.held.clear()  # the last shape's network and its memory go before the next is compiled
            self.held[shapes] = self.compiled(shapes)
        arrays = {i: (t.permute(0, 2, 3, 1) if t.dim() == 4 else t).contiguous().numpy() for i, t in enumerate(ts)}
        return torch.from_numpy(self.held[shapes].infer(arrays, share_inputs=True)[0]).permute(0, 3, 1, 2)  # a copy

    def kernels(self) -> list[str]:
        """oneDNN's names for the convolution kernels of the network compiled last ("brgconv_avx2_1x1_f32", ...)."""
        out = []
        for request in self.held.values():
            for op in request.get_compiled_model().get_runtime_model().get_ordered_ops():
                rt = op.get_rt_info()
                if rt["layerType"].astype(str) == "Convolution":
                    out.append(rt["primitiveType"].astype(str))
        return out


ISAS = ("amx", "avx512", "avx2", "sse41")  # oneDNN's instruction sets in its kernel names, widest first


def kernel_isa(kernels: list[str]) -> str | None:
    """The widest instruction set among oneDNN kernel names: "amx", "avx512", "avx2", "sse41", "ref"
    (reference C++ code), or None for no kernels."""
    for isa in ISAS:
        if any(isa in k for k in kernels):
            return isa
    return "ref" if kernels else None


def _torch_runner(graph: RenderGraph, device: torch.device, bf16: bool):
    """channels_last, and a bf16 copy of the weights (not autocast, which re-casts every weight every frame)."""
    dtype = torch.bfloat16 if bf16 else torch.float32
    graph = graph.to(device, dtype, memory_format=torch.channels_last)

    def run(xs: list[torch.Tensor]) -> torch.Tensor:
        xs = [t.to(dtype).contiguous(memory_format=torch.channels_last) if t.dim() == 4 else t.to(dtype) for t in xs]
        return graph(*xs).float().contiguous(memory_format=torch.channels_last)  # [H, W, 3] in memory, as frames are

    return run
