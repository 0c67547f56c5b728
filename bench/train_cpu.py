"""What a training step of the default look costs on this CPU in each arithmetic it can run:
bf16 (where the CPU has bf16 units), fp32, and fp32 with oneDNN capped to AVX2 (what a Zen 3 or
an older Xeon runs; the cap is checked in torch's own oneDNN report).

    python bench/train_cpu.py [--steps 30] [--repeats 2]

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
    args = ap.parse_args()
    if args.steps < 1 or args.repeats < 1:
        ap.error("--steps and --repeats must be at least 1")

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


if __name__ == "__main__":
    main()
