"""Which Adam learning rate each generator trains best at, on a fixed wall-clock budget.

    python bench/studies/learning_rates.py --data DATA_DIR --minutes 5

Every (generator, rate) trains the unpaired Starry Night look on the training
photos for the same budget, one after the other, alone on the machine, and is
scored on the held-out photos (style and content distance, as bench/studies/generators.py).
The winner is the `lr` its class declares (used when `train.lr_g` is not set).
Writes bench/RESULTS.md (section "learning_rates").
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.studies.generators import style_scores  # noqa: E402
from bench.results import HELD_OUT, photo_split, train_timed, write_section  # noqa: E402
from stylereel.data.images import load_images  # noqa: E402
from stylereel.metrics.style import StyleMetrics  # noqa: E402
from stylereel.nets.generator import GENERATORS  # noqa: E402
from stylereel.model import load_style_grams  # noqa: E402

# (label, generator) -> rates tried, each from scratch (the default init)
GRID = {
    ("stylereel", "reel"): [1e-3, 3e-3, 5e-3],
    ("Johnson-size", "johnson"): [1e-3, 3e-3],
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--minutes", type=float, default=5.0, help="budget of each training")
    ap.add_argument("--held-out", nargs="+", default=HELD_OUT)
    ap.add_argument("--size", type=int, default=384, help="longer side of the held-out photos when scored")
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "runs" / "learning_rates")
    args = ap.parse_args()

    train, held_paths = photo_split(args.data, args.held_out)
    style = args.data / "styles" / "starry_night.jpg"
    runs = {}
    for (label, generator), rates in GRID.items():
        for lr in rates:
            run = args.work / f"{generator}_{lr:g}"
            shutil.rmtree(run, ignore_errors=True)
            train_timed(["--content", *map(str, train), "--style", str(style)], run, args.minutes,
                        [f"--model.generator={generator}", f"--train.lr_g={lr:g}"])
            runs[label, generator, lr] = run

    held = [load_images([p], max_side=args.size)[0][None] for p in held_paths]
    grams, trunk = load_style_grams(next(iter(runs.values())))
    metrics = StyleMetrics(grams, trunk=trunk)
    lines = [
        f"Unpaired Starry Night look, {args.minutes:g} min per training on {len(train)} photos, scored on held-out "
        f"{', '.join(args.held_out)} at {args.size} px. Lower is better. A style distance above 1 means training diverged.",
        "",
        "| generator | Adam lr | steps | style distance | content distance | declared `lr` |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    report = {}
    for (label, generator, lr), run in runs.items():
        scores, _ = style_scores(run, held, metrics)
        steps = json.loads((run / "model" / "model.json").read_text())["steps"]
        report[f"{label} {lr:g}"] = {**scores, "steps": steps}
        declared = "yes" if GENERATORS.get(generator).lr == lr else ""
        lines.append(f"| {label} | {lr:g} | {steps} | {scores['style_distance']:.3f} | {scores['content_distance']:.3f} | {declared} |")
    (args.work / "report.json").write_text(json.dumps(report, indent=2))
    write_section("learning_rates", "Learning rate per generator, same budget", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
