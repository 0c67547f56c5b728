"""How fast the default generator can learn to paint like its teacher, on 2 CPU cores.

The generator is fitted to the AdaIN teacher's painting (with the look's palette,
`stylereel.nets.adain.paint`) of ONE photo, on that same photo: no generalisation asked,
only how quickly the network can reproduce strokes it is shown. Loss: L1 plus VGG19
feature distances on relu1_1..relu4_1 (the teacher's picture as target), 160 px crops,
batch 2, Adam, bf16 autocast. Scored on the whole photo in Magenta's style space (the
same distance as bench/quality_unpaired.py) beside the teacher's own score, at 10, 25,
50 and 100 % of the budget.

    python bench/studies/student_capacity.py --data DATA_DIR --minutes 10 [--generator reel]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.magenta import Magenta  # noqa: E402
from bench.results import write_section  # noqa: E402
from stylereel.data.images import load_images  # noqa: E402
from stylereel.nets.adain import paint  # noqa: E402
from stylereel.nets.features import Trunk  # noqa: E402
from stylereel.nets.generator import build_generator  # noqa: E402

LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1"]


def high_frequency(y: torch.Tensor) -> float:
    """Mean absolute Laplacian: how much pixel-scale detail (strokes, grain) a picture holds."""
    lap = torch.tensor([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=torch.float32).view(1, 1, 3, 3).repeat(3, 1, 1, 1)
    return F.conv2d(y, lap, groups=3).abs().mean().item()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--generator", default="reel")
    ap.add_argument("--photo", default="photos/building.jpg")
    args = ap.parse_args()
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    style = args.data / "styles" / "starry_night.jpg"
    look = load_images([style], exact_side=512, trim=0.03)[0]
    magenta = Magenta(args.data / "models")
    reference = magenta.style_vector(load_images([style])[0][None])
    x = load_images([args.data / args.photo], 384)[0][None]
    teacher = paint([x[0]], [look])[0][None]
    net = build_generator(args.generator)
    opt = torch.optim.Adam(net.parameters(), getattr(type(net), "lr", 1e-3), betas=(0.5, 0.999))
    vgg = Trunk(LAYERS, "vgg19")
    rows, step, side, start = [], 0, 160, time.time()
    marks = [args.minutes * 60 * f for f in (0.1, 0.25, 0.5, 1.0)]
    while marks:
        if time.time() - start >= marks[0]:
            marks.pop(0)
            with torch.no_grad():
                y = net(x)
            rows.append((time.time() - start, step, magenta.distance(y, reference), high_frequency(y)))
            continue
        i, j = rng.integers(0, x.shape[2] - side), rng.integers(0, x.shape[3] - side)
        xc, tc = x[..., i : i + side, j : j + side].repeat(2, 1, 1, 1), teacher[..., i : i + side, j : j + side].repeat(2, 1, 1, 1)
        with torch.autocast("cpu", torch.bfloat16):
            y = net(xc)
            fy, ft = vgg(y), vgg(tc)
            loss = F.l1_loss(y.float(), tc) + sum(F.mse_loss(fy[k].float(), ft[k].float()) / ft[k].float().square().mean() for k in LAYERS)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
    lines = [
        f"Generator `{args.generator}` fitted for {args.minutes:g} minutes to the AdaIN teacher's painting (with Starry Night's palette) "
        f"of `{args.photo}`, scored on that same photo (384 px): the teacher scores {magenta.distance(teacher, reference):.3f} "
        f"(Magenta style distance), its pixel-scale detail (mean absolute Laplacian) is {high_frequency(teacher):.3f}.",
        "",
        "| seconds | steps | Magenta style distance | detail |",
        "| --- | --- | --- | --- |",
        *[f"| {s:.0f} | {n} | {d:.3f} | {h:.3f} |" for s, n, d, h in rows],
    ]
    write_section(f"student_capacity_{args.generator}", f"How fast the generator learns its teacher's strokes ({args.generator})", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
