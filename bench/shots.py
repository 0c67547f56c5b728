"""Shot throughput: a 1080p EXR sequence and a 1080p movie rendered through
`stylereel stylize` (decode, colour, network, colour, encode, with the reader and
writer threads beside the network) against the network's own frame rate on the
same frames, and peak memory; plus a 4K float EXR sequence.

    python bench/shots.py --data DATA_DIR [--frames 24]

Each measurement runs in its own process (peak memory is that process's maximum
resident set size). The network alone: `Stylizer` on frames already decoded and
in the working encoding, one after another. Each step around the network is also
timed alone, in CPU time as well as wall time: where the network keeps every core
busy, the steps' CPU time bounds how close a render can come to the network's
frame rate (the "ceiling" table). Writes bench/RESULTS.md (section "shots").
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import SHIPPED_LOOK as LOOK, write_section  # noqa: E402

def make_plates(photo: Path, folder: Path, frames: int, size: tuple[int, int]) -> dict[str, str]:
    """A slow push-in over a photo: a half-float EXR sequence (scene-linear, ZIP) and an H.264 movie."""
    import cv2
    import OpenEXR

    from stylereel.io.color import SRGB, convert
    from stylereel.io.frames import read_image
    from stylereel.io.video import MovieWriter

    w, h = size
    src = read_image(photo).rgb
    folder.mkdir(parents=True, exist_ok=True)
    exr = folder / f"plate_{h}p.####.exr"
    movie = folder / f"plate_{h}p.mp4"
    with MovieWriter(movie, w, h, Fraction(24000, 1001), timecode="01:00:00:00") as mw:
        for i in range(frames):
            zoom = 1 + 0.004 * i
            sh, sw = src.shape[:2]
            ch, cw = int(sh / zoom), int(sw / zoom)
            crop = src[(sh - ch) // 2 : (sh + ch) // 2, (sw - cw) // 2 : (sw + cw) // 2]
            frame = cv2.resize(crop, (w, h), interpolation=cv2.INTER_CUBIC).clip(0, 1)
            mw.write(frame)
            lin = convert(frame, SRGB, "ACEScg")
            chans = {c: np.ascontiguousarray(lin[..., k], dtype=np.float16 if h <= 1080 else np.float32) for k, c in enumerate("RGB")}
            with OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}, chans) as f:
                f.write(str(folder / f"plate_{h}p.{1001 + i:04d}.exr"))
    return {"exr": str(exr), "movie": str(movie)}


def worker(kind: str, src: str, out: str, frames: int) -> dict:
    """One measurement in this process: 'network' (Stylizer on decoded frames) or 'render' (the CLI's render path)."""
    from stylereel.device import keep_freed_memory
    from stylereel.render.stylize import Stylizer

    keep_freed_memory()  # as `stylereel stylize` does
    stylizer = Stylizer(LOOK, device="cpu")
    if kind == "network":
        from stylereel.io.color import WorkingEncoding, default_space
        from stylereel.io.media import open_source

        source = open_source(src)
        enc = WorkingEncoding(default_space(source.float_frames))
        inputs = [enc.encode(f.rgb)[0] for _, f, _ in source.frames()]
        stylizer(inputs[0])  # warm-up (graph compilation)
        c0, t0 = _cpu_seconds(), time.perf_counter()
        for x in inputs:
            stylizer(x)
        seconds = time.perf_counter() - t0
        cpu_ms = 1000 * (_cpu_seconds() - c0) / frames
    else:
        from stylereel.io.media import open_source

        stylizer(np.zeros((64, 64, 3), np.float32))  # the same warm-up as the network run
        t0 = time.perf_counter()
        report = stylizer.render(open_source(src), out, overwrite=True)
        seconds = time.perf_counter() - t0
        cpu_ms = None
        assert report.ok and len(report.done) == frames, report.summary()
    return {"fps": frames / seconds, "ms": 1000 * seconds / frames, "cpu_ms": cpu_ms, "peak_mib": _peak_mib()}


def _peak_mib() -> float:
    """This process's peak resident set. Linux carries ru_maxrss across exec, so a worker started by a large
    parent would report the parent's size; VmHWM belongs to this process's own memory."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def stage_costs(stylizer, hd: dict[str, str], out: Path, n: int = 6) -> dict[str, tuple[float, float]]:
    """{step: (wall ms, CPU core-ms)} per 1080p frame of each step around the network, one at a time in this
    process. The writers encode what a render gives them, the
    network's output (a painted frame costs an encoder about twice the plate's CPU), not the plate. An encoder
    is timed with its flush: x264 holds frames back for its lookahead and encodes them there."""
    from stylereel.io.color import WorkingEncoding
    from stylereel.io.frames import read_image, write_image
    from stylereel.io.sequence import Sequence
    from stylereel.io.video import MovieWriter, read_movie

    paths = [Sequence(hd["exr"]).path(1001 + i) for i in range(n)]
    costs = {}

    def timed(name, fn, warm_up=True):
        if warm_up:  # first calls load libraries and build tables; a first pass grows the process's heap to
            [fn(i) for i in range(n)]  # hold n frames (a render's heap has long grown to its frames in flight)
        c0, t0 = _cpu_seconds(), time.perf_counter()
        out_ = [fn(i) for i in range(n)]
        costs[name] = (1000 * (time.perf_counter() - t0) / n, 1000 * (_cpu_seconds() - c0) / n)
        return out_

    frames = timed("read half EXR (ZIP)", lambda i: read_image(paths[i]))
    enc = WorkingEncoding("ACEScg")
    coded = timed("colour in: ACEScg -> working sRGB", lambda i: enc.encode(frames[i].rgb))
    looks = [(stylizer(x), residual) for x, residual in coded]  # what the render's writer is given
    linear = timed("colour out: working sRGB -> ACEScg", lambda i: enc.decode(*looks[i]))
    timed("write half EXR (ZIP)", lambda i: write_image(out / f"w.{i}.exr", linear[i], like=frames[i]))
    movie = iter(read_movie(hd["movie"]))
    rgb = timed("read H.264 frame", lambda i: next(movie)[1])
    painted = np.stack([stylizer(np.clip(x, 0, 1)) for x in rgb])
    for codec in ("h264", "prores_hq"):
        def whole_movie(_, codec=codec):  # n frames and the flush; reported per frame below
            with MovieWriter(out / f"w_{codec}.{'mp4' if codec == 'h264' else 'mov'}", 1920, 1080, Fraction(24), codec=codec) as w:
                for frame in painted:
                    w.write(frame)
        timed(f"write {codec} frame", whole_movie, warm_up=False)  # the H.264 read above loaded FFmpeg
        costs[f"write {codec} frame"] = tuple(v / len(painted) for v in costs[f"write {codec} frame"])
    return costs


# x264 settings on the look's frames: (preset, CRF); the first is what `stylereel.io.video.CODECS` ships.
X264 = [("superfast", "14"), ("veryfast", "15"), ("ultrafast", "13"), ("superfast", "15")]


def x264_settings(stylizer, movie: str, out: Path) -> tuple[int, list[tuple[str, str, float, float, float, float]]]:
    """(frames, [(preset, crf, CPU core-ms per frame with the flush, kB per frame, PSNR in RGB, PSNR of luma)]): each
    X264 setting on the look's frames of the whole `movie` (an encoder's I-frame weighs too much in a few frames),
    against the 8-bit frames the encoder was given."""
    import av

    from stylereel.io import video

    painted = np.stack([stylizer(np.clip(x, 0, 1)) for _, x, _ in video.read_movie(movie)])

    codes = np.rint(np.clip(painted, 0, 1) * 255).astype(np.float32)
    luma = np.array([0.2126, 0.7152, 0.0722], np.float32)
    shipped = video.CODECS["h264"]
    rows = []
    try:
        for preset, crf in X264:
            video.CODECS["h264"] = (shipped[0], shipped[1], {"crf": crf, "preset": preset}, *shipped[3:])
            path = out / f"x264_{preset}_{crf}.mp4"
            c0 = _cpu_seconds()
            with video.MovieWriter(path, painted.shape[2], painted.shape[1], Fraction(24)) as w:
                for frame in painted:
                    w.write(frame)
            cpu = 1000 * (_cpu_seconds() - c0) / len(painted)
            with av.open(str(path)) as c:
                got = np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)]).astype(np.float32)
            psnr = lambda mse: 10 * np.log10(255**2 / mse)  # noqa: E731
            rows.append((preset, crf, cpu, path.stat().st_size / len(painted) / 1e3, psnr(np.mean((got - codes) ** 2)),
                         psnr(np.mean((got @ luma - codes @ luma) ** 2))))
    finally:
        video.CODECS["h264"] = shipped
    return len(painted), rows


CEILINGS = [
    ("1080p half EXR sequence -> EXR sequence", ["read half EXR (ZIP)", "colour in: ACEScg -> working sRGB",
                                                 "colour out: working sRGB -> ACEScg", "write half EXR (ZIP)"]),
    ("1080p H.264 movie -> ProRes 422 HQ movie", ["read H.264 frame", "write prores_hq frame"]),
    ("1080p H.264 movie -> H.264 movie", ["read H.264 frame", "write h264 frame"]),
]


def run_worker(kind: str, src: str, out: str, frames: int) -> dict:
    r = subprocess.run([sys.executable, __file__, "--worker", kind, src, out, str(frames)], capture_output=True, text=True, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path)
    ap.add_argument("--frames", type=int, default=24)
    ap.add_argument("--frames-4k", type=int, default=6)
    ap.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        kind, src, out, frames = args.worker
        print(json.dumps(worker(kind, src, out, int(frames))))
        return
    if args.frames < 2 or args.frames_4k < 1:
        ap.error(f"--frames must be at least 2 and --frames-4k at least 1, got {args.frames} and {args.frames_4k}")

    from stylereel.device import keep_freed_memory

    keep_freed_memory()  # the steps are timed as a render process runs them
    photo = args.data / "photos" / "home.jpg"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        hd = make_plates(photo, tmp / "in", args.frames, (1920, 1080))
        uhd = make_plates(photo, tmp / "in", args.frames_4k, (3840, 2160))
        rows = []
        cases = [
            ("1080p half EXR sequence -> EXR sequence", hd["exr"], str(tmp / "out" / "hd_look.####.exr"), args.frames),
            ("1080p H.264 movie -> ProRes 422 HQ movie", hd["movie"], str(tmp / "out" / "hd_look.mov"), args.frames),
            ("1080p H.264 movie -> H.264 movie", hd["movie"], str(tmp / "out" / "hd_look.mp4"), args.frames),
            ("2160p float EXR sequence -> EXR sequence", uhd["exr"], str(tmp / "out" / "uhd_look.####.exr"), args.frames_4k),
        ]
        from stylereel.render.stylize import Stylizer

        stylizer = Stylizer(LOOK, device="cpu")  # paints the frames the writers are timed on
        costs = stage_costs(stylizer, hd, tmp, min(6, args.frames // 2))  # the H.264 read's warm-up pass takes as many frames as it times
        x264_frames, x264 = x264_settings(stylizer, hd["movie"], tmp)
        networks = {}
        for name, src, out, n in cases:
            key = src.split("_")[-1].split(".")[0]  # 1080p / 2160p
            if key not in networks:
                networks[key] = run_worker("network", hd["exr"] if key == "1080p" else uhd["exr"], "", n)
            net = networks[key]
            got = run_worker("render", src, out, n)
            rows.append((name, n, got, net))
            print(name, got, net, flush=True)

    net_hd = networks["1080p"]
    measured = {name: got["fps"] / net["fps"] for name, _, got, net in rows}

    def ceiling(steps: list[str]) -> float:
        return net_hd["cpu_ms"] / (net_hd["cpu_ms"] + sum(costs[k][1] for k in steps))

    lines = [
        "The shipped Starry Night look on a slow push-in over `photos/home.jpg`: the same frames as a half-float EXR "
        "sequence (scene-linear ACEScg, ZIP) and an H.264 movie (24000/1001); at 2160p a float EXR sequence. "
        "Network alone: the same frames already decoded and in the working encoding, one after another, in one process. "
        "Render: `Stylizer.render` (what `stylereel stylize` runs) in another process, from files to files. "
        "Peak memory: each process's maximum resident set.",
        "",
        "| shot | frames | render fps | network fps | render / network | render peak MiB | network peak MiB |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, n, got, net in rows:
        lines.append(f"| {name} | {n} | {got['fps']:.2f} | {net['fps']:.2f} | {got['fps'] / net['fps']:.2f} | {got['peak_mib']:.0f} | {net['peak_mib']:.0f} |")
    lines += [
        "",
        "Where a frame's time goes: each step around the network, alone, in one process, per 1080p frame: wall "
        "time and CPU time (core-ms: the EXR library and the encoders use threads where cores are idle; an "
        "encoder's flush is included). Reading and colour in take the plate; colour out and the writers take the "
        "look's frames, as in a render (a painted frame costs an encoder about twice the plate's CPU). A render "
        "overlaps these steps with the network, but only cores the network leaves idle make them free.",
        "",
        "| step | wall ms | CPU core-ms |",
        "| --- | --- | --- |",
        *[f"| {k} | {w:.0f} | {c:.0f} |" for k, (w, c) in costs.items()],
        f"| the network (for scale) | {net_hd['ms']:.0f} | {net_hd['cpu_ms']:.0f} |",
        "",
        f"The network alone keeps {net_hd['cpu_ms'] / net_hd['ms']:.2f} of this machine's {os.cpu_count()} cores busy. "
        "Where it keeps them all busy, a render can at best reach network CPU / (network CPU + the steps' CPU) of the "
        "network's frame rate:",
        "",
        "| shot | steps | ceiling (render / network) | measured | of the ceiling |",
        "| --- | --- | --- | --- | --- |",
        *[f"| {name} | {' + '.join(steps)} | {ceiling(steps):.2f} | {measured[name]:.2f} | {measured[name] / ceiling(steps):.0%} |"
          for name, steps in CEILINGS],
        "",
        f"H.264 settings on the look's frames ({x264_frames} frames of the push-in; PSNR against the 8-bit frames the "
        "encoder was given, in RGB after 4:2:0 and in luma alone). The first row is what `stylereel.io.video` ships:",
        "",
        "| preset | CRF | CPU core-ms per frame | kB per frame | PSNR dB | luma PSNR dB |",
        "| --- | --- | --- | --- | --- | --- |",
        *[f"| {p} | {c} | {cpu:.0f} | {kb:.0f} | {rgb:.2f} | {y:.2f} |" for p, c, cpu, kb, rgb, y in x264],
    ]
    write_section("shots", "Shots: render throughput against the network's own", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
