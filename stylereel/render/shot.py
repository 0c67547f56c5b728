"""Rendering a shot: frames in (stills, sequence, movie), a look applied, frames out,
with nothing lost when a render is stopped or a frame is bad.

- Every output frame is written atomically (temp file + rename); a re-run skips
  frames whose output exists (`overwrite=True` renders them again). A movie is
  written to a temp file and renamed when complete.
- A frame that cannot be read, rendered or written is reported and the others
  go on; the summary counts it and the CLI exits non-zero.
- Colour: each frame goes from its colour space to the network's working
  encoding and back (`stylereel.io.color`); premultiplied frames (EXR) are
  unpremultiplied first and premultiplied again after, so alpha comes out
  exactly as it went in and pixels with zero alpha stay zero.
- Reading (decode, colour) and writing (colour, encode) run in their own
  threads beside the network: on cores the network leaves idle they cost no
  time; where it keeps every core busy (2 cores), their CPU time adds to each
  frame's (bench/RESULTS.md, section "shots", measures both and the ceiling).
- A JSON log beside the output records inputs, model, settings, colour spaces
  and each frame's status; it is rewritten as the render goes, so a killed
  render leaves one too.

The parts: a `RenderPlan` (`stylereel.render.plan`) says what to do; `run_plan` runs it
with three threads in a line: `FrameSource` (read, claim, `FramePipeline.prepare`) ->
the network (`FramePipeline.draw`) -> `FrameSink` (in order: `FramePipeline.blend`,
colour out, write, log). `progress` hears of every frame as its outcome is settled;
`cancel` stops the render between frames, keeping every frame already written.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from stylereel.device import check_memory
from stylereel.errors import StylereelError
from stylereel.io.atomic import atomic_write_text, remove_stale_temps
from stylereel.io.claim import Claim
from stylereel.io.color import SRGB, default_space, resolve_space
from stylereel.io.frames import FLOAT_SAMPLES, Frame, check_writable, output_sample, read_image, still_format, write_image
from stylereel.io.media import DEFAULT_FPS, PastTheEnd, Source
from stylereel.io.sequence import format_frames
from stylereel.io.video import MovieWriter
from stylereel.io.working import float_alpha, from_working, to_working
from stylereel.render.guide import guide_for, load_keyframes
from stylereel.render.look_map import LookMap, stylize_frame
from stylereel.render.options import RenderError, RenderOptions
from stylereel.render.plan import RenderPlan, make_plan
from stylereel.render.temporal import SteadyPlate, TemporalBlend, motion, motions

# Whole frames a render holds at once: 3 decoded ahead, 3 waiting to be written, the one in the
# network, the temporal blend's neighbours and the writer's copy; each as float32 RGB + alpha and
# its decoded or encoded form.
FRAMES_IN_FLIGHT = 10
FRAME_BYTES = 24
QUEUE = 3  # frames waiting between two threads


@dataclass
class RenderReport:
    done: list[int] = field(default_factory=list)  # source frame numbers
    skipped: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    log: Path | None = None
    output: Path | None = None
    seconds: float = 0.0
    log_problem: str | None = None  # why the render log could not be written (the frames are unaffected)
    cancelled: bool = False  # stopped by `cancel`: the frames written are kept, a re-run renders the rest
    # What the network ran as where other processes rendered (Ray workers: "bf16 on cpu, avx512 kernels"), one entry each way
    ran: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        parts = [f"{len(self.done)} rendered", f"{len(self.skipped)} skipped (already done)"]
        if self.failed:
            parts.append(f"{len(self.failed)} failed: {format_frames(list(self.failed))}")
        if self.cancelled:
            parts.append("cancelled")
        if self.log_problem:
            parts.append(f"log {self.log_problem}")
        return ", ".join(parts)


class _Log:
    """The render log: rewritten atomically every few seconds and at the end. Several renders may share
    it (processes sharing a shot, farm tasks): each write merges this render's records into the log on disk
    as it is then, a frame's outcome ("done", "failed") over another render's "skipped"."""

    def __init__(self, path: Path | None, header: dict):
        self.path, self.header = path, header
        self.frames: dict[str, dict] = {}
        self.mine: dict[str, dict] = {}  # what this render recorded
        self.failed: str | None = None  # why the last write of the log failed
        if path is not None and path.is_file():  # a resumed render keeps what earlier runs recorded
            try:
                self.frames = json.loads(path.read_text()).get("frames", {})
            except (OSError, ValueError):
                self.frames = {}
        self._last = 0.0

    def record(self, number: int, status: str, **info) -> None:
        self.frames[str(number)] = self.mine[str(number)] = {"status": status, **info}
        if time.monotonic() - self._last > 5:
            self.write()

    def write(self, **extra) -> None:
        self._last = time.monotonic()
        if self.path is not None:
            try:
                disk = json.loads(self.path.read_text()).get("frames", {}) if self.path.is_file() else {}
            except (OSError, ValueError):
                disk = {}
            self.frames = {**self.frames, **disk, **{k: v for k, v in self.mine.items()
                                                     if not (v["status"] == "skipped" and k in disk)}}
            try:
                atomic_write_text(self.path, json.dumps({**self.header, **extra, "frames": self.frames}, indent=1) + "\n")
            except OSError as exc:  # a full disk must not stop the frames: the log is rewritten whole next time
                self.failed = f"{self.path}: not written ({exc.strerror or exc})"


@dataclass
class Progress:
    """What `run_plan` tells its `progress` callback as each frame's outcome is settled."""

    number: int  # the source's frame number
    status: str  # "done", "failed" or "skipped" (another render has it)
    finished: int  # frames settled so far, of
    total: int  # the frames the plan renders
    problem: str | None = None


