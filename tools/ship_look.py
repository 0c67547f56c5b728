"""Ship a trained look inside the package: `stylereel/assets/looks/NAME/`.

    python tools/ship_look.py RUN_OR_MODEL_DIR NAME --source "how it was trained" --description "what it looks like"

Copies the model's generator as fp16 safetensors (half the size; the engine renders
in fp32 or bf16 anyway) and its model.json with the training data reduced to file
names and a model it started from or learnt by its run's name (no paths of the machine it was
trained on) and `source` recorded: the command
that trained it and the licences of its data, which stylereel/assets/LICENSES.md
repeats. The Gram targets stay behind (they are for scoring, not rendering).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from safetensors.torch import load_file, save_file

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stylereel.io.atomic import atomic_write, atomic_write_text  # noqa: E402
from stylereel.model import resolve_model_dir  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", type=Path)
    ap.add_argument("name")
    ap.add_argument("--source", required=True, help="the command that trained it and its data's licences")
    ap.add_argument("--description", required=True, help="what it looks like, in a few words (`stylereel looks`)")
    args = ap.parse_args()

    src = resolve_model_dir(args.model)
    info = json.loads((src / "model.json").read_text())
    data = info["config"]["data"]
    for key in ("content", "style"):
        data[key] = [Path(p).name for p in data.get(key) or []]
    if data.get("pairs"):
        data["pairs"] = Path(data["pairs"]).name
    if data.get("looks"):
        data["looks"] = {name: "/".join(Path(p).parts[-2:]) for name, p in data["looks"].items()}
    for section, key in (("model", "init"), ("model", "extend"), ("data", "teacher")):  # a model it started from or learnt: by its run's name
        value = info["config"][section].get(key)
        if value and ("/" in value or "\\" in value):
            run = Path(value)
            info["config"][section][key] = run.parent.name if run.name == "model" else run.name
    info["source"], info["description"] = args.source, args.description
    out = ROOT / "stylereel" / "assets" / "looks" / args.name
    out.mkdir(parents=True, exist_ok=True)
    weights = {k: v.half().contiguous() for k, v in load_file(str(src / "generator.safetensors")).items()}
    atomic_write(out / "generator.safetensors", lambda tmp: save_file(weights, tmp))
    atomic_write_text(out / "model.json", json.dumps(info, indent=2) + "\n")
    print(f"shipped {src} as {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
