"""Adversarial training of a generator for one look.

Two modes share one loop:

- unpaired: content crops -> G; the discriminator sees style-image patches as
  real; the generator also minimises a content loss to its input and a Gram
  style loss to the style images.
- paired: a painted keyframe `target` for each `input` (pix2pix): the
  discriminator is conditional (it sees input and output side by side), the
  generator minimises L1 + perceptual distance to the target, plus feature matching.

`Trainer` knows nothing about argv or the terminal: progress goes to a callback.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from stylereel.config import RunConfig
from stylereel.data.crops import CropSampler
from stylereel.data.images import load_images, load_pairs
from stylereel.device import bf16_supported, pick_device
from stylereel.losses.adversarial import AdversarialLoss, feature_matching_loss
from stylereel.losses.perceptual import content_loss, gram_matrix, pixel_l1_loss, style_loss, tv_loss
from stylereel.nets.discriminator import build_discriminator
from stylereel.nets.features import VGGFeatures
from stylereel.nets.generator import build_generator, load_base_weights
from stylereel.train.checkpoint import load_state, save_model, save_state

STATE_FILE = Path("checkpoints") / "state.pt"


def style_targets(features: VGGFeatures, styles: list[torch.Tensor], layers, device) -> dict[str, torch.Tensor]:
    """Mean Gram matrix per layer over the style images, each seen whole: `{layer: [C, C]}`."""
    grams: dict[str, torch.Tensor] = {}
    with torch.no_grad():
        for img in styles:
            f = features(img[None].to(device))
            for k in layers:
                grams[k] = grams.get(k, 0) + gram_matrix(f[k])[0] / len(styles)
    return grams


@dataclass
class StepInfo:
    step: int
    total: int
    losses: dict[str, float]
    elapsed: float


class Trainer:
    def __init__(self, cfg: RunConfig, out_dir: str | Path, resume: bool = False):
        self.cfg, self.out = copy.deepcopy(cfg), Path(out_dir)
        self.device = pick_device(cfg.train.device)
        torch.manual_seed(cfg.train.seed)
        m, d, lo, t = self.cfg.model, self.cfg.data, self.cfg.loss, self.cfg.train
        self.paired = d.mode == "paired"

        # Data: decoded once, cropped on the training thread from a seeded generator.
        self.gen = torch.Generator().manual_seed(t.seed)
        if self.paired:
            self.names, xs, ys = load_pairs(d.pairs, d.max_side)
            self.sampler = CropSampler(list(zip(xs, ys)), d.size, d.scale_jitter, d.flip)
            self.preview = [xs[0], ys[0]]
            self.styles = ys
        else:
            content = load_images(d.content, d.max_side)
            self.styles = load_images(d.style, exact_side=d.style_size)
            self.sampler = CropSampler([(c,) for c in content], d.size, d.scale_jitter, d.flip)
            self.style_sampler = CropSampler([(s,) for s in self.styles], d.size, d.scale_jitter, d.flip)
            self.preview = [content[0]]

        self.G = build_generator(m.generator, **m.generator_kwargs)
        if m.init == "base":
            load_base_weights(self.G, m.generator, m.generator_kwargs)
        elif m.init != "random":
            raise ValueError(f"model.init must be 'base' or 'random', not {m.init!r}")
        self.G.to(self.device)
        self.D = build_discriminator(m.discriminator, **m.discriminator_kwargs).to(self.device)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        layers = set(lo.content_layers) | set(lo.style_layers)
        self.features = VGGFeatures(sorted(layers)).to(self.device)
        self.adv = AdversarialLoss(lo.d_loss, lo.g_loss)
        self.bf16 = t.bf16 and bf16_supported(self.device)
        if t.lr_g is None:
            # A generator's own rate, else the classic 1e-3; resolved here so the run's config.yaml names it.
            t.lr_g = getattr(type(self.G), "lr", 1e-3)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=t.lr_g, betas=tuple(t.betas))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=t.lr_d, betas=tuple(t.betas))
        self.grams = style_targets(self.features, self.styles, lo.style_layers, self.device) if lo.style_layers else {}
        self.step = 0
        if resume:
            self._load(load_state(self.out / STATE_FILE))

    # -- one step of each player ------------------------------------------------

    def _batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(generator input, real image for D); in paired mode the real is the target."""
        n = self.cfg.data.batch
        if self.paired:
            x, y = self.sampler.sample(n, self.gen)
        else:
            (x,) = self.sampler.sample(n, self.gen)
            (y,) = self.style_sampler.sample(n, self.gen)
        return x.to(self.device), y.to(self.device)  # [N, 3, S, S] each

    def _d_in(self, x: torch.Tensor, img: torch.Tensor) -> torch.Tensor:
        # A conditional discriminator judges the (input, output) pair, not the output alone.
        return torch.cat([x, img], 1) if self.paired else img

    def d_step(self, x: torch.Tensor, real: torch.Tensor, fake: torch.Tensor) -> dict[str, float]:
        self.D.requires_grad_(True)
        loss = self.adv.d(self.D(self._d_in(x, real)), self.D(self._d_in(x, fake.detach())))
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        return {"d": loss.item()}

    def g_step(self, x: torch.Tensor, real: torch.Tensor, fake: torch.Tensor) -> dict[str, float]:
        lo = self.cfg.loss
        self.D.requires_grad_(False)  # no D grads from the G step
        fake_out = self.D(self._d_in(x, fake)) if lo.adv_weight or (self.paired and lo.feature_matching_weight) else None
        terms: dict[str, torch.Tensor] = {"adv": lo.adv_weight * self.adv.g(fake_out)} if lo.adv_weight else {}
        f_fake = self._features(fake)
        with torch.no_grad():
            # Content is kept to the input (unpaired) or moved to the painted target (paired).
            f_ref = self._features(real if self.paired else x)
        if lo.content_weight:
            terms["content"] = lo.content_weight * content_loss(f_fake, f_ref, lo.content_layers)
        if lo.style_weight and self.grams:
            terms["style"] = lo.style_weight * style_loss(f_fake, self.grams, lo.style_layers)
        if lo.tv_weight:
            terms["tv"] = lo.tv_weight * tv_loss(fake)
        if self.paired and lo.l1_weight:
            terms["l1"] = lo.l1_weight * pixel_l1_loss(fake, real)
        if self.paired and lo.feature_matching_weight:
            with torch.no_grad():
                real_out = self.D(self._d_in(x, real))
            terms["fm"] = lo.feature_matching_weight * feature_matching_loss(real_out, fake_out)
        loss = sum(terms.values())
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        self._update_ema()
        return {"g": loss.item(), **{k: v.item() for k, v in terms.items()}}

    def _features(self, img: torch.Tensor) -> dict[str, torch.Tensor]:
        # The frozen VGG trunk is most of a step's cost; bf16 halves it and the
        # losses (Grams included) are then taken in float32.
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            feats = self.features(img)
        return {k: v.float() for k, v in feats.items()}

    @torch.no_grad()
    def _update_ema(self) -> None:
        # Warm-up so short runs are not dominated by the random init.
        decay = min(self.cfg.train.ema, (1 + self.step) / (10 + self.step))
        for pe, p in zip(self.G_ema.parameters(), self.G.parameters()):
            pe.lerp_(p.detach(), 1 - decay)
        for be, b in zip(self.G_ema.buffers(), self.G.buffers()):
            be.copy_(b)

    def train_step(self) -> dict[str, float]:
        self.G.train()
        x, real = self._batch()
        fake = self.G(x)
        lo = self.cfg.loss
        # Without an adversarial or feature-matching term the discriminator has no say: skip it.
        losses = self.d_step(x, real, fake) if lo.adv_weight or (self.paired and lo.feature_matching_weight) else {}
        losses.update(self.g_step(x, real, fake))
        self.step += 1
        return losses

    # -- the loop ---------------------------------------------------------------

    def fit(self, on_step: Callable[[StepInfo], None] | None = None) -> Path:
        t = self.cfg.train
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "config.yaml").write_text(self.cfg.to_yaml())
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(str(self.out / "tb"), purge_step=self.step)
        start = time.monotonic()
        deadline = start + 60 * t.minutes if t.minutes else None
        if t.snapshot_every and self.step == 0:
            self.save_model(self.out / "snapshots" / "step_000000", 0.0)  # the starting point, for comparison
        try:
            while self.step < t.steps and (deadline is None or time.monotonic() < deadline):
                losses = self.train_step()
                if self.step % t.log_every == 0 or self.step == t.steps:
                    for k, v in losses.items():
                        writer.add_scalar(f"loss/{k}", v, self.step)
                if self.step % t.sample_every == 0:
                    writer.add_image("samples", self.sample_grid(), self.step)
                if self.step % t.checkpoint_every == 0:
                    self.save(time.monotonic() - start)
                if t.snapshot_every and self.step % t.snapshot_every == 0:
                    self.save_model(self.out / "snapshots" / f"step_{self.step:06d}", time.monotonic() - start)
                if on_step:
                    on_step(StepInfo(self.step, t.steps, losses, time.monotonic() - start))
        finally:
            writer.close()
        self.save(time.monotonic() - start)
        return self.out / "model"

    @torch.no_grad()
    def sample_grid(self) -> torch.Tensor:
        x = self.preview[0][None].to(self.device)
        row = [x, self.G_ema(x)] + ([self.preview[1][None].to(self.device)] if self.paired else [])
        return torch.cat(row, -1)[0].clamp(0, 1).cpu()  # [3, H, k*W]

    # -- artifacts --------------------------------------------------------------

    def save(self, elapsed_s: float | None = None) -> None:
        state = {
            "step": self.step,
            "G": self.G.state_dict(),
            "D": self.D.state_dict(),
            "G_ema": self.G_ema.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "rng_data": self.gen.get_state(),
            "rng_torch": torch.get_rng_state(),
            "rng_cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "config": self.cfg.to_dict(),
        }
        save_state(self.out / STATE_FILE, state)
        self.save_model(self.out / "model", elapsed_s)

    def save_model(self, model_dir: Path, elapsed_s: float | None = None) -> None:
        """The inference model (EMA generator) as it is now; `elapsed_s`: training time in this run so far."""
        m = self.cfg.model
        info = {
            "generator": {"name": m.generator, "kwargs": m.generator_kwargs},
            "mode": self.cfg.data.mode,
            "steps": self.step,
            **({"elapsed_s": round(elapsed_s, 2)} if elapsed_s is not None else {}),
            "config": self.cfg.to_dict(),
        }
        save_model(model_dir, self.G_ema, info, self.grams or None)

    def _load(self, state: dict) -> None:
        self.step = state["step"]
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        self.G_ema.load_state_dict(state["G_ema"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.gen.set_state(state["rng_data"])
        torch.set_rng_state(state["rng_torch"])
        if state.get("rng_cuda") and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng_cuda"])


def saved_config(out_dir: str | Path) -> RunConfig:
    """The config a run was started with (for `--resume`)."""
    return RunConfig.from_dict(load_state(Path(out_dir) / STATE_FILE)["config"])


def has_state(out_dir: str | Path) -> bool:
    return (Path(out_dir) / STATE_FILE).is_file()


def state_step(out_dir: str | Path) -> int:
    return int(load_state(Path(out_dir) / STATE_FILE)["step"])