@dataclass
class Work:
    """One frame on its way through a render. `role`: "render" (render and write), "prime" (render
    to warm the temporal blend up, unwritten), "context" (`out` is its finished output, read back),
    "claimed" (another render has it); `problem` says why it cannot be done."""

    index: int
    number: int
    role: str
    frame: Frame | None = None
    problem: str | None = None
    plate: np.ndarray | None = None  # the frame in the working encoding
    seen: np.ndarray | None = None  # what the network is shown: the plate, steadied along the motion under --temporal
    residual: object = None  # what the working encoding leaves out (alpha, out-of-range values), for the way back
    extras: dict = field(default_factory=dict)
    weights: np.ndarray | None = None  # the looks per pixel (a multi-look map)
    moved: tuple | None = None  # (motion to the previous frame, motion ahead) under --temporal
    out: np.ndarray | None = None  # the network's output, in the working encoding
    started: float = 0.0


class FramePipeline:
    """What happens to every frame, whatever it was read from and written to: into the working
    encoding with its guide, look weights and motion (`prepare`, in frame order on the reader's
    thread), through the network (`draw`), blended with its neighbours (`blend`, in frame order on
    the writer's thread) and back to its colour space (`finish`)."""

    def __init__(self, stylizer, options: RenderOptions, look_map: LookMap | None, keys: dict, space_in: str | None,
                 space_out: Callable[[int, Frame], str]):
        self.stylizer, self.options, self.look_map, self.keys = stylizer, options, look_map, keys
        self.space_in, self.space_out = space_in, space_out
        temporal = options.temporal is not None
        self.temporal = TemporalBlend(options.temporal, options.both_ways) if temporal else None
        self.steady = SteadyPlate() if temporal else None
        self._previous: tuple[int, np.ndarray] | None = None  # (index, plate) of the frame before, for the motion between them

    def forget(self) -> None:
        """The next frame does not follow the last one prepared (a gap, a bad frame)."""
        self._previous = None

    def _follows(self, i: int, plate: np.ndarray) -> bool:
        return self._previous is not None and self._previous[0] == i - 1 and self._previous[1].shape == plate.shape

    def warm(self, i: int, frame: Frame) -> None:
        """A frame read only to warm the steadied plate up (a resumed or chunked --temporal render)."""
        plate = to_working(frame, self.space_in)[0]
        self.steady(plate, motion(self._previous[1], plate) if self._follows(i, plate) else None)
        self._previous = (i, plate)

    def prepare(self, work: Work) -> Work:
        plate, work.residual = to_working(work.frame, self.space_in)
        if self.stylizer.takes_guide:
            work.extras = {"guide": guide_for(self.keys, work.number, plate)}
        if self.look_map is not None:
            work.weights = self.look_map.weights(work.number, plate.shape[:2], work.frame.alpha)
        if self.temporal is not None and self._follows(work.index, plate):
            prev = self._previous[1]
            work.moved = motions(prev, plate) if self.temporal.both_ways else (motion(prev, plate), None)
        work.plate = plate
        work.seen = self.steady(plate, work.moved[0] if work.moved else None) if self.steady else plate
        self._previous = (work.index, plate)
        return work

    def draw(self, work: Work) -> np.ndarray:
        return stylize_frame(self.stylizer, work.seen, work.plate, work.extras, self.options.controls, self.look_map, work.weights)

    def blend(self, work: Work, ahead: tuple | None = None) -> np.ndarray:
        if self.temporal is None:
            return work.out
        return self.temporal(work.out, work.moved[0] if work.moved else None, ahead)

    def finish(self, work: Work, rgb: np.ndarray) -> np.ndarray:
        return from_working(rgb, work.residual, work.frame, self.space_in, self.space_out(work.index, work.frame))


