"""What a render will do, decided before any frame is rendered: a `RenderPlan`.

A plan names the input (as `open_source` takes it), the outputs of every frame, which
frames to render and which are done already, the frames read only to pick a resumed
`--temporal` render up where it stopped, and the options (`RenderOptions`). It holds
plain values (`to_dict` / `from_dict`, JSON), so one process can make it and others run
it (`stylereel.render.shot.run_plan`), and it can be cut into chunks (`chunks`) that
separate processes render at once: under `--temporal` each chunk first renders a short
warm-up window of the frames before it, unwritten, so its first frame is blended from
the same history a whole render would give it (to within 1%; `prime_frames`).

Deciding the plan refuses, before any work, outputs that would overwrite an input, two
frames that would land on one file, and folders that cannot be made.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

from stylereel.io.frames import IMAGE_EXTENSIONS, ImageError, blocking_file, output_sample, still_format
from stylereel.io.media import Source, open_source
from stylereel.io.sequence import Sequence, format_frames, is_pattern
from stylereel.io.video import WRITE_EXTENSIONS, is_movie
from stylereel.render.options import RenderError, RenderOptions
from stylereel.render.temporal import PLATE_STRENGTH

PRIME_LEFT = 0.01  # a chunk's warm-up window leaves out at most this share of the blend's history
# The steadied plate keeps PLATE_STRENGTH of its history a frame, so it forgets slowly (0.9^24 = 8% after 24 frames),
# and the network turns what is left out into stroke changes at a chunk's seam: against a whole render, a chunk at frame
# 101 of a 960x720 shot differed by up to 0.16 (mean 6.5e-4) warmed on 24 plates, 0.037 (1.3e-4) on 66, 0.014 (2e-5)
# on 90 (bench/scale.py, "seams"). Each plate costs a read and a flow (~90 ms at 960x720), not a network pass.
STEADY_LEFT = 1e-3
STEADY_WARMUP = math.ceil(math.log(STEADY_LEFT) / math.log(PLATE_STRENGTH))  # 66 plates


def prime_frames(temporal: float | None) -> int:
    """Frames a chunk renders, unwritten, before its first one under `--temporal` at this strength:
    a frame keeps at most `temporal` of its predecessor's blend, so after n frames the history
    left out weighs temporal**n <= PRIME_LEFT."""
    if not temporal:
        return 0
    return math.ceil(math.log(PRIME_LEFT) / math.log(temporal))


@dataclass
class Destination:
    """Where frame i of a source goes. `kind`: "file", "folder", "sequence" or "movie"."""

    kind: str
    path: Path
    paths: list[Path] = field(default_factory=list)  # per frame, except for a movie

    @property
    def log_path(self) -> Path:
        if self.kind == "folder":
            return self.path / "render.json"
        name = self.path.name
        if self.kind == "sequence":
            name = name.split("#")[0].split("@")[0].split("%")[0].rstrip("._-") or "render"
        else:
            name = self.path.stem
        return self.path.parent / f"{name}.render.json"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "path": str(self.path), "paths": [str(p) for p in self.paths]}

    @classmethod
    def from_dict(cls, d: dict) -> "Destination":
        return cls(d["kind"], Path(d["path"]), [Path(p) for p in d["paths"]])


def plan_destination(src: Source, out: str | Path) -> Destination:
    """Decide the outputs and refuse, before any work, outputs that would overwrite an input
    or two frames that would land on one file, and folders that cannot be made."""
    out = Path(out)
    blocking = blocking_file(out.parent if out.suffix or is_pattern(out) else out)
    if blocking is not None:
        raise RenderError(f"{out}: cannot write there: {blocking} is a file, not a folder")
    if is_movie(out):
        if out.suffix.lower() not in WRITE_EXTENSIONS:
            raise RenderError(f"{out}: movies are written as {' or '.join(WRITE_EXTENSIONS)}")
        dst = Destination("movie", out)
    elif is_pattern(out):
        if src.kind == "stills" and len(src) > 1:
            raise RenderError(f"{out}: a sequence output needs a sequence or movie input; stills go to a folder")
        seq = Sequence(str(out))
        _check_image_ext(seq.path(0))
        numbers = src.numbers if src.kind != "stills" else [1]
        dst = Destination("sequence", out, [seq.path(n) for n in numbers])
    elif src.kind == "stills":
        single = len(src) == 1 and out.suffix != "" and not out.is_dir()
        if single:
            _check_image_ext(out)
            dst = Destination("file", out, [out])
        else:
            if out.exists() and not out.is_dir():
                raise ImageError(out, f"is a file, but {len(src)} inputs need an output directory")
            dst = Destination("folder", out, [out / f.name for f in src.files])
    else:
        raise RenderError(f"{out}: a {src.kind} renders to a sequence pattern (e.g. out/shot_look.####.exr) or a movie (.mov, .mp4)")
    inputs = {Path(f).resolve(): f for f in src.files} | ({Path(src.path).resolve(): src.path} if src.kind == "movie" else {})
    targets = dst.paths or [dst.path]
    seen: dict[Path, int] = {}
    for i, p in enumerate(targets):
        key = p.resolve()
        if key in inputs:
            raise ImageError(p, f"output would overwrite the input {inputs[key]}; choose another -o")
        if key in seen and src.files and src.files[seen[key]].resolve() != src.files[i].resolve():
            raise ImageError(p, f"two inputs would be written here ({src.files[seen[key]]} and {src.files[i]}); render them to separate -o folders")
        seen.setdefault(key, i)
    return dst


def _check_image_ext(p: Path) -> None:
    if p.suffix.lower() not in IMAGE_EXTENSIONS:
        raise ImageError(p, f"unsupported extension '{p.suffix}' for an output (images: {', '.join(IMAGE_EXTENSIONS)}; movies: {', '.join(WRITE_EXTENSIONS)})")


@dataclass
class RenderPlan:
    """A render decided: `render` the frames (by number) to render and write, `skipped` those
    whose output exists, `context` frames whose finished output primes the temporal blend of a
    resumed render, `steady` frames whose plates warm the steadied plate up, `prime` frames
    rendered unwritten to warm a chunk's blend up. All numbers are frames of `numbers`, the
    source as opened (`source`, `frames`: what `open_source` takes)."""

    source: str | list[str]
    frames: list[int] | None
    numbers: list[int]
    destination: Destination
    options: RenderOptions
    render: list[int]
    skipped: list[int] = field(default_factory=list)
    context: list[int] = field(default_factory=list)
    steady: list[int] = field(default_factory=list)
    prime: list[int] = field(default_factory=list)
    _opened: Source | None = field(default=None, repr=False, compare=False)

    def open(self) -> Source:
        """The source, opened (and checked) once."""
        if self._opened is None:
            self._opened = open_source(self.source, self.frames)
            if self._opened.numbers != self.numbers:
                raise RenderError(f"{self._opened.path}: the frames on disk changed since the render was planned "
                                  f"({format_frames(self.numbers)} planned, {format_frames(self._opened.numbers)} now)")
        return self._opened

    def again(self) -> "RenderPlan":
        """The same render decided afresh from what is on disk now: frames written since (by this render
        before it was stopped, or by another sharing the folder) are skipped and, under `--temporal`, the
        last of them primes the blend. A retried task runs `plan.again().part(its frames)`."""
        return make_plan(self.source, self.destination.path, self.frames, self.options)

    def chunks(self, n: int) -> list["RenderPlan"]:
        """The frames to render cut into at most `n` runs of consecutive frames, each a plan of its own
        (`part`) that another process may run at the same time."""
        if n < 1:
            raise RenderError(f"chunks: expected at least 1, got {n}")
        size = math.ceil(len(self.render) / n) if self.render else 1
        parts = [self.part(self.render[k : k + size]) for k in range(0, len(self.render), size)] or [self.part([])]
        return [replace(parts[0], skipped=self.skipped), *parts[1:]]  # the frames already done, counted once

    def part(self, frames: list[int]) -> "RenderPlan":
        """The plan for these of its frames alone (a chunk, a farm task's frames), which another process may
        run at the same time as the rest: frames whose output exists stay skipped; under `--temporal` it first
        renders, unwritten, the `prime_frames` before its first frame (unless that is the render's own first
        frame, which a whole render starts fresh too) and warms the steadied plate on `STEADY_WARMUP` more."""
        if self.destination.kind == "movie":
            raise RenderError(f"{self.destination.path}: a movie is written by one process; render a sequence to split the work")
        index = {num: i for i, num in enumerate(self.numbers)}
        outside = [f for f in frames if f not in index]
        if outside:
            raise RenderError(f"frames {format_frames(outside)} are not frames of the shot as planned ({format_frames(self.numbers)})")
        wanted = set(frames)
        part = [index[num] for num in self.render if num in wanted]
        at = lambda idx: [self.numbers[i] for i in idx]  # noqa: E731
        skipped = [num for num in self.skipped if num in wanted]
        if not part:
            return replace(self, render=[], skipped=skipped, context=[], steady=[], prime=[], _opened=self._opened)
        on_disk = {index[c] for c in self.context}
        first = index[self.render[0]] == part[0]
        context, prime = _warm_up(part, on_disk, None if first else self.options.temporal)
        steady = _steady(context + prime[:1], set(part) | set(prime))
        return replace(self, render=at(part), skipped=skipped, context=at(context), steady=at(steady), prime=at(prime),
                       _opened=self._opened)

    def to_dict(self) -> dict:
        return {"stylereel_plan": 1, "source": self.source, "frames": self.frames, "numbers": self.numbers,
                "destination": self.destination.to_dict(), "options": self.options.to_dict(), "render": self.render,
                "skipped": self.skipped, "context": self.context, "steady": self.steady, "prime": self.prime}

    @classmethod
    def from_dict(cls, d: dict) -> "RenderPlan":
        if d.get("stylereel_plan") != 1:
            raise RenderError("not a stylereel render plan (no 'stylereel_plan': 1)")
        return cls(d["source"], d["frames"], d["numbers"], Destination.from_dict(d["destination"]),
                   RenderOptions.from_dict(d["options"]), d["render"], d["skipped"], d["context"], d["steady"], d["prime"])


def _warm_up(part: list[int], on_disk: set[int], prime_at: float | None) -> tuple[list[int], list[int]]:
    """For frames `part` (indexes, in order): the frames before a run of them whose output is on disk
    (`on_disk`) and primes the blend; and, with `prime_at` (a temporal strength) where the frame before
    the first one is not on disk, the frames rendered unwritten before it."""
    inside = set(part)
    context = [i - 1 for i in part if i > 0 and i - 1 not in inside and i - 1 in on_disk]
    first = part[0]
    if prime_at is None or first == 0 or first - 1 in on_disk:
        return context, []
    return context, list(range(max(0, first - prime_frames(prime_at)), first))


def _steady(starts: list[int], busy: set[int]) -> list[int]:
    """The plates read to warm the steadied plate up before each of `starts` (indexes), but for `busy` ones."""
    return sorted({j for s in starts for j in range(max(0, s - STEADY_WARMUP), s)} - busy)


def make_plan(src: str | Path | list | Source, out: str | Path, frames: str | list[int] | None = None,
              options: RenderOptions = RenderOptions()) -> RenderPlan:
    """Decide what rendering `src` (stills, a folder, a sequence pattern or a movie) to `out` will do."""
    source = src if isinstance(src, Source) else open_source(src, frames)
    dst = plan_destination(source, out)
    sample = options.sample
    if sample is not None:
        if dst.kind == "movie":
            raise RenderError(f"{out}: a movie's precision is its codec's (--codec), not --depth")
        # refused now if the format cannot hold it (with the input's alpha)
        still_format(dst.paths[0]).fit(dst.paths[0], output_sample(dst.paths[0], sample), source.has_alpha, True)
    if options.temporal is not None and source.kind == "stills":
        raise RenderError("--temporal needs a shot (a sequence or a movie), not separate stills")
    spec = [str(f) for f in source.files] if source.kind == "stills" else source.path
    numbers = list(source.numbers)
    if dst.kind == "movie":
        done = dst.path.exists() and not options.overwrite
        todo = [] if done else list(range(len(numbers)))
    else:
        todo = [i for i, p in enumerate(dst.paths) if options.overwrite or not p.exists()]
    # A resumed --temporal render picks the blend up from the last frame already on disk, so the first
    # re-rendered frame does not pop: that frame is read as context (plate and output), not rendered.
    # The plates before it warm the steadied plate up again (its memory is long; see SteadyPlate).
    on_disk = set(range(len(numbers))) - set(todo) if options.temporal is not None and dst.kind != "movie" else set()
    context = _warm_up(todo, on_disk, None)[0] if todo else []
    steady = _steady(context, set(todo))
    todo_set = set(todo)
    at = lambda idx: [numbers[i] for i in idx]  # noqa: E731
    return RenderPlan(spec, numbers if source.kind != "stills" else None, numbers, dst, options, at(todo),
                      [n for i, n in enumerate(numbers) if i not in todo_set], at(context), at(steady), _opened=source)
