"""A corpus of broken files and wrong settings, generated here (nothing is downloaded), each
with what the CLI must do about it: render it correctly (a greyscale or CMYK plate is odd,
not wrong) or refuse it in one line naming the file and the problem, with a documented exit
code, no output file and the input untouched.

Used by tests/test_bad_inputs.py (every case, through the real CLI) and by
bench/reliability.py (the counts in bench/RESULTS.md).
"""

from __future__ import annotations

import os
import shutil
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

DATA = Path(__file__).parent / "data"
TINY = ["--data.size=32", "--data.batch=1", "--data.max_side=64", "--data.style_size=64", "--steps", "1"]


@dataclass
class Case:
    """`build(folder)` writes the bad input(s) under `folder` and returns the CLI arguments
    (strings; `{out}` is replaced by an output path that must not appear on refusal)."""

    name: str
    group: str
    build: Callable[[Path], list[str]]
    needles: tuple[str, ...] = ()  # in the one-line error (empty with expect="render")
    code: int | tuple[int, ...] = 2  # the documented exit code(s) (docs/troubleshooting.md): 2 refused up front,
    # 3 frames failed while rendering (damage a header does not show is found by the decoder)
    expect: str = "error"  # "error", "render" (an output that decodes) or "train" (a model)
    out: str = "out/o.png"  # relative to the case's folder
    extra: dict = field(default_factory=dict)


def photo(h: int = 48, w: int = 64) -> np.ndarray:
    from stylereel.io.frames import read_image

    return cv2.resize(read_image(DATA / "home.png").rgb, (w, h), interpolation=cv2.INTER_AREA)


def _write(path: Path, rgb: np.ndarray | None = None, **kw) -> Path:
    from stylereel.io.frames import write_image

    write_image(path, photo() if rgb is None else rgb, **kw)
    return path


def _cut(path: Path, keep: float) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def _scribble(path: Path, start: int, n: int, seed: int = 0) -> Path:
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(seed)
    data[start : start + n] = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    return path


