"""Frame formats beyond 8-bit stills: EXR (written by OpenEXR), DPX (written by FFmpeg
through PyAV), sequences and frame ranges, movies, and the colour pipeline."""

from fractions import Fraction

import av
import numpy as np
import OpenEXR
import pytest

from stylereel.io.color import SRGB, ColorError, WorkingEncoding, convert, default_space, resolve_space
from stylereel.io.frames import ImageError, probe_image, read_image, write_image
from stylereel.io.media import open_source, split_range
from stylereel.io.sequence import Sequence, SequenceError, format_frames, parse_frames
from stylereel.io.video import MovieWriter, probe_movie, read_movie

RNG = np.random.default_rng(0)


def _box(x0, y0, x1, y1):
    return (np.array([x0, y0], np.int32), np.array([x1, y1], np.int32))


def write_exr(path, rgb, alpha=None, extra=None, header=None, dtype=np.float16):
    chans = {c: np.ascontiguousarray(rgb[..., i], dtype=dtype) for i, c in enumerate("RGB")}
    if alpha is not None:
        chans["A"] = np.ascontiguousarray(alpha, dtype=dtype)
    chans.update(extra or {})
    hd = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage, **(header or {})}
    with OpenEXR.File(hd, chans) as f:
        f.write(str(path))


def read_exr_channels(path):
    with OpenEXR.File(str(path), separate_channels=True) as f:
        return dict(f.header()), {k: c.pixels.copy() for k, c in f.channels().items()}


@pytest.mark.parametrize("dtype,sample", [(np.float16, "half"), (np.float32, "float")])
def test_exr_keeps_pixel_type_channels_layers_and_header(tmp_path, dtype, sample):
    h, w = 24, 32
    rgb = RNG.random((h, w, 3)).astype(np.float32) * 4  # scene-linear: values above 1 are normal
    alpha = RNG.random((h, w)).astype(dtype)
    depth = RNG.random((h, w)).astype(np.float32) * 100
    header = {"compression": OpenEXR.PIZ_COMPRESSION, "pixelAspectRatio": 2.0, "framesPerSecond": Fraction(24000, 1001),
              "owner": "comp", "dataWindow": _box(10, 5, 10 + w - 1, 5 + h - 1), "displayWindow": _box(0, 0, 99, 79)}
    write_exr(tmp_path / "in.exr", rgb, alpha, {"depth.Z": depth}, header, dtype)

    frame = read_image(tmp_path / "in.exr")
    assert frame.sample == sample and frame.is_float and frame.rgb.dtype == np.float32
    assert frame.rgb.max() > 1.0  # nothing clipped on the way in
    assert probe_image(tmp_path / "in.exr") == (w, h, 4)
    write_image(tmp_path / "out.exr", frame.rgb * 0.5, alpha=frame.alpha, like=frame)

    hd, ch = read_exr_channels(tmp_path / "out.exr")
    assert ch["R"].dtype == dtype and ch["depth.Z"].dtype == np.float32
    assert np.array_equal(ch["depth.Z"], depth) and np.array_equal(ch["A"], alpha)
    np.testing.assert_allclose(ch["G"].astype(np.float32), (rgb[..., 1].astype(dtype).astype(np.float32) * 0.5).astype(dtype), rtol=1e-3)
    assert hd["compression"] == OpenEXR.PIZ_COMPRESSION and hd["pixelAspectRatio"] == 2.0
    assert hd["framesPerSecond"] == Fraction(24000, 1001) and hd["owner"] == "comp"
    assert [list(v) for v in hd["dataWindow"]] == [[10, 5], [10 + w - 1, 5 + h - 1]]
    assert [list(v) for v in hd["displayWindow"]] == [[0, 0], [99, 79]]


