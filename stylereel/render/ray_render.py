"""Rendering a shot on a Ray cluster (`stylereel stylize ... --ray auto|ADDRESS`).

The driver decides the render plan here, checked whole before any work, and cuts the frames to
render into chunks of consecutive frames (`RenderPlan.part`); each chunk is a Ray task. A task
runs on a worker process that keeps the model it loaded for the next chunk (`_stylizer`), and
decides its chunk again from what is on disk when it starts (`RenderPlan.again`), so a task Ray
retries after its worker died renders only the frames the dead one had not written, its
`--temporal` blend picked up from the last of them. Frames are written whole (temp file +
rename) and claimed before they are rendered (`stylereel.io.claim`); a frame a dead worker held
is taken over and its half-written file removed. Under `--temporal` a chunk first renders the
frames before it unwritten (`prime_frames`), so chunks join as a whole render does.

Every worker must have stylereel installed and see the paths the driver names (shared
storage): the shot, the output folder and the model are passed as absolute paths.
"""

from __future__ import annotations

import math
import os
import socket
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from stylereel.io.sequence import format_frames
from stylereel.render.look_map import LookMap
from stylereel.render.options import RenderError
from stylereel.render.plan import RenderPlan
from stylereel.render.shot import RenderReport, check_run

# Ray (2.59 on) asks for its token from drivers that name a cluster's address only where this says so
AUTH = "RAY_AUTH_MODE=token in the environment (and its token: RAY_AUTH_TOKEN, or ray get-auth-token)"
RETRIES = 3  # a chunk whose worker dies (killed, out of memory, a lost node) runs again, this many times at most
CHUNKS_PER_SLOT = 3  # chunks for each task the cluster runs at once, when no --chunk is given
MIN_CHUNK, MIN_TEMPORAL_CHUNK = 10, 50


@dataclass(frozen=True)
class Worker:
    """What every task needs besides its chunk: the model and how to run it on the worker."""

    model: str
    device: str = "auto"
    tile_pixels: int | None = None
    threads: int = 1
    precision: str = "auto"


_loaded: dict[tuple, object] = {}  # per worker process: the Stylizer of each model it has run


def _stylizer(worker: Worker):
    key = (worker.model, worker.device, worker.tile_pixels, worker.precision)
    if key not in _loaded:
        from stylereel.device import keep_freed_memory
        from stylereel.render.stylize import Stylizer

        keep_freed_memory()  # a Ray worker process renders frame after frame, as the CLI does

        _loaded.clear()  # one model held at a time
        _loaded[key] = Stylizer(worker.model, device=worker.device, precision=worker.precision, tile_pixels=worker.tile_pixels)
    return _loaded[key]


def render_chunk(worker: Worker, plan: dict, frames: list[int]) -> dict:
    """One task: `frames` of the render `plan` (a `RenderPlan.to_dict`), as they stand on disk now.
    Returns the chunk's report as plain values; a user-fixable error comes back as {"error": ...}."""
    import torch

    from stylereel.errors import StylereelError

    torch.set_num_threads(worker.threads)
    try:
        part = RenderPlan.from_dict(plan).again().part(frames)
        stylizer = _stylizer(worker)
        report = stylizer.run(part)
    except StylereelError as exc:
        return {"error": str(exc)}
    return {"done": report.done, "skipped": report.skipped, "failed": {str(k): v for k, v in report.failed.items()},
            "log": str(report.log) if report.log else None, "log_problem": report.log_problem,
            "worker": f"{os.uname().nodename}:{os.getpid()}",
            "ran": stylizer.ran() if report.done else None}  # a chunk with every frame there already ran nothing


def absolute(plan: RenderPlan, look_map: LookMap | None) -> RenderPlan:
    """The plan with every path absolute (the shot, the outputs, keyframes, region mattes), for workers
    whose working folder is not the driver's."""
    from stylereel.render.plan import make_plan

    source = [str(Path(s).resolve()) for s in plan.source] if isinstance(plan.source, list) else str(Path(plan.source).resolve())
    o = plan.options
    regions = o.regions
    if look_map is not None and regions:
        regions = tuple(spec if r.matte == "alpha" else str(Path(r.matte).resolve()) + spec[len(r.matte):]
                        for spec, r in zip(regions, look_map.regions))
    keyframes = str(Path(o.keyframes).resolve()) if o.keyframes else None
    whole = make_plan(source, plan.destination.path.resolve(), plan.frames, replace(o, keyframes=keyframes, regions=regions))
    return whole.part(plan.render) if plan.render != whole.render else whole


