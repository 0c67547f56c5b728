"""Train the built-in looks painted by Magenta's multistyle26 network and ship them in the
package (`stylereel/assets/looks/NAME/`).

For each look: photos we may ship (OpenCV's sample photos, Apache-2.0 AND BSD-3-Clause,
and scikit-image's public-domain chelsea and rocket; home and orange stay out, held out
for scoring) are painted by `multistyle26.onnx` (Apache-2.0 weights) at `SIDE` px on the
longer side; stylereel then learns the look from those pairs through its own CLI
(`stylereel train --pairs`, paired mode, `--steps`), and `tools/ship_look.py` copies the
result into the package. No painted image is shipped, only the trained weights.

    python tools/make_looks.py --data DATA_DIR [--steps 1500] [--only ink fauve]
    python tools/make_looks.py --data DATA_DIR --multi --minutes 30 [--shape 8,32,64x4]

`--multi` trains one multi-look model (`reel_looks`, `stylereel train --look NAME=PAIRS ...`)
on the same painted pairs of every look above plus Starry Night (the same photos painted
by the shipped single Starry Night look, so it can be mixed with the others), and ships it
as `stylereel/assets/looks/multi/`: fusion, strength and regions work between its looks.

The licence of each look is recorded in stylereel/assets/LICENSES.md.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stylereel.io.frames import read_image, write_image  # noqa: E402

# name -> (multistyle26 style index, what it looks like)
LOOKS = {
    "ink": (1, "bold black ink lines over flat yellow and white"),
    "fauve": (13, "saturated greens, teals and reds in broken strokes"),
    "sepia_etch": (18, "brown etched lines on cream paper"),
    "pointillist": (19, "blue and gold dabs of paint"),
    "pastel": (12, "soft lilac and yellow impressionist pastel"),
}
OPENCV_PHOTOS = ["HappyFish", "baboon", "building", "butterfly", "fruits"]
SKIMAGE_PHOTOS = ["chelsea", "rocket"]
SIDE = 512


def photos(data: Path) -> dict[str, np.ndarray]:
    import skimage.data

    out = {n: read_image(data / "photos" / f"{n}.jpg").rgb for n in OPENCV_PHOTOS}
    out.update({n: getattr(skimage.data, n)()[..., :3].astype(np.float32) / 255 for n in SKIMAGE_PHOTOS})
    for n, rgb in out.items():
        s = SIDE / max(rgb.shape[:2])
        out[n] = cv2.resize(rgb, (round(rgb.shape[1] * s) // 8 * 8, round(rgb.shape[0] * s) // 8 * 8), interpolation=cv2.INTER_AREA)
    return out


def paint(data: Path, work: Path, name: str) -> dict[str, np.ndarray]:
    """The photos and multistyle26's painting of them in look `name`, as pairs in WORK/NAME/pairs."""
    import onnxruntime as ort

    painter = ort.InferenceSession(str(data / "models" / "multistyle26.onnx"), providers=["CPUExecutionProvider"])
    weights = np.zeros(26, np.float32)
    weights[LOOKS[name][0]] = 1
    pairs = work / name / "pairs"
    shutil.rmtree(work / name, ignore_errors=True)
    plates = photos(data)
    for n, rgb in plates.items():
        painted = painter.run(None, {"image": rgb.transpose(2, 0, 1)[None], "style_weights": weights})[0][0]
        write_image(pairs / "input" / f"{n}.png", rgb, bit_depth=16)
        write_image(pairs / "target" / f"{n}.png", np.clip(painted.transpose(1, 2, 0), 0, 1), bit_depth=16)
    return plates


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--steps", type=int, help="training steps (default: 1500 a single look; the multi-look model: as many as --minutes allow)")
    ap.add_argument("--only", nargs="*", choices=sorted(LOOKS), default=sorted(LOOKS))
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "runs" / "looks")
    ap.add_argument("--multi", action="store_true", help="train and ship the multi-look model instead")
    ap.add_argument("--no-ship", action="store_true", help="train single looks only as baselines (bench/looks.py compares them)")
    ap.add_argument("--minutes", type=float, help="the multi-look model's time budget (with --steps, whichever ends first)")
    ap.add_argument("--shape", help="the multi-look model's generator, CHANNELSxBLOCKS (e.g. 8,32,64x4; default: the generator's own)")
    args = ap.parse_args()
    if args.multi:
        args.steps = args.steps or (1_000_000 if args.minutes else 9000)
        return make_multi(args)
    args.steps = args.steps or 1500

    for name in args.only:
        index, description = LOOKS[name]
        plates = paint(args.data, args.work, name)
        run = args.work / name / "run"
        cmd = [sys.executable, "-m", "stylereel.cli", "train", "--pairs", str(args.work / name / "pairs"), "--out", str(run), "--steps", str(args.steps)]
        subprocess.run(cmd, check=True)
        source = (f"python tools/make_looks.py --steps {args.steps} --only {name}: paired look (stylereel train --pairs) from "
                  f"{len(plates)} photos ({', '.join(plates)}; OpenCV sample data Apache-2.0 AND BSD-3-Clause, scikit-image "
                  f"CC0) painted by Magenta's multistyle26 network, style {index} (weights Apache-2.0): {description}")
        if args.no_ship:
            continue
        subprocess.run([sys.executable, str(ROOT / "tools" / "ship_look.py"), str(run), name, "--source", source,
                        "--description", f"{description} (after Magenta's multistyle26 style {index})"], check=True)


