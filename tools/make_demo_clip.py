"""Cut the sample clip bundled in the package (`stylereel demo` renders it) from OpenCV's
sample shot `video/tree.avi` (Apache-2.0 AND BSD-3-Clause, see stylereel/assets/LICENSES.md):
its first FRAMES decodable frames, 320x240 at the shot's 15 fps, as H.264 through
stylereel's own movie writer.

    python tools/make_demo_clip.py --data DATA_DIR

Writes stylereel/assets/demo/clip/tree.mp4.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stylereel.io.media import open_source  # noqa: E402
from stylereel.io.video import MovieWriter  # noqa: E402

FRAMES = 48


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=ROOT / "stylereel" / "assets" / "demo" / "clip" / "tree.mp4")
    args = ap.parse_args()
    source = open_source(f"{args.data / 'video' / 'tree.avi'}:1-{FRAMES}")
    w, h = source.size
    with MovieWriter(args.out, w, h, source.fps, codec="h264") as movie:
        for _, frame, problem in source.frames():
            if frame is None:
                raise SystemExit(f"{source.path}: {problem}")
            movie.write(frame.rgb)
    print(f"{args.out}: {FRAMES} frames, {w}x{h} at {source.fps} fps, {args.out.stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
