"""Retrain a look's generator without its full-resolution stage (`ReelGenerator(detail=False)`): the
sub-pixel head, cheaper on the CPU engine (bench/subpixel.py measures both).

    python tools/subpixel_look.py --data DATA_DIR --look starry_night --distill-minutes 20 --finish-minutes 40

1. The student starts as the look itself: every layer copied, the last (a 3x3 conv to the half-resolution
   RGB) with 12 more channels for each 2x2 block's detail, at zero: it starts as the look without the
   detail its full-resolution stage drew.
2. It learns the look's own pictures (`stylereel train --distill LOOK`, the bench's content set:
   bench/distill.py's `distill_set`) for --distill-minutes, which teaches the four pixels of each block
   the detail the full-resolution stage drew.
3. It trains on by the recipe the look was trained with (its critic, the painting's statistics, its
   teacher; bench/distill.py's `finish`) for --finish-minutes, judged against the painting again.

The model lands in WORK/LOOK_subpixel+FINISH/model; `bench/distill.py` scores it beside the look, and
`tools/ship_look.py` ships it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def initial_student(look: Path, out: Path) -> Path:
    """The look's generator with a sub-pixel head, every other weight the look's own (a model folder)."""
    import torch

    from stylereel.model import load_model, save_model
    from stylereel.nets.generator import build_generator

    net, info = load_model(look)
    g = info["generator"]
    if g["name"] != "reel" or not g["kwargs"].get("detail", True):
        raise SystemExit(f"{look}: a 'reel' look with its full-resolution stage is retrained this way, not {g}")
    kwargs = {**g["kwargs"], "detail": False}
    student = build_generator("reel", **kwargs)
    sd = {k: v for k, v in net.state_dict().items() if not k.startswith(("to_rgb.", "detail."))}
    w, b = net.to_rgb.weight.detach(), net.to_rgb.bias.detach()  # the look's RGB, and no block detail yet
    sd["to_rgb.weight"] = torch.cat([w, torch.zeros(12, *w.shape[1:])])
    sd["to_rgb.bias"] = torch.cat([b, torch.zeros(12)])
    student.load_state_dict(sd)
    with torch.no_grad():
        x = torch.rand(1, 3, 96, 128)
        drift = (student(x) - net(x)).abs().mean()
    config = json.loads(json.dumps(info["config"]))
    config["model"]["generator_kwargs"] = kwargs
    save_model(out, student, {"generator": {"name": "reel", "kwargs": kwargs}, "steps": 0, "elapsed_s": 0.0, "config": config,
                              "description": f"{look.name}'s generator with a sub-pixel head, before training"})
    print(f"{out}: the look with a sub-pixel head, {float(drift) * 255:.1f} 8-bit codes from it on average before training")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--look", default="starry_night")
    ap.add_argument("--distill-minutes", type=float, default=20)
    ap.add_argument("--finish-minutes", type=float, default=40)
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "runs" / "subpixel")
    args = ap.parse_args()

    from bench.distill import FINISH_LR, distill_set, finish
    from bench.results import train_timed
    from stylereel.looks import look_dir

    look = look_dir(args.look)
    content = distill_set(args.data, args.work / "content")
    init = args.work / f"{args.look}_subpixel_init"
    if not (init / "model.json").is_file():
        initial_student(look, init)
    learnt = args.work / f"{args.look}_subpixel"
    if not (learnt / "model" / "model.json").is_file():
        train_timed(["--distill", str(look), "--content", str(content)], learnt, args.distill_minutes,
                    [f"--model.init={init}", f"--train.lr_g={FINISH_LR:g}", f"--model.generator_kwargs={json.dumps(json.loads((init / 'model.json').read_text())['generator']['kwargs'])}"])
    finish(argparse.Namespace(data=args.data, work=args.work, reuse=True), look, learnt / "model", None, content,
           args.work / f"{args.look}_subpixel+{args.finish_minutes:g}", args.finish_minutes)


if __name__ == "__main__":
    main()
