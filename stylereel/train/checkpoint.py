"""The resume state of a run (as in NVlabs/edm; the inference model is `stylereel.model`).

`RUN/checkpoints/state.pt` holds G, D, EMA, optimisers, step, RNG states and the
resolved config: everything needed to continue bit-exactly. Tensors and plain
data only (loaded with `weights_only=True`, never pickled code), written to a
temp name and renamed into place, so a crash never leaves a half-written file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from stylereel.config import RunConfig, load_yaml
from stylereel.io.atomic import atomic_write
from stylereel.model import ModelError

STATE_FILE = Path("checkpoints") / "state.pt"


def save_state(path: Path, state: dict[str, Any]) -> None:
    atomic_write(path, lambda tmp: torch.save(state, tmp))


def load_state(path: Path) -> dict[str, Any]:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - report which file is broken, in one line
        raise ModelError(f"{path}: cannot read resume state ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None


def has_state(run_dir: str | Path) -> bool:
    return (Path(run_dir) / STATE_FILE).is_file()


def saved_config(run_dir: str | Path) -> RunConfig:
    """The config a run was started with (for `--resume`)."""
    path = Path(run_dir) / STATE_FILE
    state = load_state(path)
    try:
        saved = state["config"]
        if isinstance(saved.get("loss"), dict) and "trunk" not in saved["loss"]:
            # a run from before trunks could be chosen: trained on the only one there was
            from stylereel.nets.features import LEGACY_TRUNK

            saved["loss"]["trunk"] = LEGACY_TRUNK
        cfg = RunConfig.from_dict(saved)
    except (KeyError, TypeError, ValueError) as e:
        raise ModelError(f"{path}: resume state holds no usable config ({e})") from None
    _check_same_run(path, cfg, Path(run_dir) / "config.yaml")
    return cfg


def _check_same_run(path: Path, cfg: RunConfig, written: Path) -> None:
    """The state must be this folder's run's: the network and data mode that its config.yaml
    (written when the run started) names (a state copied from another run is refused)."""
    import yaml

    try:
        started = load_yaml(written.read_text())
    except (OSError, yaml.YAMLError):
        return  # no readable config.yaml: the state's own config is all there is
    if not isinstance(started, dict):
        return
    kind = lambda d: {"network": d.get("model"), "data mode": (d.get("data") or {}).get("mode")}  # noqa: E731
    was, now = kind(started), kind(cfg.to_dict())
    differ = [k for k in was if was[k] != now[k]]
    if differ:
        raise ModelError(f"{path}: saved by another run than {written} describes (its {' and '.join(differ)} differ); "
                         "resume that run's own folder, or start a new one")


def state_step(run_dir: str | Path) -> int:
    return int(load_state(Path(run_dir) / STATE_FILE)["step"])