def png_declaring(path: Path, w: int, h: int) -> Path:
    """A PNG whose header declares w x h RGB pixels (valid CRCs) and holds one row's worth of data."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
    return path


def exr_declaring(path: Path, w: int, h: int) -> Path:
    """A real EXR whose dataWindow and displayWindow are rewritten to w x h."""
    _write(path, sample="half")
    data = bytearray(path.read_bytes())
    for name in (b"dataWindow\0box2i\0", b"displayWindow\0box2i\0"):
        at = data.index(name) + len(name) + 4
        data[at : at + 16] = struct.pack("<iiii", 0, 0, w - 1, h - 1)
    path.write_bytes(bytes(data))
    return path


def dpx_declaring(path: Path, w: int, h: int) -> Path:
    """A real 10-bit DPX whose image header (pixels per line, lines) is rewritten to w x h."""
    _write(path, sample="uint10")
    data = bytearray(path.read_bytes())
    order = ">" if data[:4] == b"SDPX" else "<"
    data[772:780] = struct.pack(order + "II", w, h)
    path.write_bytes(bytes(data))
    return path


def _still(kind: str) -> Callable[[Path], list[str]]:
    """Plates in one of the ways a still can be broken or odd; the plate is `in.EXT`."""
    def build(d: Path) -> list[str]:
        ext, how = kind.split(":")
        p = d / f"in.{ext}"
        sample = {"exr": "half", "dpx": "uint10"}.get(ext)
        if how == "zero":
            p.write_bytes(b"")
        elif how == "truncated":
            _cut(_write(p, sample=sample), 0.5)
        elif how == "header":
            _write(p, sample=sample)
            _scribble(p, {"png": 12, "jpg": 2, "tif": 4, "exr": 8, "dpx": 768}[ext], 24)
        elif how == "huge":
            {"png": png_declaring, "exr": exr_declaring, "dpx": dpx_declaring}[ext](p, 200_000, 150_000)
        elif how == "text":
            p.write_text("this is not a picture\n")
        return ["stylize", "--look", "ink", str(p), "-o", "{out}"]
    return build


def _odd_still(kind: str) -> Callable[[Path], list[str]]:
    """Plates that are unusual but valid: they must render."""
    def build(d: Path) -> list[str]:
        rgb = photo()
        if kind == "grey":
            p = d / "in.png"
            cv2.imwrite(str(p), (rgb[..., 1] * 255).astype(np.uint8))
        elif kind == "grey_alpha":
            from PIL import Image

            p = d / "in.png"
            la = np.stack([(rgb[..., 1] * 255).astype(np.uint8), np.full(rgb.shape[:2], 200, np.uint8)], -1)
            Image.fromarray(la, "LA").save(p)
        elif kind == "cmyk_jpeg":
            from PIL import Image

            p = d / "in.jpg"
            Image.fromarray((rgb * 255).astype(np.uint8)).convert("CMYK").save(p, quality=95)
        elif kind == "16bit_png":
            p = _write(d / "in.png", rgb, bit_depth=16)
        elif kind == "float_exr_over_one":
            p = _write(d / "in.exr", rgb * 8, sample="float")
        else:  # rgba tiff
            p = _write(d / "in.tif", rgb, alpha=np.linspace(0, 1, rgb.shape[1], dtype=np.float32)[None].repeat(rgb.shape[0], 0))
        return ["stylize", "--look", "ink", str(p), "-o", "{out}"]
    return build


def tiff_with_channels(path: Path, img: np.ndarray) -> Path:
    """An uncompressed 8-bit TIFF of any channel count (OpenCV and Pillow write at most 4)."""
    h, w, c = img.shape
    pixels = np.ascontiguousarray(img, np.uint8).tobytes()
    bits_at, data_at = 8, 8 + 2 * c
    tags = [(256, 3, 1, w), (257, 3, 1, h), (258, 3, c, bits_at), (259, 3, 1, 1), (262, 3, 1, 2), (273, 4, 1, data_at),
            (277, 3, 1, c), (278, 3, 1, h), (279, 4, 1, len(pixels)), (284, 3, 1, 1), (338, 3, c - 3, 0)]
    ifd = struct.pack("<H", len(tags)) + b"".join(
        struct.pack("<HHI", t, k, n) + (struct.pack("<HH", v, 0) if k == 3 and n <= 2 else struct.pack("<I", v))
        for t, k, n, v in tags) + struct.pack("<I", 0)
    head = b"II*\0" + struct.pack("<I", data_at + len(pixels))
    path.write_bytes(head + struct.pack(f"<{c}H", *[8] * c) + pixels + ifd)
    return path


def _many_channels(d: Path) -> list[str]:
    img = np.zeros((48, 64, 5), np.uint8)
    img[..., :3] = (photo() * 255).astype(np.uint8)
    return ["stylize", "--look", "ink", str(tiff_with_channels(d / "in.tif", img)), "-o", "{out}"]


def _float_tiff(d: Path) -> list[str]:
    p = d / "in.tif"
    cv2.imwrite(str(p), photo()[..., ::-1].copy())
    return ["stylize", "--look", "ink", str(p), "-o", "{out}"]


def _exr_with(value: float) -> Callable[[Path], list[str]]:
    def build(d: Path) -> list[str]:
        import OpenEXR

        rgb = photo()
        rgb[5:9, 7:11] = value
        p = d / "in.exr"
        with OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}, {"RGB": rgb}) as f:
            f.write(str(p))
        return ["stylize", "--look", "ink", str(p), "-o", "{out}"]
    return build


def _not_a_file(kind: str) -> Callable[[Path], list[str]]:
    def build(d: Path) -> list[str]:
        p = d / "in.png"
        if kind == "directory":
            p.mkdir()
        elif kind == "dangling":
            p.symlink_to(d / "gone.png")
        elif kind == "gif":
            p = d / "in.gif"
            p.write_bytes(b"GIF89a" + b"\0" * 20)
        elif kind == "unreadable":
            _write(p)
            p.chmod(0)
        elif kind == "png_named_exr":
            _write(d / "real.png")
            p = d / "in.exr"
            shutil.copy(d / "real.png", p)
        return ["stylize", "--look", "ink", str(p), "-o", "{out}"]
    return build


def _sequence(kind: str) -> Callable[[Path], list[str]]:
    def build(d: Path) -> list[str]:
        for n in range(1, 6):
            rgb = photo(24 if (kind == "mixed" and n == 4) else 48, 64)
            _write(d / f"plate.{n:04d}.exr", rgb, sample="half")
        if kind == "missing":
            (d / "plate.0003.exr").unlink()
        elif kind == "truncated_frame":
            _cut(d / "plate.0003.exr", 0.4)
        return ["stylize", "--look", "ink", str(d / "plate.####.exr"), "-o", "{out}"]
    return build


def movie(path: Path, frames: int = 12, codec: str = "libx264") -> Path:
    import av

    with av.open(str(path), "w") as c:
        s = c.add_stream(codec, rate=24)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        for i in range(frames):
            img = (np.roll(photo(), 2 * i, axis=1) * 255).astype(np.uint8)
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def _movie(kind: str) -> Callable[[Path], list[str]]:
    def build(d: Path) -> list[str]:
        p = d / "clip.mp4"
        if kind == "zero":
            p.write_bytes(b"")
        elif kind == "truncated":
            _cut(movie(p), 0.5)
        elif kind == "text":
            p = d / "clip.mov"
            p.write_text("not a movie\n")
        elif kind in ("broken_packets", "broken_mkv"):  # damage in the middle of the stream, the index intact
            p = d / ("clip.mp4" if kind == "broken_packets" else "clip.mkv")
            movie(p, frames=24)
            data = p.read_bytes()
            start = data.index(b"mdat") + 8 if p.suffix == ".mp4" else len(data) // 2  # (an MKV cluster is lost whole)
            span = len(data) * 4 // 5 - start
            for k in range(5):
                _scribble(p, start + span * k // 5, 60, seed=k)
        return ["stylize", "--look", "ink", str(p), "-o", "{out}"]
    return build


def _model(kind: str) -> Callable[[Path], list[str]]:
    """A copy of the shipped single-look model folder (starry_night), damaged."""
    def build(d: Path) -> list[str]:
        from stylereel.looks import look_dir

        m = d / "model"
        shutil.copytree(look_dir("starry_night"), m)  # a single-look model
        weights = next(m.glob("*.safetensors"))
        if kind == "truncated_weights":
            _cut(weights, 0.5)
        elif kind == "garbage_weights":
            weights.write_bytes(os.urandom(4096))
        elif kind == "garbage_json":
            (m / "model.json").write_text("{ not json")
        elif kind == "no_weights":
            weights.unlink()
        elif kind == "other_architecture":  # the multi-look model's weights under the ink look's description
            shutil.copy(look_dir("ink") / "generator.safetensors", weights)  # ink lives in the multi-look model
        return ["stylize", str(m), str(_write(d / "in.png")), "-o", "{out}"]
    return build


def _training(kind: str) -> Callable[[Path], list[str]]:
    def build(d: Path) -> list[str]:
        content, style = d / "content", DATA / "starry_night.png"
        content.mkdir()
        if kind == "black_content":
            for i in range(3):
                _write(content / f"{i}.png", np.zeros((48, 64, 3), np.float32))
        elif kind == "one_pixel_content":
            _write(content / "dot.png", np.full((1, 1, 3), 0.5, np.float32))
        elif kind == "one_pixel_style":
            _write(content / "a.png")
            style = _write(d / "style.png", np.full((1, 1, 3), 0.5, np.float32))
        elif kind == "flat_style":
            _write(content / "a.png")
            style = _write(d / "style.png", np.full((64, 64, 3), 0.2, np.float32))
        elif kind == "movie_style":
            _write(content / "a.png")
            style = movie(d / "style.mp4")
        elif kind == "huge_image":
            _write(content / "a.png")
            png_declaring(content / "b.png", 120_000, 90_000)
        elif kind == "larger_than_memory":  # 400 frames of 6K: 400 x 6144^2 x 3 floats after loading
            for i in range(400):
                png_declaring(content / f"f{i:03d}.png", 6144, 6144)
            return ["train", "--content", str(content), "--style", str(style), "--out", "{out}", "--data.max_side=8192",
                    "--data.size=32", "--steps", "1"]
        return ["train", "--content", str(content), "--style", str(style), "--out", "{out}", *TINY]
    return build


def _resume_other_architecture(d: Path) -> list[str]:
    """A run whose resume state was saved by another kind of run (a multi-look model)."""
    import subprocess
    import sys

    pairs = d / "pairs"
    _write(pairs / "input" / "a.png")
    _write(pairs / "target" / "a.png", photo()[..., ::-1].copy())
    for name, args in {"a": ["--content", str(_write(d / "c.png")), "--style", str(DATA / "starry_night.png")],
                       "b": ["--look", f"x={pairs}", "--look", f"y={pairs}"]}.items():
        r = subprocess.run([sys.executable, "-m", "stylereel.cli", "train", *args, "--out", str(d / name), *TINY],
                           capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError(r.stderr)
    shutil.copy(d / "b" / "checkpoints" / "state.pt", d / "a" / "checkpoints" / "state.pt")
    return ["train", "--out", str(d / "a"), "--resume", "--steps", "2"]


def _settings(args: list[str]) -> Callable[[Path], list[str]]:
    def build(d: Path) -> list[str]:
        return [a.format(plate=_write(d / "in.png")) for a in args]
    return build


def corpus() -> list[Case]:
    stills = []
    for ext in ("png", "jpg", "tif", "exr", "dpx"):
        stills += [Case(f"{ext} zero bytes", "still", _still(f"{ext}:zero"), ("in." + ext, "empty file")),
                   Case(f"{ext} truncated", "still", _still(f"{ext}:truncated"), ("in." + ext,), code=(2, 3)),
                   Case(f"{ext} corrupt header", "still", _still(f"{ext}:header"), ("in." + ext,), code=(2, 3)),
                   Case(f"{ext} text file", "still", _still(f"{ext}:text"), ("in." + ext,))]
    for ext in ("png", "exr", "dpx"):
        stills.append(Case(f"{ext} absurd declared size", "still", _still(f"{ext}:huge"),
                           ("in." + ext, "200000x150000", "memory")))
    odd = [Case(f"{k} renders", "odd still", _odd_still(k), expect="render", code=0)
           for k in ("grey", "grey_alpha", "cmyk_jpeg", "16bit_png", "float_exr_over_one", "rgba_tiff")]
    unreadable = [] if os.geteuid() == 0 else [  # root reads through file modes
        Case("unreadable file", "path", _not_a_file("unreadable"), ("in.png", "permission denied"))]
    return stills + odd + unreadable + [
        Case("NaN in EXR", "still", _exr_with(float("nan")), ("in.exr", "NaN"), code=3),
        Case("Inf in EXR", "still", _exr_with(float("inf")), ("in.exr", "infinite"), code=3),
        Case("folder named like a frame", "path", _not_a_file("directory"), ("in.png", "directory")),
        Case("dangling link", "path", _not_a_file("dangling"), ("in.png",)),
        Case("unsupported format", "path", _not_a_file("gif"), ("in.gif", "unsupported extension")),
        Case("PNG named .exr renders as the PNG it is", "path", _not_a_file("png_named_exr"), expect="render", code=0),
        Case("5-channel TIFF", "still", _many_channels, ("in.tif", "channel"), code=(2, 3)),
        Case("float TIFF renders", "still", _float_tiff, expect="render", code=0),
        Case("sequence missing a frame", "sequence", _sequence("missing"), ("plate.####.exr", "missing", "3"), out="out/o.####.exr"),
        Case("sequence of mixed sizes", "sequence", _sequence("mixed"), ("plate.####.exr", "4"), out="out/o.####.exr"),
        Case("sequence with a truncated frame", "sequence", _sequence("truncated_frame"), ("plate.0003.exr",), code=3,
             out="out/o.####.exr", extra={"written": 4}),
        Case("movie zero bytes", "movie", _movie("zero"), ("clip.mp4",), out="out/o.mp4"),
        Case("movie truncated", "movie", _movie("truncated"), ("clip.mp4",), out="out/o.mp4"),
        Case("text named .mov", "movie", _movie("text"), ("clip.mov",), out="out/o.mov"),
        # H.264 hides most damage (the decoder conceals it): frames that decode are rendered, any that do not are named.
        Case("movie with broken packets", "movie", _movie("broken_packets"), ("clip.mp4",), code=(0, 3), out="out/o.####.png",
             extra={"written_at_least": 12}),
        Case("MKV with broken packets", "movie", _movie("broken_mkv"), ("clip.mkv",), code=(0, 3), out="out/o.####.png",
             extra={"written_at_least": 1}),
        Case("model: truncated weights", "model", _model("truncated_weights"), ("model", "weights")),
        Case("model: garbage weights", "model", _model("garbage_weights"), ("model", "weights")),
        Case("model: garbage model.json", "model", _model("garbage_json"), ("model.json",)),
        Case("model: weights missing", "model", _model("no_weights"), ("model",)),
        Case("model: another architecture's weights", "model", _model("other_architecture"), ("generator.safetensors", "do not match")),
        Case("resume state of another architecture", "model", _resume_other_architecture, ("state.pt",), out="a/checkpoints/none"),
        Case("training: all-black content", "training", _training("black_content"), ("content", "flat"), out="run"),
        Case("training: 1x1 content", "training", _training("one_pixel_content"), ("dot.png", "1x1"), out="run"),
        Case("training: 1x1 style", "training", _training("one_pixel_style"), ("style.png", "1x1"), out="run"),
        Case("training: flat style", "training", _training("flat_style"), ("style.png", "flat"), out="run"),
        # Film frames are a look's reference by design: a movie's frames are the style images.
        Case("training: style is a movie", "training", _training("movie_style"), expect="train", code=0, out="run"),
        Case("training: absurd image", "training", _training("huge_image"), ("b.png", "120000x90000", "memory"), out="run"),
        Case("training: set larger than memory", "training", _training("larger_than_memory"), ("content", "memory"), out="run"),
        Case("setting: frame range", "setting", _settings(["stylize", "--look", "ink", "{plate}", "-o", "{{out}}", "--frames", "5-1x"]),
             ("frame range", "5-1x")),
        Case("setting: strength", "setting", _settings(["stylize", "--look", "ink", "{plate}", "-o", "{{out}}", "--strength", "1.5"]),
             ("--strength",)),
        Case("setting: look typo", "setting", _settings(["stylize", "--look", "inc", "{plate}", "-o", "{{out}}"]), ("did you mean 'ink'",)),
        Case("setting: colour space typo", "setting",
             _settings(["stylize", "--look", "ink", "{plate}", "-o", "{{out}}", "--colorspace-in", "sRBG"]), ("sRBG",)),
        Case("setting: config key typo", "setting",
             _settings(["train", "--content", "{plate}", "--style", "{plate}", "--out", "{{out}}", "--train.stpes=3"]),
             ("did you mean 'steps'",), out="run"),
        Case("setting: depth a format cannot hold", "setting",
             _settings(["stylize", "--look", "ink", "{plate}", "-o", "{{out}}", "--depth", "half"]), ("o.png", "half"),),
    ]


@dataclass
class Outcome:
    case: Case
    code: int
    stderr: str
    problems: list[str]  # empty: handled as it must be

    @property
    def crashed(self) -> bool:
        return "Traceback" in self.stderr or self.code not in (0, 2, 3, 4)


def _snapshot(folder: Path, skip: Path) -> dict[str, bytes]:
    import hashlib

    return {str(p): hashlib.sha256(p.read_bytes()).digest() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.is_symlink() and os.access(p, os.R_OK) and skip not in p.parents and p != skip}


def run_case(case: Case, folder: Path) -> Outcome:
    """Build the case in `folder`, run the installed CLI on it, and list what it did wrong."""
    import subprocess
    import sys

    folder.mkdir(parents=True, exist_ok=True)
    out = folder / case.out
    args = [a.replace("{out}", str(out)) for a in case.build(folder)]
    before = _snapshot(folder, out.parent if "#" in case.out or case.out.startswith("out") else out)
    r = subprocess.run([sys.executable, "-m", "stylereel.cli", *args], capture_output=True, text=True, cwd=folder,
                       env={**os.environ, "COLUMNS": "200"})
    err = r.stderr.strip()
    lines = [ln for ln in err.splitlines() if ln.strip() and "it/s]" not in ln and "frame/s" not in ln]
    problems = []
    if "Traceback" in err:
        problems.append("traceback")
    codes = case.code if isinstance(case.code, tuple) else (case.code,)
    if r.returncode not in codes:
        problems.append(f"exit {r.returncode}, documented {case.code}")
    after = _snapshot(folder, out.parent if "#" in case.out or case.out.startswith("out") else out)
    if any(after.get(k) != v for k, v in before.items()):
        problems.append("an input changed")
    if case.expect == "render":
        problems += _check_rendered(out)
    elif case.expect == "train":
        problems += [] if (out / "model" / "model.json").is_file() else ["no model written"]
    else:
        missing = [n for n in case.needles if n.lower() not in err.lower()]
        if missing and r.returncode:
            problems.append(f"message lacks {missing}")
        if r.returncode in (0, 3):  # rendered what could be: every written frame whole, nothing half-written
            problems += _check_partial(out, case.extra)
        else:
            if len(lines) != 1:
                problems.append(f"{len(lines)} lines on stderr")
            if out.exists() and any(p.is_file() for p in ([out] if out.is_file() else out.rglob("*"))):
                problems.append("output written")
    return Outcome(case, r.returncode, err, problems)


def _check_rendered(out: Path) -> list[str]:
    from stylereel.io.frames import read_image

    if not out.is_file():
        return ["no output"]
    f = read_image(out)
    return [] if np.isfinite(f.rgb).all() and f.rgb.std() > 0.01 else ["output blank or not finite"]


def _check_partial(out: Path, extra: dict) -> list[str]:
    """A render where some frames failed: the others are whole, no temp file is left."""
    from stylereel.io.frames import read_image

    folder = out.parent
    frames = [p for p in folder.glob("*") if p.is_file() and not p.name.startswith(".") and p.suffix != ".json"]
    problems = [f"left behind: {p.name}" for p in folder.glob(".*") if p.is_file()]
    for p in frames:
        try:
            read_image(p)
        except Exception as exc:  # noqa: BLE001
            problems.append(f"{p.name} does not decode: {exc}")
    want = extra.get("written")
    if want is not None and len(frames) != want:
        problems.append(f"{len(frames)} frames written, expected {want}")
    if len(frames) < extra.get("written_at_least", 0):
        problems.append(f"only {len(frames)} frames written")
    return problems
