"""Fit a look again with fewer inverted-residual blocks at 1/8 resolution (`ReelGenerator(n_blocks=N)`), starting
from its own weights: each block is 4-5 ms of a 1080p frame on the CPU engine in bf16 on 2 cores.

    python tools/fewer_blocks.py --data DATA_DIR --look starry_night --blocks 2 --minutes 12

1. Crops of the students' content set (bench/distill.py's `distill_set`: no held-out photo), each at a few scales
   (tools/thin_stage.py's sampler), go once through the look; its pictures are the targets.
2. The student is the look with the blocks that matter least taken out: of every way to keep N of its blocks, the one
   whose picture is nearest the look's on those crops, before any fitting.
3. Every weight of the student is then fitted by Adam to the look's picture (mean squared error in [0, 1]) for
   --minutes, the rate falling on a cosine from --lr to 3% of it.

The model lands in WORK/LOOK_blocksN/model with the look's description and training config. Fitted this way a
student copies the look, it does not learn the painting: on Starry Night two blocks fewer ended 6.4 8-bit codes from the
look. Train it on from there by the look's own recipe (`stylereel train --config RECIPE --model.init WORK/LOOK_blocksN/model`,
bench/distill.py's `finish`), then score it beside the look with `bench/subpixel.py --kind fewer_blocks`.
"""

from __future__ import annotations

import argparse
import copy
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.thin_stage import CROP, stage_inputs  # noqa: E402


def fewer(net: nn.Module, kept: tuple[int, ...]) -> nn.Module:
    """A copy of the "reel" generator `net` with only its blocks `kept` (in order)."""
    student = copy.deepcopy(net)
    student.blocks = nn.Sequential(*[student.blocks[i] for i in kept])
    student.n_blocks = len(kept)
    return student


def distance(net: nn.Module, crops: torch.Tensor, target: torch.Tensor) -> float:
    """Mean 8-bit codes between `net`'s pictures of `crops` and `target`."""
    with torch.no_grad():
        return float(torch.cat([(net(crops[i : i + 16]) - target[i : i + 16]).abs().flatten() for i in range(0, len(crops), 16)]).mean()) * 255


def fit(look: Path, data: Path, blocks: int, minutes: float, work: Path, lr: float = 1e-3, crops: int = 96, batch: int = 8) -> Path:
    from bench.distill import distill_set
    from stylereel.data.images import load_images
    from stylereel.io.atomic import atomic_write_text
    from stylereel.model import load_model, save_model

    net, info = load_model(look)
    g = info["generator"]
    if g["name"] != "reel" or not 0 < blocks < net.n_blocks:
        raise SystemExit(f"{look}: a 'reel' look with more than {blocks} blocks is fitted this way, not {g}")
    net.eval().requires_grad_(False)
    photos = load_images(sorted(distill_set(data, work / "content").glob("*.png")))
    padded, feat = stage_inputs(net, photos, crops)
    m = net.margin
    x = padded[..., m : m + CROP, m : m + CROP].contiguous()  # the crops themselves (the sampler gives them padded)
    with torch.no_grad():
        target = net.finish(padded, net.to_rgb(feat))[..., m : m + CROP, m : m + CROP]
    kept = min(itertools.combinations(range(net.n_blocks), blocks), key=lambda k: distance(fewer(net, k), x, target))
    student = fewer(net, kept).train().requires_grad_(True)
    print(f"{len(x)} crops of {CROP} px from {len(photos)} pictures; blocks kept {list(kept)}: "
          f"{distance(student, x, target):.2f} codes from the look", flush=True)
    opt = torch.optim.Adam(student.parameters(), lr=lr)
    steps, start, end = 0, time.monotonic(), time.monotonic() + 60 * minutes
    rng = torch.Generator().manual_seed(1)
    while time.monotonic() < end:
        for group in opt.param_groups:  # cosine from lr to 3% of it over the run's time
            group["lr"] = lr * (0.03 + 0.97 * 0.5 * (1 + np.cos(np.pi * min(1.0, (time.monotonic() - start) / (60 * minutes)))))
        i = torch.randint(0, len(x), (batch,), generator=rng)
        loss = F.mse_loss(student(x[i]), target[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
        steps += 1
        if steps % 300 == 0:
            print(f"step {steps}: {distance(student, x, target):.3f} codes from the look", flush=True)
    student.eval().requires_grad_(False)
    got = distance(student, x, target)
    kwargs = {**g["kwargs"], "n_blocks": blocks}
    config = copy.deepcopy(info["config"])
    config["model"]["generator_kwargs"] = kwargs
    out = work / f"{look.name}_blocks{blocks}" / "model"
    save_model(out, student, {
        **{k: v for k, v in info.items() if k not in ("format", "generator", "config", "source")},
        "generator": {"name": g["name"], "kwargs": kwargs}, "config": config,
        "source": f"python tools/fewer_blocks.py --look {look.name} --blocks {blocks} --minutes {minutes:g}: {look.name}'s "
                  f"generator with its blocks {list(kept)} alone, every weight fitted to the look's own picture "
                  f"({steps} steps, {got:.2f} 8-bit codes from it on average on {len(x)} training crops); the look: "
                  + info.get("source", ""),
    })
    atomic_write_text(out.parent / "fit.json", json.dumps({"steps": steps, "codes": got, "kept": list(kept)}) + "\n")
    print(f"{out}: {steps} steps, {got:.3f} codes from the look on the crops", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--look", default="starry_night", help="a built-in single look")
    ap.add_argument("--blocks", type=int, default=2, help="inverted-residual blocks the student keeps")
    ap.add_argument("--minutes", type=float, default=12)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "runs" / "fewer_blocks")
    args = ap.parse_args()
    from stylereel.looks import look_dir

    fit(look_dir(args.look), args.data, args.blocks, args.minutes, args.work, args.lr)


if __name__ == "__main__":
    main()