def connect(address: str) -> str:
    """Join the Ray cluster at `address` ("auto": the one this machine belongs to, else a new one on this
    machine alone). Returns what was joined, in words."""
    try:
        import ray
    except ImportError:
        raise RenderError("--ray needs Ray: pip install 'stylereel[scale]'") from None
    if ray.is_initialized():
        return "the Ray cluster already joined"
    quiet = {"log_to_driver": False, "logging_level": "ERROR", "configure_logging": True}
    if address == "auto":
        try:
            ray.init(address="auto", **quiet)
            return "the Ray cluster of this machine"
        except ConnectionError:
            ray.init(**quiet)
            return f"a Ray cluster started on this machine ({int(ray.cluster_resources().get('CPU', 0))} CPUs; `ray start --head` to keep one)"
    host, _, port = address.rpartition(":")
    if not address.startswith("ray://"):  # Ray itself would wait minutes on an address where nothing listens
        try:
            socket.create_connection((host or "127.0.0.1", int(port)), timeout=10).close()
        except ValueError:
            raise RenderError(f"--ray {address}: expected auto or the head's HOST:PORT (e.g. head:6379)") from None
        except OSError as exc:
            raise RenderError(f"--ray {address}: no Ray cluster there ({exc.strerror or exc})") from None
    try:
        ray.init(address=address, **quiet)
    except ConnectionError as exc:
        raise RenderError(f"--ray {address}: could not join the Ray cluster there ({str(exc).splitlines()[0]}); "
                          f"a cluster with token authentication needs {AUTH}") from None
    return f"the Ray cluster at {address}"


def chunk_size(frames: int, slots: int, temporal: bool) -> int:
    """Frames per task when none is asked for: about CHUNKS_PER_SLOT chunks for each task the cluster runs at once
    (an even finish, little lost to a dead worker), but no fewer than MIN_CHUNK frames, or MIN_TEMPORAL_CHUNK under
    `--temporal`, where each chunk first renders 6 frames unwritten and warms the steadied plate on up to 66."""
    least = MIN_TEMPORAL_CHUNK if temporal else MIN_CHUNK
    return max(least, math.ceil(frames / (CHUNKS_PER_SLOT * max(1, slots))))


def render_on_ray(stylizer, plan: RenderPlan, address: str = "auto", chunk: int | None = None, cpus: int = 1, device: str = "auto",
                  precision: str = "auto", say=lambda line: print(line, file=sys.stderr)) -> RenderReport:
    """Render `plan` with `stylizer`'s look on the Ray cluster at `address`, `chunk` frames a task (None: `chunk_size`), each task
    given `cpus` CPUs (threads) and, where the cluster has GPUs and `device` allows ("auto", "cuda"), one GPU. `stylizer`
    is the driver's, for the checks made before any work; workers load the model themselves. `say` hears a
    line per chunk settled."""
    if chunk is not None and chunk < 1:
        raise RenderError(f"--chunk: expected at least 1 frame per task, got {chunk}")
    if cpus < 1:
        raise RenderError(f"--ray-cpus: expected at least 1, got {cpus}")
    if plan.options.both_ways:
        raise RenderError("--both-ways blends each frame with the next one, which a chunk's last frame would not have: render it without --ray")
    plan = absolute(plan, check_run(stylizer, plan.options))
    plan.part([])  # a movie output is refused before the cluster is joined
    say(f"stylereel: rendering on {connect(address)}")
    import ray

    resources = ray.cluster_resources()
    gpus = 1 if device in ("auto", "cuda") and resources.get("GPU", 0) >= 1 else 0
    task = ray.remote(render_chunk).options(num_cpus=cpus, num_gpus=gpus, max_retries=RETRIES, retry_exceptions=False,
                                            name="stylereel.render_chunk")
    slots = int(resources.get("GPU", 0)) if gpus else int(resources.get("CPU", 1) // cpus)
    chunk = chunk or chunk_size(len(plan.render), slots, plan.options.temporal is not None)
    device = "cuda" if gpus else "cpu"
    worker = Worker(str(stylizer.model_dir.resolve()), device, stylizer.engine.tile_pixels, cpus, precision)
    plan = replace(plan, options=replace(plan.options, progress=False))
    report = RenderReport(output=plan.destination.path, skipped=list(plan.skipped),
                          log=plan.destination.log_path if plan.options.log else None)
    started = time.time()
    frames = plan.render
    chunks = [frames[k : k + chunk] for k in range(0, len(frames), chunk)]
    shared = ray.put(plan.to_dict())
    pending = {task.remote(worker, shared, c): c for c in chunks}
    settled = 0
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        ref = ready[0]
        frames_of = pending.pop(ref)
        try:
            result = ray.get(ref)
        except ray.exceptions.RayError as exc:  # the worker died every time it was tried, or the task broke
            why = f"its Ray task failed {RETRIES + 1} times ({type(exc).__name__}: {str(exc).splitlines()[0]})"
            result = {"failed": {str(n): f"frame {n}: {why}" for n in frames_of}}
        if "error" in result:
            for other in pending:
                ray.cancel(other)
            raise RenderError(result["error"])
        # frames written by an attempt whose worker died are "skipped" by the retry: this render made them
        report.done += [n for n in result.get("done", []) + result.get("skipped", []) if n not in report.skipped]
        report.failed.update({int(k): v for k, v in result["failed"].items()})
        report.log_problem = report.log_problem or result.get("log_problem")
        if result.get("ran") and result["ran"] not in report.ran:  # workers on other machines may run other precisions
            report.ran.append(result["ran"])
        settled += len(frames_of)
        say(f"stylereel: frames {format_frames(frames_of)} settled on {result.get('worker', 'no worker')} ({settled}/{len(frames)})")
    report.done.sort()
    report.seconds = time.time() - started
    return report