def test_exr_other_parts_pass_through(tmp_path):
    h, w = 8, 12
    beauty = OpenEXR.Part({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage},
                          {c: RNG.random((h, w)).astype(np.float16) for c in "RGB"}, name="beauty")
    z = RNG.random((h, w)).astype(np.float32)
    depth = OpenEXR.Part({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}, {"Z": z}, name="depth")
    with OpenEXR.File([beauty, depth]) as f:
        f.write(str(tmp_path / "in.exr"))
    frame = read_image(tmp_path / "in.exr")
    write_image(tmp_path / "out.exr", frame.rgb, like=frame)
    with OpenEXR.File(str(tmp_path / "out.exr"), separate_channels=True) as f:
        assert [p.name() for p in f.parts] == ["beauty", "depth"]
        assert np.array_equal(f.parts[1].channels["Z"].pixels, z)


def test_exr_with_nan_is_refused_by_name(tmp_path):
    rgb = np.ones((4, 4, 3), np.float32)
    rgb[1, 2, 0] = np.nan
    write_exr(tmp_path / "nan.exr", rgb)
    with pytest.raises(ImageError, match=r"nan\.exr: 1 pixels hold NaN"):
        read_image(tmp_path / "nan.exr")


def test_dpx_10bit_codes_round_trip_exactly(tmp_path):
    h, w = 20, 28
    codes = RNG.integers(0, 1024, (h, w, 3), dtype=np.uint16)
    with av.open(str(tmp_path / "in.dpx"), "w", format="image2", options={"update": "1"}) as out:  # written by FFmpeg
        s = out.add_stream("dpx")
        s.width, s.height, s.pix_fmt = w, h, "gbrp10le"
        for p in s.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(codes[..., [1, 2, 0]]), format="gbrp10le")):
            out.mux(p)
        for p in s.encode():
            out.mux(p)
    frame = read_image(tmp_path / "in.dpx")
    assert frame.sample == "uint10" and frame.bit_depth == 10
    assert np.array_equal(np.rint(frame.rgb * 1023).astype(np.uint16), codes)
    write_image(tmp_path / "out.dpx", frame.rgb, like=frame)
    again = read_image(tmp_path / "out.dpx")
    assert again.sample == "uint10" and np.array_equal(np.rint(again.rgb * 1023).astype(np.uint16), codes)


@pytest.mark.parametrize("ext,bits,sample", [(".png", 16, "uint16"), (".tif", 8, "uint8"), (".dpx", 16, "uint16"), (".dpx", 12, "uint12")])
def test_integer_formats_keep_their_depth(tmp_path, ext, bits, sample):
    rgb = RNG.random((10, 14, 3)).astype(np.float32)
    write_image(tmp_path / f"a{ext}", rgb, bit_depth=bits)
    frame = read_image(tmp_path / f"a{ext}")
    assert frame.sample == sample
    assert np.abs(frame.rgb - rgb).max() <= 0.5 / (2**bits - 1) + 1e-6


def test_frame_ranges_parse_like_a_compositor_writes_them():
    assert parse_frames("1001-1005") == [1001, 1002, 1003, 1004, 1005]
    assert parse_frames("1001-1010x3") == [1001, 1004, 1007, 1010]
    assert parse_frames("1001,1005,1010-1012") == [1001, 1005, 1010, 1011, 1012]
    assert parse_frames("-3--1,0") == [-3, -2, -1, 0]
    assert format_frames([1, 2, 3, 7, 9, 10]) == "1-3,7,9-10"
    for bad in ("", "1-", "5-1", "1-10x0", "a-b", "1001-1100x"):
        with pytest.raises(SequenceError):
            parse_frames(bad)
    assert split_range("plate.####.exr:1001-1100x2") == ("plate.####.exr", "1001-1100x2")
    assert split_range("shot.mov:1-48") == ("shot.mov", "1-48")
    assert split_range("notes:1-2.png") == ("notes:1-2.png", None)


