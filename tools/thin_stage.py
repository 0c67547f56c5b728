"""Fit a look's full-resolution stage again with fewer hidden channels (`ReelGenerator(detail_width=W)`), every
other weight the look's own: on the CPU engine that stage is about a third of a 1080p frame.

    python tools/thin_stage.py --data DATA_DIR --look starry_night --width 4 --minutes 8

The stage is a function of the padded frame and the half-resolution RGB the rest of the network draws
(`ReelGenerator.finish`); all but that RGB's conv stays frozen, so the student learns the look's own picture:

1. Crops of the students' content set (bench/distill.py's `distill_set`: no held-out photo), each at a few
   scales, go once through the look's frozen network to its half-resolution RGB; the look's stage gives the target.
2. The narrower stage starts from the look's hidden channels that carry most of its output (each channel's
   mean activation times the size of its weights out) and is fitted by Adam, with the last half-resolution conv
   (the RGB it draws over), to the look's picture (mean squared error in [0, 1], inside the crops) for --minutes.

The model lands in WORK/LOOK_stageW/model with the look's description; `bench/subpixel.py` scores it beside the
look (distances to the painting and the photo, the lattice, speed) and `tools/ship_look.py` ships it.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CROP = 192  # side of a training crop, in pixels of the frame
SCALES = (1.0, 0.5, 0.25)  # each photo's sizes the crops are taken at (photos are larger than frames' detail)


def stage_inputs(net, photos: list[torch.Tensor], crops: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(padded frames [N, 3, H, W], the look's half-resolution features before its last conv [N, c0, H/2, W/2]) of
    `crops` random crops, as the network's own `forward` gives them to `to_rgb` and the stage. A multi-look
    network paints each crop in one of its looks in turn ("none", the plate, among them)."""
    from stylereel.nets.generator import _pad_to

    looks = len(getattr(net, "looks", None) or ())
    g = torch.Generator().manual_seed(seed)
    xs, feats = [], []
    hook = net.to_rgb.register_forward_hook(lambda _m, inputs, _out: feats.append(inputs[0]))
    try:
        with torch.no_grad():
            for k in range(crops):
                photo = photos[k % len(photos)]
                s = SCALES[(k // len(photos)) % len(SCALES)]
                h, w = photo.shape[-2:]
                if min(h, w) * s < CROP:
                    s = CROP / min(h, w)
                img = F.interpolate(photo[None], scale_factor=s, mode="area") if s < 1 else photo[None]
                y0 = int(torch.randint(0, img.shape[-2] - CROP + 1, (1,), generator=g))
                x0 = int(torch.randint(0, img.shape[-1] - CROP + 1, (1,), generator=g))
                crop = img[..., y0 : y0 + CROP, x0 : x0 + CROP]
                net(crop, *([torch.eye(looks)[k % looks][None]] if looks else []))
                xs.append(_pad_to(crop, net.stride, net.margin, "reflect")[0])
    finally:
        hook.remove()
    return torch.cat(xs), torch.cat(feats)


def strongest(net, x: torch.Tensor, feat: torch.Tensor, width: int) -> list[int]:
    """The `width` hidden channels of the look's stage that carry most of its output."""
    with torch.no_grad():
        hidden = net.detail[1](net.detail[0](torch.cat([x, net.up(net.to_rgb(feat))], 1)))
        carry = hidden.mean((0, 2, 3)) * net.detail[2].weight.abs().sum((0, 2, 3))
    return sorted(torch.argsort(carry, descending=True)[:width].tolist())


def fit(look: Path, data: Path, width: int, minutes: float, work: Path, crops: int = 96, batch: int = 8) -> Path:
    from bench.distill import distill_set
    from stylereel.data.images import load_images
    from stylereel.io.atomic import atomic_write_text
    from stylereel.model import load_model, save_model
    from stylereel.nets.generator import build_generator

    net, info = load_model(look)
    g = info["generator"]
    if g["name"] not in ("reel", "reel_looks") or not g["kwargs"].get("detail", True):
        raise SystemExit(f"{look}: a 'reel' or 'reel_looks' look with its full-resolution stage is fitted this way, not {g}")
    net.eval().requires_grad_(False)
    kwargs = {**g["kwargs"], "detail_width": width}
    student = build_generator(g["name"], **kwargs)
    student.load_state_dict({k: v for k, v in net.state_dict().items() if not k.startswith("detail.")}, strict=False)
    content = distill_set(data, work / "content")
    photos = load_images(sorted(content.glob("*.png")))
    x, feat = stage_inputs(net, photos, crops)
    keep = strongest(net, x, feat, width)
    with torch.no_grad():
        student.detail[0].weight.copy_(net.detail[0].weight[keep])
        student.detail[0].bias.copy_(net.detail[0].bias[keep])
        student.detail[2].weight.copy_(net.detail[2].weight[:, keep])
        student.detail[2].bias.copy_(net.detail[2].bias)
        target = net.finish(x, net.to_rgb(feat))
    student.requires_grad_(False)
    fitted = [student.to_rgb, student.detail]  # the stage, and the half-resolution RGB it draws over, free to move with it
    for layer in fitted:  # (on Starry Night's 4-channel stage that ended at 1.48 codes from the look, the stage alone at 1.49)
        layer.requires_grad_(True)
    m = net.margin
    inside = (..., slice(m, m + CROP), slice(m, m + CROP))
    picture = lambda i: student.finish(x[i], student.to_rgb(feat[i]))  # noqa: E731

    def codes() -> float:  # mean 8-bit codes from the look's picture, inside the crops
        with torch.no_grad():
            return float((picture(slice(None)) - target)[inside].abs().mean()) * 255

    print(f"{len(x)} crops of {CROP} px from {len(photos)} pictures; channels kept {keep}: {codes():.2f} codes from the look", flush=True)
    opt = torch.optim.Adam([p for layer in fitted for p in layer.parameters()], lr=3e-3)
    steps, start, end = 0, time.monotonic(), time.monotonic() + 60 * minutes
    rng = torch.Generator().manual_seed(1)
    while time.monotonic() < end:
        for group in opt.param_groups:  # cosine from 3e-3 to 1e-4 over the run's time
            group["lr"] = 1e-4 + (3e-3 - 1e-4) * 0.5 * (1 + np.cos(np.pi * min(1.0, (time.monotonic() - start) / (60 * minutes))))
        i = torch.randint(0, len(x), (batch,), generator=rng)
        loss = F.mse_loss(picture(i)[inside], target[i][inside])
        opt.zero_grad()
        loss.backward()
        opt.step()
        steps += 1
        if steps % 500 == 0:
            print(f"step {steps}: {codes():.3f} codes from the look", flush=True)
    student.requires_grad_(False)
    got = codes()
    config = copy.deepcopy(info["config"])
    config["model"]["generator_kwargs"] = kwargs
    out = work / f"{look.name}_stage{width}" / "model"
    save_model(out, student, {
        **{k: v for k, v in info.items() if k not in ("format", "generator", "config", "source")},
        "generator": {"name": g["name"], "kwargs": kwargs}, "config": config,
        "source": f"python tools/thin_stage.py --look {look.name} --width {width} --minutes {minutes:g}: {look.name}'s "
                  f"generator, its full-resolution stage fitted again with {width} hidden channels (and the last half-resolution "
                  f"conv) to the look's own picture "
                  f"({steps} steps, {got:.2f} 8-bit codes from it on average inside {len(x)} training crops); the look: "
                  + info.get("source", ""),
    })
    atomic_write_text(out.parent / "fit.json", json.dumps({"steps": steps, "codes": got, "kept": keep}) + "\n")
    print(f"{out}: {steps} steps, {got:.3f} codes from the look inside the crops", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--look", default="starry_night", help="a built-in look, or multi (the six-look model)")
    ap.add_argument("--width", type=int, default=4)
    ap.add_argument("--minutes", type=float, default=8)
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "runs" / "thin_stage")
    args = ap.parse_args()
    from stylereel.looks import look_dir, multi_look_model

    fit(multi_look_model() if args.look == "multi" else look_dir(args.look), args.data, args.width, args.minutes, args.work, crops=96 if args.look != "multi" else 168)


if __name__ == "__main__":
    main()
