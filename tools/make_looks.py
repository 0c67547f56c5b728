"""Train the built-in looks painted by Magenta's multistyle26 network and ship them in the
package (`stylereel/assets/looks/NAME/`).

For each look: photos we may ship (OpenCV's sample photos, Apache-2.0 AND BSD-3-Clause,
and scikit-image's public-domain chelsea and rocket; home and orange stay out, held out
for scoring) are painted by `multistyle26.onnx` (Apache-2.0 weights) at `SIDE` px on the
longer side; stylereel then learns the look from those pairs through its own CLI
(`stylereel train --pairs`, paired mode, `--steps`), and `tools/ship_look.py` copies the
result into the package. No painted image is shipped, only the trained weights.

    python tools/make_looks.py --data DATA_DIR [--steps 1500] [--only ink fauve]

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--only", nargs="*", choices=sorted(LOOKS), default=sorted(LOOKS))
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "runs" / "looks")
    args = ap.parse_args()

    import onnxruntime as ort

    painter = ort.InferenceSession(str(args.data / "models" / "multistyle26.onnx"), providers=["CPUExecutionProvider"])
    plates = photos(args.data)
    for name in args.only:
        index, description = LOOKS[name]
        weights = np.zeros(26, np.float32)
        weights[index] = 1
        pairs = args.work / name / "pairs"
        shutil.rmtree(args.work / name, ignore_errors=True)
        for n, rgb in plates.items():
            painted = painter.run(None, {"image": rgb.transpose(2, 0, 1)[None], "style_weights": weights})[0][0]
            write_image(pairs / "input" / f"{n}.png", rgb, bit_depth=16)
            write_image(pairs / "target" / f"{n}.png", np.clip(painted.transpose(1, 2, 0), 0, 1), bit_depth=16)
        run = args.work / name / "run"
        cmd = [sys.executable, "-m", "stylereel.cli", "train", "--pairs", str(pairs), "--out", str(run), "--steps", str(args.steps)]
        subprocess.run(cmd, check=True)
        source = (f"python tools/make_looks.py --steps {args.steps} --only {name}: paired look (stylereel train --pairs) from "
                  f"{len(plates)} photos ({', '.join(plates)}; OpenCV sample data Apache-2.0 AND BSD-3-Clause, scikit-image "
                  f"CC0) painted by Magenta's multistyle26 network, style {index} (weights Apache-2.0): {description}")
        subprocess.run([sys.executable, str(ROOT / "tools" / "ship_look.py"), str(run), name, "--source", source,
                        "--description", f"{description} (after Magenta's multistyle26 style {index})"], check=True)


if __name__ == "__main__":
    main()
