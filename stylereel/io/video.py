"""Movies through PyAV (FFmpeg): read mp4/mov/avi/mkv, write H.264 mp4 and ProRes mov.

Frames are numbered from 1 by their time in the movie at its average rate (as Nuke and
FFmpeg number them): a frame the movie stores no picture for (an AVI's empty chunk, as
capture tools write for a frame that did not change) shows the picture before it, held,
as a player shows it. (A variable-rate MOV/MP4, whose average rate is below the rate its
timestamps are on, gets fewer frames than a player shows: not handled yet.)
The frame rate (exact, e.g. 24000/1001), the start timecode and the audio go
from an input movie to the output: audio packets are copied, never re-encoded.
A packet the decoder rejects costs that frame only: it is reported by number
and the rest of the movie still decodes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from stylereel.errors import StylereelError
from stylereel.io.atomic import temp_path

MOVIE_EXTENSIONS = (".mp4", ".mov", ".avi", ".mkv", ".m4v", ".mxf")
WRITE_EXTENSIONS = (".mp4", ".mov")
# codec name -> (FFmpeg encoder, pixel format, encoder options, containers, has alpha)
CODECS = {
    # CPU per 1080p frame of a look's output, the encoder's flush included (bench/shots.py, "shots" in
    # bench/RESULTS.md): libx264 at preset superfast, CRF 14 ~57 core-ms, the PSNR of veryfast at CRF 15 (which took
    # ~92; preset fast, CRF 16 more still) for ~9% more bytes: on 2 cores the encoder's CPU is taken from the
    # network's. FFmpeg's native ProRes encoder ("prores_aw") ~60 against prores_ks' ~168, at a higher PSNR (56.3
    # vs 54.4 dB) for 14% more bytes, with the same profile tags (apch, ap4h).
    "h264": ("libx264", "yuv420p", {"crf": "14", "preset": "superfast"}, (".mp4", ".mov"), False),
    "prores_hq": ("prores_aw", "yuv422p10le", {"profile": "3", "vendor": "apl0"}, (".mov",), False),
    "prores_4444": ("prores_aw", "yuva444p10le", {"profile": "4", "vendor": "apl0"}, (".mov",), True),
}
DEFAULT_CODEC = {".mp4": "h264", ".mov": "prores_hq"}


class MovieError(StylereelError):
    pass


def is_movie(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in MOVIE_EXTENSIONS


@dataclass
class MovieInfo:
    path: str
    width: int
    height: int
    fps: Fraction
    frame_count: int | None  # from the container; None where it does not say
    timecode: str | None
    has_alpha: bool
    has_audio: bool
    codec: str
    metadata: dict = field(default_factory=dict)


def probe_movie(path: str | os.PathLike) -> MovieInfo:
    import av

    p = Path(path)
    if not p.is_file():
        raise MovieError(f"{p}: no such movie file")
    try:
        with av.open(str(p)) as c:
            if not c.streams.video:
                raise MovieError(f"{p}: no video stream")
            vs = c.streams.video[0]
            cc = vs.codec_context
            fps = vs.average_rate or vs.guessed_rate or vs.base_rate
            timecode = vs.metadata.get("timecode") or c.metadata.get("timecode")
            for s in c.streams:
                timecode = timecode or s.metadata.get("timecode")
            fmt = cc.pix_fmt or ""
            return MovieInfo(str(p), cc.width, cc.height, Fraction(fps) if fps else Fraction(24), _frames_by_time(vs, fps) or _count_frames(c, vs, fps), timecode,
                             "a" in fmt.replace("gray", "").split("p")[0] or fmt.startswith(("yuva", "gbrap", "rgba", "bgra", "argb")),
                             bool(c.streams.audio), cc.name, dict(c.metadata))
    except MovieError:
        raise
    except Exception as exc:  # noqa: BLE001 - FFmpeg raises many types; one line names the file
        raise MovieError(f"{p}: not a readable movie ({' '.join(str(exc).split())})") from None


def _frames_by_time(stream, fps) -> int:
    """Frames a stream's header counts, or its duration holds at its rate if that is more (a
    variable-rate stream stores fewer pictures than it shows)."""
    n = stream.frames or 0
    if stream.duration and stream.time_base and fps:
        n = max(n, round(stream.duration * stream.time_base * Fraction(fps)))
    return n


def _count_frames(container, stream, fps) -> int | None:
    """Frames in a stream whose container does not count them (Matroska, some AVIs): its
    packets, demuxed without decoding, or what its duration says if that is more (damage
    can stop the demuxer early: the frames past it must show as missing, not vanish)."""
    n = 0
    try:
        for packet in container.demux(stream):
            n += packet.size > 0
    except Exception:  # noqa: BLE001 - damage past some point: what demuxed so far stands
        pass
    if container.duration and fps:
        n = max(n, round(container.duration / 1_000_000 * fps))
    return n or None


def read_movie(path: str | os.PathLike, frames: set[int] | None = None, errors: list | None = None) -> Iterator[tuple[int, np.ndarray, np.ndarray | None]]:
    """Yield (frame number from 1, RGB float32 [H, W, 3] in [0, 1], alpha float32 or None) in order.

    A frame's number is its presentation time at the stream's rate; numbers between two
    pictures hold the earlier one. `frames`: only these numbers (decoding stops after the
    last). Frames the decoder cannot make are appended to `errors` as (number, message)
    and skipped, never filled by a hold; nor are numbers after the last picture."""
    import av

    info = probe_movie(path)
    last = max(frames) if frames else None
    with av.open(str(path)) as c:
        pix = c.streams.video[0].codec_context.pix_fmt or ""
    deep = info.has_alpha or any(tag in pix for tag in ("10", "12", "16", "p9", "f32"))
    fmt, scale = ("rgba64le" if info.has_alpha else "rgb48le", 65535) if deep else ("rgb24", 255)

    def arrays(frame):
        a = frame.to_ndarray(format=fmt).astype(np.float32)
        a *= np.float32(1 / scale)  # in place: one fresh 25 MB array a 1080p frame, not two
        return np.ascontiguousarray(a[..., :3]), (np.ascontiguousarray(a[..., 3]) if info.has_alpha else None)

    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        vs.thread_type = "SLICE"  # frame threading reports a bad packet frames late, at whatever moment its thread is done: not reproducible
        origin = vs.start_time

        def number_of(pts, time_base, n: int) -> int:
            """The frame number at `pts`, never before the one after `n` (a stream faster than its
            average rate keeps every picture)."""
            nonlocal origin
            if pts is None or time_base is None:
                return n + 1
            origin = pts if origin is None else origin
            return max(n + 1, round((pts - origin) * time_base * info.fps) + 1)

        n, held = 0, None  # the last number given out or failed; the picture shown until the next
        for packet in c.demux(vs):
            try:
                decoded = packet.decode()
            except av.FFmpegError as exc:
                n, held = number_of(packet.pts, packet.time_base, n), None
                if errors is not None and (frames is None or n in frames):
                    errors.append((n, f"undecodable packet ({' '.join(str(exc).split())})"))
                if last is not None and n >= last:
                    return
                continue
            for frame in decoded:
                number = number_of(frame.pts, frame.time_base, n)
                for k in range(n + 1, number) if held is not None else ():
                    if last is not None and k > last:
                        return
                    if frames is None or k in frames:
                        yield (k, *arrays(held))
                if last is not None and number > last:
                    return
                n, held = number, frame
                if frames is None or n in frames:
                    yield (n, *arrays(frame))
                if last is not None and n >= last:
                    return


def timecode_at(start: str, frames: int, fps: Fraction) -> str:
    """`start` moved on by `frames` (non-drop-frame arithmetic at the rounded rate; a ';' drop-frame
    timecode is shifted the same way and keeps its separator)."""
    sep = ";" if ";" in start else ":"
    hh, mm, ss, ff = (int(x) for x in start.replace(";", ":").split(":"))
    base = round(fps)
    total = ((hh * 60 + mm) * 60 + ss) * base + ff + frames
    ff, total = total % base, total // base
    ss, total = total % 60, total // 60
    mm, hh = total % 60, (total // 60) % 24
    return f"{hh:02d}:{mm:02d}:{ss:02d}{sep}{ff:02d}"


class MovieWriter:
    """Encode frames to `path` (a temp file beside it, renamed into place by `close`).

    >>> with MovieWriter("out.mov", 1920, 1080, Fraction(24000, 1001), timecode="01:00:00:00", audio_from="plate.mov") as w:
    ...     w.write(rgb)            # float [H, W, 3] in [0, 1] (+ alpha for prores_4444)
    """

    def __init__(self, path: str | os.PathLike, width: int, height: int, fps: Fraction, codec: str | None = None,
                 timecode: str | None = None, audio_from: str | os.PathLike | None = None, alpha: bool = False):
        import av

        self.path = Path(path)
        ext = self.path.suffix.lower()
        if ext not in WRITE_EXTENSIONS:
            raise MovieError(f"{self.path}: movies are written as {' or '.join(WRITE_EXTENSIONS)}")
        codec = codec or ("prores_4444" if alpha and ext == ".mov" else DEFAULT_CODEC[ext])
        if codec not in CODECS:
            raise MovieError(f"{self.path}: unknown codec {codec!r} (choose from {', '.join(CODECS)})")
        encoder, self.pix_fmt, options, containers, self.alpha = CODECS[codec]
        if ext not in containers:
            raise MovieError(f"{self.path}: {codec} goes in {' or '.join(containers)} files")
        if codec == "h264" and (width % 2 or height % 2):
            raise MovieError(f"{self.path}: H.264 (4:2:0) needs an even width and height, got {width}x{height}; use a .mov (ProRes)")
        self.codec, self.size, self.fps = codec, (width, height), Fraction(fps)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = temp_path(self.path)
        self._out = av.open(str(self.tmp), "w")
        self._video = self._out.add_stream(encoder, rate=self.fps)
        self._video.width, self._video.height, self._video.pix_fmt = width, height, self.pix_fmt
        self._video.options = dict(options)
        if codec == "h264":  # tag the stream as what it is: sRGB-encoded Rec.709 primaries, limited range
            self._video.codec_context.color_primaries = 1
            self._video.codec_context.color_trc = 13
            self._video.codec_context.colorspace = 1
        if timecode:
            self._video.metadata["timecode"] = timecode
        self._audio_in = self._audio = None
        self._audio_packets = iter(())
        self._pending = None
        if audio_from is not None:
            src = av.open(str(audio_from))
            if src.streams.audio:
                self._audio_in = src
                self._audio = self._out.add_stream_from_template(src.streams.audio[0])
                self._audio_packets = (p for p in src.demux(src.streams.audio[0]) if p.dts is not None)
            else:
                src.close()
        self.frames = 0
        self._scratch = self._codes = None

    def write(self, rgb: np.ndarray, alpha: np.ndarray | None = None) -> None:
        import av

        h, w = rgb.shape[:2]
        if (w, h) != self.size:
            raise MovieError(f"{self.path}: frame {self.frames + 1} is {w}x{h}, the movie is {self.size[0]}x{self.size[1]}")
        # Into integer codes through buffers kept from frame to frame (fresh 25 MB arrays cost page faults every frame)
        eight = self.pix_fmt == "yuv420p"  # an 8-bit codec: 8-bit RGB in is exact and half the conversion work
        channels = 3 + (self.alpha and not eight)
        if self._scratch is None or self._scratch.shape != (h, w, channels):
            self._scratch = np.empty((h, w, channels), np.float32)
            self._codes = np.empty((h, w, channels), np.uint8 if eight else np.uint16)
        a, top = self._scratch, 255 if eight else 65535
        np.multiply(rgb, top, out=a[..., :3])
        if channels == 4:
            np.multiply(alpha if alpha is not None else 1, top, out=a[..., 3])
        np.clip(a, 0, top, out=a)
        np.rint(a, out=a)
        np.copyto(self._codes, a, casting="unsafe")
        fmt = "rgb24" if eight else "rgba64le" if self.alpha else "rgb48le"
        frame = av.VideoFrame.from_ndarray(self._codes, format=fmt)
        frame.pts = self.frames
        for packet in self._video.encode(frame):
            self._out.mux(packet)
        self.frames += 1
        self._mux_audio_until(self.frames / self.fps)

    def _mux_audio_until(self, seconds: float | None) -> None:
        """Copy the input's audio packets up to `seconds` (all of them for None), interleaved with the picture."""
        if self._audio is None:
            return
        while True:
            p = self._pending if self._pending is not None else next(self._audio_packets, None)
            if p is None:
                return
            if seconds is not None and p.dts * p.time_base > seconds:
                self._pending = p
                return
            self._pending = None
            p.stream = self._audio
            self._out.mux(p)

    def close(self) -> Path:
        """Flush, finish the file and rename it into place."""
        for packet in self._video.encode():
            self._out.mux(packet)
        self._mux_audio_until(None)
        self._out.close()
        if self._audio_in is not None:
            self._audio_in.close()
        os.replace(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        try:
            self._out.close()
        except Exception:  # noqa: BLE001 - the file is being thrown away
            pass
        if self._audio_in is not None:
            self._audio_in.close()
        self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> "MovieWriter":
        return self

    def __exit__(self, exc_type, *_) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
