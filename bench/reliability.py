"""Reliability counts: broken inputs and kill signals the tests never saw, fed to the installed CLI.

1. The corpus (tests/bad_inputs.py), every case once.
2. Fresh damage: valid PNG/JPEG/TIFF/EXR/DPX frames and H.264/ProRes/MKV movies of random
   sizes, each damaged at random (cut short, bytes flipped, a span zeroed or overwritten, a
   header field rewritten, a chunk repeated) and rendered by `stylereel stylize`.
3. Renders killed: a 30-frame sequence rendered by one process, or two sharing the output
   folder, SIGKILLed at a random moment and rerun; every frame is then checked against an
   uninterrupted render (present once, whole, the same bytes).
4. Training stopped: SIGINT, SIGTERM or SIGKILL at a random moment, then `--resume`; the
   final weights are compared with an uninterrupted run's.

    python bench/reliability.py [--inputs 150] [--render-kills 8] [--train-kills 6] [--seed 1]

Each outcome counts as handled (a clean one-line error naming the file with a documented
exit code, or a correct render), or as one of: crash (traceback, exit 1, a signal, a hang),
unclear (an error that does not name the file, or more than one line), input changed,
frames lost, duplicated or torn, resume drift.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import bad_inputs as corpus  # noqa: E402
from bench.results import write_section  # noqa: E402
from stylereel.io.frames import read_image, write_image  # noqa: E402

CLI = [sys.executable, "-m", "stylereel.cli"]
HANG_S = 300
FORMATS = ["png", "jpg", "tif", "exr", "dpx", "mp4", "mov", "mkv"]
DAMAGE = ["cut short", "bytes flipped", "span zeroed", "span overwritten", "header rewritten", "chunk repeated"]


def make_valid(folder: Path, fmt: str, rng: random.Random) -> Path:
    h, w = rng.randrange(16, 240, 2), rng.randrange(16, 320, 2)
    rgb = corpus.photo(h, w)
    if fmt in ("mp4", "mov", "mkv"):
        import av

        p = folder / f"clip.{fmt}"
        with av.open(str(p), "w") as c:
            s = c.add_stream("prores_ks" if fmt == "mov" else "libx264", rate=24)
            s.width, s.height = w, h
            s.pix_fmt = "yuv422p10le" if fmt == "mov" else "yuv420p"
            for i in range(rng.randrange(4, 16)):
                img = (np.roll(rgb, 3 * i, axis=1) * 255).astype(np.uint8)
                for pkt in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                    c.mux(pkt)
            for pkt in s.encode():
                c.mux(pkt)
        return p
    p = folder / f"plate.{fmt}"
    alpha = np.linspace(0, 1, w, dtype=np.float32)[None].repeat(h, 0) if fmt in ("png", "tif", "exr") and rng.random() < 0.3 else None
    sample = {"exr": rng.choice(["half", "float"]), "dpx": rng.choice(["uint8", "uint10", "uint16"] if alpha is None else ["uint8"]),
              "png": rng.choice(["uint8", "uint16"]), "tif": rng.choice(["uint8", "uint16"])}.get(fmt)
    write_image(p, rgb * (4 if fmt == "exr" else 1), alpha=alpha, sample=sample)
    return p


def damage(p: Path, rng: random.Random) -> str:
    data = bytearray(p.read_bytes())
    n = len(data)
    kind = rng.choice(DAMAGE)
    if kind == "cut short":
        data = data[: rng.randrange(0, n)]
    elif kind == "bytes flipped":
        for _ in range(rng.randrange(1, 16)):
            data[rng.randrange(n)] ^= 1 << rng.randrange(8)
    elif kind in ("span zeroed", "span overwritten"):
        at, span = rng.randrange(n), rng.randrange(1, max(2, n // 8))
        data[at : at + span] = bytes(min(span, n - at)) if kind == "span zeroed" else rng.randbytes(min(span, n - at))
    elif kind == "header rewritten":
        at = rng.randrange(min(n, 1024))
        data[at : at + 4] = rng.choice([b"\xff\xff\xff\x7f", b"\0\0\0\0", b"\xff\xff\xff\xff", rng.randbytes(4)])
    else:
        at, span = rng.randrange(n), rng.randrange(1, max(2, n // 4))
        data[at:at] = data[at : at + span]
    p.write_bytes(bytes(data))
    return kind


def judge_render(p: Path, out: Path, r) -> str:
    """One fresh damaged input's outcome (see the module docstring)."""
    err = r.stderr.strip() if r is not None else ""
    if r is None:
        return "crash (hang)"
    if "Traceback" in err or r.returncode == 1 or r.returncode < 0:
        return "crash"
    if r.returncode == 0:
        outs = [q for q in out.parent.glob("*") if q.is_file() and not q.name.startswith(".") and q.suffix != ".json"]
        try:
            ok = outs and all(np.isfinite(read_image(q).rgb).all() for q in outs)
        except Exception:  # noqa: BLE001
            ok = False
        return "rendered" if ok else "torn output"
    if r.returncode not in (2, 3, 4):
        return f"crash (exit {r.returncode})"
    lines = [ln for ln in err.splitlines() if ln.startswith("stylereel: error")]
    if not lines or not all(p.name in ln for ln in lines[:-1] or lines):
        return "unclear"
    if r.returncode in (2, 4) and len(err.splitlines()) != 1:
        return "unclear"
    if r.returncode in (2, 4) and out.parent.exists() and any(q.is_file() for q in out.parent.rglob("*")):
        return "output written"
    if any(q.name.startswith(".") for q in out.parent.glob("*")) if out.parent.exists() else False:
        return "temp left"
    return "clean error"


