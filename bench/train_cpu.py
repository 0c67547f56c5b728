"""What a training step of the default look costs on this CPU in each arithmetic it can run:
bf16 (where the CPU has bf16 units), fp32, and fp32 with oneDNN capped to AVX2 (what a Zen 3 or
an older Xeon runs; the cap is checked in torch's own oneDNN report), and, with `--data`, how
long the default look takes to get there in each (time to quality).

    python bench/train_cpu.py [--steps 30] [--repeats 2]
    python bench/train_cpu.py --data DATA_DIR --quality [--shapes 8,32,64x4 ...]

`--quality` trains the default look as `bench/quality_unpaired.py` does (its 5 training photos and
Starry Night, the unpaired defaults, the default 1000 steps, a snapshot every 50) once in bf16 and
once in fp32 capped to AVX2, one after the other, and scores every snapshot on the same 4 held-out
photos at 384 px: Magenta style distance (a feature space stylereel never trains on) and content
distance on VGG19. Time to quality: the training time of the first snapshot whose style distance has
covered 90% of the way from the photos themselves to the bf16 run's final value, so both rows
chase one target. Writes section "train-quality".

Each row is `stylereel train` as a user runs it (the bundled content photos and Starry Night,
the default unpaired recipe), one fresh process per run, `--steps` steps; the time is the
run's own `elapsed_s` (the training loop, start-up excluded), the median over `--repeats` runs.
The last column is how many steps fit in the 6 minutes issue 27 sets for the default look on
an AVX2-only CPU. Writes bench/RESULTS.md, section "train-cpu".
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import write_section  # noqa: E402

DEMO = ROOT / "stylereel" / "assets" / "demo"
AVX2 = {"ONEDNN_MAX_CPU_ISA": "AVX2"}


def onednn_isa(env: dict) -> str:
    """The ISA torch's oneDNN says it runs with under `env` (its verbose report on one convolution)."""
    probe = "import torch; torch.nn.functional.conv2d(torch.rand(4, 64, 64, 64), torch.rand(64, 64, 3, 3))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env={**os.environ, **env, "ONEDNN_VERBOSE": "1"}).stdout
    for line in out.splitlines():
        if ",isa:" in line:
            return line.split(",isa:", 1)[1].strip()
    return "not reported"


