"""Built-in looks, shipped inside the package (`stylereel/assets/looks/DIR/`, each a model
directory trained by stylereel's own code; provenance and licence in
`stylereel/assets/LICENSES.md`). A single-look model is named by its folder; a multi-look
model (`reel_looks`) contributes each of its looks by name. `stylereel looks` lists them;
`stylereel stylize --look NAME` (or `--look ink=0.7,fauve=0.3`) renders with them, no
trained model needed.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from stylereel.errors import StylereelError, did_you_mean

DEFAULT_LOOK = "starry_night"


def looks_dir() -> Path:
    return Path(str(resources.files("stylereel") / "assets" / "looks"))


def _info(model_dir: Path) -> dict:
    return json.loads((model_dir / "model.json").read_text())


def catalogue() -> dict[str, Path]:
    """Every built-in look's name -> the model directory that holds it (single-look folders win a clash)."""
    single, multi = {}, {}
    for d in sorted(p for p in looks_dir().iterdir() if (p / "model.json").is_file()):
        held = _info(d)["generator"]["kwargs"].get("looks")
        if held:
            multi.update({name: d for name in held if name != "none"})
        else:
            single[d.name] = d
    return {**multi, **single}


def names() -> list[str]:
    return sorted(catalogue())


def look_dir(name: str) -> Path:
    """The model directory holding built-in look `name` (a one-line error, with a suggestion, for any other name)."""
    found = catalogue().get(name)
    if found is None:
        raise StylereelError(f"--look: no built-in look {name!r}{did_you_mean(name, names())} (built in: {', '.join(names())})")
    return found


def model_for(wanted: list[str], multi: bool = False) -> Path:
    """The one built-in model that holds every look in `wanted` (a mix must come from one model);
    with `multi`, a multi-look model (strength and regions work inside it)."""
    dirs = {look_dir(n) for n in wanted}
    if len(dirs) == 1 and not (multi and not _info(next(iter(dirs)))["generator"]["kwargs"].get("looks")):
        return dirs.pop()
    shared = sorted(d for d in set(catalogue().values()) if set(wanted) <= set(_info(d)["generator"]["kwargs"].get("looks") or []))
    if shared:
        return shared[0]
    if multi and len(dirs) == 1:
        raise StylereelError(f"--look {wanted[0]}: a single-look model; --strength, mixes and --region need a multi-look one "
                             f"(built-in multi-look looks: {', '.join(n for n, d in catalogue().items() if _info(d)['generator']['kwargs'].get('looks')) or 'none'})")
    raise StylereelError(f"--look: {', '.join(wanted)} are not looks of one model; a mix or a region takes looks of one model")


def describe(name: str) -> str:
    info = _info(look_dir(name))
    described = info.get("descriptions", {}).get(name) or info.get("description")
    return described or info.get("source", "").split(":")[0]


def multi_look_model() -> Path:
    """The built-in multi-look model (the one a new look extends)."""
    multi = sorted({d for d in catalogue().values() if _info(d)["generator"]["kwargs"].get("looks")})
    if not multi:
        raise StylereelError("--extend builtin: this installation ships no multi-look model")
    return multi[0]
