"""Shared by the benchmark scripts: the photo split, timed training through the real CLI, and writing
one benchmark's section of bench/RESULTS.md while leaving the other sections alone."""

from __future__ import annotations

import platform
import re
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import torch

from stylereel.benchmark.speed import AVX2_CAP as OV_AVX2  # OpenVINO's and oneDNN's ISA caps together

RESULTS = Path(__file__).parent / "RESULTS.md"
HEADER = "# Benchmark results\n\nEach section is written by the script named in it; rerun the command to refresh it.\n"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                cpu = line.split(":", 1)[1].strip()
    except OSError:
        pass
    from stylereel.device import bf16_supported

    precision = "bf16 units (inference and loss trunk in bf16)" if bf16_supported(torch.device("cpu")) else "no bf16 units (fp32)"
    return f"{cpu}, {precision}, {torch.get_num_threads()} threads, torch {torch.__version__}, Python {platform.python_version()}"


# the default Starry Night look shipped in the package: what a user renders with `stylize --look`
SHIPPED_LOOK = Path(__file__).resolve().parent.parent / "stylereel" / "assets" / "looks" / "starry_night"

HELD_OUT = ["home.jpg", "orange.jpg"]  # the benchmarks' held-out photos (also kept out of the shipped base)


def photo_split(data: Path, held_out: list[str]) -> tuple[list[Path], list[Path]]:
    """(training photos, held-out photos) from DATA/photos."""
    photos = sorted((data / "photos").glob("*.jpg"))
    return [p for p in photos if p.name not in held_out], [data / "photos" / n for n in held_out]


def train_timed(data_args: list[str], out: Path, minutes: float, overrides: list[str]) -> float:
    """Run `stylereel train` as a user would, on a wall-clock budget; returns the seconds it took."""
    cmd = [sys.executable, "-m", "stylereel.cli", "train", *data_args, "--out", str(out),
           "--minutes", str(minutes), "--steps", "1000000", *overrides]
    t0 = time.monotonic()
    subprocess.run(cmd, check=True)
    return time.monotonic() - t0




def engine_configs(native_fp32: bool = True) -> list[tuple[str, str, dict]]:
    """(ISA, precision, environment added) for each way the CPU engine is timed: bf16 where this CPU has
    bf16 units, fp32 (unless `native_fp32` is False), and fp32 capped to AVX2 (what a Zen 3 runs)."""
    from stylereel.device import bf16_supported

    return (([("native", "bf16", {})] if bf16_supported(torch.device("cpu")) else []) + ([("native", "fp32", {})] if native_fp32 else [])
            + [("AVX2 cap", "fp32", OV_AVX2)])


def alternate(runs: dict, n: int = 7) -> dict[str, float]:
    """Median ms of each callable in `runs`, timed in turn `n` times (after the caller's warm-up): on a shared,
    noisy machine, what runs alternately sees the same load."""
    import statistics

    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(n):
        for k, f in runs.items():
            t0 = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t0)
    return {k: 1000 * statistics.median(v) for k, v in times.items()}


def run_worker(script: str, *args: str, env: dict | None = None):
    """`python SCRIPT --worker ARGS...` in a fresh process, `env` added to this one's: the JSON on its
    last line of output; its last error line if it fails."""
    import json
    import os

    r = subprocess.run([sys.executable, script, "--worker", *args], capture_output=True, text=True,
                       env={**os.environ, **(env or {})}, cwd=Path(__file__).resolve().parent.parent)
    if r.returncode != 0:
        raise RuntimeError(f"{Path(script).name} {' '.join(args)} {env or ''}: {r.stderr.strip().splitlines()[-1]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def write_section(name: str, title: str, body: str) -> None:
    command = " ".join(["python", rel_path(sys.argv[0]), *map(_portable, sys.argv[1:])])
    block = (
        f"<!-- {name}:start -->\n## {title}\n\n"
        f"Command: `{command}`  \nMeasured {date.today().isoformat()} on {machine()}.\n\n{body.strip()}\n"
        f"<!-- {name}:end -->\n"
    )
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    pattern = re.compile(rf"<!-- {re.escape(name)}:start -->.*?<!-- {re.escape(name)}:end -->\n", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + block
    RESULTS.write_text(text)


def _portable(arg: str) -> str:
    """An absolute path on the command line, written relative to the repo root: no machine's paths in the record."""
    import os

    return os.path.relpath(arg, Path(__file__).resolve().parent.parent) if os.path.isabs(arg) else arg


def rel_path(script: str | Path) -> str:
    p = Path(script).resolve()
    try:
        return p.relative_to(Path(__file__).resolve().parent.parent).as_posix()
    except ValueError:
        return p.name