class FrameSink:
    """Where finished frames go, in order: files (each claimed while it is rendered, so renders
    sharing a folder never do a frame twice) or one movie; the report, the log and `progress`."""

    def __init__(self, plan: RenderPlan, pipeline: FramePipeline, report: RenderReport, log: _Log, movie: MovieWriter | None,
                 progress: Callable[[Progress], None] | None):
        self.plan, self.pipeline, self.report, self.log, self.movie = plan, pipeline, report, log, movie
        self.paths = plan.destination.paths
        self.progress = progress
        self.claims: dict[int, Claim] = {}
        self._pending: Work | None = None  # both ways: the frame waiting for the next one
        self._last_good: tuple | None = None  # a movie's last picture, standing in for a failed frame

    def claim(self, i: int) -> str | None:
        """Take frame i's output for this render: None when taken, else why not ("claimed" when another render has it)."""
        if self.movie is not None:
            return None
        claim = Claim(self.paths[i])
        try:
            taken = claim.take()
        except OSError as exc:
            return f"{self.paths[i]}: cannot write there ({exc.strerror or exc})"
        if not taken or (not self.plan.options.overwrite and self.paths[i].exists()):
            claim.release()  # another render has it, or finished it meanwhile
            return "claimed"
        self.claims[i] = claim
        return None

    def release(self, i: int | None = None) -> None:
        for k in list(self.claims) if i is None else [i]:
            claim = self.claims.pop(k, None)
            if claim is not None:
                claim.release()

    def _tell(self, work: Work, status: str, problem: str | None = None) -> None:
        if self.progress is not None:
            r = self.report
            self.progress(Progress(work.number, status, len(r.done) + len(r.failed) + len(r.skipped) - len(self.plan.skipped),
                                   len(self.plan.render), problem))

    def put(self, work: Work) -> None:
        """The next frame in order."""
        blend = self.pipeline.temporal
        if work.role == "context":
            self.settle()
            blend.previous = work.out
        elif work.role == "claimed":
            self.settle()
            if blend is not None:
                blend.reset()
            self.report.skipped.append(work.number)
            self.log.record(work.number, "skipped", reason="another render has this frame")
            self._tell(work, "skipped")
        elif work.problem is not None:
            self.settle()
            self._fail(work, work.problem)
        elif blend is not None and blend.both_ways:  # written once the next frame is here
            ahead = work.moved[1] if work.moved else None
            self.settle((ahead, work.out) if ahead is not None and self._pending is not None and self._pending.index == work.index - 1 else None)
            self._pending = work
        else:
            self._output(work)

    def settle(self, ahead: tuple | None = None) -> None:
        """Write the frame waiting for the next one (both ways), with the next one's output if it follows."""
        if self._pending is not None:
            work, self._pending = self._pending, None
            self._output(work, ahead)

    def _output(self, work: Work, ahead: tuple | None = None) -> None:
        try:
            rgb = self.pipeline.blend(work, ahead)
            if work.role == "prime":
                return
            rgb = self.pipeline.finish(work, rgb)
            alpha = work.frame.alpha
            if self.movie is not None:
                self.movie.write(rgb, float_alpha(alpha))
                self._last_good = (rgb, float_alpha(alpha))
            else:
                write_image(self.paths[work.index], rgb, alpha=alpha, sample=self.plan.options.sample, like=work.frame)
            self.release(work.index)
            self.report.done.append(work.number)
            self.log.record(work.number, "done", seconds=round(time.time() - work.started, 3))
            self._tell(work, "done")
        except Exception as exc:  # noqa: BLE001 - reported, and the shot goes on
            where = self.paths[work.index] if self.paths else self.plan.destination.path
            self._fail(work, str(exc) if isinstance(exc, StylereelError) else f"{where}: {exc}")

    def _fail(self, work: Work, problem: str) -> None:
        if self.pipeline.temporal is not None:
            self.pipeline.temporal.reset()
        if work.role == "prime":  # not this render's to report: its blend starts afresh
            return
        self.release(work.index)
        self.report.failed[work.number] = problem
        if self.movie is not None and not isinstance(problem, PastTheEnd):  # keep the movie's timing: the previous picture stands in
            try:
                self.movie.write(*(self._last_good or (np.zeros((self.movie.size[1], self.movie.size[0], 3), np.float32), None)))
            except Exception:  # noqa: BLE001
                pass
        self.log.record(work.number, "failed", error=problem)
        self._tell(work, "failed", problem)


