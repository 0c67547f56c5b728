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
"""

from __future__ import annotations

import json
import queue
import threading
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from stylereel.device import check_memory
from stylereel.errors import StylereelError
from stylereel.io.atomic import atomic_write_text, remove_stale_temps
from stylereel.flow import carry, mix
from stylereel.io.claim import Claim
from stylereel.io.color import SRGB, default_space, resolve_space
from stylereel.io.frames import (FLOAT_SAMPLES, IMAGE_EXTENSIONS, ImageError, still_format, blocking_file, check_writable, output_sample, read_image,
                                 write_image)
from stylereel.io.media import DEFAULT_FPS, PastTheEnd, Source, open_source
from stylereel.io.sequence import Sequence, format_frames, is_pattern
from stylereel.io.video import WRITE_EXTENSIONS, MovieWriter, is_movie
from stylereel.io.working import float_alpha, from_working, to_working
from stylereel.render.look_map import LookMap, stylize_frame
from stylereel.render.options import RenderError, RenderOptions
from stylereel.render.temporal import SteadyPlate, TemporalBlend, motion, motions

CONTEXT = "context"  # a queue item that primes the temporal blend with a frame already rendered
CLAIMED = "claimed"  # a queue item for a frame another render holds (or finished meanwhile)
STEADY_WARMUP = 24  # plates read again before a resumed --temporal render's first frame (0.9^24: 8% of the history left out)
# Whole frames a render holds at once: 3 decoded ahead, 3 waiting to be written, the one in the
# network, the temporal blend's neighbours and the writer's copy; each as float32 RGB + alpha and
# its decoded or encoded form.
FRAMES_IN_FLIGHT = 10
FRAME_BYTES = 24


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
class RenderReport:
    done: list[int] = field(default_factory=list)  # source frame numbers
    skipped: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    log: Path | None = None
    output: Path | None = None
    seconds: float = 0.0
    log_problem: str | None = None  # why the render log could not be written (the frames are unaffected)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        parts = [f"{len(self.done)} rendered", f"{len(self.skipped)} skipped (already done)"]
        if self.failed:
            parts.append(f"{len(self.failed)} failed: {format_frames(list(self.failed))}")
        if self.log_problem:
            parts.append(f"log {self.log_problem}")
        return ", ".join(parts)


class _Log:
    """The render log: rewritten atomically every few seconds and at the end."""

    def __init__(self, path: Path | None, header: dict):
        self.path, self.header = path, header
        self.frames: dict[str, dict] = {}
        self.failed: str | None = None  # why the last write of the log failed
        if path is not None and path.is_file():  # a resumed render keeps what earlier runs recorded
            try:
                self.frames = json.loads(path.read_text()).get("frames", {})
            except (OSError, ValueError):
                self.frames = {}
        self._last = 0.0

    def record(self, number: int, status: str, **info) -> None:
        self.frames[str(number)] = {"status": status, **info}
        if time.monotonic() - self._last > 5:
            self.write()

    def write(self, **extra) -> None:
        self._last = time.monotonic()
        if self.path is not None:
            try:
                atomic_write_text(self.path, json.dumps({**self.header, **extra, "frames": self.frames}, indent=1) + "\n")
            except OSError as exc:  # a full disk must not stop the frames: the log is rewritten whole next time
                self.failed = f"{self.path}: not written ({exc.strerror or exc})"


def render_shot(stylizer, src: str | Path | list | Source, out: str | Path, frames: str | list[int] | None = None,
                options: RenderOptions = RenderOptions()) -> RenderReport:
    """Render `src` (stills, a folder, a sequence pattern or a movie) in the look of `stylizer` to `out`,
    as `options` say (`stylereel.render.options.RenderOptions`)."""
    o = options
    overwrite, codec, fps, temporal, both_ways, controls = o.overwrite, o.codec, o.fps, o.temporal, o.both_ways, o.controls
    source = src if isinstance(src, Source) else open_source(src, frames)
    dst = plan_destination(source, out)
    w, h = source.largest or _first_size(source)
    check_memory(source.path, stylizer.engine.memory_needed(h, w) + FRAMES_IN_FLIGHT * h * w * FRAME_BYTES,
                 f"rendering {w}x{h} frames (tiles of {stylizer.engine.tile_pixels / 1e6:.1f} MP; a smaller --tile needs less)")
    sample = o.sample
    if sample is not None:
        if dst.kind == "movie":
            raise RenderError(f"{out}: a movie's precision is its codec's (--codec), not --depth")
        output_sample(dst.paths[0], sample)  # refused now if the format cannot hold it
        if dst.paths[0].suffix.lower() == ".dpx" and source.has_alpha and sample in ("uint10", "uint12"):
            raise RenderError(f"{out}: DPX holds alpha at 8 or 16 bits only (the input has alpha); use --depth 16 or EXR")
    # Colour spaces: as given, else by format (EXR: scene_linear; integer formats and movies: sRGB).
    space_in = resolve_space(o.colorspace_in) if o.colorspace_in else None
    space_out = resolve_space(o.colorspace_out) if o.colorspace_out else None

    def out_space(i: int, frame) -> str:  # the output's own space: scene-linear where it is written in float
        return space_out or default_space(movie is None and output_sample(dst.paths[i], sample, frame) in FLOAT_SAMPLES)
    look_map = LookMap.resolve(stylizer.look_names, o.look, o.strength, o.regions)
    report = RenderReport(output=dst.path, log=dst.log_path if o.log else None)
    movie = None
    started = time.time()
    log = _Log(report.log, {
        "stylereel_render": 1,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "model": str(stylizer.model_dir), "model_steps": stylizer.info.get("steps"),
        "input": {"kind": source.kind, "path": str(source.path), "frames": format_frames(source.numbers),
                  "fps": str(source.fps) if source.fps else None, "timecode": source.timecode},
        "output": {"kind": dst.kind, "path": str(dst.path), "codec": codec},
        "colorspace_in": space_in or default_space(source.float_frames),
        "colorspace_out": space_out or default_space(dst.kind != "movie" and still_format(dst.paths[0]).samples[0] in FLOAT_SAMPLES),
        "working_encoding": SRGB, "alpha": "premultiplied (EXR), else straight",
        "device": str(stylizer.device), "overwrite": overwrite, "temporal": temporal,
        "temporal_both_ways": both_ways if temporal is not None else None,
        **controls.settings(),
        **(look_map.settings() if look_map is not None else {}),
    })
    blend = TemporalBlend(temporal, both_ways) if temporal is not None else None
    steady = SteadyPlate() if temporal is not None else None
    keys = _load_keyframes(stylizer, source, o.keyframes, space_in) if stylizer.takes_guide else {}
    if o.keyframes is not None and not stylizer.takes_guide:
        raise RenderError(f"{stylizer.model_dir}: this look takes no keyframes (train one with --data.mode=guided)")
    if blend is not None and source.kind == "stills":
        raise RenderError("--temporal needs a shot (a sequence or a movie), not separate stills")

    # Which frames need work (and what a killed earlier render left half-written beside them).
    todo = []
    for i, n in enumerate(source.numbers):
        if dst.kind != "movie" and not overwrite and dst.paths[i].exists():
            report.skipped.append(n)
            log.frames.setdefault(str(n), {"status": "done"})
        else:
            todo.append(i)
    for folder in {dst.path.parent} if dst.kind == "movie" else {dst.paths[i].parent for i in todo}:
        check_writable(folder)  # a read-only or full place is refused before any work
        remove_stale_temps(folder)
    if dst.kind == "movie" and dst.path.exists() and not overwrite:
        report.skipped, todo = list(source.numbers), []
    if not todo:
        log.write(finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"), summary=report.summary())
        return report

    if dst.kind == "movie":
        w, h = source.size or _first_size(source)
        rate = fps or source.fps or DEFAULT_FPS
        tc = source.timecode
        if tc and source.kind == "movie" and source.numbers[0] > 1:
            from stylereel.io.video import timecode_at

            tc = timecode_at(tc, source.numbers[0] - 1, rate)
        movie = MovieWriter(dst.path, w, h, rate, codec=codec, timecode=tc,
                            audio_from=source.path if source.kind == "movie" and source.has_audio and len(source) == source.numbers[-1] - source.numbers[0] + 1 else None,
                            alpha=source.has_alpha)
        log.header["output"]["codec"] = movie.codec

    loaded: queue.Queue = queue.Queue(maxsize=3)
    rendered: queue.Queue = queue.Queue(maxsize=3)
    stop = threading.Event()

    # A resumed --temporal render picks the blend up from the last frame already on disk, so the
    # first re-rendered frame does not pop: that frame is read as context (plate and output), not rendered.
    # The plates before it warm the steadied plate up again (its memory is long; see SteadyPlate).
    context = {i - 1 for i in todo if blend is not None and dst.kind != "movie" and i > 0 and i - 1 not in todo}
    warmup = {j for c in context for j in range(max(0, c - STEADY_WARMUP), c)} - set(todo)

    broken: list[BaseException] = []  # what stopped the reader or the writer, if anything did

    def reader() -> None:
        previous = None  # (index, network input) of the frame before, for the motion between them
        try:
            for i, frame, problem in source.frames(set(todo) | context | warmup):
                if stop.is_set():
                    return
                if i in context or i in warmup:
                    try:
                        plate = to_working(frame, space_in)[0]
                        follows = previous is not None and previous[0] == i - 1 and previous[1].shape == plate.shape
                        steady(plate, motion(previous[1], plate) if follows else None)
                        previous = (i, plate)
                        if i in context:
                            done = read_image(dst.paths[i])
                            loaded.put((i, frame, to_working(done, out_space(i, done))[0], None, CONTEXT, None))
                    except Exception:  # noqa: BLE001 - no context: the blend starts afresh there
                        previous = None
                    continue
                if dst.kind != "movie":
                    claim = Claim(dst.paths[i])
                    try:
                        taken = claim.take()
                    except OSError as exc:
                        loaded.put((i, None, None, None, f"{dst.paths[i]}: cannot write there ({exc.strerror or exc})", None))
                        previous = None
                        continue
                    if not taken or (not overwrite and dst.paths[i].exists()):
                        claim.release()  # another render has it, or finished it meanwhile
                        loaded.put((i, None, None, None, CLAIMED, None))
                        previous = None
                        continue
                    claims[i] = claim
                if frame is None:
                    loaded.put((i, None, None, None, problem, None))
                    previous = None
                    continue
                try:
                    plate_in, residual = to_working(frame, space_in)
                    extras = {"guide": guide_for(keys, source.numbers[i], plate_in)} if stylizer.takes_guide else {}
                    weights = look_map.weights(source.numbers[i], plate_in.shape[:2], frame.alpha) if look_map is not None else None
                    moved = None
                    if blend is not None and previous is not None and previous[0] == i - 1 and previous[1].shape == plate_in.shape:
                        moved = motions(previous[1], plate_in) if blend.both_ways else (motion(previous[1], plate_in), None)
                    net_in = (plate_in, extras, steady(plate_in, moved[0] if moved else None) if steady else plate_in, weights)
                    previous = (i, plate_in)
                    loaded.put((i, frame, net_in, residual, None, moved))
                except Exception as exc:  # noqa: BLE001 - one bad frame must not stop the shot
                    loaded.put((i, None, None, None, f"{frame.path}: {exc}", None))
                    previous = None
        except BaseException as exc:  # noqa: BLE001 - raised again on the main thread: the render must not "succeed" short
            broken.append(exc)
        finally:
            loaded.put(None)

    last_good: list = [None]
    claims: dict[int, Claim] = {}  # frames this render holds (io/claim.py): shared output folders
    pending: list = [None]  # both ways: the frame waiting for the next one, (i, frame, network output, residual, motion back, t0)

    def finish(i, frame, out_rgb, residual, t0) -> None:
        rgb = from_working(out_rgb, residual, frame, space_in, out_space(i, frame))
        if movie is not None:
            movie.write(rgb, float_alpha(frame.alpha))
            last_good[0] = (rgb, float_alpha(frame.alpha))
        else:
            write_image(dst.paths[i], rgb, alpha=frame.alpha, sample=sample, like=frame)
        release(i)
        report.done.append(source.numbers[i])
        log.record(source.numbers[i], "done", seconds=round(time.time() - t0, 3))

    def release(i) -> None:
        claim = claims.pop(i, None)
        if claim is not None:
            claim.release()

    def fail(i, problem) -> None:
        release(i)
        n = source.numbers[i]
        report.failed[n] = problem
        if blend is not None:
            blend.reset()
        if movie is not None and not isinstance(problem, PastTheEnd):  # keep the movie's timing: the previous picture stands in
            try:
                movie.write(*(last_good[0] or (np.zeros((movie.size[1], movie.size[0], 3), np.float32), None)))
            except Exception:  # noqa: BLE001
                pass
        log.record(n, "failed", error=problem)

    def output(i, frame, out_rgb, residual, t0, back=None, ahead=None) -> None:
        try:
            finish(i, frame, blend(out_rgb, back, ahead) if blend is not None else out_rgb, residual, t0)
        except Exception as exc:  # noqa: BLE001 - reported, and the shot goes on
            fail(i, str(exc) if isinstance(exc, StylereelError) else f"{dst.paths[i] if dst.paths else dst.path}: {exc}")

    def settle(ahead=None) -> None:
        if pending[0] is not None:
            i, frame, out_rgb, residual, back, t0 = pending[0]
            pending[0] = None
            output(i, frame, out_rgb, residual, t0, back, ahead)

    def writer() -> None:
        try:
            while (item := rendered.get()) is not None:
                i, frame, out_rgb, residual, problem, moved, t0 = item
                back, ahead = moved or (None, None)
                if problem is CONTEXT:
                    settle()
                    blend.previous = out_rgb
                elif problem is CLAIMED:
                    settle()
                    if blend is not None:
                        blend.reset()
                    report.skipped.append(source.numbers[i])
                    log.record(source.numbers[i], "skipped", reason="another render has this frame")
                elif problem is not None:
                    settle()
                    fail(i, problem)
                elif blend is not None and blend.both_ways:  # written once the next frame is here
                    settle((ahead, out_rgb) if ahead is not None and pending[0] is not None and pending[0][0] == i - 1 else None)
                    pending[0] = (i, frame, out_rgb, residual, back, t0)
                else:
                    output(i, frame, out_rgb, residual, t0, back)
            settle()
        except BaseException as exc:  # noqa: BLE001 - raised again on the main thread, like the reader's
            broken.append(exc)
            stop.set()
            while rendered.get() is not None:  # the main thread finishes its puts
                pass

    threads = [threading.Thread(target=reader, daemon=True), threading.Thread(target=writer, daemon=True)]
    for t in threads:
        t.start()
    bar = None
    if o.progress:
        from tqdm import tqdm

        # On a terminal only (disable=None): in a farm log every redraw would be another line.
        bar = tqdm(total=len(todo), unit="frame", desc=Path(str(dst.path)).name, dynamic_ncols=True, disable=None)
    try:
        while (item := loaded.get()) is not None:
            i, frame, net_in, residual, problem, moved = item
            t0 = time.time()
            out_rgb = net_in if problem is CONTEXT else None
            if problem is None:
                try:
                    plate, extras, seen, weights = net_in  # seen: the plate steadied along the motion (--temporal), else the plate
                    out_rgb = stylize_frame(stylizer, seen, plate, extras, controls, look_map, weights)
                except Exception as exc:  # noqa: BLE001
                    problem = f"{frame.path}: rendering failed ({exc})"
            rendered.put((i, frame, out_rgb, residual, problem, moved, t0))
            if bar is not None and problem is not CONTEXT:
                bar.update(1)
    except BaseException:
        stop.set()
        _drain(loaded)
        rendered.put(None)
        threads[1].join()
        for claim in list(claims.values()):
            claim.release()
        if movie is not None:
            movie.abort()
        log.write(interrupted=True)
        raise
    finally:
        if bar is not None:
            bar.close()
    rendered.put(None)
    for t in threads:
        t.join()
    for claim in list(claims.values()):
        claim.release()
    if broken:
        if movie is not None:
            movie.abort()
        log.write(interrupted=True)
        raise broken[0]
    if movie is not None:
        if report.done:
            movie.close()
        else:
            movie.abort()
    report.seconds = time.time() - started
    log.write(finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"), seconds=round(report.seconds, 2), summary=report.summary())
    report.log_problem = log.failed
    return report


def _load_keyframes(stylizer, source: Source, spec: str | None, space_in: str | None) -> dict[int, tuple]:
    """{frame number: (plate, painted look)} in the working encoding, from the painted sequence `spec`
    and the source's frames of the same numbers."""
    if spec is None:
        return {}
    painted = open_source(spec)
    if painted.kind == "stills":
        raise RenderError(f"{spec}: keyframes are a sequence numbered like the shot's frames (painted.####.png)")
    numbers = {n: i for i, n in enumerate(source.numbers)}
    missing = [n for n in painted.numbers if n not in numbers]
    if missing:
        raise RenderError(f"{spec}: keyframes {format_frames(missing)} are not frames of {source.path} being rendered")
    shown = lambda f: to_working(f, space_in)[0]  # noqa: E731
    plates = {source.numbers[i]: shown(f) for i, f, problem in source.frames({numbers[n] for n in painted.numbers}) if f is not None}
    keys = {}
    for i, f, problem in painted.frames():
        if f is None:
            raise RenderError(problem)
        n = painted.numbers[i]
        look = shown(f)
        if look.shape != plates[n].shape:
            import cv2

            look = cv2.resize(look, plates[n].shape[1::-1], interpolation=cv2.INTER_AREA)
        keys[n] = (plates[n], look)
    return keys


def guide_for(keys: dict[int, tuple], number: int, plate: np.ndarray) -> np.ndarray:
    """The painted keyframes on either side of this frame carried to it and mixed per pixel by
    confidence and by closeness in time (so the mix moves smoothly from one keyframe to the
    next), with the larger confidence: [H, W, 4] (zeros without keyframes)."""
    if not keys:
        return np.zeros(plate.shape[:2] + (4,), np.float32)
    before = [k for k in keys if k <= number]
    after = [k for k in keys if k >= number]
    sides = ({max(before)} if before else set()) | ({min(after)} if after else set())
    return mix([(*carry(keys[k][0], keys[k][1], plate), k - number) for k in sorted(sides)])


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

