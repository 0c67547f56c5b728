"""The built-in looks and their controls, on photos no look was trained on.

- Each look of the built-in multi-look model against its truth (what it was learnt from:
  multistyle26's painting of the photo, or the single Starry Night look's rendering):
  PSNR, SSIM and Magenta's style distance (an independent style space), beside the
  single-look model of the same look where one was trained (tools/make_looks.py).
- Strength: the style distance to the truth at strength 0 .. 1 (inside the network).
- Sheets: every look (`docs/images/looks.png`), a fusion sweep between two looks, a
  regional look from a matte, and the render-time controls (`docs/images/looks_controls.png`).
- A new look in a minute: the multi-look model extended from the Starry Night painting
  alone (`stylereel train --extend builtin`, only the new look's parameters train),
  its Magenta style distance to the painting over time against the shipped Starry Night
  look (10 minutes of full training): the time to reach 90% of that improvement.

    python bench/looks.py --data DATA_DIR [--extend-seconds 120]

Writes bench/RESULTS.md (section "looks") and the sheets.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.magenta import Magenta  # noqa: E402
from bench.quality_unpaired import held_out_photos  # noqa: E402
from bench.results import photo_split, rel_path, write_section  # noqa: E402
from stylereel.data.images import load_images  # noqa: E402
from stylereel.looks import looks_dir, multi_look_model  # noqa: E402
from stylereel.losses.perceptual import content_loss  # noqa: E402
from stylereel.metrics.image import psnr, ssim  # noqa: E402
from stylereel.nets.features import Trunk  # noqa: E402
from stylereel.render.contact_sheet import write_contact_sheet  # noqa: E402
from stylereel.render.controls import Controls  # noqa: E402
from stylereel.render.look_map import LookMap, untouched  # noqa: E402
from stylereel.render.stylize import Stylizer  # noqa: E402
from tools.make_looks import LOOKS  # noqa: E402

HELD_OUT = ["home.jpg", "orange.jpg", "astronaut", "coffee"]
CONTENT_LAYERS = ("relu3_3",)  # on HED's VGG16, the space this benchmark's recorded numbers were measured in
STRENGTHS = [0.0, 0.25, 0.5, 0.75, 1.0]


def t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).permute(2, 0, 1)[None]


def hwc(x: torch.Tensor) -> np.ndarray:
    return x[0].permute(1, 2, 0).numpy()


def render(stylizer: Stylizer, photo: np.ndarray, mix: dict, strength: float = 1.0) -> np.ndarray:
    return LookMap(stylizer.look_names, mix, strength).stylize(stylizer, photo)


def new_look(args, judge: Magenta, photos, starry: Stylizer):
    """Extend the multi-look model from the painting alone; the style distance of each snapshot."""
    train, _ = photo_split(args.data, [n for n in HELD_OUT if n.endswith(".jpg")])
    painting = args.data / "styles" / "starry_night.jpg"
    run = args.work / "extend"
    shutil.rmtree(run, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "stylereel.cli", "train", "--extend", "builtin", "--name", "starry_new", "--content",
                    *map(str, train), "--style", str(painting), "--out", str(run), "--minutes", str(args.extend_seconds / 60),
                    "--steps", "1000000", "--train.snapshot_every=20",
                    *([f"--train.lr_g={args.extend_lr}"] if args.extend_lr else [])], check=True)
    ref = judge.style_vector(load_images([painting], exact_side=512, trim=0.03)[0][None])
    dist = lambda outs: float(np.mean([judge.distance(t(o), ref) for o in outs]))  # noqa: E731
    d_photo = dist([p for _, p in photos])
    d_full = dist([starry(p) for _, p in photos])
    goal = d_photo - 0.9 * (d_photo - d_full)
    curve = []
    for snap in sorted((run / "snapshots").iterdir()):
        s_info = json.loads((snap / "model.json").read_text())
        st = Stylizer(snap, device="cpu")
        curve.append((s_info["elapsed_s"], s_info["steps"], dist([render(st, p, {"starry_new": 1.0}) for _, p in photos])))
    reached = next(((sec, step) for sec, step, d in curve if d <= goal), None)
    return curve, d_photo, d_full, goal, reached


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--extend-seconds", type=float, default=120)
    ap.add_argument("--extend-lr", type=float, help="the new look's Adam rate (default: the one stylereel picks)")
    ap.add_argument("--extend-only", action="store_true", help="only the new-look measurement (printed, RESULTS.md untouched)")
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "runs" / "looks_bench")
    ap.add_argument("--singles", type=Path, default=ROOT / "bench" / "runs" / "looks", help="tools/make_looks.py's work folder")
    args = ap.parse_args()

    import onnxruntime as ort

    judge = Magenta(args.data / "models")
    painter = ort.InferenceSession(str(args.data / "models" / "multistyle26.onnx"), providers=["CPUExecutionProvider"])
    # multiples of 8: multistyle26's output (the truth) is that size
    photos = [(n, np.ascontiguousarray(hwc(x)[: x.shape[-2] // 8 * 8, : x.shape[-1] // 8 * 8])) for n, x in held_out_photos(args.data, HELD_OUT, 512)]
    multi = Stylizer(multi_look_model(), device="cpu")
    starry = Stylizer(looks_dir() / "starry_night", device="cpu")
    if args.extend_only:
        curve, d_photo, d_full, goal, reached = new_look(args, judge, photos, starry)
        print(f"photo {d_photo:.3f} full {d_full:.3f} goal {goal:.3f} reached {reached}")
        print("\n".join(f"{sec:.0f} s, {step} steps: {d:.3f}" for sec, step, d in curve))
        return
    info = json.loads((multi.model_dir / "model.json").read_text())

    def truth(name: str, photo: np.ndarray) -> np.ndarray:
        if name == "starry_night":
            return starry(photo)
        w = np.zeros(26, np.float32)
        w[LOOKS[name][0]] = 1
        return np.clip(painter.run(None, {"image": photo.transpose(2, 0, 1)[None], "style_weights": w})[0][0].transpose(1, 2, 0), 0, 1)

    trunk = Trunk(list(CONTENT_LAYERS), "hed_vgg16")  # the space its recorded numbers were measured in

    @torch.no_grad()
    def content(o: np.ndarray, photo: np.ndarray) -> float:
        return float(content_loss(trunk(t(o)), trunk(t(photo)), CONTENT_LAYERS))

    def scores(outs: list[np.ndarray], truths: list[np.ndarray]) -> tuple[float, float, float, float]:
        """PSNR and SSIM to the truth, Magenta style distance to the truth, content distance to the photo."""
        return (float(np.mean([psnr(t(o), t(g)) for o, g in zip(outs, truths)])),
                float(np.mean([ssim(t(o), t(g)) for o, g in zip(outs, truths)])),
                float(np.mean([judge.distance(t(o), judge.style_vector(t(g))) for o, g in zip(outs, truths)])),
                float(np.mean([content(o, p) for o, (_, p) in zip(outs, photos)])))

    looks = [n for n in multi.look_names if n != "none"]
    truths = {n: [truth(n, p) for _, p in photos] for n in looks}
    rows = []
    sweep = {}
    for n in looks:
        outs = [render(multi, p, {n: 1.0}) for _, p in photos]
        single_dir = args.singles / n / "run"
        single = ""
        if n != "starry_night" and (single_dir / "model" / "model.json").is_file():
            s_info = json.loads((single_dir / "model" / "model.json").read_text())
            sp, ss, sd, sc = scores([Stylizer(single_dir, device="cpu")(p) for _, p in photos], truths[n])
            single = f"{sp:.2f} / {ss:.3f} / {sd:.3f} / {sc:.3f} ({s_info['steps']} steps)"
        p_, s_, d_, c_ = scores(outs, truths[n])
        rows.append(f"| {n} | {p_:.2f} | {s_:.3f} | {d_:.3f} | {c_:.3f} | {single or '-'} |")
        sweep[n] = [scores([render(multi, p, {n: 1.0}, k) for _, p in photos], truths[n])[2] for k in STRENGTHS]

    curve, d_photo, d_full, goal, reached = new_look(args, judge, photos, starry)

    # Sheets: every look (and the new one); a fusion sweep; a region; the controls.
    name0, photo0 = photos[0]
    extended = Stylizer(args.work / "extend", device="cpu")
    cells = [(photo0, "photo")] + [(render(multi, photo0, {n: 1.0}), n) for n in looks] + [(starry(photo0), "starry_night (single)")]
    cells.append((render(extended, photo0, {"starry_new": 1.0}), f"new look from the painting, {curve[-1][0]:.0f} s"))
    per = 4
    grid = [cells[i : i + per] for i in range(0, len(cells), per)]
    sheet = ROOT / "docs" / "images" / "looks.png"
    write_contact_sheet(sheet, [[c[0] for c in r] for r in grid], [[c[1] for c in r] for r in grid], height=200)
    a, b = "ink", "fauve"
    fusion = [render(multi, photo0, {a: 1 - k, b: k} if 0 < k < 1 else {a if k == 0 else b: 1.0}) for k in np.linspace(0, 1, 6)]
    strength_row = [render(multi, photo0, {"pastel": 1.0}, k) for k in np.linspace(0, 1, 6)]
    h, w = photo0.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    matte = np.clip((min(h, w) * 0.35 - np.hypot(yy - h / 2, xx - w / 2)) / 6 + 0.5, 0, 1).astype(np.float32)
    region_map = LookMap(multi.look_names, {"sepia_etch": 1.0})
    wts = region_map.weights(1, (h, w))
    wts += matte[..., None] * (region_map.vector({"pointillist": 1.0}) - wts)
    region = untouched(multi(photo0, look=wts), photo0, wts, 0)
    wts_none = np.zeros_like(wts)
    wts_none[..., 0] = 1 - matte
    wts_none[..., multi.look_names.index("ink")] = matte
    region_none = untouched(multi(photo0, look=wts_none), photo0, wts_none, 0)
    controls = [(Controls(), "ink"), (Controls(preserve_color="luminance"), "--preserve-color luminance"),
                (Controls(preserve_color="palette"), "--preserve-color palette"), (Controls(preserve_lighting=1.0), "--preserve-lighting 1"),
                (Controls(texture_scale=1080 / h * 2), "--texture-scale x2")]
    ink_w = LookMap(multi.look_names, {"ink": 1.0}).weights(1, (h, w))
    ctrl = [c.apply(multi, photo0, look=ink_w) for c, _ in controls]
    labels = [f"{a} -> {b} {k:.1f}" for k in np.linspace(0, 1, 6)]
    controls_sheet = ROOT / "docs" / "images" / "looks_controls.png"
    write_contact_sheet(controls_sheet, [fusion, strength_row, [photo0, matte[..., None].repeat(3, -1), region, region_none],
                                         [photo0] + ctrl],
                        [labels, [f"pastel, --strength {k:.1f}" for k in np.linspace(0, 1, 6)],
                         ["photo", "matte", "sepia_etch, pointillist inside", "none, ink inside"],
                         ["photo"] + [c[1] for c in controls]], height=170)

    lines = [
        f"Held-out photos: {', '.join(HELD_OUT)} at 512 px (no look saw them). Built-in multi-look model: "
        f"`{rel_path(multi.model_dir)}` ({info['steps']} steps, {info.get('elapsed_s', 0) / 60:.0f} min, "
        f"{len(looks)} looks + none). Truth: multistyle26's painting of each photo in that look (starry_night: the single "
        "Starry Night look's rendering). Magenta style distance: between the output's and the truth's 100-d style vectors. "
        "Content distance: relu3_3 features of the output vs the photo (`stylereel/metrics/style.py`). The single-look "
        "models: `python tools/make_looks.py --data DATA --only NAME --no-ship` (1500 steps each, the same photos and "
        f"paintings; the multi-look model spent {info['steps'] / len(looks):.0f} steps a look).",
        "",
        "| look | PSNR | SSIM | Magenta style distance | content distance | single-look model (PSNR / SSIM / style / content) |",
        "| --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        "Strength (inside the network; Magenta style distance to the truth, lower is nearer the look):",
        "",
        "| look | " + " | ".join(f"{k:g}" for k in STRENGTHS) + " | monotonic |",
        "| --- |" + " --- |" * (len(STRENGTHS) + 1),
        *[f"| {n} | " + " | ".join(f"{d:.3f}" for d in ds) + f" | {'yes' if all(x >= y for x, y in zip(ds, ds[1:])) else 'no'} |"
          for n, ds in sweep.items()],
        "",
        f"A new look in a minute (`stylereel train --extend builtin --name starry_new --content TRAIN_PHOTOS --style "
        f"starry_night.jpg`, {args.extend_seconds:g} s budget, snapshots every 20 steps): Magenta style distance to the "
        f"painting on the held-out photos: photo {d_photo:.3f}, the shipped Starry Night look (10 min of full training) "
        f"{d_full:.3f}; 90% of that improvement is {goal:.3f}.",
        "",
        "| seconds | steps | style distance |",
        "| --- | --- | --- |",
        *[f"| {sec:.0f} | {step} | {d:.3f} |" for sec, step, d in curve],
        "",
        (f"Reached after {reached[0]:.0f} s ({reached[1]} steps)." if reached else
         f"Not reached within {args.extend_seconds:g} s (best {min(d for _, _, d in curve):.3f})."),
        "",
        f"Sheets: `{rel_path(sheet)}` (every look on {name0}, and the new look), `{rel_path(controls_sheet)}` (fusion ink -> fauve, strength, "
        "a region from a soft matte, the colour/lighting/texture controls).",
    ]
    write_section("looks", "Built-in looks, fusion, strength, regions and a new look in a minute", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
