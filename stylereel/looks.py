"""Built-in looks, shipped inside the package (`stylereel/assets/looks/NAME/`, each a model
directory trained by stylereel's own code; provenance and licence in
`stylereel/assets/LICENSES.md`). `stylereel looks` lists them; `stylereel stylize --look
NAME` renders with one, no trained model needed.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from stylereel.errors import StylereelError, did_you_mean

DEFAULT_LOOK = "starry_night"


def looks_dir() -> Path:
    return Path(str(resources.files("stylereel") / "assets" / "looks"))


def names() -> list[str]:
    return sorted(p.name for p in looks_dir().iterdir() if (p / "model.json").is_file())


def look_dir(name: str) -> Path:
    """The model directory of built-in look `name` (a one-line error, with a suggestion, for any other name)."""
    if name not in names():
        raise StylereelError(f"--look: no built-in look {name!r}{did_you_mean(name, names())} (built in: {', '.join(names())})")
    return looks_dir() / name


def describe(name: str) -> str:
    info = json.loads((look_dir(name) / "model.json").read_text())
    return info.get("description") or info.get("source", "").split(":")[0]
