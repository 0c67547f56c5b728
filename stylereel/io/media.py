"""What a render reads and writes, whatever it is on disk: stills, a numbered
sequence (with a frame range) or a movie in; a file, a folder, a sequence or a
movie out.

A source is opened and checked whole before any work starts (`open_source`):
missing frames, mismatched sizes or channels, an unreadable movie, all in one
message. Frames come out as `Frame`s (`stylereel.io.frames`), each with its
number and its output path decided by the destination.

A source may carry a frame range after a colon: `plate.####.exr:1001-1100`,
`plate.mov:1-48x2` (movie frames count from 1).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from stylereel.errors import StylereelError
from stylereel.io.frames import FLOAT_SAMPLES, IMAGE_EXTENSIONS, Frame, ImageError, list_images, probe_image, read_image, still_format
from stylereel.io.sequence import Sequence, SequenceError, is_pattern, parse_frames
from stylereel.io.video import MovieError, is_movie, probe_movie, read_movie

_RANGE_SUFFIX = re.compile(r"^(.*):(-?\d[\d,x\- ]*)$")
DEFAULT_FPS = Fraction(24)


def split_range(spec: str | os.PathLike) -> tuple[str, str | None]:
    """`plate.####.exr:1001-1100` -> (`plate.####.exr`, `1001-1100`); a plain path -> (path, None)."""
    text = os.fspath(spec)
    m = _RANGE_SUFFIX.match(text)
    if m and (is_pattern(m.group(1)) or is_movie(m.group(1))):
        return m.group(1), m.group(2)
    return text, None


class PastTheEnd(str):
    """The problem of a frame a movie's container counts but its stream does not hold."""


@dataclass
class Source:
    """Frames to render, in order. `kind`: "stills", "sequence" or "movie"."""

    kind: str
    path: str  # the pattern, the movie, or the first still
    numbers: list[int]  # frame numbers (stills: 0..n-1)
    files: list[Path] = field(default_factory=list)  # per frame, for stills and sequences
    fps: Fraction | None = None
    timecode: str | None = None
    size: tuple[int, int] | None = None  # (width, height) for sequences and movies
    has_alpha: bool = False
    has_audio: bool = False
    float_frames: bool = False  # EXR: scene-linear by default
    largest: tuple[int, int] | None = None  # (width, height) of the largest frame: what memory is planned for

    def __post_init__(self):
        self.largest = self.largest or self.size

    def __len__(self) -> int:
        return len(self.numbers)

    def name(self, i: int) -> str:
        return self.files[i].name if self.files else f"{Path(self.path).name} frame {self.numbers[i]}"

    def frames(self, wanted: set[int] | None = None, errors: list | None = None) -> Iterator[tuple[int, Frame | None, str | None]]:
        """Yield (index, frame, problem) for each frame (or those whose index is in `wanted`);
        a frame that cannot be read comes as (index, None, one-line message)."""
        if self.kind == "movie":
            by_number = {n: i for i, n in enumerate(self.numbers) if wanted is None or i in wanted}
            errs: list = []
            seen = set()
            for n, rgb, alpha in read_movie(self.path, set(by_number), errs):
                for n_bad, msg in errs:
                    if n_bad in by_number:
                        seen.add(n_bad)
                        yield by_number[n_bad], None, f"{self.path} frame {n_bad}: {msg}"
                errs.clear()
                seen.add(n)
                yield by_number[n], Frame(rgb=rgb, alpha=alpha, sample="uint16", path=f"{self.path}:{n}"), None
            for n_bad, msg in errs:
                if n_bad in by_number:
                    seen.add(n_bad)
                    yield by_number[n_bad], None, f"{self.path} frame {n_bad}: {msg}"
            for n, i in by_number.items():  # the container promised more frames than it holds
                if n not in seen:
                    yield i, None, PastTheEnd(f"{self.path} frame {n}: not in the movie (its stream decodes to {len(seen)} frames)")
            return
        for i, f in enumerate(self.files):
            if wanted is not None and i not in wanted:
                continue
            try:
                yield i, read_image(f), None
            except ImageError as exc:
                yield i, None, str(exc)


