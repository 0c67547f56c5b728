"""Where the unpaired look's horizontal stripes come from: the default generator against the
same generator given a noise channel to draw texture from (Ulyanov et al. 2016, "Texture
Networks"), trained alike on the same budget.

    python bench/studies/grain.py --data DATA_DIR --minutes 4

The style terms ask every 128-px crop for the painting's texture statistics, flat sky
included. A generator without normalisation or noise can only draw texture where the plate
varies; where it barely does (a sky's slow vertical gradient) it turns the gradient into
stripes locked to its own stride grid. Given noise, it draws the texture from the noise.
The script measures the stripes on held-out photos as the anisotropy of fine detail: the
luminance power at periods of 3-16 px along the columns over that along the rows (lines
along the rows raise it; the photo's own ratio is printed beside it), with the Magenta style
distance and the content distance of `bench/quality_unpaired.py`. The noise generator lives
in this script only: it is a diagnosis, not a shipped network (at render time a fixed noise
field stays put on the screen while the picture moves). Writes bench/RESULTS.md (section
"grain") and docs/images/unpaired_grain.png.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.magenta import Magenta  # noqa: E402
from bench.quality_unpaired import SKIMAGE_HELD_OUT, held_out_photos  # noqa: E402
from bench.results import HELD_OUT, photo_split, rel_path, write_section  # noqa: E402
from stylereel.config import apply_overrides, default_config  # noqa: E402
from stylereel.data.images import load_images  # noqa: E402
from stylereel.metrics.style import StyleMetrics  # noqa: E402
from stylereel.nets.blocks import conv  # noqa: E402
from stylereel.nets.generator import GENERATORS, ReelGenerator  # noqa: E402
from stylereel.render.contact_sheet import write_contact_sheet  # noqa: E402
from stylereel.train.trainer import Trainer  # noqa: E402

SEED = 1234  # the fixed noise field the trained generator is scored with


class NoisyStem(nn.Module):
    """The first layer given one more input channel: Gaussian noise, fresh at every training
    step, a fixed field (`SEED`) when scored."""

    def __init__(self, out_ch: int):
        super().__init__()
        self.conv, self.act = conv(4, out_ch, 3, stride=2), nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gen = None if self.training else torch.Generator().manual_seed(SEED)
        noise = torch.randn(x.shape[0], 1, *x.shape[-2:], generator=gen).to(x)
        return self.act(self.conv(torch.cat([x, noise], 1)))


@GENERATORS.register("bench_reel_grain")
class GrainReelGenerator(ReelGenerator):
    """The default generator (its own forward) whose first layer also sees noise (`NoisyStem`)."""

    def __init__(self, channels: tuple[int, int, int] = (16, 48, 96), n_blocks: int = 6, expand: int = 2):
        super().__init__(channels, n_blocks, expand)
        self.enc1 = NoisyStem(channels[0])


def stripe_ratio(img: torch.Tensor, shortest: float = 3.0, longest: float = 16.0) -> float:
    """Power of the luminance at periods `shortest`..`longest` px along the columns over that
    along the rows, for `[1, 3, H, W]`: about 1 for isotropic detail, high for horizontal lines."""
    lum = (img[0] * torch.tensor([0.2126, 0.7152, 0.0722]).view(3, 1, 1)).sum(0).double().numpy()
    h, w = lum.shape
    pv = (np.abs(np.fft.rfft(lum - lum.mean(0), axis=0)) ** 2).mean(1)
    ph = (np.abs(np.fft.rfft(lum - lum.mean(1, keepdims=True), axis=1)) ** 2).mean(0)

    def band(p, n):
        period = n / np.maximum(np.arange(len(p)), 1e-9)
        return p[(period >= shortest) & (period <= longest)].sum()

    return float(band(pv, h) / band(ph, w))


def train_unpaired(work: Path, train: list[Path], style: Path, minutes: float, generator: str = "reel",
                   overrides: list[str] = ()) -> tuple[torch.nn.Module, int]:
    """The unpaired defaults (plus `overrides`) on `train` + `style` for `minutes`: (EMA generator, steps)."""
    cfg = apply_overrides(default_config("unpaired"), list(overrides))
    cfg.model.generator = generator
    cfg.data.content, cfg.data.style = [str(p) for p in train], [str(style)]
    cfg.train.steps, cfg.train.minutes = 10**9, minutes
    trainer = Trainer(cfg, work)
    trainer.fit()
    return trainer.G_ema.eval(), trainer.step


def score_held_out(nets: dict[str, torch.nn.Module], data: Path, style: Path, size: int, sheet_path: Path,
                   label: str = "stripes") -> dict[str, list[dict]]:
    """Render the held-out photos with each net; per output its stripe ratio, Magenta style distance and
    trunk metrics ({"the photo" and each name: [one dict per photo]}); a sheet, photo | each net, labelled
    with `label` ("stripes" or "magenta")."""
    style_img = load_images([style], exact_side=512, trim=0.03)[0]
    metrics = StyleMetrics.from_images([style_img])
    magenta = Magenta(data / "models")
    reference = magenta.style_vector(load_images([style])[0][None])
    rows = {n: [] for n in ("the photo", *nets)}
    sheet, labels = [], []
    for photo, x in held_out_photos(data, HELD_OUT + SKIMAGE_HELD_OUT, size):
        outs = {"the photo": x}
        with torch.no_grad():
            outs.update({n: net(x).clamp(0, 1) for n, net in nets.items()})
        for n, y in outs.items():
            rows[n].append({"stripes": stripe_ratio(y), "magenta": magenta.distance(y, reference), **metrics(y, x)})
        sheet.append([y[0].permute(1, 2, 0).numpy() for y in outs.values()])
        labels.append([photo] + [f"{n}: {label} {rows[n][-1][label]:.{1 if label == 'stripes' else 2}f}" for n in nets])
    write_contact_sheet(sheet_path, sheet, labels, height=260)
    return rows


def compare(doc: str, name: str, variants: dict[str, tuple[str, list[str]]], label: str = "stripes"):
    """The command line both diagnosis scripts share: train each variant (name -> (generator, overrides)) on the
    same photos and painting for --minutes, score them on the held-out photos and write the sheet.
    -> (args, training photos, {name: steps}, score_held_out's rows)."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--minutes", type=float, default=4.0)
    ap.add_argument("--size", type=int, default=384)
    ap.add_argument("--work", type=Path, default=ROOT / "bench" / "runs" / name)
    ap.add_argument("--sheet", type=Path, default=ROOT / "docs" / "images" / f"unpaired_{name}.png")
    args = ap.parse_args()

    train, _ = photo_split(args.data, HELD_OUT)
    style = args.data / "styles" / "starry_night.jpg"
    shutil.rmtree(args.work, ignore_errors=True)
    nets, steps = {}, {}
    for i, (variant, (generator, overrides)) in enumerate(variants.items()):
        nets[variant], steps[variant] = train_unpaired(args.work / str(i), train, style, args.minutes, generator, overrides)
    return args, train, steps, score_held_out(nets, args.data, style, args.size, args.sheet, label)


def main() -> None:
    args, train, steps, rows = compare(__doc__, "grain", {"default generator": ("reel", []),
                                                           "with a noise channel": ("bench_reel_grain", [])})
    nets = list(steps)

    def mean(n, k):
        return float(np.mean([r[k] for r in rows[n]]))

    lines = [
        f"Both trained with the unpaired defaults on the same {len(train)} photos and `styles/starry_night.jpg` for "
        f"{args.minutes:g} minutes each ({', '.join(f'{n}: {s} steps' for n, s in steps.items())}); scored on the 4 held-out "
        f"photos at {args.size} px. Stripes: luminance power at periods of 3-16 px along the columns over that along the rows "
        "(horizontal lines raise it).",
        "",
        "| output | stripes | Magenta style distance | content distance |",
        "| --- | --- | --- | --- |",
    ]
    for n in rows:
        lines.append(f"| {n} | {mean(n, 'stripes'):.2f} | {mean(n, 'magenta'):.3f} | {mean(n, 'content_distance'):.3f} |")
    d, g = (mean(n, "stripes") for n in nets)
    lines += ["", f"Given noise, the stripes fall from {d:.2f} to {g:.2f} (the photos' own detail: {mean('the photo', 'stripes'):.2f}); the "
              "texture is drawn from the noise instead, with the look's palette unchanged. Sheet: "
              f"`{rel_path(args.sheet)}` (photo | default | with noise)."]
    write_section("grain", "Unpaired look: the stripes, and a generator given noise", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
