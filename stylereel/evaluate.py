"""`stylereel eval`: score a model on held-out images (the requirements' PSNR/SSIM test-set check).

Paired looks: PSNR and SSIM of the model's output against the painted targets.
Unpaired looks: Gram style distance to the look's style images and content
distance to the input (see `stylereel.metrics.style`).
Both write a contact sheet so the numbers can be checked by eye.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from stylereel.data.images import SHOT_FRAMES, frame_tensor, load_images, load_pairs, resize_longer_side
from stylereel.errors import StylereelError
from stylereel.io.media import read_frames
from stylereel.metrics.image import psnr, ssim
from stylereel.metrics.style import StyleMetrics
from stylereel.model import ModelError, load_style_grams, model_trunk
from stylereel.render.contact_sheet import write_contact_sheet
from stylereel.render.stylize import Stylizer


def _np(t: torch.Tensor) -> np.ndarray:
    return t[0].permute(1, 2, 0).cpu().numpy()


def _mean(rows: list[dict], keys: Sequence[str]) -> dict[str, float]:
    return {k: float(np.mean([r[k] for r in rows])) for k in keys}


def evaluate_pairs(stylizer: Stylizer, pairs_dir: str | Path, max_side: int | None = None) -> tuple[dict, list]:
    names, xs, ys = load_pairs(pairs_dir, max_side)
    rows, sheet = [], []
    for name, x, y in zip(names, xs, ys):
        out = stylizer.tensor(x[None])
        rows.append({"name": name, "psnr": psnr(out, y[None]), "ssim": ssim(out, y[None])})
        sheet.append([_np(x[None]), _np(out), _np(y[None])])
    return {"mode": "paired", "count": len(rows), **_mean(rows, ["psnr", "ssim"]), "images": rows}, sheet


def evaluate_unpaired(stylizer: Stylizer, content: Sequence[str | Path], style: Sequence[str | Path] | None, size: int) -> tuple[dict, list]:
    if style:
        data = stylizer.info.get("config", {}).get("data", {})
        looks = load_images(style, exact_side=data.get("style_size", 512), trim=data.get("style_trim", 0.0))  # as training saw them
        metrics = StyleMetrics.from_images(looks, stylizer.device, model_trunk(stylizer.info))
    else:
        saved = load_style_grams(stylizer.model_dir)
        if saved is None:
            raise ModelError(f"{stylizer.model_dir}: model has no style Grams; pass --style IMAGES")
        metrics = StyleMetrics(saved[0], stylizer.device, saved[1])
    rows, sheet = [], []
    for frame in (f for item in content for f in read_frames(item, limit=SHOT_FRAMES)):
        x = resize_longer_side(frame_tensor(frame), size)[None]
        out = stylizer.tensor(x)
        rows.append({"name": Path(frame.path).name, **metrics(out, x)})
        sheet.append([_np(x), _np(out)])
    return {"mode": "unpaired", "count": len(rows), **_mean(rows, ["style_distance", "content_distance"]), "images": rows}, sheet


def evaluate_temporal(inputs: str, outputs: str, plot_path: str | Path | None = None) -> dict:
    """Warping error (Lai et al. 2018) of a rendered shot against the shot it was rendered from,
    per consecutive pair and overall; `plot_path`: a PNG of the per-frame curve."""
    from stylereel.io.working import to_working
    from stylereel.io.media import open_source
    from stylereel.metrics.temporal import plot_errors, warping_errors

    src, out = open_source(inputs), open_source(outputs)
    if len(src) != len(out):
        raise StylereelError(f"{outputs}: {len(out)} frames, but {inputs} has {len(src)}; give frame ranges that match")
    if len(src) < 2:
        raise StylereelError(f"{inputs}: the warping error needs at least two frames")

    def shown(frames):
        for _, frame, problem in frames:
            if frame is None:
                raise StylereelError(problem)
            yield to_working(frame)[0]

    errors, prev = [], None
    for pair in zip(shown(src.frames()), shown(out.frames())):
        if prev is not None:
            errors += warping_errors([prev[0], pair[0]], [prev[1], pair[1]])
        prev = pair
    report = {"mode": "temporal", "input": str(inputs), "output": str(outputs), "frames": len(src),
              "warping_error": float(np.mean(errors)), "per_frame": dict(zip(map(str, src.numbers[1:]), errors))}
    if plot_path:
        plot_errors(plot_path, {Path(str(outputs)).name: errors})
        report["plot"] = str(plot_path)
    return report


def run_eval(model, pairs=None, content=None, style=None, size: int = 512, sheet_path: str | Path | None = None, device: str = "auto") -> dict:
    if not pairs and not content:
        raise StylereelError("eval needs --pairs DIR (paired look) or --content IMAGES (unpaired look)")
    if pairs and content:
        raise StylereelError("give either --pairs DIR or --content IMAGES, not both")
    stylizer = Stylizer(model, device=device)
    if pairs:
        report, sheet = evaluate_pairs(stylizer, pairs)
        labels = [[f"{r['name']} input", f"output {r['psnr']:.2f} dB", "target"] for r in report["images"]]
    else:
        report, sheet = evaluate_unpaired(stylizer, content, style, size)
        labels = [[f"{r['name']} input", f"output style {r['style_distance']:.3f}"] for r in report["images"]]
    if sheet_path:
        write_contact_sheet(sheet_path, sheet, labels)
        report["contact_sheet"] = str(sheet_path)
    report["model"] = str(model)
    return report