def run(bf16: bool, env: dict, steps: int) -> float:
    """Seconds per step of one `stylereel train` run."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "stylereel.cli", "train", "--content", str(DEMO / "content"),
               "--style", str(DEMO / "style" / "starry_night.jpg"), "--out", tmp, "--steps", str(steps),
               f"--train.bf16={'true' if bf16 else 'false'}"]
        r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **env})
        if r.returncode:
            raise SystemExit(f"training failed: {r.stderr.strip().splitlines()[-1]}")
        info = json.loads((Path(tmp) / "model" / "model.json").read_text())
        return info["elapsed_s"] / info["steps"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--data", type=Path, help="the sample data (photos/, styles/, models/): needed by --quality")
    ap.add_argument("--quality", action="store_true", help="time to quality of the default look in bf16 and in fp32 capped to AVX2")
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "runs" / "train_quality")
    ap.add_argument("--shapes", nargs="*", default=[], metavar="C0,C1,C2xBLOCKS",
                    help="with --quality: smaller generators to train the same way beside the default one, e.g. 8,32,64x4")
    args = ap.parse_args()
    if args.steps < 1 or args.repeats < 1:
        ap.error("--steps and --repeats must be at least 1")
    if args.quality:
        if args.data is None:
            ap.error("--quality needs --data")
        return quality(args.data, args.work, args.shapes)

    from stylereel.device import bf16_supported, cpu_description

    import torch

    cpu = cpu_description()
    configs = ([("bf16", True, {})] if bf16_supported(torch.device("cpu")) else []) + [("fp32", False, {}), ("fp32, oneDNN capped to AVX2", False, AVX2)]
    times: dict[str, list[float]] = {name: [] for name, _, _ in configs}
    for _ in range(args.repeats):  # interleaved, so a slow spell of this shared machine falls on every row alike
        for name, bf16, env in configs:
            times[name].append(run(bf16, env, args.steps))
            print(name, f"{times[name][-1]:.3f} s/step", flush=True)
    fastest = min(statistics.median(v) for v in times.values())
    lines = [
        f"CPU: {cpu['model']}, {', '.join(cpu['isa'])}, {cpu['cores']} cores. The default look's recipe (`stylereel train` "
        f"on the bundled content photos and Starry Night), {args.steps} steps per run, median of {args.repeats} runs "
        "(interleaved); oneDNN's ISA as torch's oneDNN reports it under each row's environment.",
        "",
        "| arithmetic | oneDNN ISA | s/step | runs | against the fastest | steps in 6 minutes |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, _, env in configs:
        med = statistics.median(times[name])
        lines.append(f"| {name} | {onednn_isa(env)} | {med:.3f} | {', '.join(f'{t:.3f}' for t in times[name])} | "
                     f"{med / fastest:.2f}x | {int(360 / med)} |")
    lines += [
        "",
        "The cap gives a bf16-capable CPU AVX2's kernels, not a Zen 3's clock or memory: a real 2-core Zen 3 took "
        "1.39 s a step (issue 27).",
    ]
    write_section("train-cpu", "Training step by arithmetic on this CPU", "\n".join(lines))
    print("\n".join(lines))


def quality(data: Path, work: Path, shapes: list[str]) -> None:
    """Train the default look to the end in bf16 and in fp32 capped to AVX2, with the default generator
    and with each of `shapes` ("C0,C1,C2xBLOCKS"); score every snapshot."""
    import time

    import numpy as np
    import torch

    from bench.magenta import Magenta
    from bench.quality_unpaired import SKIMAGE_HELD_OUT, held_out_photos
    from bench.results import HELD_OUT, photo_split
    from stylereel.data.images import load_images
    from stylereel.device import bf16_supported, cpu_description
    from stylereel.metrics.style import StyleMetrics
    from stylereel.render.stylize import Stylizer

    train, _ = photo_split(data, HELD_OUT)
    style = data / "styles" / "starry_night.jpg"
    arithmetics = ([("bf16", True, {})] if bf16_supported(torch.device("cpu")) else []) + [("fp32, oneDNN capped to AVX2", False, AVX2)]
    generators = [("", {})]
    for shape in shapes:  # "C0,C1,C2xBLOCKS"
        channels, blocks = shape.split("x")
        generators.append((f", generator ({channels})x{blocks}", {"channels": [int(c) for c in channels.split(",")], "n_blocks": int(blocks)}))
    configs = [(a + g, bf16, env, kwargs) for g, kwargs in generators for a, bf16, env in arithmetics]
    runs = {}
    for name, bf16, env, kwargs in configs:
        out = work / "".join(ch if ch.isalnum() else "_" for ch in name.split(",")[0] + (name.split("generator")[1] if kwargs else ""))
        if not (out / "model" / "model.json").exists():
            cmd = [sys.executable, "-m", "stylereel.cli", "train", "--content", *map(str, train), "--style", str(style), "--out", str(out),
                   f"--train.bf16={'true' if bf16 else 'false'}", "--train.snapshot_every=50"]
            if kwargs:
                cmd.append(f"--model.generator_kwargs={json.dumps(kwargs)}")
            t0 = time.monotonic()
            subprocess.run(cmd, check=True, env={**os.environ, **env})
            print(name, f"trained in {time.monotonic() - t0:.0f} s", flush=True)
        runs[name] = out

    magenta = Magenta(data / "models")
    reference = magenta.style_vector(load_images([style])[0][None])
    photos = held_out_photos(data, HELD_OUT + SKIMAGE_HELD_OUT, 384)
    cfg = json.loads((runs[configs[0][0]] / "model" / "model.json").read_text())["config"]
    style_img = load_images([style], exact_side=cfg["data"]["style_size"], trim=cfg["data"].get("style_trim", 0.0))[0]
    metrics = StyleMetrics.from_images([style_img], trunk="vgg19")
    start = float(np.mean([magenta.distance(x, reference) for _, x in photos]))

    curves: dict[str, list[tuple[float, int, float, float]]] = {}
    for name, out in runs.items():
        rows = []
        for d in sorted((out / "snapshots").glob("step_*")) + [out / "model"]:
            info = json.loads((d / "model.json").read_text())
            st = Stylizer(d, device="cpu")
            ys = [(st.tensor(x), x) for _, x in photos]
            rows.append((info.get("elapsed_s", 0.0), info["steps"], float(np.mean([magenta.distance(y, reference) for y, _ in ys])),
                         float(np.mean([metrics(y, x)["content_distance"] for y, x in ys]))))
            print(name, *(f"{v:.3f}" for v in rows[-1]), flush=True)
        curves[name] = rows
    (work / "curves.json").write_text(json.dumps(curves, indent=2))
    sheet = ROOT / "docs" / "images" / "train_quality.png"
    contact_sheet(photos, [Stylizer(out / "model", device="cpu") for out in runs.values()], sheet)

    target = curves[configs[0][0]][-1][2]
    goal = start - 0.9 * (start - target)
    cpu = cpu_description()
    lines = [
        f"CPU: {cpu['model']}, {', '.join(cpu['isa'])}, {cpu['cores']} cores. The default look (`stylereel train`, the unpaired defaults, "
        f"{curves[configs[0][0]][-1][1]} steps) on the 5 training photos of `bench/quality_unpaired.py` and `styles/starry_night.jpg`, one run "
        "per arithmetic and generator, one after the other (the smaller generators: `--model.generator_kwargs`, the same recipe); every snapshot (each 50 steps) scored on its 4 held-out photos at 384 px. "
        f"Magenta style distance of the photos themselves: {start:.3f}; target: 90% of the way from there to the bf16 run's final "
        f"{target:.3f}, i.e. {goal:.3f}. One training per row: each row is one sample of a run-to-run spread not measured here. "
        f"Contact sheet: `{sheet.relative_to(ROOT)}` (each held-out photo, then each row's final model, left to right).",
        "",
        "| run | s/step | time to quality | steps then | style distance at 6 min | content distance at 6 min | final style distance | final content distance | whole run |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, rows in curves.items():
        t_end, steps_end = rows[-1][0], rows[-1][1]
        hit = next((r for r in rows if r[2] <= goal), None)
        at6 = [r for r in rows if r[0] <= 360 + 1][-1]
        lines.append(f"| {name} | {t_end / steps_end:.3f} | {f'{hit[0] / 60:.1f} min' if hit else 'not reached'} | {hit[1] if hit else '-'} "
                     f"| {at6[2]:.3f} ({at6[1]} steps) | {at6[3]:.3f} | {rows[-1][2]:.3f} | {rows[-1][3]:.3f} | {t_end / 60:.1f} min |")
    names = list(curves)
    lines += ["", "The curves (the snapshot saved last before each mark; style distance / content distance):", "",
              "| minutes | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]
    for mark in range(2, int(max(rows[-1][0] for rows in curves.values()) / 60) + 3, 2):
        cells = []
        for name in names:
            before = [r for r in curves[name] if r[0] <= 60 * mark + 1]
            running = 60 * (mark - 2) < curves[name][-1][0]  # a mark after the run's end repeats nothing
            cells.append(f"{before[-1][2]:.3f} / {before[-1][3]:.3f} ({before[-1][1]} steps)" if running else "")
        lines.append(f"| {mark} | " + " | ".join(cells) + " |")
    write_section("train-quality", "Time to quality of the default look by arithmetic and generator size", "\n".join(lines))
    print("\n".join(lines))


def contact_sheet(photos, stylizers, path: Path, width: int = 1500) -> None:
    """One row per photo: the photo, then each stylizer's rendering of it; written as a PNG `width` wide."""
    import cv2
    import numpy as np
    import torch

    rows = [torch.cat([x[0]] + [st.tensor(x)[0] for st in stylizers], 2) for _, x in photos]
    sheet = (torch.cat(rows, 1).permute(1, 2, 0).clamp(0, 1).numpy()[..., ::-1] * 255).astype(np.uint8)
    scale = width / sheet.shape[1]
    cv2.imwrite(str(path), cv2.resize(sheet, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA))


if __name__ == "__main__":
    main()
