import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from stylereel.io import frames
from stylereel.io.frames import (
    IMAGE_EXTENSIONS,
    Frame,
    ImageError,
    list_images,
    read_image,
    write_image,
)

H, W = 7, 11


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def _codes(rng, bit_depth, shape):
    top = 255 if bit_depth == 8 else 65535
    return rng.integers(0, top + 1, size=shape, dtype=np.uint16 if bit_depth == 16 else np.uint8)


def _assert_one_line(exc: ImageError, path):
    msg = str(exc)
    assert "\n" not in msg
    assert str(path) in msg


@pytest.mark.parametrize("ext", [".png", ".tif", ".tiff"])
@pytest.mark.parametrize("bit_depth", [8, 16])
def test_rgb_roundtrip_exact(tmp_path, rng, ext, bit_depth):
    codes = _codes(rng, bit_depth, (H, W, 3))
    if bit_depth == 16:
        codes[0, 0] = [1, 12345, 65534]  # not multiples of 257: would not survive an 8-bit detour
        assert (codes % 257 != 0).any()
    top = 255 if bit_depth == 8 else 65535
    path = tmp_path / f"frame{ext}"

    write_image(path, codes.astype(np.float32) / top, bit_depth=bit_depth)
    frame = read_image(path)

    assert isinstance(frame, Frame)
    assert frame.bit_depth == bit_depth
    assert frame.alpha is None
    assert frame.path == str(path)
    assert frame.rgb.dtype == np.float32 and frame.rgb.shape == (H, W, 3)
    assert np.array_equal(np.rint(frame.rgb * top).astype(np.int64), codes.astype(np.int64))
    # Channel order is RGB on both sides: check against cv2's raw BGR.
    raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(raw[..., ::-1], codes)


def test_read_then_write_is_lossless(tmp_path, rng):
    codes = _codes(rng, 16, (H, W, 3))
    src, dst = tmp_path / "src.png", tmp_path / "dst.tif"
    cv2.imwrite(str(src), codes)
    frame = read_image(src)
    write_image(dst, frame.rgb, frame.alpha, frame.bit_depth)
    assert np.array_equal(cv2.imread(str(dst), cv2.IMREAD_UNCHANGED), codes)


@pytest.mark.parametrize("ext", [".png", ".tif"])
@pytest.mark.parametrize("bit_depth", [8, 16])
def test_rgba_alpha_passthrough_bit_exact(tmp_path, rng, ext, bit_depth):
    bgra = _codes(rng, bit_depth, (H, W, 4))
    src, dst = tmp_path / f"in{ext}", tmp_path / f"out{ext}"
    assert cv2.imwrite(str(src), bgra)

    frame = read_image(src)
    assert frame.alpha is not None
    assert frame.alpha.dtype == bgra.dtype
    assert np.array_equal(frame.alpha, bgra[..., 3])

    write_image(dst, frame.rgb, frame.alpha, bit_depth=bit_depth)
    assert np.array_equal(cv2.imread(str(dst), cv2.IMREAD_UNCHANGED), bgra)


def test_alpha_depth_conversion_is_exact(tmp_path, rng):
    a8 = _codes(rng, 8, (H, W))
    rgb = np.zeros((H, W, 3), np.float32)
    write_image(tmp_path / "a16.png", rgb, a8, bit_depth=16)
    a16 = read_image(tmp_path / "a16.png").alpha
    assert a16.dtype == np.uint16
    assert np.array_equal(a16, a8.astype(np.uint16) * 257)
    write_image(tmp_path / "a8.png", rgb, a16, bit_depth=8)
    assert np.array_equal(read_image(tmp_path / "a8.png").alpha, a8)


@pytest.mark.parametrize("bit_depth", [8, 16])
def test_gray_becomes_three_channels(tmp_path, rng, bit_depth):
    gray = _codes(rng, bit_depth, (H, W))
    path = tmp_path / "gray.png"
    cv2.imwrite(str(path), gray)
    frame = read_image(path)
    top = 255 if bit_depth == 8 else 65535
    assert frame.rgb.shape == (H, W, 3)
    assert frame.bit_depth == bit_depth and frame.alpha is None
    for c in range(3):
        assert np.array_equal(np.rint(frame.rgb[..., c] * top), gray)


@pytest.mark.parametrize("ext", [".jpg", ".jpeg", ".JPG"])
def test_jpeg_roundtrip_within_tolerance(tmp_path, ext):
    # Smooth content: JPEG at q95 is near-lossless there, noise would not be.
    y, x = np.mgrid[0:32, 0:48].astype(np.float32)
    rgb = np.stack([x / 47, y / 31, (x + y) / 78], axis=-1)
    path = tmp_path / f"shot{ext}"
    write_image(path, rgb)
    frame = read_image(path)
    assert frame.bit_depth == 8 and frame.alpha is None
    assert np.abs(frame.rgb - rgb).mean() < 2 / 255
    assert np.abs(frame.rgb - rgb).max() < 12 / 255


