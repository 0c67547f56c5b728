"""Numbered frame sequences and frame ranges, as compositing software writes them.

Patterns: `plate.####.exr` (one `#` per digit of padding), `plate.@@@@.exr` (the
same with `@`), `plate.%04d.exr` (printf). Frame ranges: `1001-1100`, every second
frame `1001-1100x2`, lists `1001,1005,1010-1020`, single frames `1001`; negative
frame numbers are written `-5--1`.

`Sequence.resolve(frames)` checks the whole request before any work starts:
missing frames, and frames whose size or channel count differs from the first,
are reported together in one message.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from stylereel.errors import StylereelError

_PRINTF = re.compile(r"%(0?)(\d*)d")
_HASHES = re.compile(r"#+|@+")
_RANGE_ITEM = re.compile(r"^(-?\d+)(?:-(-?\d+)(?:x(\d+))?)?$")
MAX_FRAMES = 10_000_000  # a range that long is a typo, not a shot


class SequenceError(StylereelError):
    """A sequence pattern, frame range or the frames on disk are not usable; one line naming it."""


def is_pattern(path: str | os.PathLike) -> bool:
    name = Path(path).name
    return bool(_PRINTF.search(name) or _HASHES.search(name))


def parse_frames(spec: str) -> list[int]:
    """`1001-1100`, `1001-1100x2`, `1001,1005,1010-1020` -> sorted unique frame numbers."""
    text = str(spec).replace(" ", "")
    if not text:
        raise SequenceError("empty frame range (examples: 1001-1100, 1001-1100x2, 1001,1005,1010-1020)")
    frames: set[int] = set()
    for item in text.split(","):
        m = _RANGE_ITEM.match(item)
        if not m:
            raise SequenceError(f"frame range {spec!r}: cannot read {item!r} (examples: 1001-1100, 1001-1100x2, 1001,1005,1010-1020)")
        first = int(m.group(1))
        last = int(m.group(2)) if m.group(2) is not None else first
        step = int(m.group(3)) if m.group(3) is not None else 1
        if last < first:
            raise SequenceError(f"frame range {spec!r}: {item!r} ends before it starts")
        if step < 1:
            raise SequenceError(f"frame range {spec!r}: step in {item!r} must be at least 1")
        if (last - first) // step + 1 + len(frames) > MAX_FRAMES:
            raise SequenceError(f"frame range {spec!r}: more than {MAX_FRAMES} frames")
        frames.update(range(first, last + 1, step))
    return sorted(frames)


def format_frames(frames: list[int]) -> str:
    """The inverse of `parse_frames` for messages: `[1, 2, 3, 7]` -> `1-3,7`."""
    out, run = [], []
    for f in sorted(set(frames)):
        if run and f == run[-1] + 1:
            run.append(f)
            continue
        if run:
            out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [f]
    if run:
        out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return ",".join(out)


@dataclass(frozen=True)
class Sequence:
    """A numbered frame sequence: `path(1001)` is the file of frame 1001."""

    pattern: str

    def __post_init__(self):
        if not is_pattern(self.pattern):
            raise SequenceError(f"{self.pattern}: not a sequence pattern (use name.####.ext, name.%04d.ext or name.@@@@.ext)")
        name = Path(self.pattern).name
        if len(_PRINTF.findall(name)) + len(_HASHES.findall(name)) != 1:
            raise SequenceError(f"{self.pattern}: a pattern needs exactly one frame-number field")

    @property
    def _parts(self) -> tuple[str, int, str]:
        """(text before the number, padding, text after) of the file name."""
        name = Path(self.pattern).name
        m = _PRINTF.search(name) or _HASHES.search(name)
        if m.re is _PRINTF:
            pad = int(m.group(2)) if m.group(1) == "0" and m.group(2) else 1
        else:
            pad = len(m.group(0))
        return name[: m.start()], pad, name[m.end():]

    @property
    def folder(self) -> Path:
        return Path(self.pattern).parent

    def path(self, frame: int) -> Path:
        head, pad, tail = self._parts
        number = f"-{-frame:0{pad}d}" if frame < 0 else f"{frame:0{pad}d}"
        return self.folder / f"{head}{number}{tail}"

    def on_disk(self) -> list[int]:
        """Frame numbers whose files exist, in order."""
        head, pad, tail = self._parts
        rx = re.compile(re.escape(head) + r"(-?\d+)" + re.escape(tail) + r"$")
        if not self.folder.is_dir():
            return []
        found = []
        for entry in os.scandir(self.folder):
            m = rx.match(entry.name)
            if m and len(m.group(1).lstrip("-")) >= pad and entry.is_file():
                found.append(int(m.group(1)))
        return sorted(found)

    def resolve(self, frames: list[int] | None = None, probe=None) -> list[tuple[int, Path]]:
        """[(frame, path)] for `frames` (default: every frame on disk), all checked first:
        missing files, and (with `probe(path) -> (w, h, channels)`) sizes or channel
        counts that differ from the first frame's, in one message."""
        hint = ""
        if frames is None:
            frames = self.on_disk()
            if not frames:
                raise SequenceError(f"{self.pattern}: no frames on disk")
            # A gap in what is on disk is a lost frame (a stepped sequence, every 2nd frame say, is not).
            step = min((b - a for a, b in zip(frames, frames[1:])), default=1)
            frames = list(range(frames[0], frames[-1] + 1, step))
            hint = " (give --frames to render only the frames on disk)"
        paths = [(f, self.path(f)) for f in frames]
        missing = [f for f, p in paths if not p.is_file()]
        problems = [f"{len(missing)} of {len(frames)} frames missing: {format_frames(missing)}{hint}"] if missing else []
        gone = set(missing)
        present = [(f, p) for f, p in paths if f not in gone]
        if probe is not None and present:
            first = probe(present[0][1])
            odd = {}
            for f, p in present[1:]:
                got = probe(p)
                if got != first:
                    odd.setdefault(got, []).append(f)
            if odd:
                what = "; ".join(f"{format_frames(fs)}: {w}x{h}x{c}" for (w, h, c), fs in odd.items())
                problems.append(f"frames differ from frame {present[0][0]} ({first[0]}x{first[1]}x{first[2]}): {what}")
        if problems:
            raise SequenceError(f"{self.pattern}: {'; '.join(problems)}")
        return paths
