"""Apply a trained look to images.

`Stylizer` is the Python API: load a model once, then stylize arrays, tensors
or files. Alpha is passed through untouched and the bit depth of the input is
kept, so a 16-bit plate comes back 16-bit.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

import numpy as np
import torch

from stylereel.device import pick_device
from stylereel.io.frames import ImageError, list_images, read_image, write_image
from stylereel.model import load_model, resolve_model_dir
from stylereel.render.engine import InferenceEngine


class Stylizer:
    """>>> s = Stylizer("runs/starry")            # a run dir or a model dir
    >>> out = s(rgb)                              # float [H, W, 3] in [0, 1] -> same
    >>> s.stylize_file("plate.png", "out.png")
    """

    def __init__(self, model: str | Path, device: str = "auto", bf16: bool | None = None):
        self.device = pick_device(device)
        self.model_dir = resolve_model_dir(model)
        self.net, self.info = load_model(self.model_dir)
        self.engine = InferenceEngine(self.net, self.device, bf16=bf16)

    def tensor(self, x: torch.Tensor, **extras: torch.Tensor) -> torch.Tensor:
        """[N, 3, H, W] in [0, 1] (+ the model's other inputs by name) -> [N, 3, H, W] in [0, 1], on the input's device."""
        return self.engine(x, **extras).to(x.device)

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """float [H, W, 3] RGB in [0, 1] -> same."""
        x = torch.from_numpy(np.ascontiguousarray(rgb, dtype=np.float32)).permute(2, 0, 1)[None]
        return self.tensor(x)[0].permute(1, 2, 0).cpu().numpy()

    def stylize_file(self, src: str | Path, dst: str | Path) -> Path:
        src, dst = Path(src), Path(dst)
        if dst.exists() and dst.resolve() == src.resolve():
            raise ImageError(dst, "output would overwrite its input")
        frame = read_image(src)
        out = self(frame.rgb)
        # JPEG holds 8 bits only; everything else keeps the plate's depth.
        depth = 8 if dst.suffix.lower() in (".jpg", ".jpeg") else frame.bit_depth
        write_image(dst, out, alpha=frame.alpha, bit_depth=depth)
        return dst


def output_paths(inputs: Iterable[str | os.PathLike], out: str | Path) -> list[tuple[Path, Path]]:
    """Map inputs to outputs: OUT is a file for a single input file, otherwise a
    directory that receives files of the same names.

    Refused before anything is rendered: an output that would overwrite an input,
    and two inputs that would land on the same output (same name, different folders).
    """
    files = list_images(inputs)
    out = Path(out)
    single_file = len(files) == 1 and out.suffix != "" and not out.is_dir()
    if single_file:
        jobs = [(files[0], out)]
    else:
        if out.exists() and not out.is_dir():
            raise ImageError(out, f"is a file, but {len(files)} inputs need an output directory")
        jobs = [(f, out / f.name) for f in files]
    sources = {f.resolve(): f for f in files}
    seen: dict[Path, Path] = {}
    for src, dst in jobs:
        key = dst.resolve()
        if key in sources:
            raise ImageError(dst, f"output would overwrite the input {sources[key]}; choose another -o")
        if key in seen and seen[key].resolve() != src.resolve():
            raise ImageError(dst, f"two inputs would be written here ({seen[key]} and {src}); render them to separate -o folders")
        seen[key] = src
    return list({d.resolve(): (s, d) for s, d in jobs}.values())  # an input named twice is rendered once