def fresh_inputs(n: int, rng: random.Random, work: Path) -> tuple[collections.Counter, list[str]]:
    counts, notes = collections.Counter(), []
    for i in range(n):
        fmt = FORMATS[i % len(FORMATS)]
        folder = work / f"in{i:04d}"
        folder.mkdir(parents=True)
        p = make_valid(folder, fmt, rng)
        kind = damage(p, rng)
        before = hashlib.sha256(p.read_bytes()).digest()
        out = folder / "out" / ("o.png" if fmt not in ("mp4", "mov", "mkv") else "o.####.png")
        try:
            r = subprocess.run([*CLI, "stylize", "--look", "ink", str(p), "-o", str(out)], capture_output=True, text=True,
                               timeout=HANG_S)
        except subprocess.TimeoutExpired:
            r = None
        verdict = judge_render(p, out, r)
        if hashlib.sha256(p.read_bytes()).digest() != before:
            verdict = "input changed"
        counts[verdict] += 1
        counts[f"{fmt}: {verdict}"] += 1
        if verdict not in ("clean error", "rendered"):
            notes.append(f"{fmt}, {kind}: {verdict}: {(r.stderr.strip().splitlines() or [''])[-1][:160] if r else 'no answer'}")
        shutil.rmtree(folder)
    return counts, notes


def render_kills(n: int, rng: random.Random, work: Path) -> tuple[collections.Counter, list[str]]:
    """SIGKILL renders (one process, or one of two sharing the folder) at random moments, rerun, check every frame."""
    counts, notes = collections.Counter(), []
    shot = work / "shot"
    rgb = corpus.photo(96, 128)
    for i in range(1, 31):
        write_image(shot / f"plate.{i:04d}.png", np.roll(rgb, 4 * i, axis=1))
    reference = work / "reference"
    subprocess.run([*CLI, "stylize", "--look", "ink", str(shot / "plate.####.png"), "-o", str(reference / "o.####.png")],
                   check=True, capture_output=True)
    want = {q.name: q.read_bytes() for q in reference.glob("o.*.png")}
    for k in range(n):
        out = work / f"kill{k}"
        cmd = [*CLI, "stylize", "--look", "ink", str(shot / "plate.####.png"), "-o", str(out / "o.####.png")]
        shared = k % 2 == 1
        procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2 if shared else 1)]
        time.sleep(rng.uniform(2.0, 7.0))
        procs[0].send_signal(signal.SIGKILL)
        for p in procs:
            p.wait()
        counts["kills"] += 1
        rerun = subprocess.run(cmd, capture_output=True, text=True)
        got = {q.name: q.read_bytes() for q in out.glob("o.*.png")}
        lost = sorted(set(want) - set(got))
        torn = [name for name in got if got[name] != want.get(name)]
        left = [q.name for q in out.glob(".*")]
        counts["frames checked"] += len(want)
        counts["frames lost"] += len(lost)
        counts["frames torn or different"] += len(torn)
        counts["temp or claim files left"] += len(left)
        counts["reruns that failed"] += rerun.returncode != 0
        if lost or torn or left or rerun.returncode:
            notes.append(f"render kill {k} ({'shared folder' if shared else 'one process'}): lost {lost}, torn {torn}, left {left}, "
                         f"rerun exit {rerun.returncode}")
        shutil.rmtree(out)
    return counts, notes