def test_write_clips_and_rounds_to_nearest(tmp_path):
    rgb = np.array([[[-0.5, 1.5, 0.5], [0.3 / 255, 0.6 / 255, 254.4 / 255]]], np.float32)
    path = tmp_path / "c.png"
    write_image(path, rgb)
    raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)[..., ::-1]
    assert raw.tolist() == [[[0, 255, 128], [0, 1, 254]]]


def test_write_creates_parent_dirs(tmp_path):
    path = tmp_path / "shot" / "v001" / "f.png"
    write_image(path, np.zeros((2, 2, 3), np.float32))
    assert read_image(path).rgb.shape == (2, 2, 3)


# --- errors ---------------------------------------------------------------


def test_missing_file(tmp_path):
    path = tmp_path / "shot" / "a.png"
    with pytest.raises(ImageError, match="file missing") as ei:
        read_image(path)
    _assert_one_line(ei.value, path)
    assert isinstance(ei.value, ValueError)


def test_corrupt_file(tmp_path):
    path = tmp_path / "corrupt.png"
    path.write_bytes(np.random.default_rng(0).bytes(512))
    with pytest.raises(ImageError, match="not a decodable image") as ei:
        read_image(path)
    _assert_one_line(ei.value, path)


def test_truncated_and_empty_files(tmp_path, rng):
    good = tmp_path / "good.png"
    cv2.imwrite(str(good), _codes(rng, 8, (64, 64, 3)))
    data = good.read_bytes()
    for name, payload in [("trunc.png", data[: len(data) // 2]), ("empty.png", b"")]:
        path = tmp_path / name
        path.write_bytes(payload)
        with pytest.raises(ImageError, match="not a decodable image") as ei:
            read_image(path)
        _assert_one_line(ei.value, path)


def test_unsupported_extension(tmp_path):
    path = tmp_path / "a.xyz"
    path.write_bytes(b"whatever")
    with pytest.raises(ImageError, match=r"unsupported extension '\.xyz' \(supported: \.png") as ei:
        read_image(path)
    _assert_one_line(ei.value, path)
    with pytest.raises(ImageError, match="unsupported extension"):
        write_image(tmp_path / "b.xyz", np.zeros((2, 2, 3), np.float32))


def test_float_tiff_round_trips_exactly_with_alpha(tmp_path, rng):
    """32-bit float TIFF, as Photoshop and Nuke write it: unbounded values kept, scene-linear like EXR."""
    rgb = (rng.random((H, W, 3), dtype=np.float32) * 4 - 0.5).astype(np.float32)
    alpha = rng.random((H, W), dtype=np.float32)
    path = tmp_path / "float.tif"
    write_image(path, rgb, alpha=alpha, sample="float")
    f = read_image(path)
    assert f.sample == "float" and f.is_float and not f.premultiplied
    assert np.array_equal(f.rgb, rgb) and np.array_equal(f.alpha, alpha)
    write_image(tmp_path / "again.tiff", f.rgb, alpha=f.alpha, like=f)  # the input's precision is kept
    assert read_image(tmp_path / "again.tiff").sample == "float"
    cv2.imwrite(str(tmp_path / "nan.tif"), np.full((4, 4, 3), np.nan, np.float32))
    with pytest.raises(ImageError, match="NaN or infinite"):
        read_image(tmp_path / "nan.tif")


def test_a_file_is_read_as_the_format_its_bytes_are(tmp_path, rng):
    """A PNG saved as .jpg (or .exr, .tif) is the PNG it holds; bytes of no format are named as such."""
    codes = _codes(rng, 16, (H, W, 3))
    cv2.imwrite(str(tmp_path / "real.png"), codes)
    want = read_image(tmp_path / "real.png")
    for name in ("png.jpg", "png.exr", "png.tif", "png.dpx"):
        (tmp_path / name).write_bytes((tmp_path / "real.png").read_bytes())
        f = read_image(tmp_path / name)
        assert f.sample == "uint16" and np.array_equal(f.rgb, want.rgb), name
    (tmp_path / "text.png").write_text("not a picture at all")
    with pytest.raises(ImageError, match="its bytes are none of PNG, JPEG, TIFF, EXR, DPX") as ei:
        read_image(tmp_path / "text.png")
    _assert_one_line(ei.value, tmp_path / "text.png")


def test_jpeg_16bit_write_rejected(tmp_path):
    path = tmp_path / "a.jpg"
    with pytest.raises(ImageError, match="cannot store uint16 samples") as ei:
        write_image(path, np.zeros((2, 2, 3), np.float32), bit_depth=16)
    _assert_one_line(ei.value, path)
    assert not path.exists()


def test_write_rejects_bad_input(tmp_path):
    path = tmp_path / "a.png"
    rgb = np.zeros((2, 2, 3), np.float32)
    bad_calls = [
        dict(rgb=np.zeros((2, 2), np.float32)),
        dict(rgb=np.full((2, 2, 3), np.nan, np.float32)),
        dict(rgb=rgb, bit_depth=12),
        dict(rgb=rgb, alpha=np.zeros((3, 2), np.uint8)),
    ]
    for kwargs in bad_calls:
        with pytest.raises(ImageError) as ei:
            write_image(path, **kwargs)
        _assert_one_line(ei.value, path)
    with pytest.raises(ImageError, match="alpha"):
        write_image(tmp_path / "a.jpg", rgb, alpha=np.zeros((2, 2), np.uint8))
    assert list(tmp_path.iterdir()) == []


# --- atomic write ---------------------------------------------------------


def test_atomic_write_leaves_no_temp_files(tmp_path, rng):
    rgb = _codes(rng, 8, (H, W, 3)).astype(np.float32) / 255
    for name in ["a.png", "b.tif", "c.jpg"]:
        write_image(tmp_path / name, rgb)
        write_image(tmp_path / name, rgb)  # overwrite an existing target too
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.tif", "c.jpg"]


def test_failed_write_keeps_old_target(tmp_path, monkeypatch):
    path = tmp_path / "out.png"
    old = np.full((2, 2, 3), 0.25, np.float32)
    write_image(path, old)
    before = path.read_bytes()

    from stylereel.io.formats import opencv

    monkeypatch.setattr(opencv.cv2, "imencode", lambda *a, **k: (False, None))  # the encoder gives up
    with pytest.raises(ImageError, match="cannot write image") as ei:
        write_image(path, np.ones((2, 2, 3), np.float32))
    _assert_one_line(ei.value, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["out.png"]


def test_failed_replace_cleans_up(tmp_path, monkeypatch):
    path = tmp_path / "out.png"

    def boom(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(frames.os, "replace", boom)
    with pytest.raises(ImageError, match="Permission denied"):
        write_image(path, np.zeros((2, 2, 3), np.float32))
    assert os.listdir(tmp_path) == []


# --- list_images ----------------------------------------------------------


def test_list_images_natural_order(tmp_path):
    names = ["frame10.png", "frame2.png", "frame1.png", "Frame3.TIF", "frame100.jpg", "frame9.jpeg"]
    for n in names:
        (tmp_path / n).write_bytes(b"x")
    (tmp_path / ".frame0.png").write_bytes(b"x")  # hidden (also our atomic-write temp files)
    (tmp_path / "notes.txt").write_bytes(b"x")
    (tmp_path / "sub.png").mkdir()  # a directory is not an image, whatever its name
    (tmp_path / "sub.png" / "frame0.png").write_bytes(b"x")  # non-recursive

    got = [p.name for p in list_images([tmp_path])]
    assert got == ["frame1.png", "frame2.png", "Frame3.TIF", "frame9.jpeg", "frame10.png", "frame100.jpg"]


def test_list_images_passes_files_through_in_order(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    for n in ["b2.png", "b1.png"]:
        (d / n).write_bytes(b"x")
    f = tmp_path / "z.png"
    f.write_bytes(b"x")
    got = list_images([str(f), d])
    assert got == [f, d / "b1.png", d / "b2.png"]
    assert all(isinstance(p, Path) for p in got)


def test_list_images_errors(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(ImageError, match="no such file") as ei:
        list_images([missing])
    _assert_one_line(ei.value, missing)

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_bytes(b"x")
    (empty / ".hidden.png").write_bytes(b"x")
    with pytest.raises(ImageError, match="no images") as ei:
        list_images([empty])
    _assert_one_line(ei.value, empty)


def test_image_extensions():
    assert IMAGE_EXTENSIONS == (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".exr", ".dpx")


# --- tensors ---------------------------------------------------------------


def test_frame_tensor_from_read_image(tmp_path, rng):
    # read_image flips BGR->RGB with a view; the tensor must cope with any strides.
    from stylereel.data.images import frame_tensor

    path = tmp_path / "f.png"
    cv2.imwrite(str(path), _codes(rng, 8, (H, W, 3)))
    frame = read_image(path)
    t = frame_tensor(frame)
    assert t.shape == (3, H, W) and t.dtype == torch.float32
    assert np.array_equal(t.permute(1, 2, 0).numpy(), frame.rgb)


def test_io_works_without_torch():
    """Reading and writing frames is numpy only: a farm task or a web UI that only moves
    frames loads no deep-learning library."""
    import subprocess
    import sys

    code = "import sys, stylereel.io.frames, stylereel.io.media, stylereel.io.color; print('torch' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "False"


@pytest.mark.parametrize("ext", [".png", ".exr", ".dpx"])
def test_a_write_that_runs_out_of_disk_leaves_the_previous_frame_intact(tmp_path, rng, ext, monkeypatch):
    import errno
    from dataclasses import replace

    rgb = rng.random((16, 24, 3), dtype=np.float32)
    target = tmp_path / f"f{ext}"
    frames.write_image(target, rgb)
    before = target.read_bytes()

    def full_disk(path, *args, **kwargs):  # the encoder gets half way, then the disk is full
        Path(str(path)).write_bytes(b"\0" * 100)
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    fmt = frames.still_format(target)  # the format's own writer runs out of disk
    monkeypatch.setitem(frames._BY_EXTENSION, ext, replace(fmt, write=lambda p, tmp, *a: full_disk(tmp)))
    with pytest.raises(ImageError, match="No space left on device"):
        frames.write_image(target, 1 - rgb)
    assert target.read_bytes() == before  # the frame already there is untouched
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # and no half-written temp is left
