"""What minutes of one GPU buy the looks: the runs of `tools/accelerator_looks.py`, scored.

- Starry Night, three recipes on the VGG19 trunk (starry_distill, starry_texture,
  starry_gram), beside a baseline look (the one shipped before), AdaIN and Magenta's
  network, on the 4 held-out photos of `bench/quality_unpaired.py` at 384 px: Magenta
  style distance to the painting, content distance (VGG19 relu4_1), luminance SSIM.
- The multi-look model (multi6) against a baseline multi-look model, each multistyle26
  look against its truth (multistyle26's painting of the held-out photo): PSNR, SSIM,
  Magenta style distance to the truth.
- base26 (multistyle26's 26 styles in one network) as the start of a new look:
  `stylereel train --extend RUNS/base26/model` from the painting alone, scored like the
  recipes (pass `--extend-minutes 0` to skip).

    python bench/studies/accelerator.py --data DATA --runs bench/runs/gpu \\
        --baseline BASELINE_STARRY --baseline-multi BASELINE_MULTI

Writes bench/RESULTS.md (section "accelerator") and docs/images/accelerator_starry.png.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.adain import AdaIN  # noqa: E402
from bench.magenta import Magenta  # noqa: E402
from bench.quality_unpaired import SKIMAGE_HELD_OUT, held_out_photos, luminance_ssim  # noqa: E402
from bench.results import HELD_OUT, photo_split, rel_path, write_section  # noqa: E402
from stylereel.data.images import load_images  # noqa: E402
from stylereel.metrics.image import psnr, ssim  # noqa: E402
from stylereel.metrics.style import StyleMetrics  # noqa: E402
from stylereel.render.contact_sheet import write_contact_sheet  # noqa: E402
from stylereel.render.look_map import LookMap  # noqa: E402
from stylereel.render.stylize import Stylizer  # noqa: E402
from tools.make_looks import LOOKS  # noqa: E402

RECIPES = ("starry_distill", "starry_texture", "starry_gram")


def steps(model: Path) -> int:
    return json.loads((model / "model.json").read_text())["steps"]


def render(stylizer: Stylizer, x: torch.Tensor, look: str | None = None) -> torch.Tensor:
    if look is None:
        return stylizer.tensor(x)
    y = LookMap(stylizer.look_names, {look: 1.0}, 1.0).stylize(stylizer, x[0].permute(1, 2, 0).numpy().copy())
    return torch.from_numpy(y).permute(2, 0, 1)[None]


def extend_base(args, work: Path) -> Path:
    train, _ = photo_split(args.data, HELD_OUT)
    shutil.rmtree(work, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "stylereel.cli", "train", "--extend", str(args.runs / "base26" / "model"),
                    "--name", "starry_night", "--content", *map(str, train), "--style", str(args.data / "styles" / "starry_night.jpg"),
                    "--out", str(work), "--minutes", str(args.extend_minutes), "--steps", "1000000"], check=True)
    return work / "model"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--runs", type=Path, default=ROOT / "bench" / "runs" / "gpu", help="tools/accelerator_looks.py's runs, unpacked")
    ap.add_argument("--baseline", type=Path, required=True, help="the Starry Night look to compare with")
    ap.add_argument("--baseline-multi", type=Path, required=True, help="the multi-look model to compare with")
    ap.add_argument("--extend-minutes", type=float, default=3.0)
    ap.add_argument("--sheet", type=Path, default=ROOT / "docs" / "images" / "accelerator_starry.png")
    args = ap.parse_args()

    style = args.data / "styles" / "starry_night.jpg"
    style_img = load_images([style], exact_side=512, trim=0.03)[0]
    metrics = StyleMetrics.from_images([style_img], trunk="vgg19")
    magenta = Magenta(args.data / "models")
    reference = magenta.style_vector(load_images([style])[0][None])
    adain = AdaIN()
    models = {"baseline": args.baseline} | {n: args.runs / n / "model" for n in RECIPES}
    extended = extend_base(args, args.runs / "extend_base26") if args.extend_minutes else None
    if extended:
        models["base26_extended"] = extended
    stylizers = {n: Stylizer(p, device="cpu") for n, p in models.items()}
    who = [*models, "adain", "magenta"]
    scores = {w: [] for w in who}
    sheet, labels = [], []
    photos = [(n, x[..., : x.shape[-2] // 8 * 8, : x.shape[-1] // 8 * 8].contiguous())  # multistyle26 paints multiples of 8
              for n, x in held_out_photos(args.data, HELD_OUT + SKIMAGE_HELD_OUT, 384)]
    for name, x in photos:
        outs = {n: render(s, x, "starry_night" if n == "base26_extended" else None) for n, s in stylizers.items()}
        outs["adain"], outs["magenta"] = adain.stylize(x, style_img[None]), magenta.stylize(x, reference)
        for w, y in outs.items():
            scores[w].append((magenta.distance(y, reference), metrics(y, x)["content_distance"], luminance_ssim(y, x)))
        sheet.append([x[0].permute(1, 2, 0).numpy()] + [outs[w][0].permute(1, 2, 0).numpy() for w in who])
        labels.append([f"{name} (held out)"] + [f"{w} {scores[w][-1][0]:.2f}" for w in who])
    write_contact_sheet(args.sheet, sheet, labels, height=220)

    what = {"baseline": f"the baseline look (`{rel_path(args.baseline)}`)",
            "starry_distill": "distill: AdaIN teacher, texture 8 on relu1_1..relu3_1, L1 2 and content on relu1_1..relu4_1 to the teacher, critic 0.5",
            "starry_texture": "texture: the unpaired terms on VGG19 (Gram 2, swd 2, critic 0.5, light 2) plus texture 4 and L1 2 to the AdaIN teacher",
            "starry_gram": "gram: the unpaired terms on VGG19 alone (Gram 2, swd 2, critic 0.5, light 2)",
            "base26_extended": f"base26 extended: a new look's modulation on base26, {args.extend_minutes:g} min on this CPU",
            "adain": "AdaIN (the authors' decoder)", "magenta": "Magenta's arbitrary-style network"}
    lines = [
        "Runs of `python tools/accelerator_looks.py --minutes 7` side by side on one NVIDIA H200 (5 processes; multi6 and base26 "
        "resumed 3 more minutes with `stylereel train --resume`), 256-px crops, batch 8; scored here on the CPU. "
        "Starry Night on the 4 held-out photos at 384 px (per photo: home / orange / astronaut / coffee).",
        "",
        "| look | steps | Magenta style distance | per photo | content distance | luminance SSIM |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for w in who:
        m = np.mean(scores[w], 0)
        per = " / ".join(f"{s[0]:.2f}" for s in scores[w])
        lines.append(f"| {what[w]} | {steps(models[w]) if w in models else ''} | {m[0]:.3f} | {per} | {m[1]:.3f} | {m[2]:.3f} |")

    import onnxruntime as ort

    painter = ort.InferenceSession(str(args.data / "models" / "multistyle26.onnx"), providers=["CPUExecutionProvider"])
    multis = {"baseline": Stylizer(args.baseline_multi, device="cpu"), "multi6": Stylizer(args.runs / "multi6" / "model", device="cpu")}
    lines += ["", f"Multi-look models against multistyle26's painting of the same held-out photos: the baseline "
              f"(`{rel_path(args.baseline_multi)}`, {steps(args.baseline_multi)} steps) and multi6 "
              f"({steps(args.runs / 'multi6' / 'model')} steps). PSNR / SSIM / Magenta style distance to the truth.", "",
              "| look | baseline | multi6 |", "| --- | --- | --- |"]
    for look, (index, _) in LOOKS.items():
        w = np.zeros(26, np.float32)
        w[index] = 1
        got = {k: [] for k in multis}
        for _, x in photos:
            truth = torch.from_numpy(np.clip(painter.run(None, {"image": x.numpy(), "style_weights": w})[0], 0, 1))
            for k, s in multis.items():
                y = render(s, x, look)
                got[k].append((psnr(y, truth), ssim(y, truth), magenta.distance(y, magenta.style_vector(truth))))
        cells = [" / ".join(f"{v:.{d}f}" for v, d in zip(np.mean(got[k], 0), (2, 3, 3))) for k in multis]
        lines.append(f"| {look} | {' | '.join(cells)} |")
    lines += ["", f"Sheet: `{rel_path(args.sheet)}` (photo | each look | AdaIN | Magenta, labelled with the Magenta style distance)."]
    write_section("accelerator", "What minutes of one GPU buy the looks", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