def open_source(spec: str | os.PathLike | list, frames: str | list[int] | None = None) -> Source:
    """Open and check what to render. `spec`: a sequence pattern, a movie, a still, a folder
    of stills, or a list of stills/folders; `frames` (or a `:range` suffix) picks frames
    of a sequence or movie."""
    if isinstance(spec, (list, tuple)):
        if len(spec) == 1:
            return open_source(spec[0], frames)
        if frames is not None:
            raise SequenceError("--frames applies to one sequence or movie, not to several inputs")
        return _stills(list_images(spec))
    path, suffix_range = split_range(spec)
    if suffix_range is not None and frames is not None:
        raise SequenceError(f"{spec}: give the frame range once (a :range suffix or --frames)")
    rng = suffix_range if suffix_range is not None else frames
    numbers = parse_frames(rng) if isinstance(rng, str) else (list(rng) if rng is not None else None)
    if is_pattern(path):
        seq = Sequence(path)
        resolved = seq.resolve(numbers, probe=probe_image)
        w, h, c = probe_image(resolved[0][1])
        ext = Path(path).suffix.lower()
        if ext not in IMAGE_EXTENSIONS:
            raise ImageError(path, f"unsupported extension '{Path(path).suffix}' (supported: {', '.join(IMAGE_EXTENSIONS)})")
        fps = _exr_fps(resolved[0][1]) if ext == ".exr" else None
        return Source("sequence", path, [n for n, _ in resolved], [p for _, p in resolved], fps=fps, size=(w, h),
                      has_alpha=c == 4, float_frames=still_format(path).samples[0] in FLOAT_SAMPLES)
    if is_movie(path):
        info = probe_movie(path)
        count = info.frame_count
        if numbers is None:
            if not count:
                raise MovieError(f"{path}: the container does not say how many frames it holds; give a frame range")
            numbers = list(range(1, count + 1))
        elif numbers[0] < 1 or (count and numbers[-1] > count):
            raise SequenceError(f"{path}: frames {numbers[0]}-{numbers[-1]} asked for, the movie has 1-{count or '?'}")
        return Source("movie", path, numbers, fps=info.fps, timecode=info.timecode, size=(info.width, info.height),
                      has_alpha=info.has_alpha, has_audio=info.has_audio)
    if numbers is not None:
        raise SequenceError(f"{path}: frame ranges apply to a sequence pattern (name.####.ext) or a movie")
    return _stills(list_images([path]))


def _stills(files: list[Path]) -> Source:
    """Stills, each checked by its header first (a file that is no picture is refused before any work)."""
    sizes = [probe_image(f)[:2] for f in files]
    return Source("stills", str(files[0]), list(range(len(files))), files, largest=max(sizes, key=lambda s: s[0] * s[1]))


def _exr_fps(path: Path) -> Fraction | None:
    try:
        import OpenEXR

        with OpenEXR.File(str(path), header_only=True) as f:
            fps = f.header().get("framesPerSecond")
        return Fraction(fps) if fps else None
    except Exception:  # noqa: BLE001 - a missing rate is not an error
        return None


def read_frames(spec: str | os.PathLike | Source, limit: int | None = None) -> list[Frame]:
    """Every frame of a still, folder, sequence or movie (a `:range` suffix allowed), evenly
    thinned to at most `limit` frames: how training and evaluation read shots."""
    src = spec if isinstance(spec, Source) else open_source(spec)
    wanted = None
    if limit is not None and len(src) > limit:
        wanted = set(np.linspace(0, len(src) - 1, limit).round().astype(int).tolist())
    out = []
    for _, frame, problem in src.frames(wanted):
        if frame is None:
            raise StylereelError(problem)
        out.append(frame)
    return out
