"""Atomic file writes: a temp file beside the target, renamed into place.

Readers (and a crashed process) never see a half-written file, and a failed
write leaves the previous version intact. Every temp file stylereel makes (frames,
movies, models, logs) is named by `temp_path`: `.NAME.tmp-XXXXXXXX.EXT`, hidden, the
target's extension kept (encoders choose the format by it), so one pattern finds
what a killed writer left (`remove_stale_temps`).
"""

from __future__ import annotations

import glob
import os
import re
import secrets
import time
from pathlib import Path
from typing import Callable

STALE_TEMP_SECONDS = 600  # a temp file untouched this long belongs to a writer that died (SIGKILL, power)
_TEMP = re.compile(r"^\..+\.tmp-[0-9a-f]{8}(\.[^.]+)?$")


def temp_path(path: str | os.PathLike) -> Path:
    """A fresh temp name beside `path`: `.STEM.tmp-XXXXXXXX.SUFFIX`."""
    p = Path(path)
    return p.with_name(f".{p.stem}.tmp-{secrets.token_hex(4)}{p.suffix}")


def atomic_write(path: str | os.PathLike, write: Callable[[str], object]) -> None:
    """Call `write(tmp_path)` then rename over `path`; the temp file never survives a failure."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    mode = os.fstat(fd).st_mode & 0o777  # 0o644 less the umask: what a file written in place would get
    os.close(fd)
    try:
        write(str(tmp))
        os.chmod(tmp, mode)  # a writer that made the file afresh (safetensors: owner-only) must not leave it unreadable to the farm
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def remove_temps_of(path: str | os.PathLike) -> int:
    """Delete the temp files of `path`'s writers (`temp_path` names beside it), for when the writer is
    known to be dead (its claim on the frame is stale). Returns how many."""
    p = Path(path)
    gone = 0
    for tmp in p.parent.glob(f".{glob.escape(p.stem)}.tmp-*{glob.escape(p.suffix)}"):
        if _TEMP.match(tmp.name) and len(tmp.name) == len(p.stem) + len(p.suffix) + 14:
            tmp.unlink(missing_ok=True)
            gone += 1
    return gone


def remove_stale_temps(folder: str | os.PathLike, older_than: float = STALE_TEMP_SECONDS) -> int:
    """Delete what killed writers left half-written in `folder` (`temp_path` names: frames,
    movies, models) once untouched for `older_than` seconds, so a live writer's temp is never
    taken; one scan of the folder. Returns how many."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    gone = 0
    for tmp in folder.iterdir():
        try:
            if _TEMP.match(tmp.name) and tmp.is_file() and time.time() - tmp.stat().st_mtime > older_than:
                tmp.unlink()
                gone += 1
        except OSError:  # taken by another process meanwhile
            pass
    return gone
