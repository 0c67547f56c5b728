"""What each precision of the CPU engine does to the picture: the default look (Starry Night) at
fp32, bf16 and int8 on the sample photos and on a synthetic sky with a vignette (flat areas and
gradients, where banding shows).

    python bench/precision_quality.py --data DATA

DATA is the project's sample data folder (its photos/ are used).

For every precision: the style and content distances (VGG19 Grams against the painting, content
features against the photo; `stylereel.metrics.style`) over the photos at 512 px, relative to fp32,
and the mean difference from fp32 in 8-bit code values (photos, and the sky). Writes
docs/images/precision.png (the sky and a photo at each precision) and bench/RESULTS.md, section
"precision".
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import write_section  # noqa: E402
from stylereel.io.frames import read_image  # noqa: E402
from stylereel.looks import look_dir  # noqa: E402
from stylereel.metrics.style import StyleMetrics  # noqa: E402
from stylereel.model import load_model  # noqa: E402
from stylereel.render.contact_sheet import write_contact_sheet  # noqa: E402
from stylereel.render.engine import InferenceEngine  # noqa: E402
from stylereel.render.int8 import MAX_MEAN_CODES  # noqa: E402

PRECISIONS = ("fp32", "bf16", "int8")


def tensor(rgb: np.ndarray, side: int = 512) -> torch.Tensor:
    h, w = rgb.shape[:2]
    s = side / max(h, w)
    small = cv2.resize(rgb, (round(w * s) // 4 * 4, round(h * s) // 4 * 4), interpolation=cv2.INTER_AREA)
    return torch.from_numpy(np.ascontiguousarray(small)).permute(2, 0, 1)[None]


def sky(h: int = 360, w: int = 640) -> torch.Tensor:
    """A clear sky darkening towards the horizon under a lens vignette: smooth gradients only."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rgb = np.stack([0.35 + 0.25 * yy / h, 0.55 + 0.2 * yy / h, 0.95 - 0.15 * yy / h], -1)
    vignette = 1 - 0.3 * (((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2)
    return torch.from_numpy(np.ascontiguousarray((rgb * vignette[..., None]).clip(0, 1))).permute(2, 0, 1)[None]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    args = ap.parse_args()
    model_dir = look_dir("starry_night")
    net, _ = load_model(model_dir)
    painting = torch.from_numpy(read_image(ROOT / "stylereel" / "assets" / "demo" / "style" / "starry_night.jpg").rgb).permute(2, 0, 1)
    metrics = StyleMetrics.from_images([painting])
    photos = [tensor(read_image(p).rgb) for p in sorted((args.data / "photos").iterdir())]
    gradient = sky()
    outs, scores = {}, {}
    for precision in PRECISIONS:
        engine = InferenceEngine(net, "cpu", precision=precision, model_dir=model_dir)
        outs[precision] = [engine(x) for x in photos], engine(gradient)
        s = [metrics(o, x) for o, x in zip(outs[precision][0], photos)]
        scores[precision] = {k: float(np.mean([d[k] for d in s])) for k in s[0]}
    codes = lambda a, b: float((a - b).abs().mean()) * 255  # noqa: E731
    lines = [
        f"The default look over the {len(photos)} sample photos at 512 px, and the synthetic sky (640x360).",
        "",
        "| precision | style distance | vs fp32 | content distance | vs fp32 | photos: mean 8-bit codes from fp32 | sky: mean codes from fp32 |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for p in PRECISIONS:
        s, f = scores[p], scores["fp32"]
        photo_codes = np.mean([codes(a, b) for a, b in zip(outs[p][0], outs["fp32"][0])])
        lines.append(f"| {p} | {s['style_distance']:.4f} | {100 * (s['style_distance'] / f['style_distance'] - 1):+.1f}% | "
                     f"{s['content_distance']:.4f} | {100 * (s['content_distance'] / f['content_distance'] - 1):+.1f}% | "
                     f"{photo_codes:.2f} | {codes(outs[p][1], outs['fp32'][1]):.2f} |")
    lines += ["", f"The bound for int8 to be a default is a mean of {MAX_MEAN_CODES:g} code value from fp32 and no banding. "
              "Sheet: `docs/images/precision.png` (the sky, then a photo: plate, fp32, bf16, int8)."]
    image = lambda t: t[0].permute(1, 2, 0).clamp(0, 1).numpy()  # noqa: E731
    rows = [[image(gradient), *(image(outs[p][1]) for p in PRECISIONS)], [image(photos[0]), *(image(outs[p][0][0]) for p in PRECISIONS)]]
    write_contact_sheet(ROOT / "docs" / "images" / "precision.png", rows, [["sky", *PRECISIONS], ["photo", *PRECISIONS]], height=300)
    write_section("precision", "What each precision does to the picture", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