class FrameSource:
    """The frames a plan needs, read in order on their own thread, each claimed and prepared."""

    def __init__(self, plan: RenderPlan, source: Source, pipeline: FramePipeline, sink: FrameSink):
        self.plan, self.source, self.pipeline, self.sink = plan, source, pipeline, sink
        index = {n: i for i, n in enumerate(plan.numbers)}
        self.roles = {index[n]: role for role in ("steady", "context", "prime", "render") for n in getattr(plan, role)}

    def read(self, out: queue.Queue, stop: threading.Event) -> None:
        """Put each frame's `Work` on `out`, then None."""
        pipeline, paths = self.pipeline, self.plan.destination.paths
        try:
            for i, frame, problem in self.source.frames(set(self.roles)):
                if stop.is_set():
                    return
                role, n = self.roles[i], self.source.numbers[i]
                if role in ("steady", "context"):
                    try:
                        pipeline.warm(i, frame)
                        if role == "context":
                            done = read_image(paths[i])
                            out.put(Work(i, n, "context", frame, out=to_working(done, pipeline.space_out(i, done))[0]))
                    except Exception:  # noqa: BLE001 - no context: the blend starts afresh there
                        pipeline.forget()
                    continue
                if role == "render":
                    why = self.sink.claim(i)
                    if why is not None:
                        out.put(Work(i, n, "claimed") if why == "claimed" else Work(i, n, role, problem=why))
                        pipeline.forget()
                        continue
                if frame is None:
                    out.put(Work(i, n, role, problem=problem))
                    pipeline.forget()
                    continue
                try:
                    out.put(pipeline.prepare(Work(i, n, role, frame)))
                except Exception as exc:  # noqa: BLE001 - one bad frame must not stop the shot
                    out.put(Work(i, n, role, problem=f"{frame.path}: {exc}"))
                    pipeline.forget()
        finally:
            out.put(None)


def render_shot(stylizer, src: str | Path | list | Source, out: str | Path, frames: str | list[int] | None = None,
                options: RenderOptions = RenderOptions(), progress: Callable[[Progress], None] | None = None,
                cancel: threading.Event | Callable[[], bool] | None = None) -> RenderReport:
    """Render `src` (stills, a folder, a sequence pattern or a movie) in the look of `stylizer` to `out`,
    as `options` say (`stylereel.render.options.RenderOptions`): `make_plan`, then `run_plan`."""
    return run_plan(stylizer, make_plan(src, out, frames, options), progress, cancel)


