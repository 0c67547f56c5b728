"""Write one benchmark's section of bench/RESULTS.md, leaving the other sections alone."""

from __future__ import annotations

import platform
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import torch

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
    return f"{cpu}, {torch.get_num_threads()} threads, torch {torch.__version__}, Python {platform.python_version()}"


def write_section(name: str, title: str, body: str) -> None:
    command = " ".join(["python", _rel(sys.argv[0]), *sys.argv[1:]])
    block = (
        f"<!-- {name}:start -->\n## {title}\n\n"
        f"Command: `{command}`  \nMeasured {date.today().isoformat()} on {machine()}.\n\n{body.strip()}\n"
        f"<!-- {name}:end -->\n"
    )
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    pattern = re.compile(rf"<!-- {re.escape(name)}:start -->.*?<!-- {re.escape(name)}:end -->\n", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + block
    RESULTS.write_text(text)


def _rel(script: str) -> str:
    p = Path(script).resolve()
    try:
        return p.relative_to(Path(__file__).resolve().parent.parent).as_posix()
    except ValueError:
        return p.name
