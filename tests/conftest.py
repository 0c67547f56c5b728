from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture
def data_dir() -> Path:
    return DATA


def shipped_asset(name: str) -> dict:
    """The tensors of `stylereel/assets/NAME.safetensors` as numpy arrays."""
    from importlib import resources

    from safetensors import safe_open

    with resources.as_file(resources.files("stylereel") / "assets" / f"{name}.safetensors") as path:
        with safe_open(str(path), framework="numpy") as f:
            return {k: f.get_tensor(k) for k in f.keys()}


def check_asset_digest(name: str, expected_names: list[str]) -> None:
    """The asset holds exactly `expected_names`, all fp16, and its tensor digest (sha256 over the raw
    bytes in sorted name order, as tools/trunk_asset.py writes it) is the one recorded in NAME.sha256."""
    import hashlib
    from importlib import resources

    import numpy as np

    tensors = shipped_asset(name)
    assert sorted(tensors) == sorted(expected_names)
    h = hashlib.sha256()
    for k in sorted(tensors):
        assert tensors[k].dtype == np.float16, k
        h.update(np.ascontiguousarray(tensors[k]).tobytes())
    assert h.hexdigest() == (resources.files("stylereel") / "assets" / f"{name}.sha256").read_text().split()[0]


def conv1_1_reference(rgb, bgr_mean, tensors: dict, pad_mode: str = "constant"):
    """relu(conv1_1) of an RGB image `[H, W, 3]` in 0..1, written out in numpy: BGR x 255 minus
    `bgr_mean`, padded by one pixel (`pad_mode` as numpy names it), each 3x3 tap a matrix product.
    Independent of torch, so a colour-order, scale or padding slip in a trunk's forward shows."""
    import numpy as np

    h, w = rgb.shape[:2]
    bgr = rgb[:, :, ::-1] * 255.0 - np.array(bgr_mean, dtype=np.float32)
    pad = np.pad(bgr, ((1, 1), (1, 1), (0, 0)), mode=pad_mode)
    weight, bias = tensors["conv1_1.weight"].astype(np.float32), tensors["conv1_1.bias"].astype(np.float32)
    ref = np.broadcast_to(bias, (h, w, weight.shape[0])).copy()
    for dy in range(3):
        for dx in range(3):
            ref += pad[dy:dy + h, dx:dx + w] @ weight[:, :, dy, dx].T
    return np.maximum(ref, 0)  # [H, W, C]


def converter_check(tool: str, wheel_dir: str) -> None:
    """`tools/TOOL --check` re-converts from the wheel and must find the shipped file bit-identical."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, str(Path(__file__).resolve().parents[1] / "tools" / tool), "--check", "--wheel-dir", wheel_dir],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
