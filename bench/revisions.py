"""This checkout against an earlier revision, on the same machine in the same run: does a
change keep the numbers (bit-identical training), the render speed and the training speed?

    python bench/revisions.py --base REV --data DATA [--rounds 3] [--train-seconds 60]

1. Identical training: the same tiny unpaired and paired runs (fixed steps and seed) with
   both revisions; the generator weights are compared bit for bit.
2. Render speed: the default generator on a 1920x1080 frame through each revision's engine,
   alternating revisions round by round (median of 10 frames per round, one process each).
3. Shots: the same shot (16 frames of tree.avi at 960x540, as 16-bit PNGs) rendered with
   `--temporal` in the built-in look by each revision's CLI, alternating round by round;
   every output frame compared bit for bit, and the render's own seconds per frame (its log).
4. Training speed: paired training on tree.avi keyframes painted by multistyle26 for a fixed
   wall-clock time with each revision; steps per second.

The base revision is checked out into a temporary git worktree and run from there.
Writes bench/RESULTS.md, section "revisions".
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import write_section  # noqa: E402
from stylereel.io.frames import read_image, write_image  # noqa: E402

TINY = ["--steps", "25", "--data.size=64", "--data.max_side=160"]


def cli(tree: Path, *args: str) -> subprocess.CompletedProcess:
    # Run from the tree's root so `python -m stylereel.cli` imports that tree's package.
    return subprocess.run([sys.executable, "-m", "stylereel.cli", *args], cwd=tree, capture_output=True, text=True, check=True)


def identical_training(trees: dict[str, Path], work: Path) -> dict[str, str]:
    data = ROOT / "tests" / "data"
    pairs = work / "pairs"
    for n in ("fruits", "home"):
        f = read_image(data / f"{n}.png")
        write_image(pairs / "input" / f"{n}.png", f.rgb)
        write_image(pairs / "target" / f"{n}.png", np.clip(f.rgb[..., ::-1] * 0.8 + 0.1, 0, 1))
    runs = {
        "unpaired": ["--content", str(data / "fruits.png"), str(data / "home.png"), "--style", str(data / "starry_night.png"), "--data.style_size=160"],
        "paired": ["--pairs", str(pairs)],
    }
    out = {}
    for mode, args in runs.items():
        weights = {}
        for who, tree in trees.items():
            run = work / who / mode
            cli(tree, "train", *args, "--out", str(run), *TINY)
            weights[who] = load_file(run / "model" / "generator.safetensors")
        a, b = weights.values()
        diff = max((a[k] - b[k]).abs().max().item() for k in a)
        out[mode] = "identical" if diff == 0 else f"max abs difference {diff:.3g}"
    return out


def render_ms(tree: Path) -> float:
    r = subprocess.run([sys.executable, "-m", "stylereel.benchmark.speed", "stylereel", "1080p", "10", ""], cwd=tree,
                       capture_output=True, text=True, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])["ms_per_frame"]


SHOT_FRAMES = 16


def write_shot(data: Path, folder: Path) -> str:
    import cv2

    from bench.quality_paired import decode

    for n, f in enumerate(decode(data / "video" / "tree.avi")[:SHOT_FRAMES], start=1):
        write_image(folder / f"p.{n:04d}.png", cv2.resize(f, (960, 540), interpolation=cv2.INTER_CUBIC).clip(0, 1), bit_depth=16)
    return str(folder / "p.####.png")


def shot_render(tree: Path, src: str, out: Path) -> float:
    """Seconds per frame of a --temporal render of `src` into `out` (the render log's own clock)."""
    cli(tree, "stylize", "--look", "starry_night", src, "-o", str(out / "o.####.png"), "--temporal")
    return json.loads((out / "o.render.json").read_text())["seconds"] / SHOT_FRAMES


def same_frames(a: Path, b: Path) -> str:
    diffs = [np.abs(read_image(a / f"o.{n:04d}.png").rgb - read_image(b / f"o.{n:04d}.png").rgb).max() for n in range(1, SHOT_FRAMES + 1)]
    return "identical" if max(diffs) == 0 else f"{sum(d > 0 for d in diffs)} frames differ, max {max(diffs):.3g}"


def training_rate(tree: Path, keyframes: Path, seconds: float, run: Path) -> float:
    cli(tree, "train", "--pairs", str(keyframes), "--out", str(run), "--minutes", str(seconds / 60), "--steps", "1000000",
        "--train.checkpoint_every=1000000")
    info = json.loads((run / "model" / "model.json").read_text())
    return info["steps"] / info["elapsed_s"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", required=True, help="git revision to compare against")
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--train-seconds", type=float, default=60.0)
    args = ap.parse_args()

    from bench.quality_paired import PaintedShot

    base_rev = subprocess.run(["git", "rev-parse", "--short", args.base], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    head_rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "stylereel"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    this = f"{head_rev}{' + uncommitted changes' if dirty else ''}"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        base_tree = tmp / "base"
        subprocess.run(["git", "worktree", "add", "--detach", str(base_tree), args.base], cwd=ROOT, capture_output=True, check=True)
        try:
            trees = {"base": base_tree, "this": ROOT}
            same = identical_training(trees, tmp / "identical")
            ms = {who: [] for who in trees}
            for _ in range(args.rounds):
                for who, tree in trees.items():
                    ms[who].append(render_ms(tree))
            shot = write_shot(args.data, tmp / "plate")
            shot_s = {who: [] for who in trees}
            for r in range(args.rounds):
                for who, tree in trees.items():
                    shot_s[who].append(shot_render(tree, shot, tmp / "shot" / who / str(r)))
            frames_same = same_frames(tmp / "shot" / "base" / "0", tmp / "shot" / "this" / "0")
            keyframes = PaintedShot(args.data, 12, [10, 50], 1).write_keyframes(tmp / "keyframes")
            rate = {who: training_rate(tree, keyframes, args.train_seconds, tmp / "rate" / who) for who, tree in trees.items()}
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base_tree)], cwd=ROOT, capture_output=True)

    med = {who: statistics.median(v) for who, v in ms.items()}
    shot_med = {who: statistics.median(v) * 1000 for who, v in shot_s.items()}
    lines = [
        f"Base: `{base_rev}`{'' if base_rev.startswith(args.base) else f' ({args.base})'}; this: `{this}`. Same machine, same run.",
        "",
        "| check | base | this | this / base |",
        "| --- | --- | --- | --- |",
        f"| tiny unpaired training, 25 steps, generator weights | | {same['unpaired']} | |",
        f"| tiny paired training, 25 steps, generator weights | | {same['paired']} | |",
        f"| render 1920x1080, ms/frame (median of {args.rounds} alternating rounds: "
        f"base {', '.join(f'{v:.1f}' for v in ms['base'])}; this {', '.join(f'{v:.1f}' for v in ms['this'])}) "
        f"| {med['base']:.1f} | {med['this']:.1f} | {med['this'] / med['base']:.3f} |",
        f"| shot: {SHOT_FRAMES} frames of 960x540, --temporal, built-in look; output frames | | {frames_same} | |",
        f"| shot render, ms/frame (median of {args.rounds} alternating rounds: "
        f"base {', '.join(f'{v * 1000:.0f}' for v in shot_s['base'])}; this {', '.join(f'{v * 1000:.0f}' for v in shot_s['this'])}) "
        f"| {shot_med['base']:.0f} | {shot_med['this']:.0f} | {shot_med['this'] / shot_med['base']:.3f} |",
        f"| paired training on tree.avi keyframes, steps/s ({args.train_seconds:.0f} s each) "
        f"| {rate['base']:.2f} | {rate['this']:.2f} | {rate['this'] / rate['base']:.3f} |",
    ]
    write_section("revisions", "This checkout against an earlier revision", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
