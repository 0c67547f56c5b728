"""Unpaired look quality: train the default look on photos + one painting for a wall-clock
budget, render photos it never saw, and score them beside the peers:

- Gatys et al. (2016) optimisation on the ImageNet VGG19 (the classic recipe: content
  relu4_1, Gram style on relu1_1 ... relu5_1, starting from the photo; minutes per image);
- Gatys on HED's VGG16 (content relu3_3, Gram on relu1_2 ... relu4_3), the trunk looks were
  trained on before;
- AdaIN (Huang & Belongie 2017; the authors' decoder, `bench/adain.py`);
- Magenta's arbitrary-style network (Ghiasi et al. 2017), given the same painting.

    python bench/quality_unpaired.py --data DATA_DIR --minutes 10
    python bench/quality_unpaired.py --data DATA_DIR --model starry_night   # a shipped look, as it is

Scores, all on the held-out photos at 384 px (longer side):
- Magenta style distance: distance between the 100-d style vectors that Magenta's
  style-prediction network (`arbitrary_predict.onnx`) gives the output and the painting;
  a feature space stylereel never trains on (lower is closer);
- Gram style distance and content distance on the VGG19 trunk for every output
  (`stylereel/metrics/style.py`; one space for all);
- luminance SSIM to the photo (structure kept; 1 is the photo).

DATA_DIR holds photos/*.jpg, styles/starry_night.jpg and models/arbitrary_*.onnx (the
project's sample data); two held-out photos come from it and two from scikit-image
(public domain), so none of the four was seen in training. Writes bench/RESULTS.md
(section "unpaired"), a JSON report beside the run and the sheet
docs/images/unpaired_starry_night.png (photo | stylereel | Gatys VGG19 | AdaIN | Magenta;
Gatys on HED is in the table only).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import kornia
import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.adain import AdaIN  # noqa: E402
from bench.magenta import Magenta  # noqa: E402
from bench.results import HELD_OUT, photo_split, rel_path, train_timed, write_section  # noqa: E402
from stylereel.data.images import load_images  # noqa: E402
from stylereel.device import bf16_supported  # noqa: E402
from bench.gatys import gatys  # noqa: E402
from stylereel.metrics.image import edge_step  # noqa: E402
from stylereel.looks import look_dir  # noqa: E402
from stylereel.metrics.style import StyleMetrics  # noqa: E402
from stylereel.model import resolve_model_dir  # noqa: E402
from stylereel.render.contact_sheet import write_contact_sheet  # noqa: E402
from stylereel.render.stylize import Stylizer  # noqa: E402

SKIMAGE_HELD_OUT = ["astronaut", "coffee"]
WHO = ("photo", "stylereel", "gatys", "adain", "magenta")  # on the sheet; "gatys_hed" in the table only
GATYS = {"gatys": "vgg19", "gatys_hed": "hed_vgg16"}  # output -> the trunk its optimisation runs on


def held_out_photos(data: Path, names: list[str], side: int) -> list[tuple[str, torch.Tensor]]:
    """(name, [1, 3, H, W]) at `side` px on the longer side: DATA/photos/NAME, or a scikit-image sample."""
    import skimage.data

    out = []
    for n in names:
        if n.endswith(".jpg"):
            x = load_images([data / "photos" / n])[0]
        else:
            x = torch.from_numpy(getattr(skimage.data, n)()).permute(2, 0, 1).float() / 255
        h, w = x.shape[-2:]
        s = side / max(h, w)
        out.append((n, F.interpolate(x[None], size=(round(h * s), round(w * s)), mode="bilinear", antialias=True, align_corners=False)))
    return out


def gatys_cache(name: str, size: int, steps: int, style: Path, style_img: torch.Tensor, trunk: str = "hed_vgg16") -> Path:
    """Where a Gatys result is kept between runs: it depends on the photo, size, steps, painting and trunk only."""
    suffix = "" if trunk == "hed_vgg16" else f"_{trunk}"
    return ROOT / "bench" / "runs" / "gatys" / f"{name}_{size}px_{steps}steps_{style.stem}_{style_img.shape[-1]}x{style_img.shape[-2]}{suffix}.pt"


def cached_gatys(name: str, x: torch.Tensor, style: Path, style_img: torch.Tensor, trunk: str, steps: int) -> tuple[torch.Tensor, float]:
    """Gatys on `trunk` (content 1, style 2 on its own layers), kept between runs; (image, seconds it took)."""
    cached = gatys_cache(name, max(x.shape[-2:]), steps, style, style_img, trunk)
    if cached.exists():
        return torch.load(cached)
    t0 = time.monotonic()
    grams = StyleMetrics.from_images([style_img], trunk=trunk).grams
    # HED's Gatys stays fp32, as its earlier rows were measured; VGG19's takes bf16 where the CPU has it
    g = gatys(x, grams, 1.0, 2.0, steps=steps, trunk=trunk, bf16=trunk != "hed_vgg16" and bf16_supported(torch.device("cpu")))
    cached.parent.mkdir(parents=True, exist_ok=True)
    torch.save((g, time.monotonic() - t0), cached)
    return g, time.monotonic() - t0


def luminance_ssim(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(kornia.metrics.ssim(kornia.color.rgb_to_grayscale(a), kornia.color.rgb_to_grayscale(b), 11).mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--style", default="styles/starry_night.jpg")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--size", type=int, default=384, help="longer side of the held-out photos when scored")
    ap.add_argument("--gatys-steps", type=int, default=300)
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "runs" / "unpaired")
    ap.add_argument("--sheet", type=Path, default=ROOT / "docs" / "images" / "unpaired_starry_night.png")
    ap.add_argument("--reuse", action="store_true", help="score the model already in --work/run instead of training one")
    ap.add_argument("--model", help="score this model (a built-in look's name, a model or run directory) instead of training one")
    ap.add_argument("--baseline", type=Path, help="another model to score beside it (an earlier revision's run)")
    ap.add_argument("--baseline-name", default="baseline")
    ap.add_argument("--curve", default="", help="minutes at which to score the same run as it trains, e.g. 5,10,30 "
                    "(it trains for the last; snapshots every 50 steps)")
    args, overrides = ap.parse_known_args()
    marks = [float(m) for m in args.curve.split(",") if m.strip()]
    if marks:
        args.minutes = max(marks)
        overrides = [*overrides, "--train.snapshot_every=50"]

    train, _ = photo_split(args.data, HELD_OUT)
    style = args.data / args.style
    run = args.work / "run"
    if args.model:
        if marks or overrides:
            raise SystemExit("--model scores a model as it is: no --curve or training options")
        run = resolve_model_dir(look_dir(args.model) if "/" not in args.model and not Path(args.model).exists() else args.model)
        args.work.mkdir(parents=True, exist_ok=True)
    elif not args.reuse:
        shutil.rmtree(args.work, ignore_errors=True)
        train_timed(["--content", *map(str, train), "--style", str(style)], run, args.minutes, overrides)
    info = json.loads((resolve_model_dir(run) / "model.json").read_text())
    train_s = info.get("elapsed_s", float("nan"))
    cfg = info["config"]

    style_img = load_images([style], exact_side=cfg["data"]["style_size"], trim=cfg["data"].get("style_trim", 0.0))[0]
    metrics = StyleMetrics.from_images([style_img], trunk="vgg19")  # Grams of the painting as training saw it, one space for all
    magenta = Magenta(args.data / "models")
    adain = AdaIN()
    reference = magenta.style_vector(load_images([style])[0][None])
    stylizer = Stylizer(run, device="cpu")
    baseline = Stylizer(args.baseline, device="cpu") if args.baseline else None
    who_all = WHO + (("baseline",) if baseline else ())

    rows, sheet, labels = [], [], []
    for name, x in held_out_photos(args.data, HELD_OUT + SKIMAGE_HELD_OUT, args.size):
        # Gatys does not depend on the trained model: kept between runs, keyed by everything it does depend on.
        outs, r = {"photo": x, "stylereel": stylizer.tensor(x)}, {"image": name}
        for who, trunk in GATYS.items():
            outs[who], seconds = cached_gatys(name, x, style, style_img, trunk, args.gatys_steps)
            r[f"{who}_s"] = round(seconds, 1)
        outs["adain"] = adain.stylize(x, style_img[None])
        outs["magenta"] = magenta.stylize(x, reference)
        if baseline:
            outs["baseline"] = baseline.tensor(x)
        for who, y in outs.items():
            r[who] = {**metrics(y, x), "magenta_style_distance": magenta.distance(y, reference), "luminance_ssim": luminance_ssim(y, x),
                      "edge_step": edge_step(y) - edge_step(x)}
        rows.append(r)
        shown = WHO + (("baseline",) if baseline else ())
        sheet.append([outs[w][0].permute(1, 2, 0).numpy() for w in shown])
        labels.append([f"{name} (held out)"] + [f"{args.baseline_name if w == 'baseline' else w} {r[w]['magenta_style_distance']:.2f}"
                                                for w in shown[1:]])
    sheet.append([style_img.permute(1, 2, 0).numpy()])
    labels.append(["reference: " + style.name])
    write_contact_sheet(args.sheet, sheet, labels, height=240)

    def mean(who, key):
        return float(np.mean([r[who][key] for r in rows]))

    report = {"steps": info["steps"], "train_seconds": train_s, "rows": rows}
    (args.work / "report.json").write_text(json.dumps(report, indent=2))
    options = [o for o in overrides if not o.startswith("--train.snapshot_every")]
    recipe = "the options on the command line" if options else "the unpaired defaults"
    trained = f"**stylereel**, {recipe} ({info['steps']} steps, {train_s / 60:.1f} min)"
    names = {"photo": "the photo itself", "stylereel": f"**stylereel**, `{args.model}` as it is" if args.model else trained,
             "gatys": f"Gatys optimisation on VGG19 ({args.gatys_steps} Adam steps per photo)",
             "gatys_hed": f"Gatys optimisation on HED's VGG16 ({args.gatys_steps} Adam steps per photo)",
             "adain": "AdaIN (the authors' decoder)", "magenta": "Magenta arbitrary-style network",
             "baseline": f"{args.baseline_name}"}
    lines = [
        (f"`{args.model}` as shipped ({info.get('source', 'no source recorded')}), against `{args.style}`; scored on " if args.model else
         f"Trained on {len(train)} photos ({', '.join(p.name for p in train)}) with `{args.style}`; scored on ")
        + f"{len(rows)} photos never seen in training ({', '.join(r['image'] for r in rows)}) at {args.size} px. "
        "Magenta style distance: between style vectors of Magenta's style-prediction network (not a training loss); "
        "Gram style and content distances on the VGG19 trunk for every output (`stylereel/metrics/style.py`); lower is closer. "
        "Luminance SSIM to the photo: higher keeps more structure. Border step: how much more the frame's outer "
        "3 px stand out from the next 9 px than in the photo (`stylereel.metrics.image.edge_step`; lines along the border raise it).",
        "",
        "| output | Magenta style distance | Gram style distance | content distance | luminance SSIM | border step |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for who in (*who_all[:3], "gatys_hed", *who_all[3:]):
        lines.append(f"| {names[who]} | {mean(who, 'magenta_style_distance'):.3f} | {mean(who, 'style_distance'):.3f} "
                     f"| {mean(who, 'content_distance'):.3f} | {mean(who, 'luminance_ssim'):.3f} | {mean(who, 'edge_step'):+.3f} |")
    s, g, a, m = (mean(w, "magenta_style_distance") for w in ("stylereel", "gatys", "adain", "magenta"))
    lines += ["", f"Magenta style distance of stylereel: {s / g:.2f}x Gatys' (VGG19), {s / a:.2f}x AdaIN's, {s / m:.2f}x Magenta's own network's. "
              f"Sheet: `{rel_path(args.sheet)}` (photo | stylereel | Gatys VGG19 | AdaIN | Magenta{' | ' + args.baseline_name if baseline else ''}, "
              "each labelled with its Magenta style distance)."]
    if marks:
        lines += ["", *curve(run, marks, args.data, args.size, magenta, reference, metrics)]
    write_section("unpaired", "Unpaired look: Starry Night on photos never seen in training", "\n".join(lines))
    print("\n".join(lines))


def curve(run: Path, marks: list[float], data: Path, size: int, magenta, reference, metrics) -> list[str]:
    """The run's snapshot last saved before each mark (minutes of training), scored like the model."""
    snaps = []
    for d in sorted((run / "snapshots").glob("step_*")):
        snaps.append((json.loads((d / "model.json").read_text()).get("elapsed_s", 0.0), d))
    photos = held_out_photos(data, HELD_OUT + SKIMAGE_HELD_OUT, size)
    lines = ["Training curve of the same run (the snapshot saved last before each mark):", "",
             "| minutes | steps | Magenta style distance | content distance | luminance SSIM |", "| --- | --- | --- | --- | --- |"]
    for mark in marks:
        before = [(t, d) for t, d in snaps if t <= 60 * mark + 1]
        if not before:
            continue
        t, d = before[-1]
        st = Stylizer(d, device="cpu")
        scores = []
        for _, x in photos:
            y = st.tensor(x)
            scores.append((magenta.distance(y, reference), metrics(y, x)["content_distance"], luminance_ssim(y, x)))
        m = np.mean(scores, 0)
        steps = json.loads((d / "model.json").read_text())["steps"]
        lines.append(f"| {t / 60:.1f} | {steps} | {m[0]:.3f} | {m[1]:.3f} | {m[2]:.3f} |")
    return lines


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
