"""Pre-train the base generator a look can start from (`model.init=base`), and ship it.

A look trained from random weights spends its first minute learning to draw
anything at all (grey mush, then blobs). A look fine-tuned from a generator that
already reproduces photos has a recognisable subject from the first steps, but it
stays milder (bench/RESULTS.md, generators). The one-minute `stylereel demo` starts
from it. This script trains that starting point with stylereel's own paired
trainer on (photo, same photo) pairs: L1 + perceptual reconstruction, no adversary.

    python tools/pretrain_base.py --photos DATA/photos --minutes 6

Photos: scikit-image's bundled sample images (astronaut, coffee, chelsea,
rocket; public domain / CC0) plus any --photos given (the project used the
OpenCV sample photos, Apache-2.0 AND BSD-3-Clause, minus home.jpg and
orange.jpg, which benchmarks hold out). Writes
stylereel/assets/base_reel.safetensors (fp16) and base_reel.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "stylereel" / "assets"
HELD_OUT = {"home.jpg", "orange.jpg"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", type=Path, nargs="*", default=[])
    ap.add_argument("--minutes", type=float, default=6.0)
    args = ap.parse_args()

    import skimage.data

    from stylereel.io.frames import list_images, read_image, write_image

    with tempfile.TemporaryDirectory() as tmp:
        pairs = Path(tmp) / "pairs"
        names = []
        for name in ("astronaut", "coffee", "chelsea", "rocket"):
            rgb = getattr(skimage.data, name)()[..., :3].astype(np.float32) / 255
            for sub in ("input", "target"):
                write_image(pairs / sub / f"skimage_{name}.png", rgb)
            names.append(f"skimage.data.{name}")
        for p in list_images(args.photos) if args.photos else []:
            if p.name in HELD_OUT:
                continue
            rgb = read_image(p).rgb
            for sub in ("input", "target"):
                write_image(pairs / sub / f"{p.stem}.png", rgb)
            names.append(p.name)
        run = Path(tmp) / "run"
        cmd = [sys.executable, "-m", "stylereel.cli", "train", "--pairs", str(pairs), "--out", str(run),
               "--minutes", str(args.minutes), "--steps", "1000000",
               "--model.init=random", "--train.lr_g=1e-3",  # the rate the shipped base was trained at
               "--loss.adversarial.weight=0", "--loss.feature_matching.weight=0",
               "--loss.l1.weight=10", "--loss.content.weight=1", "--data.max_side=512"]
        subprocess.run(cmd, check=True)
        info = json.loads((run / "model" / "model.json").read_text())
        sd = load_file(run / "model" / "generator.safetensors")
        tmp_out = ASSETS / ".base_reel.safetensors.tmp"
        save_file({k: v.half().contiguous() for k, v in sd.items()}, str(tmp_out),
                  metadata={"what": "stylereel base generator (identity reconstruction)", "licence": "MIT (stylereel)"})
        tmp_out.replace(ASSETS / "base_reel.safetensors")
        meta = {
            "generator": info["generator"],
            "steps": info["steps"],
            "minutes": args.minutes,
            "photos": names,
            "command": "python tools/pretrain_base.py --photos DATA/photos --minutes %g" % args.minutes,
            "torch": torch.__version__,
        }
        (ASSETS / "base_reel.json").write_text(json.dumps(meta, indent=2) + "\n")
        print(f"wrote {ASSETS / 'base_reel.safetensors'} after {info['steps']} steps")


if __name__ == "__main__":
    main()