def multi_pairs(data: Path, work: Path) -> dict[str, Path]:
    """The pairs of every look of the multi-look model, in WORK/NAME/pairs: multistyle26's paintings (painted
    where not there yet) and Starry Night's (the photos rendered by the shipped single look, rendered again
    each time: that look may have been replaced since)."""
    from stylereel.render.stylize import Stylizer

    for name in LOOKS:
        if not work.joinpath(name, "pairs", "target").is_dir():
            paint(data, work, name)
    starry = Stylizer(ROOT / "stylereel" / "assets" / "looks" / "starry_night", device="cpu")
    pairs = work / "starry_night" / "pairs"
    for n, rgb in photos(data).items():
        write_image(pairs / "input" / f"{n}.png", rgb, bit_depth=16)
        write_image(pairs / "target" / f"{n}.png", starry(rgb), bit_depth=16)
    return {name: work / name / "pairs" for name in sorted(LOOKS)} | {"starry_night": pairs}


def look_args(pairs: dict[str, Path]) -> list[str]:
    """`stylereel train`'s arguments for a multi-look model on these pairs."""
    return [a for name, p in pairs.items() for a in ("--look", f"{name}={p}")]


def shape_override(shape: str) -> list[str]:
    """`--shape 8,32,64x4` -> the generator's channels and residual blocks as a `stylereel train` override."""
    channels, _, blocks = shape.partition("x")
    return [f"--model.generator_kwargs={{channels: [{channels}], n_blocks: {int(blocks)}}}"]


def make_multi(args) -> None:
    import json

    looks = multi_pairs(args.data, args.work)
    plates = photos(args.data)
    run = args.work / "multi" / "run"
    shutil.rmtree(run, ignore_errors=True)
    cmd = [sys.executable, "-m", "stylereel.cli", "train", "--out", str(run), "--steps", str(args.steps), *look_args(looks)]
    cmd += ["--minutes", str(args.minutes)] if args.minutes else []
    cmd += shape_override(args.shape) if args.shape else []
    subprocess.run(cmd, check=True)
    budget = (f"--minutes {args.minutes:g}" if args.minutes else f"--steps {args.steps}") + (f" --shape {args.shape}" if args.shape else "")
    source = (f"python tools/make_looks.py --multi {budget}: one multi-look model (stylereel train --look NAME=PAIRS) "
              f"on the pairs of every single look made by this script (photos: {', '.join(plates)}; OpenCV sample data "
              "Apache-2.0 AND BSD-3-Clause, scikit-image CC0; painted by Magenta's multistyle26, weights Apache-2.0) and "
              "Starry Night (the same photos rendered by the shipped starry_night look, MIT)")
    subprocess.run([sys.executable, str(ROOT / "tools" / "ship_look.py"), str(run), "multi", "--source", source,
                    "--description", "every built-in look in one network: mix them, set their strength, give regions their own"],
                   check=True)
    shipped = ROOT / "stylereel" / "assets" / "looks" / "multi" / "model.json"
    info = json.loads(shipped.read_text())
    info["descriptions"] = {name: f"{d} (after Magenta's multistyle26 style {i})" for name, (i, d) in LOOKS.items()} | {
        "starry_night": "Van Gogh's The Starry Night, learnt from the single starry_night look"}
    shipped.write_text(json.dumps(info, indent=2) + "\n")


if __name__ == "__main__":
    main()
