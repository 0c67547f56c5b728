"""What a smaller generator keeps of a shipped look when it learns it from the look itself
(`stylereel train --distill LOOK`), and what it saves per frame on each CPU class.

    python bench/distill.py --data DATA_DIR --minutes 12 --shapes 8,32,64x4 16,32,64x4

For each teacher (the shipped Starry Night look, the shipped six-look model) and each student
shape (channels x residual blocks), `stylereel train --distill` runs as a user would, on a
wall-clock budget with the mode's defaults (192-px crops, batch 8), on the distillation set: DATA's photos except the
held-out ones, four scikit-image samples (chelsea, rocket, hubble_deep_field,
immunohistochemistry) and every 50th picture stored in DATA/video/tree.avi. `--reuse` scores runs
already there. A shape with `+MINUTES` (`8,32,64x4:111+30`) is then finished: trained on from its
distilled weights by the recipe the teacher itself was trained with (`--model.init`, the teacher's
recorded config: its critic, its painting, its teacher; the six-look model's: the pairs of
tools/make_looks.py), and scored as a row of its own. `8,32,64x4:0+30` distils nothing: that network
trained 30 minutes from scratch on the teacher's recipe alone.

Scores, on photos none of the networks saw (home.jpg, orange.jpg, astronaut, coffee at
384 px):
- PSNR and SSIM to the teacher's picture (how close the student draws the same picture);
- Magenta style distance (Magenta's style-prediction network, a space stylereel never trains
  on): for Starry Night to the painting, for the six-look model to multistyle26's painting
  of the photo in that look (Starry Night: the single look's picture), averaged over looks;
- content distance to the photo on the VGG19 trunk (`stylereel/metrics/style.py`).

Speed: 1920x1080 through the CPU engine (`stylereel.render.engine`, network on blocks), the
teacher and every student alternating in one process, 7 frames each after a warm-up, median;
one process for bf16 where this CPU has it, one for fp32 and one for int8 with OpenVINO and oneDNN
capped to AVX2 (what a Zen 3 or an older Xeon runs). Magenta's multistyle26 (ONNX Runtime) is timed
after them in the same processes, for the ratio.

The shipped Starry Night look is itself such a student since 2026-12-07 (8,32,64x4:111+30, with
the look shipped before it as teacher, which RESULTS' rows name "shipped"): run again, the
students learn the new look.

Writes bench/RESULTS.md, a section per teacher ("distill": Starry Night, "distill-multi": the six-look
model) and its sheet: docs/images/distill.png (each held-out photo: photo | teacher | students),
docs/images/distill_multi.png (each look on one photo).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SKIMAGE_TRAIN = ["chelsea", "rocket", "hubble_deep_field", "immunohistochemistry"]
HELD = ["home.jpg", "orange.jpg", "astronaut", "coffee"]
FINISH_LR = 1e-3  # a third of the rate the looks start at: the student starts near the look


def parse_shape(s: str) -> tuple[tuple[int, int, int], int, float | None, float | None]:
    """`8,32,64x4` -> ((8, 32, 64), 4, None, None); `8,32,64x4:90` gives that student its own budget (90
    minutes); `8,32,64x4:90+30` then trains it 30 minutes more on its teacher's own recipe (`finish`)."""
    s, _, finish = s.partition("+")
    s, _, minutes = s.partition(":")
    channels, _, blocks = s.partition("x")
    return (tuple(int(c) for c in channels.split(",")), int(blocks), float(minutes) if minutes else None,
            float(finish) if finish else None)


def shape_name(shape) -> str:
    return f"({','.join(map(str, shape[0]))})x{shape[1]}"


def shape_override(shape) -> str:
    """The generator's channels and residual blocks as a `stylereel train` override."""
    from tools.make_looks import shape_override

    return shape_override(f"{','.join(map(str, shape[0]))}x{shape[1]}")[0]


def trained_minutes(run: Path) -> float | None:
    """The minutes a run in `run` has trained for (across resumes), or None where it has no model yet."""
    info = run / "model" / "model.json"
    return json.loads(info.read_text())["elapsed_s"] / 60 if info.is_file() else None


