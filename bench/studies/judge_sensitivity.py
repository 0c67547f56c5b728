"""What Magenta's style distance rewards: the AdaIN teacher's painting of each held-out photo
(`stylereel.nets.adain.paint`, with the painting's palette) scored as it is and degraded one
way at a time (blurred, halved in resolution, desaturated, flattened in contrast), beside
its pixel-scale detail and contrast. A look that lacks what a degradation removes loses
what that degradation costs.

    python bench/studies/judge_sensitivity.py --data DATA_DIR
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.magenta import Magenta  # noqa: E402
from bench.quality_unpaired import SKIMAGE_HELD_OUT, held_out_photos  # noqa: E402
from bench.results import HELD_OUT, write_section  # noqa: E402
from bench.studies.student_capacity import high_frequency  # noqa: E402
from stylereel.data.images import load_images  # noqa: E402
from stylereel.metrics.style import StyleMetrics  # noqa: E402
from stylereel.nets.adain import paint  # noqa: E402


def blur(y: torch.Tensor, sigma: float) -> torch.Tensor:
    k = int(3 * sigma) * 2 + 1
    g = torch.exp(-(torch.arange(k) - k // 2) ** 2 / (2 * sigma * sigma))
    g = (g / g.sum()).float()
    y = F.pad(y, (k // 2,) * 4, mode="reflect")
    y = F.conv2d(y, g.view(1, 1, 1, k).repeat(3, 1, 1, 1), groups=3)
    return F.conv2d(y, g.view(1, 1, k, 1).repeat(3, 1, 1, 1), groups=3)


DEGRADATIONS = {
    "as painted": lambda t: t,
    "blurred, sigma 1 px": lambda t: blur(t, 1.0),
    "blurred, sigma 2 px": lambda t: blur(t, 2.0),
    "half resolution, scaled back": lambda t: F.interpolate(F.interpolate(t, scale_factor=0.5, mode="area"), size=t.shape[-2:], mode="bilinear"),
    "half the saturation": lambda t: 0.5 * t + 0.5 * t.mean(1, keepdim=True),
    "0.6x contrast": lambda t: 0.6 * t + 0.4 * t.mean((2, 3), keepdim=True),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--size", type=int, default=384)
    args = ap.parse_args()
    style = args.data / "styles" / "starry_night.jpg"
    look = load_images([style], exact_side=512, trim=0.03)[0]
    metrics = StyleMetrics.from_images([look], trunk="vgg19")
    magenta = Magenta(args.data / "models")
    reference = magenta.style_vector(load_images([style])[0][None])
    scores = {k: [] for k in DEGRADATIONS}
    for _, x in held_out_photos(args.data, HELD_OUT + SKIMAGE_HELD_OUT, args.size):
        t = paint([x[0]], [look])[0][None]
        for k, fn in DEGRADATIONS.items():
            y = fn(t).clamp(0, 1)
            scores[k].append((magenta.distance(y, reference), metrics(y, x)["content_distance"], high_frequency(y), y.mean(1).std().item()))
    lines = ["The AdaIN teacher's painting (with Starry Night's palette) of the 4 held-out photos at "
             f"{args.size} px, degraded one way at a time. Detail: mean absolute Laplacian; contrast: the deviation of "
             "the mean of R, G and B.", "",
             "| picture | Magenta style distance | content distance | detail | contrast |", "| --- | --- | --- | --- | --- |"]
    for k, s in scores.items():
        m = np.mean(s, 0)
        lines.append(f"| {k} | {m[0]:.3f} | {m[1]:.3f} | {m[2]:.3f} | {m[3]:.3f} |")
    write_section("judge_sensitivity", "What the Magenta style distance rewards", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
