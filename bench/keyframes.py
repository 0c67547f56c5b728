"""Keyframe looks on a shot whose every frame's look is known: a few frames "painted"
by Magenta's multistyle26 network, and the rest of the shot from them by

- flow alone: the painted keyframes on either side carried along the optical flow and
  mixed by confidence and closeness in time (the guide itself, `render.guide.guide_for`),
  EbSynth's idea at its simplest;
- the unguided generator (`--pairs`, data.mode paired);
- the guided generator (`--data.mode=guided`, rendered with `--keyframes`): the carried
  keyframe and its confidence as extra inputs;

scored against multistyle26's own output for every other frame (PSNR, SSIM) and for
steadiness (warping error, beside the truth's own).

    python bench/keyframes.py --data DATA_DIR --minutes 5

Both generators train through the CLI on the same keyframes for the same budget.
Writes bench/RESULTS.md (section "keyframes") and docs/images/keyframes_tree.png.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.quality_paired import PaintedShot  # noqa: E402
from bench.results import rel_path, train_timed, write_section  # noqa: E402
from stylereel.io.frames import read_image, write_image  # noqa: E402
from stylereel.metrics.image import psnr, ssim  # noqa: E402
from stylereel.metrics.temporal import warping_errors  # noqa: E402
from stylereel.render.contact_sheet import write_contact_sheet  # noqa: E402
from stylereel.render.guide import guide_for  # noqa: E402
from stylereel.render.stylize import Stylizer  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--look", type=int, default=12)
    ap.add_argument("--keyframes", type=int, nargs="+", default=[10, 35, 60], help="frame numbers (from 1) painted")
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "runs" / "keyframes")
    ap.add_argument("--sheet", type=Path, default=ROOT / "docs" / "images" / "keyframes_tree.png")
    ap.add_argument("--train", nargs="*", choices=("unguided", "guided"), default=["unguided", "guided"],
                    help="the generators to train afresh (none: score those already in --work)")
    args = ap.parse_args()

    shot = PaintedShot(args.data, args.look, [k - 1 for k in args.keyframes], 1)
    frames = shot.frames
    n = len(frames)
    truth = [shot.paint(f) for f in frames]
    movie = f"{args.data / 'video' / 'tree.avi'}:1-{n}"
    painted = args.work / "painted" / "key.####.png"
    shutil.rmtree(args.work / "painted", ignore_errors=True)
    for k in args.keyframes:
        write_image(args.work / "painted" / f"key.{k:04d}.png", truth[k - 1], bit_depth=16)
    for name in args.train:
        shutil.rmtree(args.work / name, ignore_errors=True)
        train_timed(["--pairs", f"{movie}={painted}"], args.work / name, args.minutes, ["--data.mode=guided"] if name == "guided" else [])

    outputs = {}
    for name in ("unguided", "guided"):
        extra = {"keyframes": str(painted)} if name == "guided" else {}
        report = Stylizer(args.work / name, device="cpu").render(movie, args.work / f"{name}_out" / "f.####.png", depth="16", overwrite=True, log=False, **extra)
        assert report.ok, report.summary()
        outputs[name] = [read_image(args.work / f"{name}_out" / f"f.{i:04d}.png").rgb for i in range(1, n + 1)]
    keys = {k: (frames[k - 1], truth[k - 1]) for k in args.keyframes}
    outputs["flow alone"] = [guide_for(keys, i, frames[i - 1])[..., :3] for i in range(1, n + 1)]

    t = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).permute(2, 0, 1)[None]  # noqa: E731
    others = [i for i in range(1, n + 1) if i not in args.keyframes]
    rows = []
    for name in ("flow alone", "unguided", "guided"):
        outs = outputs[name]
        p = np.mean([psnr(t(outs[i - 1]), t(truth[i - 1])) for i in others])
        s = np.mean([ssim(t(outs[i - 1]), t(truth[i - 1])) for i in others])
        rows.append((name, p, s, float(np.mean(warping_errors(frames, outs)))))
    truth_we = float(np.mean(warping_errors(frames, truth)))
    steps = {name: json.loads((args.work / name / "model" / "model.json").read_text()).get("steps") for name in ("unguided", "guided")}

    lines = [
        f"Shot: `video/tree.avi` (320x240, {n} decodable frames). Frames {', '.join(map(str, args.keyframes))} painted by "
        f"`multistyle26.onnx` look {args.look} (the truth for every frame is that network's output); scored on the other "
        f"{len(others)} frames. Each generator trained {args.minutes:g} min through the CLI on the same keyframes "
        f"(unguided {steps['unguided']} steps, guided {steps['guided']} steps).",
        "",
        "| method | PSNR (dB) | SSIM | warping error |",
        "| --- | --- | --- | --- |",
        *[f"| {name} | {p:.2f} | {s:.4f} | {we:.5f} |" for name, p, s, we in rows],
        f"| truth (multistyle26 on every frame) | - | - | {truth_we:.5f} |",
        "",
        f"Sheet: `{rel_path(args.sheet)}` (flow alone | unguided | guided | truth).",
    ]
    picks = [others[len(others) // 5], others[len(others) // 2], others[-3]]
    write_contact_sheet(args.sheet, [[outputs["flow alone"][i - 1], outputs["unguided"][i - 1], outputs["guided"][i - 1], truth[i - 1]] for i in picks],
                        [[f"frame {i}: flow alone", "unguided", "guided", "truth"] for i in picks], height=180)
    write_section("keyframes", "Keyframe looks guided along the motion", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
