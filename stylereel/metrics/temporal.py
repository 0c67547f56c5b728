"""Temporal stability: the warping error of Lai et al. 2018 ("Learning Blind Video
Temporal Consistency", ECCV).

For each pair of consecutive *input* frames t, t+1: optical flow both ways (OpenCV's
DIS, `stylereel.flow`), an occlusion mask from the forward-backward check (Sundaram et al. 2010: a
pixel is trusted where following the flow there and back returns it to within a
small fraction of the motion), then the masked mean squared difference between
output frame t and output frame t+1 warped back onto t. Where the scene holds
still the output must hold still, and where it moves the output must move with it;
flicker, boiling texture and popping all raise it.
"""

from __future__ import annotations

import numpy as np

from stylereel.flow import flow, occlusion_mask, warp


def warping_errors(inputs: list[np.ndarray], outputs: list[np.ndarray]) -> list[float]:
    """Per pair (t, t+1): masked mean squared RGB difference between output t and output
    t+1 warped back with the input's flow ([0, 1] values; one number per pair)."""
    if len(inputs) != len(outputs):
        raise ValueError(f"{len(inputs)} input frames but {len(outputs)} output frames")
    errors = []
    for t in range(len(inputs) - 1):
        a, b = inputs[t], inputs[t + 1]
        if outputs[t].shape[:2] != a.shape[:2]:
            raise ValueError(f"output frame {t} is {outputs[t].shape[1]}x{outputs[t].shape[0]}, its input {a.shape[1]}x{a.shape[0]}")
        fw, bw = flow(a, b), flow(b, a)
        mask = occlusion_mask(fw, bw)
        back = warp(np.ascontiguousarray(outputs[t + 1], dtype=np.float32), fw)
        sq = ((np.asarray(outputs[t], np.float32) - back) ** 2).mean(-1)
        errors.append(float((sq * mask).sum() / max(mask.sum(), 1.0)))
    return errors


def plot_errors(path, curves: dict[str, list[float]], title: str = "warping error per frame") -> None:
    """A PNG of one or more per-frame curves (atomic write)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from stylereel.io.atomic import atomic_write

    fig, ax = plt.subplots(figsize=(8, 3.2), dpi=100)
    for name, ys in curves.items():
        ax.plot(range(1, len(ys) + 1), ys, label=f"{name} (mean {np.mean(ys):.4f})", lw=1.4)
    ax.set_xlabel("frame pair (t, t+1)")
    ax.set_ylabel("warping error")
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png"))
    plt.close(fig)
