"""Train the shipped looks and the painterly base on an accelerator, all at once.

On 2 CPU cores a look gets about a thousand steps in ten minutes, and the feed-forward
look stops far from the painting (bench/RESULTS.md, "student_capacity_reel": still
falling after 1200 steps). On one GPU each of these runs gets tens of thousands of steps
in the same wall-clock time; they run side by side, one process each, every one through
stylereel's own trainer (`python -m stylereel.cli train`, the options shown per job):

- starry_distill, starry_texture, starry_gram: the single Starry Night look, three recipes
  on the VGG19 trunk (bench/studies/recipes.py names them), scored afterwards on the
  held-out photos by `bench/quality_unpaired.py --baseline`;
- multi6: the built-in multi-look model (five looks painted by Magenta's multistyle26,
  and Starry Night painted by the AdaIN teacher with the painting's palette);
- base26: every one of multistyle26's 26 styles in one looks network: a starting point
  that already draws painterly strokes, which a new look extends (`--extend`).

Photos: OpenCV's sample photos (Apache-2.0 AND BSD-3-Clause) minus home.jpg and
orange.jpg, and scikit-image's chelsea and rocket (CC0); astronaut and coffee stay out
too: the benchmarks score on those four. DATA is the sample-data folder (photos/,
styles/starry_night.jpg, models/multistyle26.onnx).

    python tools/accelerator_looks.py --data DATA --work WORK --minutes 7 --out OUT

Each run's model, snapshots and log are packed into OUT/NAME.tar.gz;
`tools/ship_look.py` then ships the chosen ones.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.make_looks import LOOKS, OPENCV_PHOTOS, photos  # noqa: E402

SHALLOW = "{relu1_1: 1, relu2_1: 1, relu3_1: 1}"
TEACHER = ["--data.teacher=adain", "--loss.l1.of=teacher"]
CROP = ["--data.size=256", "--data.batch=8"]
# name -> options after `stylereel train --out WORK/NAME/run`; {content}, {style} and {pairs:LOOK} are filled in
JOBS = {
    "starry_distill": ["--content", "{content}", "--style", "{style}", *CROP, "--loss.trunk=vgg19", *TEACHER,
                       "--loss.texture.weight=8", f"--loss.texture.layers={SHALLOW}", "--loss.l1.weight=2",
                       "--loss.style.weight=0", "--loss.swd.weight=0", "--loss.content.of=teacher",
                       "--loss.content.layers=[relu1_1, relu2_1, relu3_1, relu4_1]"],
    "starry_texture": ["--content", "{content}", "--style", "{style}", *CROP, "--loss.trunk=vgg19", *TEACHER,
                       "--loss.texture.weight=4", "--loss.l1.weight=2"],
    "starry_gram": ["--content", "{content}", "--style", "{style}", *CROP, "--loss.trunk=vgg19"],
    "multi6": [*CROP, "{looks:multi6}"],
    "base26": [*CROP, "{looks:base26}"],
}
STYLES26 = [f"style{i:02d}" for i in range(26)]


def prepare(data: Path, work: Path) -> dict[str, list[str]]:
    """The photos, their paintings by multistyle26 (all 26 styles) and by the AdaIN teacher, under WORK."""
    import onnxruntime as ort
    import torch

    from stylereel.data.images import load_images
    from stylereel.io.frames import write_image
    from stylereel.nets.adain import paint

    plates = photos(data)  # 512 px on the longer side, as tools/make_looks.py paints them
    content = work / "content"
    for n, rgb in plates.items():
        write_image(content / f"{n}.png", rgb, bit_depth=16)
    painter = ort.InferenceSession(str(data / "models" / "multistyle26.onnx"), providers=["CPUExecutionProvider"])
    for i, name in enumerate(STYLES26):
        weights = np.zeros(26, np.float32)
        weights[i] = 1
        for n, rgb in plates.items():
            painted = painter.run(None, {"image": rgb.transpose(2, 0, 1)[None], "style_weights": weights})[0][0]
            write_image(work / "pairs" / name / "target" / f"{n}.png", np.clip(painted.transpose(1, 2, 0), 0, 1), bit_depth=16)
            write_image(work / "pairs" / name / "input" / f"{n}.png", rgb, bit_depth=16)
    style = data / "styles" / "starry_night.jpg"
    look = load_images([style], exact_side=512, trim=0.03)  # as the unpaired defaults show the painting to training
    painted = paint([torch.from_numpy(rgb).permute(2, 0, 1).contiguous() for rgb in plates.values()], look)
    for (n, rgb), p in zip(plates.items(), painted):
        write_image(work / "pairs" / "starry_night" / "target" / f"{n}.png", p.permute(1, 2, 0).numpy(), bit_depth=16)
        write_image(work / "pairs" / "starry_night" / "input" / f"{n}.png", rgb, bit_depth=16)
    multi6 = {name: f"style{index:02d}" for name, (index, _) in LOOKS.items()} | {"starry_night": "starry_night"}
    return {
        "multi6": [a for name, d in multi6.items() for a in ("--look", f"{name}={work / 'pairs' / d}")],
        "base26": [a for name in STYLES26 for a in ("--look", f"{name}={work / 'pairs' / name}")],
        "content": [str(content)],
        "style": [str(style)],
    }


def command(name: str, work: Path, fill: dict[str, list[str]], minutes: float, snapshot_every: int) -> list[str]:
    cmd = [sys.executable, "-m", "stylereel.cli", "train", "--out", str(work / name / "run"),
           "--steps", "10000000", "--minutes", str(minutes), f"--train.snapshot_every={snapshot_every}",
           "--train.checkpoint_every=1000", "--train.sample_every=1000"]
    for arg in JOBS[name]:
        if arg.startswith("{looks:"):
            cmd += fill[arg[7:-1]]
        elif arg in ("{content}", "{style}"):
            cmd += fill[arg[1:-1]]
        else:
            cmd.append(arg)
    return cmd


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True, help="where NAME.tar.gz of each run goes")
    ap.add_argument("--minutes", type=float, default=7.0)
    ap.add_argument("--only", default="", help="comma-separated job names (default: all)")
    ap.add_argument("--snapshot-every", type=int, default=4000)
    ap.add_argument("--deadline", type=float, default=0, help="seconds from the start after which runs still going are "
                    "asked to stop (each saves its last whole step), so the packing happens in time (0: none)")
    ap.add_argument("--threads", type=int, default=3, help="CPU threads per run (crops are cut on the CPU)")
    args = ap.parse_args()
    names = [n for n in args.only.split(",") if n] or list(JOBS)
    t0 = time.monotonic()
    fill = prepare(args.data, args.work)
    print(f"prepared {len(OPENCV_PHOTOS)} + 2 photos, 27 painted looks in {time.monotonic() - t0:.0f} s", flush=True)
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "PYTHONUNBUFFERED": "1"}
    procs = {}
    for name in names:
        (args.work / name).mkdir(parents=True, exist_ok=True)
        log = open(args.work / name / "train.log", "w")
        cmd = command(name, args.work, fill, args.minutes, args.snapshot_every)
        log.write(" ".join(cmd) + "\n")
        log.flush()
        procs[name] = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    asked, polls = False, 0
    while any(p.poll() is None for p in procs.values()):
        time.sleep(15)
        if args.deadline and not asked and time.monotonic() - t0 > args.deadline:
            for p in procs.values():
                if p.poll() is None:
                    p.send_signal(signal.SIGINT)  # the trainer saves the state of its last whole step, then stops
            asked = True
        polls += 1
        for name, p in procs.items() if polls % 4 == 0 or asked else ():
            tail = (args.work / name / "train.log").read_text(errors="replace").replace("\r", "\n").strip().splitlines()[-1:]
            print(f"[{time.monotonic() - t0:5.0f} s] {name}: {'running' if p.poll() is None else f'exit {p.returncode}'}: "
                  f"{tail[0][-160:] if tail else ''}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, p in procs.items():
        run = args.work / name / "run"
        with tarfile.open(args.out / f"{name}.tar.gz", "w:gz") as tar:
            tar.add(args.work / name / "train.log", arcname=f"{name}/train.log")
            for sub in ("model", "config.yaml"):
                if (run / sub).exists():
                    tar.add(run / sub, arcname=f"{name}/{sub}")
            snaps = sorted(run.glob("snapshots/step_*"))
            for snap in snaps[::-(-len(snaps) // 6)] if snaps else ():  # six at most, without the look's statistics
                for f in ("generator.safetensors", "model.json"):
                    tar.add(snap / f, arcname=f"{name}/snapshots/{snap.name}/{f}")
        print(f"{name}: exit {p.returncode}, {(args.out / f'{name}.tar.gz').stat().st_size / 2**20:.1f} MiB", flush=True)


if __name__ == "__main__":
    main()
