"""A network that does not flicker by itself: the default unpaired look trained with and
without the `stability` term (Eilertsen et al. 2019), same steps and seed, rendered
frame by frame on a real shot (no `--temporal`).

    python bench/studies/stability.py --data DATA_DIR [--steps 500] [--weights 5 20]

Warping error (Lai et al. 2018) on the decodable frames of video/tree.avi; style and
content distance on the held-out photos (`stylereel eval`'s metrics), so steadiness is
not bought by washing out the look. Writes bench/RESULTS.md (section "stability").
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.results import HELD_OUT, photo_split, write_section  # noqa: E402
from stylereel import Trainer, build_config  # noqa: E402
from stylereel.data.images import load_images  # noqa: E402
from stylereel.io.media import open_source  # noqa: E402
from stylereel.metrics.style import StyleMetrics  # noqa: E402
from stylereel.metrics.temporal import warping_errors  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--weights", type=float, nargs="+", default=[5.0, 20.0])
    args = ap.parse_args()

    train, held = photo_split(args.data, HELD_OUT)
    style = args.data / "styles" / "starry_night.jpg"
    frames = []
    for _, f, _ in open_source(str(args.data / "video" / "tree.avi")).frames():
        if f is None:
            break  # the container counts more frames than its stream decodes
        frames.append(f.rgb)
    metrics = StyleMetrics.from_images(load_images([style], exact_side=512, trim=0.03))
    photos = [load_images([p], max_side=384)[0][None] for p in held]
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1)[None]  # noqa: E731

    rows = []
    for w in [0.0] + list(args.weights):
        cfg = build_config(content=train, style=[style], steps=args.steps, overrides=[f"loss.stability.weight={w}"] if w else [])
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.monotonic()
            trainer = Trainer(cfg, tmp)
            trainer.fit()
            seconds = time.monotonic() - t0
        G = trainer.G_ema.eval()
        with torch.no_grad():
            outs = [G(t(f)).clamp(0, 1)[0].permute(1, 2, 0).numpy() for f in frames]
            ms = [metrics(G(x).clamp(0, 1), x) for x in photos]
        rows.append((w, float(np.mean(warping_errors(frames, outs))), np.mean([m["style_distance"] for m in ms]),
                     np.mean([m["content_distance"] for m in ms]), args.steps / seconds))
        print(rows[-1], flush=True)

    base = rows[0]
    lines = [
        f"The default unpaired Starry Night objective, {args.steps} steps from the same seed on the training photos, with the "
        "`stability` term at each weight (0: today's default). Warping error: `video/tree.avi`'s "
        f"{len(frames)} decodable frames rendered frame by frame. Style and content distance: held-out {', '.join(HELD_OUT)} at 384 px.",
        "",
        "| stability weight | warping error | vs default | style distance | content distance | steps/s |",
        "| --- | --- | --- | --- | --- | --- |",
        *[f"| {w:g} | {we:.5f} | {we / base[1]:.2f}x | {sd:.3f} | {cd:.3f} | {sps:.2f} |" for w, we, sd, cd, sps in rows],
    ]
    write_section("stability", "A stable network: the stability term, frame by frame", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
