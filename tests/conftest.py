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