def train_kills(n: int, rng: random.Random, work: Path) -> tuple[collections.Counter, list[str]]:
    from safetensors.numpy import load_file

    counts, notes = collections.Counter(), []
    data = ROOT / "tests" / "data"

    def args(out: Path) -> list[str]:
        return [*CLI, "train", "--content", str(data / "home.png"), "--style", str(data / "starry_night.png"), "--out", str(out),
                "--steps", "240", "--train.checkpoint_every=10", "--data.size=32", "--data.batch=1", "--data.max_side=64",
                "--data.style_size=64"]

    subprocess.run(args(work / "train_ref"), check=True, capture_output=True)
    ref = load_file(work / "train_ref" / "model" / "generator.safetensors")
    sigs = [signal.SIGINT, signal.SIGTERM, signal.SIGKILL]
    for k in range(n):
        out = work / f"train{k}"
        sig = sigs[k % 3]
        proc = subprocess.Popen(args(out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(rng.uniform(5.0, 14.0))
        proc.send_signal(sig)
        _, err = proc.communicate()
        counts[f"{sig.name} sent"] += 1
        if proc.returncode == 0:
            counts["finished before the signal"] += 1
            continue
        if "Traceback" in err:
            counts["tracebacks"] += 1
        resumed = subprocess.run([*CLI, "train", "--out", str(out), "--resume"], capture_output=True, text=True)
        if resumed.returncode != 0:
            counts["resumes that failed"] += 1
            notes.append(f"{sig.name}: resume exit {resumed.returncode}: {resumed.stderr.strip().splitlines()[-1:]}")
            continue
        got = load_file(out / "model" / "generator.safetensors")
        exact = got.keys() == ref.keys() and all(np.array_equal(got[key], ref[key]) for key in got)
        counts["resumed exactly" if exact else "resume drift"] += 1
        shutil.rmtree(out)
    return counts, notes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--inputs", type=int, default=150)
    ap.add_argument("--render-kills", type=int, default=8)
    ap.add_argument("--train-kills", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="stylereel-reliability-"))
    try:
        cases = corpus.corpus()
        outcomes = [corpus.run_case(c, work / "corpus" / f"{i:03d}") for i, c in enumerate(cases)]
        bad = [o for o in outcomes if o.problems]
        print(f"corpus: {len(cases)} cases, {len(bad)} mishandled", flush=True)
        fresh, fresh_notes = fresh_inputs(args.inputs, rng, work / "fresh")
        print(f"fresh inputs: {dict(fresh)}", flush=True)
        kills, kill_notes = render_kills(args.render_kills, rng, work / "renders")
        print(f"render kills: {dict(kills)}", flush=True)
        trains, train_notes = train_kills(args.train_kills, rng, work / "training")
        print(f"training stops: {dict(trains)}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    groups = collections.Counter(o.case.group for o in outcomes)
    rows = "\n".join(f"| {g} | {groups[g]} | {sum(1 for o in outcomes if o.case.group == g and not o.problems)} | "
                     f"{sum(1 for o in outcomes if o.case.group == g and o.crashed)} |" for g in groups)
    verdicts = ["clean error", "rendered", "crash", "crash (hang)", "unclear", "output written", "temp left", "torn output", "input changed"]
    fresh_rows = "\n".join(f"| {fmt} | {sum(fresh[f'{fmt}: {v}'] for v in verdicts)} | "
                           + " | ".join(str(fresh[f"{fmt}: {v}"]) for v in verdicts[:3]) + " | "
                           + str(sum(fresh[f"{fmt}: {v}"] for v in verdicts[3:])) + " |" for fmt in FORMATS)
    notes = [f"- corpus: {o.case.name}: {o.problems}" for o in bad] + [f"- {n}" for n in fresh_notes + kill_notes + train_notes]
    body = f"""The corpus of `tests/bad_inputs.py` (the tests run it too), then inputs and signals the tests never saw:
{args.inputs} valid frames and movies of random sizes ({", ".join(FORMATS)}) damaged at random ({", ".join(DAMAGE)}),
{args.render_kills} renders SIGKILLed at a random moment (every second one sharing its output folder with a second
render) and rerun, {args.train_kills} training runs stopped by SIGINT, SIGTERM or SIGKILL and resumed.

| corpus group | cases | handled | crashes |
| --- | --- | --- | --- |
{rows}

Fresh damage (each input one `stylereel stylize` run; "rendered": the damage left a decodable picture and the output
decodes, finite):

| format | inputs | clean error | rendered | crash | other fault |
| --- | --- | --- | --- | --- | --- |
{fresh_rows}
| **all** | **{args.inputs}** | **{fresh["clean error"]}** | **{fresh["rendered"]}** | **{fresh["crash"] + fresh["crash (hang)"]}** | **{sum(fresh[v] for v in verdicts[4:])}** |

Renders killed: {kills["kills"]} kills, {kills["frames checked"]} frames checked after the rerun: {kills["frames lost"]} lost,
{kills["frames torn or different"]} torn or different from an uninterrupted render, {kills["temp or claim files left"]} temp or
claim files left, {kills["reruns that failed"]} reruns failed.

Training stopped: {", ".join(f"{trains[f'{s.name} sent']} {s.name}" for s in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL))};
{trains["finished before the signal"]} finished first; {trains["resumed exactly"]} resumed to bit-identical weights,
{trains["resume drift"]} drifted, {trains["resumes that failed"]} resumes failed, {trains["tracebacks"]} tracebacks.

{"Faults seen:" if notes else "No faults seen."}
{chr(10).join(notes)}
"""
    write_section("reliability", "Reliability: broken inputs and kill signals", body)
    print(body)


if __name__ == "__main__":
    main()