def finish(args, teacher: Path, student: Path | None, shape, content: Path, out: Path, minutes: float) -> None:
    """Train a distilled student on, from its weights (or a network of `shape` from scratch where `student` is
    None), by the recipe its teacher was trained with (the teacher's model.json config: its losses, critic,
    crops and teacher; for an unpaired look this bench's content set and the style images from DATA/styles,
    for the multi-look model the pairs of tools/make_looks.py, made here), a student at FINISH_LR: judged
    against the painting (or the paintings), not only against the teacher's pictures."""
    import yaml

    from bench.results import train_timed

    cfg = json.loads((teacher / "model.json").read_text())["config"]
    mode = cfg["data"]["mode"]
    if mode == "unpaired":
        data = ["--content", str(content), "--style", *(str(args.data / "styles" / Path(s).name) for s in cfg["data"]["style"])]
    elif mode == "looks":
        from tools.make_looks import look_args, multi_pairs

        data = look_args(multi_pairs(args.data, args.work / "looks"))
    else:
        raise SystemExit(f"{teacher}: finishing on the teacher's recipe is for an unpaired or multi-look model (this one is {mode})")
    cfg["data"].pop("looks", None)
    out.mkdir(parents=True, exist_ok=True)
    recipe = out / "recipe.yaml"
    recipe.write_text(yaml.safe_dump({k: v for k, v in cfg.items() if k in ("data", "loss", "train")}))
    start = [f"--model.init={student}", f"--train.lr_g={FINISH_LR:g}"] if student else [shape_override(shape)]
    done = trained_minutes(out) if args.reuse else None
    if done is None:
        train_timed(["--config", str(recipe), *data], out, minutes, start)
    elif minutes - done >= 1:
        train_timed(["--resume"], out, minutes - done, [])


def distill_set(data: Path, out: Path) -> Path:
    """The photos, samples and frames the students learn from (PNG files in `out`), written once."""
    if out.is_dir() and any(out.iterdir()):
        return out
    import av
    import imageio.v3 as iio
    import skimage.data

    from bench.results import HELD_OUT, photo_split

    out.mkdir(parents=True, exist_ok=True)
    train, _ = photo_split(data, HELD_OUT)
    for p in train:
        iio.imwrite(out / f"{p.stem}.png", iio.imread(p)[..., :3])
    for n in SKIMAGE_TRAIN:
        iio.imwrite(out / f"{n}.png", getattr(skimage.data, n)()[..., :3])
    with av.open(str(data / "video" / "tree.avi")) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i % 50 == 0:
                iio.imwrite(out / f"tree_{i:03d}.png", f.to_ndarray(format="rgb24"))
    return out


def teachers() -> dict[str, Path]:
    from stylereel.looks import look_dir, multi_look_model

    return {"starry_night": look_dir("starry_night"), "multi": multi_look_model()}


# -- speed, in a worker process per precision ---------------------------------------------------


def worker(precision: str, dirs_json: str) -> list[dict]:
    import onnxruntime as ort

    from bench.results import alternate
    from stylereel.model import load_model
    from stylereel.render.engine import InferenceEngine

    dirs = json.loads(dirs_json)
    x = torch.rand(1, 1080, 1920, 3).permute(0, 3, 1, 2)
    runs = {}
    codes = {}
    for name, d in dirs["models"].items():
        net, _ = load_model(d)
        extras = {}
        if getattr(net, "looks", None):
            if precision == "int8":  # int8 is made for looks that take the frame alone
                continue
            look = torch.zeros(1, len(net.looks), 1080, 1920)
            look[:, 1] = 1
            extras = {"look": look}
        e = InferenceEngine(net, "cpu", precision=precision, model_dir=d)
        if e.int8 is not None:
            codes[name] = e.int8["mean_codes"]
        runs[name] = lambda e=e, extras=extras: e(x, **extras)
    for f in runs.values():
        f()
    ms = alternate(runs)
    # Magenta after the others, not between them: timed in turn with them, the network that ran right after
    # ONNX Runtime took a quarter longer (the shipped look 153 ms here against 122 ms in bench/static.py, same CPU).
    sess = ort.InferenceSession(dirs["magenta"], providers=["CPUExecutionProvider"])
    image, weights = x.contiguous().numpy(), np.eye(26, dtype=np.float32)[0]
    magenta = lambda: sess.run(None, {"image": image, "style_weights": weights})  # noqa: E731
    magenta()
    ms.update(alternate({"magenta": magenta}))
    return [{"model": k, "ms": v, "int8_codes": codes.get(k)} for k, v in ms.items()]


