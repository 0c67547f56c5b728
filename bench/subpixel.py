"""A look made cheaper on the CPU engine against the look as shipped, in picture and time: retrained with the
sub-pixel head (`ReelGenerator(detail=False)`, tools/subpixel_look.py; `--kind subpixel`) or with its full-resolution
stage fitted again narrower (`detail_width`, tools/thin_stage.py; `--kind stage`) or with fewer blocks
(`n_blocks`, tools/fewer_blocks.py and the look's own recipe; `--kind fewer_blocks`).

    python bench/subpixel.py --data DATA_DIR [--kind subpixel|stage|fewer_blocks] MODEL_DIR [MODEL_DIR ...]

Scores, on photos neither network saw (bench/distill.py's: home.jpg, orange.jpg, astronaut, coffee at
384 px): Magenta style distance to the painting (Magenta's style-prediction network, a space stylereel
never trains on), content distance to the photo (VGG19), PSNR / SSIM to the shipped look's picture.
A head drawn block by block risks a 2x2 lattice: `lattice` measures it on a flat sky (bench/precision_quality.py's
synthetic sky with a vignette, 1280x720) and on home.jpg at full size, and the sheet's last rows are 1:1 crops
of both, enlarged 4x.

Speed: 1920x1080 through the CPU engine, the networks alternating in one process (7 frames each after a
warm-up, median), one process per precision: bf16 where this CPU has bf16 units, fp32, and fp32 with
OpenVINO and oneDNN capped to AVX2 (what a Zen 3 runs); Magenta's multistyle26 (ONNX Runtime) timed after
them in the same process, for the ratio (bench/distill.py's worker).

Writes bench/RESULTS.md, the section named by --kind ("subpixel", "stage", "fewer_blocks"; KIND_LOOK for another look than
starry_night, e.g. "stage_multi"), and docs/images/SECTION.png.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CROP = 96  # side of the 1:1 crops, shown 4x
# What the variants changed: their section of bench/RESULTS.md and sheet (docs/images/KIND.png), and how they were made.
KINDS = {
    "subpixel": {"title": "A look without its full-resolution stage", "label": "sub-pixel head",
                 "method": "itself retrained with the sub-pixel head (tools/subpixel_look.py: its weights, the last layer copied to "
                           "each pixel of a 2x2 block, then `stylereel train --distill` from the look for the first minutes, then "
                           "the look's own recipe)"},
    "stage": {"title": "A look with a narrower full-resolution stage", "label": "narrower stage",
              "method": "itself with a narrower full-resolution stage (tools/thin_stage.py: every other weight the look's own, the "
                        "stage's strongest hidden channels kept and fitted, with the last half-resolution conv, to the look's own "
                        "picture on crops of the students' content set; steps: the stage's fitting steps)"},
    "fewer_blocks": {"title": "A look with fewer blocks", "label": "fewer blocks",
               "method": "itself with fewer inverted-residual blocks (tools/fewer_blocks.py: the blocks that change its picture "
                         "least taken out, every weight fitted to the look's own picture on crops of the students' content set, "
                         "then `stylereel train --model.init` on the look's own recipe; steps: the fit's, or the recipe's and its minutes)"},
}


def lattice(rgb: np.ndarray) -> float:
    """How much a picture's 2x2 blocks repeat a pattern, in 8-bit codes: each pixel minus the mean of its 3x3
    neighbourhood, averaged over the picture for each of a block's four positions; largest minus smallest. A smooth
    picture gives ~0 (every position alike); a lattice drawn block by block gives its amplitude."""
    t = torch.from_numpy(np.ascontiguousarray(rgb, np.float32)).permute(2, 0, 1)[None]
    detail = (t - F.avg_pool2d(t, 3, 1, 1, count_include_pad=False))[0, :, 2:-2, 2:-2]
    phases = [float(detail[:, a::2, b::2].mean()) * 255 for a in range(2) for b in range(2)]
    return max(phases) - min(phases)


def full_size(models: dict[str, Path], data: Path) -> tuple[list, list, dict]:
    """Each network on a 1280x720 synthetic sky and on home.jpg at full size: rows of 1:1 crops (enlarged 4x,
    nearest), and {(plate, network): lattice}."""
    from bench.precision_quality import sky
    from stylereel.data.images import load_images
    from stylereel.render.stylize import Stylizer

    plates = {"sky": sky(720, 1280)[0], "home.jpg": load_images([data / "photos" / "home.jpg"])[0]}
    rows, labels, lat = [], [], {}
    stylizers = {name: Stylizer(d, device="cpu") for name, d in models.items()}
    for pname, x in plates.items():
        hwc = np.ascontiguousarray(x.permute(1, 2, 0).numpy())
        h, w = hwc.shape[:2]
        cut = lambda a: np.kron(a[h // 5 : h // 5 + CROP, w // 2 : w // 2 + CROP], np.ones((4, 4, 1), np.float32))  # noqa: E731
        # a multi-look model in its first look (after "none", the plate)
        first = lambda st: {"look": np.eye(len(st.look_names), dtype=np.float32)[1]} if st.look_names else {}  # noqa: E731
        outs = {n: np.asarray(st(hwc, **first(st)), np.float32) for n, st in stylizers.items()}
        lat.update({(pname, n): lattice(y) for n, y in outs.items()})
        rows.append([cut(hwc)] + [cut(y) for y in outs.values()])
        labels.append([f"{pname} 1:1 x4"] + [f"{'shipped' if n == 'teacher' else n} 1:1 x4" for n in outs])
    return rows, labels, lat


def main() -> None:
    from bench.distill import HELD, scores, teachers
    from bench.results import engine_configs, rel_path, run_worker, write_section
    from stylereel.device import cpu_description
    from stylereel.looks import look_dir
    from stylereel.render.contact_sheet import write_contact_sheet

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--look", default="starry_night", help="a built-in look, or multi (the six-look model, scored in every look)")
    ap.add_argument("--kind", choices=sorted(KINDS), default="subpixel", help="what the models changed (the section they are written to)")
    ap.add_argument("models", nargs="+", type=Path, help="the look's variants (tools/subpixel_look.py's or tools/thin_stage.py's runs)")
    args = ap.parse_args()
    kind = KINDS[args.kind]

    teacher = teachers()["multi"] if args.look == "multi" else look_dir(args.look)
    models = {"teacher": teacher} | {m.parent.name if m.name == "model" else m.name: m for m in args.models}
    table, pictures, photos, hwc = scores(args, {args.look: models})
    rows = table[args.look]

    dirs = json.dumps({"models": {f"{args.look}/{n}": str(d) for n, d in models.items()},
                       "magenta": str(args.data / "models" / "multistyle26.onnx")})
    speed = {}
    for isa, p, env in engine_configs():
        speed[isa, p] = {r["model"]: r["ms"] for r in run_worker(__file__, p, dirs, env=env)}

    cpu = cpu_description()
    kw = json.loads((teacher / "model.json").read_text())["generator"]["kwargs"]
    shape = f"({','.join(map(str, kw.get('channels', (16, 48, 96))))})x{kw.get('n_blocks', 6)}, {kw.get('detail_width', 8)} hidden channels"
    head = " | ".join(f"1080p {isa} {p}, ms (x Magenta)" for isa, p in speed)
    lines = [
        f"CPU: {cpu['model']}, {', '.join(cpu['isa'])}, {cpu['cores']} cores. The shipped {args.look} look ({shape} with its "
        f"full-resolution stage) against {kind['method']}. Scored on {', '.join(HELD)} at 384 px{' in each of its looks' if args.look == 'multi' else ''}, never seen: Magenta style distance to the painting{' (a look learnt from multistyle26: to that network painting the photo)' if args.look == 'multi' else ''}, VGG19 content distance to "
        "the photo, PSNR / SSIM to the shipped look's picture. 1080p: ms per frame through the CPU engine, the networks alternating in "
        "one process (median of 7); x Magenta: multistyle26 (ONNX Runtime) timed after them in the same process.",
        "",
        "Lattice: each pixel minus the mean of its 3x3 neighbourhood, averaged over the picture for each of a 2x2 block's "
        "four positions, largest minus smallest, in 8-bit codes (a smooth picture ~0; a pattern drawn block by block its "
        "amplitude), on a 1280x720 synthetic sky with a vignette and on home.jpg at full size.",
        "",
        f"| network | steps (minutes) | Magenta style distance | vs shipped | content distance | vs shipped | PSNR | SSIM | lattice, sky | lattice, home.jpg | {head} |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |" + " --- |" * len(speed),
    ]
    more, more_labels, lat = full_size(models, args.data)
    base = rows["teacher"]
    for name, r in rows.items():
        info = json.loads((models[name] / "model.json").read_text())
        fitted = models[name].parent / "fit.json"  # tools/thin_stage.py's or tools/fewer_blocks.py's own fitting steps
        steps = ("shipped" if name == "teacher" else f"fitted: {json.loads(fitted.read_text())['steps']}" if fitted.is_file()
                 else f"{info['steps']} ({info['elapsed_s'] / 60:.0f} min)")
        ms = " | ".join(f"{s[f'{args.look}/{name}']:.1f} ({s['magenta'] / s[f'{args.look}/{name}']:.1f}x)" for s in speed.values())
        label = "shipped, full-resolution stage" if name == "teacher" else f"{name}, {kind['label']}"
        rel = lambda k: "-" if name == "teacher" else f"{100 * (r[k] / base[k] - 1):+.1f}%"  # noqa: E731
        lines.append(f"| {label} | {steps} | {r['magenta']:.3f} | {rel('magenta')} | {r['content']:.3f} | {rel('content')} | "
                     + ("- | - |" if name == "teacher" else f"{r['psnr']:.2f} | {r['ssim']:.3f} |")
                     + f" {lat['sky', name]:.2f} | {lat['home.jpg', name]:.2f} | {ms} |")
    lines += ["", "Magenta's multistyle26 at 1080p: " + ", ".join(f"{s['magenta']:.0f} ms ({isa} {p})" for (isa, p), s in speed.items()) + "."]

    # a multi-look model's photos are all kept in its first look (bench/distill.py's `scores`)
    shown = kw["looks"][1] if args.look == "multi" else None
    grid = [[hwc(x)] + [pictures[args.look, m, shown, n] for m in models] for n, x in photos]
    labels = [[n] + [("shipped" if m == "teacher" else m) for m in models] for n, _ in photos]
    section = args.kind if args.look == "starry_night" else f"{args.kind}_{args.look}"  # one section per look
    sheet = ROOT / "docs" / "images" / f"{section}.png"
    write_contact_sheet(sheet, grid + more, labels + more_labels, height=200)
    lines.append(f"Sheet: `{rel_path(sheet)}` (per row: photo | shipped | retrained; the last two rows 1:1 crops enlarged 4x: the sky "
                 "and home.jpg).")
    write_section(section, kind["title"] + ("" if args.look == "starry_night" else f": {args.look}"), "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        from bench.distill import worker

        print(json.dumps(worker(sys.argv[2], sys.argv[3])))
    else:
        main()