def check_run(stylizer, options: RenderOptions) -> LookMap | None:
    """Refuse, before any frame, options this look cannot take; the look weights they ask for."""
    if options.keyframes is not None and not stylizer.takes_guide:
        raise RenderError(f"{stylizer.model_dir}: this look takes no keyframes (train one with --data.mode=guided)")
    return LookMap.resolve(stylizer.look_names, options.look, options.strength, options.regions)


def run_plan(stylizer, plan: RenderPlan, progress: Callable[[Progress], None] | None = None,
             cancel: threading.Event | Callable[[], bool] | None = None) -> RenderReport:
    """Do what `plan` says with `stylizer`'s look. `progress(Progress)` is called (from the writer's
    thread) as each frame is written, fails or is left to another render; `cancel` (an Event, or a
    function saying whether to stop) is checked before each frame: the render then stops, keeping
    every frame written, and returns a report with `cancelled` set."""
    o, dst = plan.options, plan.destination
    source = plan.open()
    w, h = source.largest or _first_size(source)
    check_memory(source.path, stylizer.engine.memory_needed(h, w) + FRAMES_IN_FLIGHT * h * w * FRAME_BYTES,
                 f"rendering {w}x{h} frames (tiles of {stylizer.engine.tile_pixels / 1e6:.1f} MP; a smaller --tile needs less)")
    look_map = check_run(stylizer, o)
    # Colour spaces: as given, else by format (EXR: scene_linear; integer formats and movies: sRGB).
    space_in = resolve_space(o.colorspace_in) if o.colorspace_in else None
    space_out = resolve_space(o.colorspace_out) if o.colorspace_out else None
    movie_out = dst.kind == "movie"

    def out_space(i: int, frame) -> str:  # the output's own space: scene-linear where it is written in float
        return space_out or default_space(not movie_out and output_sample(dst.paths[i], o.sample, frame) in FLOAT_SAMPLES)

    keys = load_keyframes(source, o.keyframes, space_in) if stylizer.takes_guide else {}
    report = RenderReport(output=dst.path, log=dst.log_path if o.log else None)
    started = time.time()
    log = _Log(report.log, {
        "stylereel_render": 1,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "model": str(stylizer.model_dir), "model_steps": stylizer.info.get("steps"),
        "input": {"kind": source.kind, "path": str(source.path), "frames": format_frames(source.numbers),
                  "fps": str(source.fps) if source.fps else None, "timecode": source.timecode},
        "output": {"kind": dst.kind, "path": str(dst.path), "codec": o.codec},
        "colorspace_in": space_in or default_space(source.float_frames),
        "colorspace_out": space_out or default_space(not movie_out and still_format(dst.paths[0]).samples[0] in FLOAT_SAMPLES),
        "working_encoding": SRGB, "alpha": "premultiplied (EXR), else straight",
        "device": str(stylizer.device), "precision": stylizer.engine.precision, "precision_why": stylizer.engine.precision_note,
        "overwrite": o.overwrite, "temporal": o.temporal,
        "temporal_both_ways": o.both_ways if o.temporal is not None else None,
        **o.controls.settings(),
        **(look_map.settings() if look_map is not None else {}),
    })
    report.skipped = list(plan.skipped)
    for n in plan.skipped:
        log.frames.setdefault(str(n), {"status": "done"})
    index = {n: i for i, n in enumerate(plan.numbers)}
    for folder in {dst.path.parent} if movie_out else {dst.paths[index[n]].parent for n in plan.render}:
        check_writable(folder)  # a read-only or full place is refused before any work
        remove_stale_temps(folder)
    if not plan.render:
        log.write(finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"), summary=report.summary())
        return report

    movie = _movie_writer(source, dst.path, o) if movie_out else None
    if movie is not None:
        log.header["output"]["codec"] = movie.codec
    bar = _progress_bar(dst.path, len(plan.render)) if o.progress else None
    pipeline = FramePipeline(stylizer, o, look_map, keys, space_in, out_space)
    sink = FrameSink(plan, pipeline, report, log, movie, _both(progress, bar))
    reader = FrameSource(plan, source, pipeline, sink)
    stopped = cancel.is_set if isinstance(cancel, threading.Event) else cancel

    loaded: queue.Queue = queue.Queue(maxsize=QUEUE)
    rendered: queue.Queue = queue.Queue(maxsize=QUEUE)
    stop = threading.Event()
    broken: list[BaseException] = []  # what stopped the reader or the writer, if anything did

    def guard(fn: Callable[[], None], on_error: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except BaseException as exc:  # noqa: BLE001 - raised again on the main thread: the render must not "succeed" short
                broken.append(exc)
                on_error()
        return run

    def write() -> None:
        while (work := rendered.get()) is not None:
            sink.put(work)
        sink.settle()

    def writer_broke() -> None:
        stop.set()
        while rendered.get() is not None:  # the main thread finishes its puts
            pass

    threads = [threading.Thread(target=guard(lambda: reader.read(loaded, stop), lambda: None), daemon=True),
               threading.Thread(target=guard(write, writer_broke), daemon=True)]
    for t in threads:
        t.start()

    def wind_down() -> None:  # stop reading; the frames already rendered are still written
        stop.set()
        while threads[0].is_alive():
            _drain(loaded)
            threads[0].join(0.05)
        rendered.put(None)
        threads[1].join()
        sink.release()

    try:
        while (work := loaded.get()) is not None:
            if stopped is not None and stopped():
                report.cancelled = True
                break
            work.started = time.time()
            if work.role in ("render", "prime") and work.problem is None:
                try:
                    work.out = pipeline.draw(work)
                except Exception as exc:  # noqa: BLE001
                    work.problem = f"{work.frame.path}: rendering failed ({exc})"
            rendered.put(work)
    except BaseException:
        wind_down()
        if movie is not None:
            movie.abort()
        log.write(interrupted=True)
        raise
    finally:
        if bar is not None:
            bar.close()
    wind_down()
    log.header["kernels"] = stylizer.engine.kernels()  # known once a frame has gone through the network
    if broken or report.cancelled:
        if movie is not None:
            movie.abort()
        log.write(interrupted=True, **({"cancelled": True} if report.cancelled else {}))
        if broken:
            raise broken[0]
        report.seconds = time.time() - started
        report.log_problem = log.failed
        return report
    if movie is not None:
        if report.done:
            movie.close()
        else:
            movie.abort()
    report.seconds = time.time() - started
    log.write(finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"), seconds=round(report.seconds, 2), summary=report.summary())
    report.log_problem = log.failed
    return report


def _movie_writer(source: Source, path: Path, o: RenderOptions) -> MovieWriter:
    w, h = source.size or _first_size(source)
    rate = o.fps or source.fps or DEFAULT_FPS
    tc = source.timecode
    if tc and source.kind == "movie" and source.numbers[0] > 1:
        from stylereel.io.video import timecode_at

        tc = timecode_at(tc, source.numbers[0] - 1, rate)
    whole = source.kind == "movie" and source.has_audio and len(source) == source.numbers[-1] - source.numbers[0] + 1
    return MovieWriter(path, w, h, rate, codec=o.codec, timecode=tc, audio_from=source.path if whole else None, alpha=source.has_alpha)


def _progress_bar(path: Path, total: int):
    from tqdm import tqdm

    # On a terminal only (disable=None): in a farm log every redraw would be another line.
    return tqdm(total=total, unit="frame", desc=Path(str(path)).name, dynamic_ncols=True, disable=None)


def _both(progress: Callable[[Progress], None] | None, bar) -> Callable[[Progress], None] | None:
    if bar is None:
        return progress

    def tell(p: Progress) -> None:
        bar.update(1)
        if progress is not None:
            progress(p)
    return tell


def _drain(q: queue.Queue) -> None:
    try:
        while True:
            q.get_nowait()
    except queue.Empty:
        pass


def _first_size(source: Source) -> tuple[int, int]:
    for _, frame, _ in source.frames({0}):
        if frame is not None:
            return frame.rgb.shape[1], frame.rgb.shape[0]
    raise RenderError(f"{source.path}: cannot read the first frame to size the movie")