@pytest.mark.parametrize("pattern", ["s.####.png", "s.%04d.png", "s.@@@@.png"])
def test_sequence_patterns_find_frames_and_report_all_problems_at_once(tmp_path, pattern):
    rgb = RNG.random((12, 16, 3)).astype(np.float32)
    for n in (1001, 1002, 1003, 1005):
        write_image(tmp_path / f"s.{n:04d}.png", rgb)
    write_image(tmp_path / "s.1006.png", rgb[:8])
    write_image(tmp_path / "s.1007.png", rgb, alpha=np.full((12, 16), 255, np.uint8))
    seq = Sequence(str(tmp_path / pattern))
    assert seq.on_disk() == [1001, 1002, 1003, 1005, 1006, 1007]
    assert seq.path(1002).name == "s.1002.png"
    with pytest.raises(SequenceError, match=r"2 of 4 frames missing: 1004,1008"):
        seq.resolve(parse_frames("1004-1008x2,1005,1006"), probe=probe_image)
    # A gap in what is on disk is a missing frame, reported with the frames of another size.
    with pytest.raises(SequenceError, match=r"1 of 7 frames missing: 1004 .*; frames differ .*1006: 16x8x3; 1007: 16x12x4"):
        seq.resolve(None, probe=probe_image)
    assert [n for n, _ in seq.resolve(parse_frames("1001-1003"), probe=probe_image)] == [1001, 1002, 1003]


def make_movie(path, n=8, size=(64, 48), rate=Fraction(24000, 1001), timecode="01:00:10:05", alpha=True, audio=True):
    w, h = size
    with av.open(str(path), "w") as o:
        v = o.add_stream("prores_ks", rate=rate)
        v.width, v.height, v.pix_fmt = w, h, "yuva444p10le" if alpha else "yuv422p10le"
        v.options = {"profile": "4" if alpha else "3"}
        v.metadata["timecode"] = timecode
        a = None
        if audio:
            a = o.add_stream("aac", rate=48000)
            a.layout = "stereo"
        for i in range(n):
            img = np.zeros((h, w, 4), np.uint16)
            img[..., 0] = i * 6000
            img[..., 1] = np.linspace(0, 65535, w, dtype=np.uint16)[None]
            img[..., 3] = np.linspace(0, 65535, h, dtype=np.uint16)[:, None]
            f = av.VideoFrame.from_ndarray(img, format="rgba64le")
            f.pts = i
            for p in v.encode(f):
                o.mux(p)
        if a is not None:
            samples = int(48000 * n / float(rate))
            tone = (0.2 * np.sin(np.arange(samples) * 2 * np.pi * 440 / 48000)).astype(np.float32)
            for s in range(0, samples, 1024):
                chunk = tone[s : s + 1024]
                af = av.AudioFrame.from_ndarray(np.stack([chunk, chunk]), format="fltp", layout="stereo")
                af.sample_rate, af.pts = 48000, s
                for p in a.encode(af):
                    o.mux(p)
        for s in (v, a) if a is not None else (v,):
            for p in s.encode():
                o.mux(p)
    return path


def test_movie_writer_keeps_rate_timecode_audio_and_alpha(tmp_path):
    src = make_movie(tmp_path / "src.mov")
    info = probe_movie(src)
    assert (info.fps, info.timecode, info.has_alpha, info.has_audio, info.frame_count) == (Fraction(24000, 1001), "01:00:10:05", True, True, 8)
    frames = list(read_movie(src))
    with MovieWriter(tmp_path / "out.mov", 64, 48, info.fps, timecode=info.timecode, audio_from=src, alpha=True) as w:
        for _, rgb, alpha in frames:
            w.write(rgb, alpha)
    out = probe_movie(tmp_path / "out.mov")
    assert (out.fps, out.timecode, out.has_alpha, out.has_audio, out.frame_count) == (info.fps, info.timecode, True, True, 8)
    with av.open(str(src)) as a, av.open(str(tmp_path / "out.mov")) as b:
        pa = [bytes(p) for p in a.demux(a.streams.audio[0]) if p.size]
        pb = [bytes(p) for p in b.demux(b.streams.audio[0]) if p.size]
    assert pa == pb  # copied, not re-encoded
    again = list(read_movie(tmp_path / "out.mov"))
    assert np.abs(again[3][2] - frames[3][2]).max() < 1 / 1023  # ProRes 4444 keeps alpha to its 12 bits


