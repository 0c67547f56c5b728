"""How close the loss trunk's objective can bring a picture to the painting, as the
independent judge sees it: per-photo optimisation (Gatys et al. 2016) of the unpaired
look's own style terms, Gram and sliced-Wasserstein on the trunk's layers and the
pixels, pushed well past the point a look would ship at, scored with Magenta's
style-prediction network beside the shipped look and Magenta's own network.

    python bench/studies/ceiling.py --data DATA_DIR [--trunk vgg19|hed_vgg16] [--look RUN]

A feed-forward look approximates what this optimisation reaches for each photo; where
the optimisation itself stops far from Magenta's distance, no weighting or generator
trained on this trunk gets there. Gatys as `bench/quality_unpaired.py` runs it (content
1, Gram 2, the trunk's own layers) comes from that script's cache when there (it is
recomputed otherwise). The trunk runs under bf16 autocast where the CPU has bf16 units. Held-out photos and sizes as in `bench/quality_unpaired.py`. Writes
bench/RESULTS.md (section "ceiling") and docs/images/unpaired_ceiling.png.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.magenta import Magenta  # noqa: E402
from bench.quality_unpaired import SKIMAGE_HELD_OUT, cached_gatys, held_out_photos, luminance_ssim  # noqa: E402
from bench.results import HELD_OUT, rel_path, write_section  # noqa: E402
from stylereel.data.images import load_images  # noqa: E402
from stylereel.looks import look_dir  # noqa: E402
from stylereel.device import bf16_supported  # noqa: E402
from stylereel.losses.terms import SlicedWasserstein  # noqa: E402
from bench.gatys import gatys  # noqa: E402
from stylereel.metrics.style import StyleMetrics  # noqa: E402
from stylereel.nets.features import PIXELS, Trunk, spec  # noqa: E402
from stylereel.render.contact_sheet import write_contact_sheet  # noqa: E402
from stylereel.render.stylize import Stylizer  # noqa: E402

# name -> (content weight, Gram weight, sliced-Wasserstein weight, Adam steps)
OPTIMISED = {
    "Gatys as quality_unpaired runs it": (1.0, 2.0, 0.0, 300),
    "content 1, Gram 2, SWD 4": (1.0, 2.0, 4.0, 400),
    "content 0.3, Gram 20, SWD 10": (0.3, 20.0, 10.0, 400),
}


def swd_targets(style_img: torch.Tensor, trunk: str) -> dict[str, torch.Tensor]:
    """The painting's feature samples `[C, M]` per trunk layer and its pixels, kept as the swd term keeps them."""
    layers = spec(trunk).style_layers
    term = SlicedWasserstein(layers={PIXELS: 1.0, **layers}, trunk=trunk)
    with torch.no_grad():
        term.set_look([{PIXELS: style_img[None], **Trunk(list(layers), trunk)(style_img[None])}])
    return term.targets


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--size", type=int, default=384)
    ap.add_argument("--trunk", default="vgg19", help="the loss trunk optimised on (and scored on for content)")
    ap.add_argument("--look", type=Path, help="the look shown beside (default: the shipped Starry Night look)")
    ap.add_argument("--steps", type=float, default=1.0, help="scale every optimisation's Adam steps by this")
    ap.add_argument("--sheet", type=Path, help="default: docs/images/unpaired_ceiling.png (hed_vgg16), unpaired_ceiling_TRUNK.png")
    args = ap.parse_args()
    args.sheet = args.sheet or ROOT / "docs" / "images" / ("unpaired_ceiling.png" if args.trunk == "hed_vgg16" else f"unpaired_ceiling_{args.trunk}.png")
    torch.manual_seed(0)

    style = args.data / "styles" / "starry_night.jpg"
    stylizer = Stylizer(args.look or look_dir("starry_night"), device="cpu")
    style_img = load_images([style], exact_side=512, trim=0.03)[0]  # as the unpaired defaults show it to training
    metrics = StyleMetrics.from_images([style_img], trunk=args.trunk)
    targets = swd_targets(style_img, args.trunk)
    bf16 = bf16_supported(torch.device("cpu"))
    magenta = Magenta(args.data / "models")
    reference = magenta.style_vector(load_images([style])[0][None])

    who = ["the shipped look", *OPTIMISED, "Magenta arbitrary network"]
    rows = {w: [] for w in who}
    sheet, labels = [], []
    for name, x in held_out_photos(args.data, HELD_OUT + SKIMAGE_HELD_OUT, args.size):
        outs = {"the shipped look": stylizer.tensor(x).clamp(0, 1)}
        for w, (cw, sw, ww, steps) in OPTIMISED.items():
            steps = round(steps * args.steps)
            if not ww and (cw, sw) == (1.0, 2.0):  # bench/quality_unpaired.py's own Gatys run, from its cache
                outs[w] = cached_gatys(name, x, style, style_img, args.trunk, steps)[0]
            else:
                outs[w] = gatys(x, metrics.grams, cw, sw, steps=steps, swd_weight=ww, swd_targets=targets, trunk=args.trunk, bf16=bf16)
            print(name, w, f"{magenta.distance(outs[w], reference):.3f}", flush=True)
        outs["Magenta arbitrary network"] = magenta.stylize(x, reference)
        for w, y in outs.items():
            rows[w].append({"magenta": magenta.distance(y, reference), "ssim": luminance_ssim(y, x), **metrics(y, x)})
        sheet.append([x[0].permute(1, 2, 0).numpy()] + [outs[w][0].permute(1, 2, 0).numpy() for w in who])
        labels.append([name] + [f"{w}: {rows[w][-1]['magenta']:.2f}" for w in who])
    write_contact_sheet(args.sheet, sheet, labels, height=240)

    def mean(w, k):
        return float(np.mean([r[k] for r in rows[w]]))

    s = spec(args.trunk)
    lines = [
        f"Trunk: `{args.trunk}` ({s.summary}). The 4 held-out photos of `bench/quality_unpaired.py` at {args.size} px; the painting "
        "at 512 px with its frame trimmed, as the unpaired defaults show it to training. Optimised: Adam on the pixels from the photo "
        f"(`bench.gatys`; steps x{args.steps:g}), content on {', '.join(s.content_layers)}, Gram on "
        f"{', '.join(s.style_layers)}, SWD (sliced Wasserstein, 64 random directions per layer per step) on the same layers and the "
        "pixels. Magenta style distance as in the section \"unpaired\" (lower is closer; Magenta's predictor is a MobileNetV2 the "
        f"project never trains on); content distance on the trunk ({', '.join(s.content_layers)}).",
        "",
        "| output | Magenta style distance | per photo | content distance | luminance SSIM |",
        "| --- | --- | --- | --- | --- |",
    ]
    for w in who:
        per_photo = " / ".join(f"{r['magenta']:.2f}" for r in rows[w])
        lines.append(f"| {w} | {mean(w, 'magenta'):.3f} | {per_photo} | {mean(w, 'content_distance'):.3f} | {mean(w, 'ssim'):.3f} |")
    best = min(mean(w, "magenta") for w in OPTIMISED)
    lines += ["", f"Closest the trunk's objective reached: {best:.3f}, {best / mean('Magenta arbitrary network', 'magenta'):.2f}x "
              f"Magenta's network; the shipped look: {mean('the shipped look', 'magenta'):.3f}. Sheet: `{rel_path(args.sheet)}` "
              "(photo | each output, labelled with its Magenta style distance)."]
    # one section per trunk: HED's keeps the measurement that found its bound
    section = "ceiling" if args.trunk == "hed_vgg16" else f"ceiling_{args.trunk}"
    write_section(section, f"Unpaired look: what the loss trunk can reach ({args.trunk})", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