# -- quality ----------------------------------------------------------------------------------


def scores(args, runs: dict[str, dict[str, Path]]):
    """Per teacher, per model (teacher and students): PSNR / SSIM to the teacher, Magenta style distance, content distance."""
    import onnxruntime as ort

    from bench.magenta import Magenta
    from bench.quality_unpaired import held_out_photos
    from stylereel.data.images import load_images
    from stylereel.metrics.image import psnr, ssim
    from stylereel.metrics.style import StyleMetrics
    from stylereel.render.look_map import LookMap
    from stylereel.render.stylize import Stylizer
    from tools.make_looks import LOOKS

    judge = Magenta(args.data / "models")
    painter = ort.InferenceSession(str(args.data / "models" / "multistyle26.onnx"), providers=["CPUExecutionProvider"])
    photos = [(n, x[..., : x.shape[-2] // 8 * 8, : x.shape[-1] // 8 * 8]) for n, x in held_out_photos(args.data, HELD, 384)]
    hwc = lambda t: np.ascontiguousarray(t[0].permute(1, 2, 0).numpy())  # noqa: E731
    chw = lambda a: torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1)[None].float()  # noqa: E731
    starry = load_images([args.data / "styles" / "starry_night.jpg"])[0]
    painting = judge.style_vector(starry[None])
    metrics = StyleMetrics.from_images([starry], trunk="vgg19")  # its content distance only: VGG19 relu4_1 to the photo
    single = Stylizer(teachers()["starry_night"], device="cpu")

    def render(st: Stylizer, x: torch.Tensor, look: str | None) -> torch.Tensor:
        if look is None:
            return chw(st(hwc(x)))
        w = LookMap(st.look_names, {look: 1.0}).weights(1, tuple(x.shape[-2:]))
        return chw(st(hwc(x), look=w))

    def truth_vector(look: str | None, x: torch.Tensor) -> np.ndarray:
        if look is None:
            return painting
        if look == "starry_night":
            return judge.style_vector(render(single, x, None))
        w = np.zeros(26, np.float32)
        w[LOOKS[look][0]] = 1
        y = painter.run(None, {"image": x.numpy(), "style_weights": w})[0]
        return judge.style_vector(torch.from_numpy(y).clamp(0, 1))

    table, pictures = {}, {}
    for teacher, models in runs.items():
        stylizers = {name: Stylizer(d, device="cpu") for name, d in models.items()}
        looks = [n for n in stylizers["teacher"].look_names if n != "none"] if stylizers["teacher"].look_names else [None]
        refs = {(look, n): truth_vector(look, x) for look in looks for n, x in photos}
        rows = {}
        for name, st in stylizers.items():
            vals = {"psnr": [], "ssim": [], "magenta": [], "content": []}
            for look in looks:
                for n, x in photos:
                    y, t = render(st, x, look), render(stylizers["teacher"], x, look)
                    vals["psnr"].append(float(psnr(y, t)))
                    vals["ssim"].append(float(ssim(y, t)))
                    vals["magenta"].append(judge.distance(y, refs[look, n]))
                    vals["content"].append(metrics(y, x)["content_distance"])
                    if look in (None, looks[0]) or n == photos[0][0]:
                        pictures[teacher, name, look, n] = hwc(y)
            rows[name] = {k: float(np.mean(v)) for k, v in vals.items()}
        table[teacher] = rows
    return table, pictures, photos, hwc


def main() -> None:
    from bench.results import OV_AVX2, engine_configs, rel_path, run_worker, train_timed, write_section
    from stylereel.device import cpu_description
    from stylereel.render.contact_sheet import write_contact_sheet

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--minutes", type=float, default=12)
    ap.add_argument("--shapes", nargs="+", default=["8,32,64x4", "16,32,64x4"],
                    help="student shapes, CHANNELSxBLOCKS[:MINUTES][+FINISH] (a budget of its own; then FINISH minutes on the teacher's recipe)")
    ap.add_argument("--teachers", nargs="+", default=["starry_night", "multi"], choices=["starry_night", "multi"])
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "runs" / "distill")
    ap.add_argument("--reuse", action="store_true", help="score runs already in --work instead of training them again (one short of --minutes goes on to it)")
    args = ap.parse_args()
    shapes = [parse_shape(s) for s in args.shapes]
    content = distill_set(args.data, args.work / "content")

    runs: dict[str, dict[str, Path]] = {}
    for teacher in args.teachers:
        runs[teacher] = {"teacher": teachers()[teacher]}
        for shape in shapes:
            own = shape[2]
            out = args.work / (f"{teacher}_{'-'.join(map(str, shape[0]))}x{shape[1]}" + (f"_{own:g}min" if own is not None else ""))
            name = shape_name(shape) + (f", {own:g} min" if own else "")
            if own != 0:  # `:0`: no distillation, the teacher's recipe alone from scratch (`+MINUTES`)
                budget = own or args.minutes
                done = trained_minutes(out) if args.reuse else None
                if done is None:
                    train_timed(["--distill", str(runs[teacher]["teacher"]), "--content", str(content)], out, budget, [shape_override(shape)])
                elif budget - done >= 1:  # a run there with less than the budget: it goes on, as `train --resume` would
                    train_timed(["--resume"], out, budget - done, [])
                runs[teacher][name] = out / "model"
            if shape[3]:
                done_by = out.with_name(f"{out.name}+{shape[3]:g}")
                finish(args, runs[teacher]["teacher"], out / "model" if own != 0 else None, shape, content, done_by, shape[3])
                runs[teacher][f"{name} + {shape[3]:g} min on the look's recipe" if own != 0 else f"{shape_name(shape)}, {shape[3]:g} min on the look's recipe alone"] = done_by / "model"

    table, pictures, photos, hwc = scores(args, runs)

    models = {f"{t}/{n}": str(d) for t, ms in runs.items() for n, d in ms.items()}
    dirs = json.dumps({"models": models, "magenta": str(args.data / "models" / "multistyle26.onnx")})
    speed, codes = {}, {}
    for isa, p, env in engine_configs(native_fp32=False) + [("AVX2 cap", "int8", OV_AVX2)]:  # int8: where a CPU without bf16 units may gain
        rows = run_worker(__file__, p, dirs, env=env)
        speed[isa, p] = {r["model"]: r["ms"] for r in rows}
        codes.update({r["model"]: r["int8_codes"] for r in rows if r["int8_codes"] is not None})

    cpu = cpu_description()
    for teacher, rows in table.items():  # a section and a sheet per teacher: one teacher's run leaves the other's standing
        lines = [
            f"CPU: {cpu['model']}, {', '.join(cpu['isa'])}, {cpu['cores']} cores. Students trained on a wall-clock budget (minutes: "
            "the training's own time; `stylereel train --distill TEACHER --content SET --model.generator_kwargs=...` at batch 8, "
            "continued with `--resume` when longer, the last part at the rate shown; \"on the look's recipe\": the teacher's own "
            "training config, from the student's weights or, \"alone\", from scratch) on "
            f"{len(list(content.iterdir()))} pictures: the training photos, {', '.join(SKIMAGE_TRAIN)} and every 50th picture stored in tree.avi (2 of its 68)"
            + (" (the six-look recipe: tools/make_looks.py's painted pairs, 128-px crops at batch 4). " if teacher == "multi" else ". ")
            + f"Scored on {', '.join(HELD)} at 384 px, never seen. PSNR / SSIM: to the teacher's picture. Magenta style distance: "
            + ("to the painting. " if teacher == "starry_night" else "to multistyle26's painting of the photo in each look (Starry Night: "
               "the single look's picture), averaged over looks. ")
            + "Content: VGG19 distance to the photo. 1080p: ms per frame through the CPU engine, all networks alternating in one process "
            "(median of 7); x Magenta: multistyle26 (ONNX Runtime) timed after them in the same process.",
            "",
        ]
        cells = {k: s for k, s in speed.items() if any(m.startswith(f"{teacher}/") for m in s)}
        head = " | ".join(f"1080p {isa} {p}, ms (x Magenta)" for isa, p in cells)
        lines += [f"| network | steps (minutes, last rate) | PSNR | SSIM | Magenta style distance | content distance | {head} |",
                  "| --- | --- | --- | --- | --- | --- |" + " --- |" * len(cells)]
        for name, r in rows.items():
            info = json.loads((runs[teacher][name] / "model.json").read_text())
            steps = "shipped" if name == "teacher" else f"{info['steps']} ({info['elapsed_s'] / 60:.0f} min, lr {info['config']['train']['lr_g']:g})"
            ms = " | ".join(f"{s[f'{teacher}/{name}']:.1f} ({s['magenta'] / s[f'{teacher}/{name}']:.1f}x)" if f"{teacher}/{name}" in s else "-"
                            for s in cells.values())
            label = f"shipped, {shape_name((info['generator']['kwargs'].get('channels', (16, 48, 96)), info['generator']['kwargs'].get('n_blocks', 6)))}" if name == "teacher" else name
            psnr_ = "-" if name == "teacher" else f"{r['psnr']:.2f}"
            ssim_ = "-" if name == "teacher" else f"{r['ssim']:.3f}"
            lines.append(f"| {label} | {steps} | {psnr_} | {ssim_} | {r['magenta']:.3f} | {r['content']:.3f} | {ms} |")
        lines.append("")
        lines.append("Magenta's multistyle26 at 1080p: " + ", ".join(f"{s['magenta']:.0f} ms ({isa} {p})" for (isa, p), s in cells.items()) + ".")
        mine = {k.split("/", 1)[1]: v for k, v in codes.items() if k.startswith(f"{teacher}/")}
        if mine:
            lines.append("int8 (`--precision int8`, quantized by NNCF on the look's own training pictures): mean distance from fp32 on held-out "
                         "frames, in 8-bit codes (the bound to be a default: 1): " + ", ".join(f"{k} {v:.2f}" for k, v in mine.items()) + ".")
        else:
            lines.append("int8: not timed (the engine quantizes looks that take the frame alone, not multi-look models).")

        sheet = ROOT / "docs" / "images" / ("distill.png" if teacher == "starry_night" else f"distill_{teacher}.png")
        grid, labels = [], []
        look0 = None if teacher == "starry_night" else "starry_night"
        names = list(runs[teacher])
        for n, x in photos if teacher == "starry_night" else photos[:1]:
            grid.append([hwc(x)] + [pictures[teacher, m, look0, n] for m in names])
            labels.append([n] + [f"{look0 or teacher} {m}" for m in names])
        if teacher != "starry_night":
            for look in [k for (t, m, k, n) in pictures if t == teacher and m == "teacher" and n == photos[0][0] and k not in (None, look0)]:
                grid.append([hwc(photos[0][1])] + [pictures[teacher, m, look, photos[0][0]] for m in names])
                labels.append([look] + [f"{look} {m}" for m in names])
        write_contact_sheet(sheet, grid, labels, height=180)
        lines.append(f"Sheet: `{rel_path(sheet)}` (per row: photo | teacher | students" + ("" if teacher == "starry_night" else "; each look on one photo") + ").")
        title = "A shipped look learnt by smaller generators" if teacher == "starry_night" else "The six-look model in smaller generators"
        write_section("distill" if teacher == "starry_night" else f"distill-{teacher}", title, "\n".join(lines))
        print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        print(json.dumps(worker(sys.argv[2], sys.argv[3])))
    else:
        main()