def test_movie_source_numbers_from_one_and_takes_ranges(tmp_path):
    src = make_movie(tmp_path / "m.mov", n=6, audio=False, alpha=False)
    source = open_source(f"{src}:2-6x2")
    assert source.kind == "movie" and source.numbers == [2, 4, 6]
    got = [(i, f.rgb[0, 0, 0]) for i, f, _ in source.frames()]
    assert [i for i, _ in got] == [0, 1, 2]
    assert got[1][1] == pytest.approx(3 * 6000 / 65535, abs=0.01)  # movie frame 4 was drawn with i = 3
    with pytest.raises(SequenceError, match="the movie has 1-6"):
        open_source(src, "5-9")


def test_working_encoding_round_trips_scene_linear_with_highlights():
    lin = (RNG.random((16, 16, 3)).astype(np.float32) * 6) - 0.1  # highlights to 6.0, some out-of-gamut negatives
    enc = WorkingEncoding("scene_linear")
    net_in, residual = enc.encode(lin)
    assert net_in.min() >= 0 and net_in.max() <= 1
    np.testing.assert_allclose(enc.decode(net_in, residual), lin, atol=1e-4)  # an identity look gives the frame back
    srgb = RNG.random((8, 8, 3)).astype(np.float32)
    ident = WorkingEncoding(SRGB)
    assert ident.identity and np.array_equal(ident.decode(*ident.encode(srgb)), srgb)
    # sRGB-encoded values reach the network unchanged when the frame is linear sRGB primaries
    lin709 = convert(srgb, SRGB, "Linear Rec.709 (sRGB)")
    np.testing.assert_allclose(WorkingEncoding("lin_rec709").encode(lin709)[0], srgb, atol=1e-4)
    assert default_space(True) == "ACEScg" and default_space(False) == SRGB
    with pytest.raises(ColorError, match="did you mean 'ACEScct'"):
        resolve_space("ACEScc t")


def test_a_movie_that_stores_no_picture_for_some_frames_holds_the_one_before(tmp_path):
    """Frames are numbered by their time: an AVI whose pictures sit at frames 1, 2, 5 and 6 (FFmpeg's
    AVI muxer writes empty chunks for 3 and 4, as capture tools do for a frame that did not change)
    shows frame 2's picture at frames 3 and 4, as a player and FFmpeg show it."""
    path = tmp_path / "held.avi"
    with av.open(str(path), "w") as o:
        v = o.add_stream("ffv1", rate=24)
        v.width, v.height, v.pix_fmt = 32, 16, "yuv444p"
        for k, pts in enumerate((0, 1, 4, 5)):
            f = av.VideoFrame.from_ndarray(np.full((16, 32, 3), (k + 1) * 50, np.uint8), format="rgb24")
            f.pts = pts
            for p in v.encode(f):
                o.mux(p)
        for p in v.encode():
            o.mux(p)
    assert probe_movie(path).frame_count == 6
    got = {n: rgb for n, rgb, _ in read_movie(path)}
    assert list(got) == [1, 2, 3, 4, 5, 6]
    assert {n: round(float(rgb.mean()) * 255 / 50) for n, rgb in got.items()} == {1: 1, 2: 2, 3: 2, 4: 2, 5: 3, 6: 4}
    assert [n for n, _, _ in read_movie(path, {4, 6})] == [4, 6]
    assert np.array_equal(next(rgb for _, rgb, _ in read_movie(path, {4})), got[2])
    assert [(i, problem) for i, _, problem in open_source(str(path)).frames()] == [(i, None) for i in range(6)]
