"""Which working encoding a scene-linear plate should reach the network in.

    python bench/studies/colour.py --data DATA_DIR

The shipped Starry Night look was trained on sRGB photos. Each held-out photo is
made scene-linear (sRGB -> ACEScg through OpenColorIO, as a plate from a renderer
or a linearised camera would be) and rendered two ways:

- sRGB working encoding (the default, `stylereel.io.color.WorkingEncoding`):
  linear Rec.709 clipped to [0, 1] and sRGB-encoded, the part outside kept as a residual;
- ACEScct: the plate's ACEScct code values (the log encoding colourists grade in).

Both results go back to ACEScg and are shown through an sRGB encoding; they are
scored against the look rendered on the original sRGB photo (what the look is
meant to do), by mean absolute difference and the style/content distances of
`stylereel eval`, and for round-trip error with an identity network. Writes
bench/RESULTS.md (section "colour").
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.quality_unpaired import HELD_OUT, SKIMAGE_HELD_OUT, held_out_photos  # noqa: E402
from bench.results import SHIPPED_LOOK as LOOK, write_section  # noqa: E402
from stylereel.data.images import load_images  # noqa: E402
from stylereel.io.color import LINEAR, SRGB, WorkingEncoding, convert  # noqa: E402
from stylereel.metrics.style import StyleMetrics  # noqa: E402
from stylereel.render.stylize import Stylizer  # noqa: E402

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--side", type=int, default=384)
    args = ap.parse_args()

    stylizer = Stylizer(LOOK, device="cpu")
    metrics = StyleMetrics.from_images(load_images([args.data / "styles" / "starry_night.jpg"], exact_side=512, trim=0.03))
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1)[None]  # noqa: E731
    rows = {"sRGB working encoding (default)": [], "ACEScct code values": [], "photo rendered as sRGB (reference)": []}
    trips = {"sRGB working encoding (default)": [], "ACEScct code values": []}
    srgb_enc = WorkingEncoding("ACEScg")
    for name, img in held_out_photos(args.data, HELD_OUT + SKIMAGE_HELD_OUT, args.side):
        photo = np.ascontiguousarray(img[0].permute(1, 2, 0).numpy())
        lin = convert(photo, SRGB, "ACEScg")
        lin[: lin.shape[0] // 8] *= 4.0  # a bright band: highlights above 1.0, as real plates have
        shown = np.clip(convert(lin, "ACEScg", SRGB), 0, 1)
        ref = stylizer(shown)

        net_in, residual = srgb_enc.encode(lin)
        out_a = np.clip(convert(srgb_enc.decode(stylizer(net_in), residual), "ACEScg", SRGB), 0, 1)
        trips["sRGB working encoding (default)"].append(float(np.abs(srgb_enc.decode(net_in, residual) - lin).max()))

        cct = convert(lin, "ACEScg", "ACEScct")
        cct_in = np.clip(cct, 0, 1)
        out_b = np.clip(convert(convert(stylizer(cct_in), "ACEScct", LINEAR), LINEAR, SRGB), 0, 1)
        trips["ACEScct code values"].append(float(np.abs(convert(cct_in, "ACEScct", "ACEScg") - lin).max()))

        for key, out in (("sRGB working encoding (default)", out_a), ("ACEScct code values", out_b), ("photo rendered as sRGB (reference)", ref)):
            m = metrics(t(out), t(shown))
            rows[key].append((float(np.abs(out - ref).mean()), m["style_distance"], m["content_distance"]))

    lines = [
        f"The shipped Starry Night look on {len(rows['sRGB working encoding (default)'])} held-out photos "
        f"({', '.join(HELD_OUT + SKIMAGE_HELD_OUT)}; {args.side} px), each made scene-linear (ACEScg) with its top eighth "
        "raised 4x above 1.0. Difference: mean absolute difference (sRGB display, 0-1) from the look rendered on the photo itself. "
        "Round trip: largest error of encode -> decode with an identity network, in ACEScg.",
        "",
        "| working encoding | difference from the sRGB render | style distance | content distance | round-trip error |",
        "| --- | --- | --- | --- | --- |",
    ]
    for key, vals in rows.items():
        d, s, c = (np.mean([v[i] for v in vals]) for i in range(3))
        trip = f"{max(trips[key]):.1e}" if key in trips else "-"
        lines.append(f"| {key} | {d:.3f} | {s:.3f} | {c:.3f} | {trip} |")
    write_section("colour", "Colour: the working encoding for scene-linear plates", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
