"""Temporal stability on a real shot: warping error (Lai et al. 2018) of the shipped
Starry Night look rendered frame by frame, with `--temporal` (a sweep of the
blend strength) and with `--temporal --both-ways` (the offline mode), against Magenta's multistyle26 network frame by frame and the
plate itself; style and content distance of each (stability must not wash out the
look); the extra cost of `--temporal` per 1080p frame.

    python bench/temporal.py --data DATA_DIR

Shot: the decodable frames of video/tree.avi. Renders go through `Stylizer.render`
(what `stylereel stylize` runs) to 16-bit PNG sequences, so no codec touches them.
Writes bench/RESULTS.md (section "temporal"), docs/images/temporal_tree.png (strip
of consecutive frames) and docs/images/temporal_tree_curve.png (per-frame curves).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import SHIPPED_LOOK as LOOK, rel_path, write_section  # noqa: E402
from stylereel.data.images import load_images  # noqa: E402
from stylereel.io.frames import read_image  # noqa: E402
from stylereel.metrics.style import StyleMetrics  # noqa: E402
from stylereel.metrics.temporal import plot_errors, warping_errors  # noqa: E402
from stylereel.render.contact_sheet import write_contact_sheet  # noqa: E402
from stylereel.render.stylize import Stylizer  # noqa: E402
from stylereel.render.temporal import PLATE_STRENGTH, STRENGTH, SteadyPlate, TemporalBlend, motion, motions  # noqa: E402

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--strengths", type=float, nargs="+", default=[0.5, 0.7, 0.8, 0.9])
    ap.add_argument("--both-ways", type=float, nargs="*", default=[0.5, 0.7], help="strengths to render both ways")
    ap.add_argument("--magenta-look", type=int, default=12)
    ap.add_argument("--strip", type=Path, default=ROOT / "docs" / "images" / "temporal_tree.png")
    ap.add_argument("--curve", type=Path, default=ROOT / "docs" / "images" / "temporal_tree_curve.png")
    args = ap.parse_args()

    from stylereel.io.media import open_source

    shot = f"{args.data / 'video' / 'tree.avi'}"
    frames = []
    for _, f, problem in open_source(shot).frames():
        if f is None:
            break  # the container counts more frames than its stream decodes: stop at the last good one
        frames.append(f.rgb)
    n = len(frames)
    spec = f"{shot}:1-{n}"
    stylizer = Stylizer(LOOK, device="cpu")
    # tree.avi stores 68 pictures in its 444 frames (the rest hold the picture before): a hold repeats its picture and
    # adds a zero to every curve, so the scores are taken between consecutive stored pictures (the render is the whole shot)
    stored = [0] + [i for i in range(1, n) if not np.array_equal(frames[i], frames[i - 1])]
    outputs: dict[str, list[np.ndarray]] = {"plate": frames}
    with tempfile.TemporaryDirectory() as tmp:
        renders = [("stylereel, frame by frame", None, False)] + [(f"stylereel --temporal {s:g}", s, False) for s in args.strengths]
        renders += [(f"stylereel --temporal {s:g} --both-ways", s, True) for s in args.both_ways]
        for name, strength, both in renders:
            out = Path(tmp) / name.replace(" ", "_").replace(",", "") / "f.####.png"
            report = stylizer.render(spec, out, temporal=strength, both_ways=both, depth="16", log=False)
            assert report.ok, report.summary()
            outputs[name] = [read_image(out.parent / f"f.{i:04d}.png").rgb for i in range(1, n + 1)]

    import onnxruntime as ort

    painter = ort.InferenceSession(str(args.data / "models" / "multistyle26.onnx"), providers=["CPUExecutionProvider"])
    weights = np.zeros(26, np.float32)
    weights[args.magenta_look] = 1
    outputs[f"Magenta multistyle26 look {args.magenta_look}, frame by frame"] = [
        np.clip(painter.run(None, {"image": f.transpose(2, 0, 1)[None], "style_weights": weights})[0][0].transpose(1, 2, 0), 0, 1) for f in frames]

    metrics = StyleMetrics.from_images(load_images([args.data / "styles" / "starry_night.jpg"], exact_side=512, trim=0.03))
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).permute(2, 0, 1)[None]  # noqa: E731
    rows, curves = [], {}
    pictures = [frames[i] for i in stored]
    for name, outs in outputs.items():
        outs = [outs[i] for i in stored]
        errs = warping_errors(pictures, outs)
        curves[name] = errs
        sd = cd = float("nan")
        if name.startswith("stylereel"):
            ms = [metrics(t(o), t(f)) for o, f in zip(outs[::4], pictures[::4])]
            sd, cd = np.mean([m["style_distance"] for m in ms]), np.mean([m["content_distance"] for m in ms])
        rows.append((name, float(np.mean(errs)), sd, cd))

    # Extra cost per 1080p frame: the motion (reader's thread) and the blend (writer's thread).
    import cv2

    big = [cv2.resize(f, (1920, 1080), interpolation=cv2.INTER_CUBIC) for f in pictures[:6]]
    blend = TemporalBlend(STRENGTH)
    blend(big[0], None)
    both = TemporalBlend(STRENGTH, both_ways=True)
    steady = SteadyPlate()
    steady(big[0], None)
    t_motion = t_blend = t_motions = t_both = t_steady = 0.0
    for a, b in zip(big, big[1:]):
        t0 = time.perf_counter()
        m = motion(a, b)
        t1 = time.perf_counter()
        blend(b, m)
        t2 = time.perf_counter()
        steady(b, m)
        t_steady += time.perf_counter() - t2
        t2 = time.perf_counter()
        back, ahead = motions(a, b)
        t3 = time.perf_counter()
        both(b, back, (ahead, a))  # the cost of a blend with both neighbours (the pairing does not matter for time)
        t_motion, t_blend, t_motions, t_both = t_motion + t1 - t0, t_blend + t2 - t1, t_motions + t3 - t2, t_both + time.perf_counter() - t3
    k = len(big) - 1

    base = rows[1]
    lines = [
        f"Shot: `video/tree.avi` ({frames[0].shape[1]}x{frames[0].shape[0]}, {n} frames holding {len(stored)} stored pictures; scored between "
        "consecutive stored pictures, every frame rendered). The shipped Starry Night look "
        "rendered with `Stylizer.render` to 16-bit PNG (no codec). Warping error: Lai et al. 2018 (DIS flow between the plate's "
        "frames, forward-backward occlusion mask, masked mean squared difference of consecutive outputs; lower is steadier; the "
        "plate's own is the floor that flow errors and noise leave). Style and content distance: `stylereel eval`'s, every 4th frame. "
        "`--temporal` steadies the plate the network sees (SteadyPlate) and blends the output at the strength named.",
        "",
        "| render | warping error | vs frame by frame | style distance | content distance |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, we, sd, cd in rows:
        rel = f"{we / base[1]:.2f}x" if name.startswith("stylereel") or name.startswith("Magenta") else "-"
        sds = f"{sd:.3f} ({sd / base[2]:.2f}x)" if sd == sd else "-"
        cds = f"{cd:.3f} ({cd / base[3]:.2f}x)" if cd == cd else "-"
        lines.append(f"| {name} | {we:.5f} | {rel} | {sds} | {cds} |")
    lines += [
        "",
        f"Extra cost of `--temporal` per 1920x1080 frame: motion {1000 * t_motion / k:.0f} ms (flow both ways at "
        f"{min(1920, 640)} px wide, on the reader's thread beside the network), steadied plate {1000 * t_steady / k:.0f} ms "
        f"(reader's thread, strength {PLATE_STRENGTH}), blend {1000 * t_blend / k:.0f} ms (writer's thread). "
        f"Both ways: motion {1000 * t_motions / k:.0f} ms (the same two flows, checked in both directions), blend "
        f"{1000 * t_both / k:.0f} ms; each frame is written once the next one is rendered. Default strength: {STRENGTH}.",
        "",
        f"Frames: `{rel_path(args.strip)}` (consecutive frames: plate, frame by frame, --temporal {STRENGTH}, both ways); "
        f"per-frame curves: `{rel_path(args.curve)}`.",
    ]
    default = f"stylereel --temporal {STRENGTH:g}"
    two = f"{default} --both-ways"
    pick = [frames, outputs["stylereel, frame by frame"]] + [outputs[k_] for k_ in (default, two) if k_ in outputs]
    names = ["plate", "frame by frame", f"--temporal {STRENGTH:g}", "--both-ways"]
    idx = stored[20:26]  # consecutive stored pictures (frames that hold one repeat it)
    write_contact_sheet(args.strip, [[p[i] for p in pick] for i in idx], [[f"{nm} {i + 1}" for nm in names] for i in idx], height=160)
    plot_errors(args.curve, {k_: v for k_, v in curves.items() if k_ in ("plate", "stylereel, frame by frame", default, two) or k_.startswith("Magenta")},
                title="tree.avi: warping error per pair of stored pictures")
    write_section("temporal", "Temporal stability: frame by frame against --temporal", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
