"""Quality must not pay for speed: stylereel's default generator against a
Johnson-size TransformerNet trained with the same losses, data and wall-clock
budget, and how fast each trains.

    python bench/studies/generators.py --data DATA_DIR --minutes 10 --paired-minutes 5

Three trainings per task, one after the other, each alone on the machine:

- stylereel: the default generator on the defaults (from scratch, at its own learning rate);
- stylereel from the base: the same, fine-tuned from the shipped base (`model.init=base`);
- Johnson-size: the `johnson` generator (Johnson et al.'s layer table) from scratch, at its
  paper's learning rate (bench/studies/learning_rates.py: the higher one diverges).

Unpaired: `photos/` minus the held-out ones + `styles/starry_night.jpg`, scored
on the held-out photos (style and content distance, as bench/quality_unpaired.py).
Paired: bench/quality_paired.py's painted keyframes, scored by PSNR/SSIM.
Training speed: steps/s, and time-to-quality from snapshots of the unpaired run.
Writes bench/RESULTS.md (section "generators") and docs/images/generators.png.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.quality_paired import PaintedShot  # noqa: E402
from bench.results import HELD_OUT, photo_split, rel_path, train_timed, write_section  # noqa: E402
from stylereel.data.images import load_images  # noqa: E402
from stylereel.metrics.image import psnr, ssim  # noqa: E402
from stylereel.metrics.style import StyleMetrics  # noqa: E402
from stylereel.nets.generator import GENERATORS  # noqa: E402
from stylereel.render.contact_sheet import write_contact_sheet  # noqa: E402
from stylereel.render.stylize import Stylizer  # noqa: E402
from stylereel.model import load_style_grams  # noqa: E402

VARIANTS = {
    "stylereel": [],
    "stylereel from the base": ["--model.init=base"],
    "Johnson-size": ["--model.generator=johnson"],
}
SLUG = {"stylereel": "reel", "stylereel from the base": "reel_base", "Johnson-size": "johnson"}


def time_to_quality(curve: list[tuple[float, float]], fraction: float = 0.9) -> float:
    """Seconds until the style distance has made `fraction` of its way from the
    starting point to its final value: d(t) <= d_end + (1 - fraction) (d_0 - d_end)."""
    d0, d_end = curve[0][1], curve[-1][1]
    bar = d_end + (1 - fraction) * (d0 - d_end)
    return next(t for t, d in curve if d <= bar)


def style_scores(model: Path, photos: list[torch.Tensor], metrics: StyleMetrics) -> tuple[dict, list[torch.Tensor]]:
    stylizer = Stylizer(model, device="cpu")
    outs = [stylizer.tensor(x) for x in photos]
    rows = [metrics(y, x) for y, x in zip(outs, photos)]
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}, outs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--minutes", type=float, default=10.0, help="budget of each unpaired training")
    ap.add_argument("--paired-minutes", type=float, default=5.0, help="budget of each paired training")
    ap.add_argument("--held-out", nargs="+", default=HELD_OUT)
    ap.add_argument("--size", type=int, default=384, help="longer side of the held-out photos when scored")
    ap.add_argument("--snapshot-every", type=int, default=40)
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "runs" / "generators")
    ap.add_argument("--sheet", type=Path, default=ROOT / "docs" / "images" / "generators.png")
    ap.add_argument("--reuse", action="store_true", help="score existing runs in --work instead of training")
    ap.add_argument("--train", nargs="+", choices=list(SLUG.values()), default=list(SLUG.values()),
                    help="train only these variants and score the others' existing runs in --work")
    args = ap.parse_args()

    train, held_paths = photo_split(args.data, args.held_out)
    style = args.data / "styles" / "starry_night.jpg"
    shot = PaintedShot(args.data, 12, [10, 50], 50)
    if not args.reuse:
        if len(args.train) == len(SLUG):
            shutil.rmtree(args.work, ignore_errors=True)
        pairs = shot.write_keyframes(args.work / "keyframes")
        for name, extra in VARIANTS.items():
            if SLUG[name] not in args.train:
                continue
            for task in ("unpaired", "paired"):
                shutil.rmtree(args.work / f"{task}_{SLUG[name]}", ignore_errors=True)
            train_timed(["--content", *map(str, train), "--style", str(style)], args.work / f"unpaired_{SLUG[name]}",
                        args.minutes, [*extra, f"--train.snapshot_every={args.snapshot_every}"])
            train_timed(["--pairs", str(pairs)], args.work / f"paired_{SLUG[name]}", args.paired_minutes, extra)

    held = [load_images([p], max_side=args.size)[0][None] for p in held_paths]
    grams, trunk = load_style_grams(args.work / "unpaired_reel")
    metrics = StyleMetrics(grams, trunk=trunk)
    refs = {i: shot.paint(shot.frames[i]) for i in shot.scored}
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1)[None]  # noqa: E731
    sheet_frame = shot.scored[len(shot.scored) // 2]

    results, styled, painted = {}, {}, {}
    for name in VARIANTS:
        run = args.work / f"unpaired_{SLUG[name]}"
        info = json.loads((run / "model" / "model.json").read_text())
        final, styled[name] = style_scores(run, held, metrics)
        curve = []
        for snap in sorted((run / "snapshots").iterdir()):
            elapsed = json.loads((snap / "model.json").read_text())["elapsed_s"]
            curve.append((elapsed, style_scores(snap, held, metrics)[0]["style_distance"]))
        curve.append((info["elapsed_s"], final["style_distance"]))
        prun = args.work / f"paired_{SLUG[name]}"
        pinfo = json.loads((prun / "model" / "model.json").read_text())
        stylizer = Stylizer(prun, device="cpu")
        scores = []
        for i in shot.scored:
            out = stylizer(shot.frames[i])
            scores.append((psnr(t(out), t(refs[i])), ssim(t(out), t(refs[i]))))
            if i == sheet_frame:
                painted[name] = out
        results[name] = {
            **final,
            "steps": info["steps"], "seconds": info["elapsed_s"], "steps_per_s": info["steps"] / info["elapsed_s"],
            "time_to_quality_s": time_to_quality(curve), "curve": curve,
            "psnr": float(np.mean([s[0] for s in scores])), "ssim": float(np.mean([s[1] for s in scores])),
            "paired_steps": pinfo["steps"], "paired_steps_per_s": pinfo["steps"] / pinfo["elapsed_s"],
        }
    (args.work / "report.json").write_text(json.dumps(results, indent=2))

    np_ = lambda x: x[0].permute(1, 2, 0).numpy()  # noqa: E731
    rows = [[np_(x)] + [np_(styled[n][k]) for n in VARIANTS] for k, x in enumerate(held)]
    labels = [[f"{p.name} (held out)"] + [f"{n} {results[n]['style_distance']:.3f}" for n in VARIANTS] for p in held_paths]
    rows.append([shot.frames[sheet_frame]] + [painted[n] for n in VARIANTS] + [refs[sheet_frame]])
    labels.append([f"tree.avi frame {sheet_frame}"] + [f"{n} (paired)" for n in VARIANTS] + ["painted reference"])
    write_contact_sheet(args.sheet, rows, labels, height=240)

    ours, peer = results["stylereel"], results["Johnson-size"]
    lines = [
        f"Same losses, data and wall-clock budget for every generator, each at the Adam learning rate it trains best at "
        f"(stylereel {GENERATORS.get('reel').lr:g}, Johnson-size {GENERATORS.get('johnson').lr:g}: `bench/studies/learning_rates.py`): "
        f"unpaired {args.minutes:g} min on "
        f"{len(train)} photos + `styles/starry_night.jpg`, scored on held-out {', '.join(args.held_out)} at {args.size} px; "
        f"paired {args.paired_minutes:g} min on tree.avi keyframes 10 and 50 painted by multistyle26 look 12, scored on "
        f"{len(shot.scored)} other frames. Distances: lower is better; PSNR/SSIM: higher is better.",
        *([] if args.reuse or len(args.train) == len(SLUG) else [
            "", f"This invocation trained {', '.join(n for n in VARIANTS if SLUG[n] in args.train)}; the other runs in "
            "`--work` come from an earlier invocation of this script with the same budget and were scored again."]),
        "",
        "| generator | style distance | content distance | PSNR (dB) | SSIM | unpaired steps/s | paired steps/s | time to 90% of final style distance |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in results.items():
        lines.append(f"| {name} | {r['style_distance']:.3f} | {r['content_distance']:.3f} | {r['psnr']:.2f} | {r['ssim']:.4f} | "
                     f"{r['steps_per_s']:.2f} ({r['steps']} steps) | {r['paired_steps_per_s']:.2f} | {r['time_to_quality_s'] / 60:.1f} min |")
    checks = [
        ("style distance", ours["style_distance"] <= 1.1 * peer["style_distance"], ours["style_distance"] / peer["style_distance"]),
        ("content distance", ours["content_distance"] <= 1.1 * peer["content_distance"], ours["content_distance"] / peer["content_distance"]),
        ("PSNR", ours["psnr"] >= 0.9 * peer["psnr"], ours["psnr"] / peer["psnr"]),
        ("SSIM", ours["ssim"] >= 0.9 * peer["ssim"], ours["ssim"] / peer["ssim"]),
    ]
    lines += ["", "stylereel against the Johnson-size network (target: within 10%): " + "; ".join(
        f"{k} {ratio:.2f}x ({'met' if ok else 'NOT met'})" for k, ok, ratio in checks) + ".",
        "Time to quality: first snapshot (every "
        f"{args.snapshot_every} steps) whose style distance has covered 90% of the way from the starting point to the "
        f"final value. Side-by-side contact sheet: `{rel_path(args.sheet)}`."]
    write_section("generators", "Default generator against a Johnson-size network, same budget", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
