"""Fuzzing (hypothesis): the frame readers, the frame-range, override and look parsers get
arbitrary input; the only acceptable outcomes are a result or stylereel's own clean error
(a `StylereelError`, which the CLI prints as one line). Anything else is a bug.

A short bounded run is part of the suite; a long one:

    STYLEREEL_FUZZ_EXAMPLES=20000 python -m pytest tests/test_fuzz.py -p no:cacheprovider
"""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stylereel.config import apply_overrides, default_config
from stylereel.errors import StylereelError
from stylereel.io.frames import read_image, write_image
from stylereel.io.sequence import parse_frames
from stylereel.render.look_map import parse_mix

EXAMPLES = int(os.environ.get("STYLEREEL_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 40,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@FUZZ
@given(st.text(alphabet="0123456789-x, abc", max_size=30))
def test_frame_ranges_parse_or_fail_cleanly(spec):
    try:
        frames = parse_frames(spec)
    except StylereelError:
        return
    assert frames == sorted(set(frames)) and all(isinstance(f, int) for f in frames)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 300), st.integers(1, 7)), min_size=1, max_size=4))
def test_well_formed_ranges_give_exactly_their_frames(items):
    spec = ",".join(f"{a}-{a + n}x{s}" for a, n, s in items)
    assert parse_frames(spec) == sorted({f for a, n, s in items for f in range(a, a + n + 1, s)})


KEYS = ["data.size", "data.batch", "data.scale_jitter", "data.style_trim", "data.looks", "train.steps", "train.lr_g",
        "train.minutes", "train.bf16", "model.generator", "model.init", "loss.style.weight", "loss.nope.weight", "data.sise", "x"]


@FUZZ
@given(st.sampled_from(KEYS), st.text(max_size=20))
def test_overrides_apply_or_fail_cleanly(key, value):
    try:
        apply_overrides(default_config("unpaired"), [f"--{key}={value}"])
    except StylereelError:
        pass


@FUZZ
@given(st.text(alphabet="inkwarm=,.0123456789-e none", max_size=30))
def test_look_mixes_parse_or_fail_cleanly(spec):
    try:
        mix = parse_mix(spec, ["none", "ink", "warm"])
    except StylereelError:
        return
    assert abs(sum(mix.values()) - 1) < 1e-6 and all(w >= 0 for w in mix.values())


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    """Small valid files of every readable format, written by the real writers."""
    root = tmp_path_factory.mktemp("seeds")
    rng = np.random.default_rng(0)
    rgb = rng.random((12, 16, 3), dtype=np.float32)
    alpha = rng.random((12, 16), dtype=np.float32)
    out = {}
    for name, kw in (("a.png", {"bit_depth": 16}), ("a.jpg", {}), ("a.tif", {"bit_depth": 8}), ("a.exr", {}),
                     ("a.dpx", {"bit_depth": 10})):
        write_image(root / name, rgb, alpha=alpha if name.endswith((".png", ".exr")) else None, **kw)
        out[name] = (root / name).read_bytes()
    return root, out


@FUZZ
@given(name=st.sampled_from(["a.png", "a.jpg", "a.tif", "a.exr", "a.dpx"]),
       cuts=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), min_size=1, max_size=6),
       truncate=st.floats(0.05, 1.0))
def test_frame_readers_read_or_fail_cleanly_on_damaged_files(seeds, name, cuts, truncate):
    root, files = seeds
    data = bytearray(files[name])
    for where, byte in cuts:  # corrupt a few bytes anywhere (headers included) ...
        data[min(len(data) - 1, int(where * len(data)))] = byte
    data = data[: max(1, int(len(data) * truncate))]  # ... and maybe cut the file short
    path = root / f"fuzzed_{name}"
    path.write_bytes(bytes(data))
    try:
        frame = read_image(path)
    except StylereelError as exc:
        assert str(path) in str(exc)  # names the file
        return
    assert frame.rgb.ndim == 3 and frame.rgb.shape[-1] == 3 and frame.rgb.dtype == np.float32
