"""Unpaired look recipes on the loss trunks and teachers: each trained as a user would
(`stylereel train --content ... --style ...` with the recipe's options) for the same wall-clock
budget on the same 5 photos and Starry Night, scored on the 4 held-out photos of
`bench/quality_unpaired.py` beside AdaIN and Magenta's network.

    python bench/studies/recipes.py --data DATA_DIR --minutes 10 [--only NAME,NAME] [--reuse]

Scores as in the section "unpaired": Magenta style distance (lower is closer to the painting,
a feature space stylereel never trains on), content distance on the VGG19 trunk (relu4_1),
luminance SSIM to the photo. Writes bench/RESULTS.md (section "recipes") and
docs/images/unpaired_recipes.png.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.adain import AdaIN  # noqa: E402
from bench.magenta import Magenta  # noqa: E402
from bench.quality_unpaired import SKIMAGE_HELD_OUT, held_out_photos, luminance_ssim  # noqa: E402
from bench.results import HELD_OUT, photo_split, rel_path, train_timed, write_section  # noqa: E402
from stylereel.data.images import load_images  # noqa: E402
from stylereel.metrics.style import StyleMetrics  # noqa: E402
from stylereel.model import resolve_model_dir  # noqa: E402
from stylereel.render.contact_sheet import write_contact_sheet  # noqa: E402
from stylereel.render.stylize import Stylizer  # noqa: E402

TEACHER = ["--data.teacher=adain", "--loss.l1.of=teacher"]
SHALLOW = "{relu1_1: 1, relu2_1: 1, relu3_1: 1}"
# name -> (what it is, options on top of the unpaired defaults)
RECIPES = {
    "hed": ("the unpaired defaults (HED's VGG16)", []),
    "vgg19": ("the same terms on VGG19 (its own layers)", ["--loss.trunk=vgg19"]),
    "teacher_texture": ("VGG19 + AdaIN teacher, texture 4 + L1 2 to it",
                        ["--loss.trunk=vgg19", *TEACHER, "--loss.texture.weight=4", "--loss.l1.weight=2"]),
    "teacher_only": ("VGG19 + teacher, texture 8 + L1 2, no Gram / swd to the painting",
                     ["--loss.trunk=vgg19", *TEACHER, "--loss.texture.weight=8", "--loss.l1.weight=2", "--loss.style.weight=0", "--loss.swd.weight=0"]),
    "teacher_shallow": ("as teacher_only, texture on relu1_1..relu3_1, content relu3_1 (a cheaper step)",
                        ["--loss.trunk=vgg19", *TEACHER, "--loss.texture.weight=8", f"--loss.texture.layers={SHALLOW}",
                         "--loss.l1.weight=2", "--loss.style.weight=0", "--loss.swd.weight=0", "--loss.content.layers=[relu3_1]"]),
    "teacher_shallow_style": ("as teacher_shallow, with Gram 2 and swd 2 to the painting on relu1_1..relu3_1",
                              ["--loss.trunk=vgg19", *TEACHER, "--loss.texture.weight=8", f"--loss.texture.layers={SHALLOW}",
                               "--loss.l1.weight=2", f"--loss.style.layers={SHALLOW}", f"--loss.swd.layers={SHALLOW}", "--loss.content.layers=[relu3_1]"]),
    "distill": ("as teacher_shallow, content to the teacher's picture on relu1_1..relu4_1 (perceptual distillation)",
                ["--loss.trunk=vgg19", *TEACHER, "--loss.texture.weight=8", f"--loss.texture.layers={SHALLOW}",
                 "--loss.l1.weight=2", "--loss.style.weight=0", "--loss.swd.weight=0", "--loss.content.of=teacher",
                 "--loss.content.layers=[relu1_1, relu2_1, relu3_1, relu4_1]"]),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--only", default="", help="comma-separated recipe names (default: all)")
    ap.add_argument("--size", type=int, default=384)
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "runs" / "recipes")
    ap.add_argument("--sheet", type=Path, default=ROOT / "docs" / "images" / "unpaired_recipes.png")
    ap.add_argument("--reuse", action="store_true", help="score the runs already in --work (trained by this script)")
    args = ap.parse_args()
    names = [n for n in args.only.split(",") if n] or list(RECIPES)
    train, _ = photo_split(args.data, HELD_OUT)
    style = args.data / "styles" / "starry_night.jpg"
    for n in names:
        if not args.reuse:
            train_timed(["--content", *map(str, train), "--style", str(style)], args.work / n, args.minutes,
                        [*RECIPES[n][1], "--train.snapshot_every=100"])

    style_img = load_images([style], exact_side=512, trim=0.03)[0]
    metrics = StyleMetrics.from_images([style_img], trunk="vgg19")
    magenta = Magenta(args.data / "models")
    reference = magenta.style_vector(load_images([style])[0][None])
    adain = AdaIN()
    who = [*names, "adain", "magenta"]
    scores = {w: [] for w in who}
    sheet, labels = [], []
    for name, x in held_out_photos(args.data, HELD_OUT + SKIMAGE_HELD_OUT, args.size):
        outs = {n: Stylizer(args.work / n, device="cpu").tensor(x) for n in names}
        outs["adain"], outs["magenta"] = adain.stylize(x, style_img[None]), magenta.stylize(x, reference)
        for w, y in outs.items():
            scores[w].append((magenta.distance(y, reference), metrics(y, x)["content_distance"], luminance_ssim(y, x)))
        sheet.append([x[0].permute(1, 2, 0).numpy()] + [outs[w][0].permute(1, 2, 0).numpy() for w in who])
        labels.append([f"{name} (held out)"] + [f"{w} {scores[w][-1][0]:.2f}" for w in who])
    write_contact_sheet(args.sheet, sheet, labels, height=200)

    lines = [
        f"Each recipe trained {args.minutes:g} minutes (one run each) on {len(train)} photos with `styles/starry_night.jpg`, "
        f"options on top of the unpaired defaults; scored on the 4 held-out photos at {args.size} px. Magenta style distance "
        "(lower is closer; per photo: home / orange / astronaut / coffee); content distance on VGG19 relu4_1; luminance SSIM.",
        "",
        "| recipe | options | steps | Magenta style distance | per photo | content distance | luminance SSIM |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for w in who:
        m = np.mean(scores[w], 0)
        per = " / ".join(f"{s[0]:.2f}" for s in scores[w])
        if w in RECIPES:
            steps = json.loads((resolve_model_dir(args.work / w) / "model.json").read_text())["steps"]
            what, opts = RECIPES[w][0], " ".join(f"`{o}`" for o in RECIPES[w][1]) or "none"
        else:
            steps, what, opts = "", {"adain": "AdaIN (the authors' decoder)", "magenta": "Magenta's arbitrary-style network"}[w], ""
        lines.append(f"| {w}: {what} | {opts} | {steps} | {m[0]:.3f} | {per} | {m[1]:.3f} | {m[2]:.3f} |")
    if args.reuse:
        lines += ["", "Scored with `--reuse`: the runs already in the work folder, each trained with exactly these options for the "
                  "budget (where a longer run was kept, its snapshot saved last before the budget, the same model a run of that "
                  "length ends with)."]
    lines += ["", f"Sheet: `{rel_path(args.sheet)}` (photo | each recipe | AdaIN | Magenta, labelled with the Magenta style distance)."]
    write_section("recipes", "Unpaired look: recipes on the VGG19 trunk and the AdaIN teacher", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
