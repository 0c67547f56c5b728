"""Scale-out on this machine: training in 1 and 2 processes, a shot rendered by 1 and 2 farm tasks.

    python bench/scale.py --data DATA [--steps 60] [--frames 48]

- Training: `stylereel train --pairs` (the sample photos, held-out ones left out, each paired
  with itself; 128-px crops, global batch 4) for `--steps` steps, in 1 process and
  with `--nproc 2` (torchrun, gloo); steps/s from the run's own clock (model.json `elapsed_s`,
  start-up and data loading excluded) and the whole command's wall clock.
- Rendering: tree.avi's frames (scaled 3x, 960x720) as a PNG sequence in the built-in Starry
  Night look with --temporal: one `stylereel stylize` process for the whole shot, and two farm
  tasks at once (`stylize --frames SHOT --only HALF`, what `stylereel farm-job` runs, each with its
  warm-up frames); frames/s over the wall clock, start-up included, and the two outputs compared.

Writes bench/RESULTS.md, section "scale".
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import HELD_OUT, photo_split, write_section  # noqa: E402
from stylereel.io.frames import read_image, write_image  # noqa: E402
from stylereel.render.plan import prime_frames  # noqa: E402
from stylereel.render.temporal import STRENGTH  # noqa: E402


def cli(*args) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "stylereel.cli", *map(str, args)], check=True, capture_output=True)
    return time.perf_counter() - t0


def training(data: Path, tmp: Path, steps: int) -> list[str]:
    pairs = tmp / "pairs"
    for p in photo_split(data, HELD_OUT)[0]:
        rgb = read_image(p).rgb
        for sub in ("input", "target"):
            write_image(pairs / sub / f"{p.stem}.png", rgb)
    rows = []
    for n in (1, 2):
        run = tmp / f"train{n}"
        wall = cli("train", "--pairs", pairs, "--out", run, "--steps", steps, "--data.batch=4", "--data.size=128", "--nproc", n)
        info = json.loads((run / "model" / "model.json").read_text())
        rows.append(f"| train, {n} process{'es' if n > 1 else ''} | {steps / info['elapsed_s']:.2f} steps/s (the loop) | "
                    f"{wall:.1f} s for {steps} steps, start-up included |")
    return rows


def rendering(data: Path, tmp: Path, frames: int) -> tuple[list[str], float]:
    import cv2

    from bench.quality_paired import decode

    plates = decode(data / "video" / "tree.avi")[:frames]
    for k, f in enumerate(plates):
        write_image(tmp / "shot" / f"plate.{1001 + k:04d}.png", cv2.resize(f, (f.shape[1] * 3, f.shape[0] * 3), interpolation=cv2.INTER_CUBIC).clip(0, 1))
    shot, last = tmp / "shot" / "plate.####.png", 1000 + len(plates)
    common = ["--look", "starry_night", shot, "--frames", f"1001-{last}", "--temporal"]
    one = cli("stylize", *common, "-o", tmp / "one" / "o.####.png")
    half = 1000 + len(plates) // 2
    t0 = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-m", "stylereel.cli", "stylize", *map(str, common), "--only", only, "-o",
                               str(tmp / "two" / "o.####.png")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for only in (f"1001-{half}", f"{half + 1}-{last}")]
    assert all(p.wait() == 0 for p in procs)
    two = time.perf_counter() - t0
    diff = max(float(np.abs(read_image(tmp / "one" / f"o.{n:04d}.png").rgb - read_image(tmp / "two" / f"o.{n:04d}.png").rgb).max())
               for n in range(1001, last + 1))
    size = f"{plates[0].shape[1] * 3}x{plates[0].shape[0] * 3}"
    return [f"| render {len(plates)} frames {size} --temporal, 1 process | {len(plates) / one:.2f} frames/s | {one:.1f} s |",
            f"| the same, 2 farm tasks at once (`--only` halves) | {len(plates) / two:.2f} frames/s | {two:.1f} s |"], diff


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--frames", type=int, default=48)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rows = training(args.data, tmp, args.steps)
        render_rows, diff = rendering(args.data, tmp, args.frames)
    lines = [
        "On this machine's cores, shared by every process; the same command in each row but for the process count.",
        "",
        "| what | rate | wall clock |",
        "| --- | --- | --- |",
        *rows,
        *render_rows,
        "",
        f"The two tasks' frames against the one process's: largest difference {diff:.4f} (8-bit PNG; each task renders its "
        "warm-up frames unwritten first, so the seam at the halves does not show).",
    ]
    prime = prime_frames(STRENGTH)
    lines += [
        "",
        "**A 100-node farm, estimated from these numbers.** Rendering scales with the nodes: each task is an independent "
        "`stylize` process, so 100 nodes render about 100 times one node's frames/s, until the storage saturates. Per "
        "frame a task reads the plate and writes the output: at 1080p in half-float RGBA EXR about 16 MB each way "
        "uncompressed (a few MB with EXR compression); 100 nodes at 7 frames/s each (the shipped engine's 1080p rate "
        "on 2 cores, bench/RESULTS.md \"speed\") move about 100 x 7 x 32 MB = 22 GB/s uncompressed, so the file "
        "server, not the network's compute, is the limit first; EXR compression (or more frames per node on GPUs) moves "
        "that line. Each task also loads the model (under a second; 0.6 MB) and starts Python (a few seconds): chunks "
        f"of 50+ frames keep that under a few percent. Under `--temporal` a chunk renders the {prime} frames before it "
        f"unwritten (`prime_frames` at the default strength {STRENGTH}: enough that at most 1% of the blend's history "
        f"is missing), so the cost is {prime} extra frames per chunk: {100 * prime / 10:.0f}% at 10-frame chunks, "
        f"{100 * prime / 50:.0f}% at 50, and the seams stay within float rounding of a whole render (tests/test_farm.py "
        "compares every frame to 2e-3). The steadied plate (SteadyPlate) warms up on up to 24 plates before the chunk "
        "(read, not rendered). Training does not scale this way: `--nproc` splits one global batch, and on one CPU "
        "the processes share its cores (the rows above), so more processes pay off on separate GPUs or nodes "
        "(torchrun, nccl), where each step's all-reduce of the 0.3 M weights is small.",
    ]
    write_section("scale", "Scale-out: processes and farm tasks on one machine", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
