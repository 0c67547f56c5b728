"""Unpaired look quality: train on photos + one painting for a wall-clock budget,
then score held-out photos against the content image itself and a Gatys
optimisation on the same trunk and objective (the quality ceiling).

    python bench/quality_unpaired.py --data DATA_DIR --minutes 10

DATA_DIR holds photos/*.jpg and styles/starry_night.jpg (the project's sample data).
Writes bench/RESULTS.md (section "unpaired"), a JSON report beside the run and
the contact sheet docs/images/unpaired_starry_night.png.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import HELD_OUT, photo_split, rel_path, train_timed, write_section  # noqa: E402
from stylereel.data.images import load_images  # noqa: E402
from stylereel.metrics.gatys import gatys  # noqa: E402
from stylereel.metrics.style import StyleMetrics  # noqa: E402
from stylereel.render.contact_sheet import write_contact_sheet  # noqa: E402
from stylereel.render.stylize import Stylizer  # noqa: E402
from stylereel.model import load_style_grams  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--style", default="styles/starry_night.jpg")
    ap.add_argument("--held-out", nargs="+", default=HELD_OUT)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--size", type=int, default=384, help="longer side of the held-out photos when scored")
    ap.add_argument("--gatys-steps", type=int, default=300)
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "runs" / "unpaired")
    ap.add_argument("--sheet", type=Path, default=ROOT / "docs" / "images" / "unpaired_starry_night.png")
    ap.add_argument("--reuse", action="store_true", help="score the model already in --work/run (bench/generators.py trains the same one: link its unpaired_reel there)")
    args, overrides = ap.parse_known_args()

    train, held = photo_split(args.data, args.held_out)
    style = args.data / args.style
    run = args.work / "run"
    if not args.reuse:
        shutil.rmtree(args.work, ignore_errors=True)
        train_timed(["--content", *map(str, train), "--style", str(style)], run, args.minutes, overrides)
    info = json.loads((run / "model" / "model.json").read_text())
    train_s = info.get("elapsed_s", float("nan"))
    cfg = info["config"]
    grams = load_style_grams(run)
    metrics = StyleMetrics(grams)
    stylizer = Stylizer(run, device="cpu")

    rows, sheet, labels = [], [], []
    for path in held:
        x = load_images([path], max_side=args.size)[0][None]  # [1, 3, H, W]
        t0 = time.monotonic()
        c_term, s_term = cfg["loss"]["content"], cfg["loss"]["style"]
        g = gatys(x, grams, c_term["weight"], s_term["weight"], c_term["layers"], s_term["layers"], steps=args.gatys_steps)
        gatys_s = time.monotonic() - t0
        y = stylizer.tensor(x)
        r = {"image": path.name, "content image": metrics(x, x), "stylereel": metrics(y, x), "gatys": metrics(g, x), "gatys_s": gatys_s}
        rows.append(r)
        np_ = lambda t: t[0].permute(1, 2, 0).numpy()  # noqa: E731
        sheet.append([np_(x), np_(y), np_(g)])
        labels.append([f"{path.name} (held out)", f"stylereel {r['stylereel']['style_distance']:.3f}",
                       f"Gatys {args.gatys_steps} steps {r['gatys']['style_distance']:.3f}"])
    style_img = load_images([style], max_side=args.size)[0]
    sheet.append([style_img.permute(1, 2, 0).numpy()])
    labels.append(["style: " + style.name])
    write_contact_sheet(args.sheet, sheet, labels)

    def mean(who, key):
        return sum(r[who][key] for r in rows) / len(rows)

    s_c, s_m, s_g = (mean(w, "style_distance") for w in ("content image", "stylereel", "gatys"))
    closed = (s_c - s_m) / (s_c - s_g)
    report = {"steps": info["steps"], "train_seconds": train_s, "rows": rows, "gap_closed": closed}
    (args.work / "report.json").write_text(json.dumps(report, indent=2))

    reused = " Model scored with `--reuse`: the model already in the work folder, trained by this script's previous run or by bench/generators.py (same data, settings and budget)." if args.reuse else ""
    lines = [
        f"Trained {info['steps']} steps in {train_s / 60:.1f} min on {len(train)} photos "
        f"({', '.join(p.name for p in train)}) with `{args.style}`; scored on held-out "
        f"{', '.join(args.held_out)} at {args.size} px (longer side). Distances are relative "
        "(see `stylereel/metrics/style.py`); lower is closer." + reused,
        "",
        "| image | style distance | content distance |",
        "| --- | --- | --- |",
    ]
    for who in ("content image", "stylereel", "gatys"):
        label = {"gatys": f"Gatys optimisation ({args.gatys_steps} Adam steps, same trunk and loss)"}.get(who, who)
        lines.append(f"| {label} | {mean(who, 'style_distance'):.3f} | {mean(who, 'content_distance'):.3f} |")
    lines += ["", f"Style-distance gap closed by the feed-forward model: **{closed:.0%}** "
              f"((content − model) / (content − Gatys)). Contact sheet: `{rel_path(args.sheet)}`."]
    write_section("unpaired", "Unpaired look: Starry Night on held-out photos", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
