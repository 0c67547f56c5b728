"""Apply a trained look to images and shots.

`Stylizer` is the Python API: load a model once, then stylize arrays, tensors,
files, sequences and movies (`render`, which `stylereel stylize` runs). Alpha is
passed through untouched and the precision of the input is kept, so a 16-bit
plate comes back 16-bit and a half-float EXR comes back half-float.
"""

from __future__ import annotations

from pathlib import Path
import numpy as np
import torch

from stylereel.device import pick_device
from stylereel.io.frames import ImageError
from stylereel.model import load_model, resolve_model_dir
from stylereel.render.engine import InferenceEngine
from stylereel.render.options import RenderOptions


class Stylizer:
    """>>> s = Stylizer("runs/starry")            # a run dir or a model dir
    >>> out = s(rgb)                              # float [H, W, 3] in [0, 1] -> same
    >>> s.stylize_file("plate.png", "out.png")
    >>> s.render("plate.####.exr", "out/plate_look.####.exr", frames="1001-1100")
    >>> plan = s.plan("plate.####.exr", "out/plate_look.####.exr", options=RenderOptions(temporal=0.4))
    >>> for part in plan.chunks(4): s.run(part)   # or hand part.to_dict() to four workers
    """

    def __init__(self, model: str | Path, device: str = "auto", precision: str = "auto", tile_pixels: int | None = None):
        """`precision`: auto | fp32 | bf16 | int8 (`stylereel.render.engine.choose_precision`; int8 is
        made once per model and cached beside it). `tile_pixels`: frames larger than this are rendered
        in tiles of at most this many pixels (default `engine.TILE_PIXELS`, 4K whole): less memory,
        the same picture."""
        self.device = pick_device(device)
        self.model_dir = resolve_model_dir(model)
        self.net, self.info = load_model(self.model_dir)
        self.engine = InferenceEngine(self.net, self.device, precision, tile_pixels=tile_pixels, model_dir=self.model_dir)

    def ran(self) -> str:
        """What the network ran as, in words: "bf16 on cpu, avx512 kernels" (the kernels once a frame has been rendered)."""
        kernels = self.engine.kernels()
        return f"{self.engine.precision} on {self.device}" + (f", {kernels} kernels" if kernels else "")

    def tensor(self, x: torch.Tensor, **extras: torch.Tensor) -> torch.Tensor:
        """[N, 3, H, W] in [0, 1] (+ the model's other inputs by name) -> [N, 3, H, W] in [0, 1], on the input's device."""
        return self.engine(x, **extras).to(x.device)

    def __call__(self, rgb: np.ndarray, **extras: np.ndarray) -> np.ndarray:
        """float [H, W, 3] RGB in [0, 1] (+ the model's other inputs by name: [H, W, C], or [C] where the
        same at every pixel, as look weights without a matte) -> [H, W, 3]."""
        t = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).permute(2, 0, 1)[None]  # noqa: E731
        more = {k: t(v) if v.ndim == 3 else torch.from_numpy(np.asarray(v, np.float32))[None] for k, v in extras.items()}
        return self.tensor(t(rgb), **more)[0].permute(1, 2, 0).cpu().numpy()

    @property
    def look_names(self) -> list[str] | None:
        """The looks of a multi-look model ("none" first), else None."""
        looks = getattr(self.net, "looks", None)
        return list(looks) if looks else None

    @property
    def takes_guide(self) -> bool:
        return any(i.name == "guide" for i in getattr(self.net, "inputs", ())[1:])

    def render(self, src, dst: str | Path, frames: str | list[int] | None = None, options: RenderOptions | None = None,
               progress=None, cancel=None, **settings):
        """Render stills, a folder, a sequence pattern (`plate.####.exr`) or a movie to `dst`
        (a file, folder, pattern or movie), as `options` say, or as the `settings` given by name
        (`stylereel.render.options.RenderOptions`: overwrite, colorspace_in/out, depth, codec, fps,
        temporal, both_ways, keyframes, controls, look, strength, regions, progress, log).
        `progress`, `cancel`: as `run` takes them. Returns a `RenderReport`."""
        if options is not None and settings:
            raise TypeError("give RenderOptions or settings by name, not both")
        return self.run(self.plan(src, dst, frames, options or RenderOptions(**settings)), progress, cancel)

    @staticmethod
    def plan(src, dst: str | Path, frames: str | list[int] | None = None, options: RenderOptions | None = None):
        """What `render` would do, decided and checked before any work (`stylereel.render.plan.RenderPlan`:
        JSON with `to_dict`, cut into chunks for several processes with `chunks`)."""
        from stylereel.render.plan import make_plan

        return make_plan(src, dst, frames, options or RenderOptions())

    def run(self, plan, progress=None, cancel=None):
        """Render a `RenderPlan` (made here or in another process). `progress(Progress)` hears of each frame
        as it is written, fails or is left to another render; `cancel` (a `threading.Event`, or a function
        returning True to stop) ends the render between frames, keeping what is written. Returns a `RenderReport`."""
        from stylereel.render.shot import run_plan

        return run_plan(self, plan, progress, cancel)

    def stylize_file(self, src: str | Path, dst: str | Path) -> Path:
        """One still to one file (colour managed and alpha kept as in `render`)."""
        report = self.render([src], dst, overwrite=True, log=False)
        if report.failed:
            raise ImageError(src, next(iter(report.failed.values())).split(": ", 1)[-1])
        return Path(dst)
