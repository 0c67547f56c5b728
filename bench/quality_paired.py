"""Paired keyframe look: two frames of a shot "painted" by Magenta's multi-style
network, a model trained on them for a wall-clock budget, and the rest of the
shot scored against what the painter would have produced.

    python bench/quality_paired.py --data DATA_DIR --minutes 5

DATA_DIR holds video/tree.avi and models/multistyle26.onnx (the project's sample data).
Baselines on the same frames: the untouched frame, and a global colour transfer
(per-channel mean/std in Lab, Reinhard et al. 2001) of the nearest keyframe's
painted statistics. Writes bench/RESULTS.md (section "paired") and
docs/images/paired_tree.png.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import av
import kornia.color
import numpy as np
import onnxruntime as ort
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import rel_path, train_timed, write_section  # noqa: E402
from stylereel.io.frames import write_image  # noqa: E402
from stylereel.metrics.image import psnr, ssim  # noqa: E402
from stylereel.render.contact_sheet import write_contact_sheet  # noqa: E402
from stylereel.render.stylize import Stylizer  # noqa: E402


def decode(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24").astype(np.float32) / 255 for f in c.decode(video=0)]


def colour_transfer(frame: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Match the frame's per-channel Lab mean and std to the reference's."""
    to_lab = lambda a: kornia.color.rgb_to_lab(torch.from_numpy(a).permute(2, 0, 1)[None])  # noqa: E731
    f, r = to_lab(frame), to_lab(ref)
    fm, fs = f.mean((2, 3), keepdim=True), f.std((2, 3), keepdim=True)
    rm, rs = r.mean((2, 3), keepdim=True), r.std((2, 3), keepdim=True)
    out = kornia.color.lab_to_rgb((f - fm) / fs.clamp_min(1e-6) * rs + rm)
    return out.clamp(0, 1)[0].permute(1, 2, 0).numpy()


class PaintedShot:
    """tree.avi with keyframes painted by multistyle26 and the other frames to score."""

    def __init__(self, data: Path, look: int, keyframes: list[int], n_scored: int):
        self.frames = decode(data / "video" / "tree.avi")
        self._painter = ort.InferenceSession(str(data / "models" / "multistyle26.onnx"), providers=["CPUExecutionProvider"])
        self._weights = np.zeros(26, np.float32)
        self._weights[look] = 1.0
        self.keys = list(keyframes)
        others = [i for i in range(len(self.frames)) if i not in self.keys]
        self.scored = others[:: max(1, len(others) // n_scored)][:n_scored]

    def paint(self, rgb: np.ndarray) -> np.ndarray:
        out = self._painter.run(None, {"image": rgb.transpose(2, 0, 1)[None], "style_weights": self._weights})[0]
        return np.clip(out[0].transpose(1, 2, 0), 0, 1)

    def write_keyframes(self, pairs: Path) -> Path:
        for k in self.keys:
            write_image(pairs / "input" / f"tree.{k:04d}.png", self.frames[k])
            write_image(pairs / "target" / f"tree.{k:04d}.png", self.paint(self.frames[k]))
        return pairs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--look", type=int, default=12, help="which of multistyle26's 26 looks paints the keyframes")
    ap.add_argument("--keyframes", type=int, nargs=2, default=[10, 50])
    ap.add_argument("--frames", type=int, default=50, help="how many other frames to score")
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "runs" / "paired")
    ap.add_argument("--sheet", type=Path, default=ROOT / "docs" / "images" / "paired_tree.png")
    ap.add_argument("--reuse", action="store_true", help="score the model already in --work/run (bench/studies/generators.py trains the same one: link its paired_reel there)")
    args, overrides = ap.parse_known_args()

    shot = PaintedShot(args.data, args.look, args.keyframes, args.frames)
    frames, keys, scored, paint = shot.frames, shot.keys, shot.scored, shot.paint
    run = args.work / "run"
    if not args.reuse:
        shutil.rmtree(args.work, ignore_errors=True)
        shot.write_keyframes(args.work / "keyframes")
        train_timed(["--pairs", str(args.work / "keyframes")], run, args.minutes, overrides)
    info = json.loads((run / "model" / "model.json").read_text())
    stylizer = Stylizer(run, device="cpu")
    key_targets = {k: paint(frames[k]) for k in keys}
    train_s = info.get("elapsed_s", float("nan"))

    t = lambda a: torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1)[None]  # noqa: E731
    scores = {"untouched frame": [], "colour transfer": [], "stylereel": []}
    sheet, labels = [], []
    for n, i in enumerate(scored):
        ref = paint(frames[i])
        nearest = min(keys, key=lambda k: abs(k - i))
        outs = {
            "untouched frame": frames[i],
            "colour transfer": colour_transfer(frames[i], key_targets[nearest]),
            "stylereel": stylizer(frames[i]),
        }
        for name, img in outs.items():
            scores[name].append((psnr(t(img), t(ref)), ssim(t(img), t(ref))))
        if n % (len(scored) // 3) == 0 and len(sheet) < 3:
            sheet.append([frames[i], outs["colour transfer"], outs["stylereel"], ref])
            labels.append([f"frame {i}", "colour transfer", f"stylereel {scores['stylereel'][-1][0]:.1f} dB", "multistyle26 (reference)"])
    sheet.insert(0, [frames[keys[0]], key_targets[keys[0]]])
    labels.insert(0, [f"keyframe {keys[0]}", "painted keyframe (training target)"])
    write_contact_sheet(args.sheet, sheet, labels, height=200)

    reused = " Model scored with `--reuse`: the model already in the work folder, trained by this script's previous run or by bench/studies/generators.py (same data, settings and budget)." if args.reuse else ""
    lines = [
        f"Shot: `video/tree.avi` (320x240; {len(frames)} decodable frames). Keyframes {keys[0]} and {keys[1]} painted "
        f"by `multistyle26.onnx` look {args.look}; trained {info['steps']} steps in {train_s / 60:.1f} min; "
        f"scored on {len(scored)} other frames against multistyle26's own output for them." + reused,
        "",
        "| method | PSNR (dB) | SSIM |",
        "| --- | --- | --- |",
    ]
    for name, vals in scores.items():
        p, s = np.mean([v[0] for v in vals]), np.mean([v[1] for v in vals])
        lines.append(f"| {name} | {p:.2f} | {s:.4f} |")
    lines += ["", f"Contact sheet: `{rel_path(args.sheet)}`."]
    (args.work / "report.json").write_text(json.dumps({k: v for k, v in scores.items()}, indent=2))
    write_section("paired", "Paired keyframes: two painted frames -> the rest of the shot", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
