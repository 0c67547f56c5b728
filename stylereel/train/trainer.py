"""Adversarial training of a generator for one look.

The mode (`data.mode`) picks the data once (`stylereel.data.datasets`) and the config's
`loss` section the terms (`stylereel.losses.objective`); the loop below is the same
for every mode: sample a batch (a mapping of named tensors), update the critic if any
term reads it, then the generator on the weighted sum of the terms.

`Trainer` knows nothing about argv or the terminal: progress goes to a callback.
"""

from __future__ import annotations

import contextlib
import copy
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from stylereel.config import RunConfig
from stylereel.data.datasets import Painter, load_training_data
from stylereel.device import bf16_supported, pick_device
from stylereel.errors import StylereelError
from stylereel.io.atomic import atomic_write_text
from stylereel.losses.objective import Objective
from stylereel.model import load_model, save_model
from stylereel.nets.adain import TEACHERS
from stylereel.nets.discriminator import build_discriminator
from stylereel.nets.generator import build_generator, load_base_weights
from stylereel.train.checkpoint import STATE_FILE, load_state, save_state
from stylereel.train.distributed import any_of, average_gradients, broadcast_state, checksums, join


@dataclass
class StepInfo:
    step: int
    losses: dict[str, float]
    elapsed: float


def with_extras(G: nn.Module, batch: dict[str, torch.Tensor]):
    """G as a function of the frame alone, its other declared inputs (`G.inputs`) taken from
    the batch by name: how the loss terms call it."""
    extras = [batch[i.name] for i in getattr(G, "inputs", ())[1:]]
    return lambda x: G(x, *extras)


# Only a new look's few modulation rows train when extending a model: they take a higher rate (bench/looks.py, Starry
# Night from the painting alone, 90% of full training's style distance: 3e-3 in 105 s, 1e-2 in 50 s, 3e-2 in 33 s
# but then drifting away).
NEW_LOOK_LR = 1e-2


class Trainer:
    def __init__(self, cfg: RunConfig, out_dir: str | Path, resume: bool = False):
        self.cfg, self.out = copy.deepcopy(cfg), Path(out_dir)
        self.world, self.device = join(pick_device(cfg.train.device))
        torch.manual_seed(cfg.train.seed)
        m, t = self.cfg.model, self.cfg.train
        if self.cfg.data.batch % self.world.size:
            raise StylereelError(f"data.batch: {self.cfg.data.batch} crops cannot be split evenly between {self.world.size} "
                                 "processes (the global batch is cut into one slice per process)")

        # Data: decoded once, cropped on the training thread from a seeded generator.
        self.gen = torch.Generator().manual_seed(t.seed)
        d = self.cfg.data
        teacher = self._painter(d.teacher) if d.mode == "distill" else TEACHERS[d.teacher] if d.teacher else None
        self.data = load_training_data(d, teacher)
        self._complete = getattr(self.data, "complete", lambda batch: batch)

        self.G = build_generator(m.generator, **m.generator_kwargs)
        self.fixed: dict[str, torch.Tensor] = {}  # inputs every batch gets whole (the new look's one-hot, extending)
        if m.extend:
            self._extend(Path(m.extend))
        missing = [i.name for i in self.G.inputs[1:] if i.name not in self.data.provides and i.name not in self.fixed]
        if missing:
            raise StylereelError(f"model.generator: {m.generator} also takes {', '.join(missing)}, which data.mode "
                                 f"{self.cfg.data.mode} does not give (a keyframe look guided by flow trains with --data.mode=guided)")
        if m.init == "base":
            load_base_weights(self.G, m.generator, m.generator_kwargs)
        elif m.init != "random":  # a trained model of this network's shape (checked with the config)
            self.G.load_state_dict(load_model(m.init)[0].state_dict())
        self.G.to(self.device)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        self.objective = Objective(self.cfg.loss, self.data.provides, self.data.look, self.data.condition,
                                   self.device, bf16=t.bf16 and bf16_supported(self.device))
        self.grams = self.objective.set_look(self.data.look_images)
        self.D = None
        if self.objective.uses_critic:
            kwargs = {"in_ch": self.objective.critic_channels, **m.discriminator_kwargs}
            self.D = build_discriminator(m.discriminator, **kwargs).to(self.device)
        if t.lr_g is None:
            # A generator's own rate, else the classic 1e-3; resolved here so the run's config.yaml names it.
            t.lr_g = NEW_LOOK_LR if m.extend else getattr(type(self.G), "lr", 1e-3)
        self.opt_g = torch.optim.Adam([p for p in self.G.parameters() if p.requires_grad], lr=t.lr_g, betas=tuple(t.betas))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=t.lr_d, betas=tuple(t.betas)) if self.D is not None else None
        self.step = 0
        self.trained_s = 0.0  # training time before this process took the run on (resumed runs)
        self.saved_step: int | None = None  # the step of the last state written by this process
        if resume:
            self._load(load_state(self.out / STATE_FILE))
        broadcast_state([self.G, self.G_ema] + ([self.D] if self.D is not None else []), self.world)

    # -- one step ---------------------------------------------------------------

    def train_step(self) -> dict[str, float]:
        self.G.train()
        # every process draws the same global batch and keeps its slice: together, one process's step
        n = self.cfg.data.batch // self.world.size
        batch = self.data.sample(self.cfg.data.batch, self.gen)
        batch = self._fill({k: v[self.world.rank * n : (self.world.rank + 1) * n].to(self.device) for k, v in batch.items()})
        batch = self._complete(batch)
        s = self.objective.step(batch, with_extras(self.G, batch), self.D)
        s.fake  # the generator runs once; the critic sees it detached, the terms with gradients
        losses = {}
        if self.D is not None:
            self.D.requires_grad_(True)
            d_loss = self.objective.critic_loss(s)
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            average_gradients(self.D.parameters(), self.world)
            self.opt_d.step()
            losses["d"] = d_loss.item()
            self.D.requires_grad_(False)  # no D grads from the G step
        g_loss, parts = self.objective.generator_loss(s)
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        average_gradients(self.G.parameters(), self.world)
        self.opt_g.step()
        self._update_ema()
        self.step += 1
        return {**losses, **parts}

    @torch.no_grad()
    def _update_ema(self) -> None:
        # Warm-up so short runs are not dominated by the random init.
        decay = min(self.cfg.train.ema, (1 + self.step) / (10 + self.step))
        for pe, p in zip(self.G_ema.parameters(), self.G.parameters()):
            pe.lerp_(p.detach(), 1 - decay)
        for be, b in zip(self.G_ema.buffers(), self.G.buffers()):
            be.copy_(b)

    # -- the loop ---------------------------------------------------------------

    def fit(self, on_step: Callable[[StepInfo], None] | None = None, stop: threading.Event | None = None) -> Path:
        """Train until the step or time budget is spent, Ctrl-C / SIGTERM (in the main thread), or `stop` is set
        (a caller in another thread: the web page's cancel); the state of the last whole step is saved either way."""
        t, main = self.cfg.train, self.world.main
        if main:  # with several processes, rank 0 alone writes
            self.out.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.out / "config.yaml", self.cfg.to_yaml())
            from torch.utils.tensorboard import SummaryWriter

            writer = SummaryWriter(str(self.out / "tb"), purge_step=self.step)
        else:
            writer = None
        start = time.monotonic()
        deadline = start + 60 * t.minutes if t.minutes else None  # --minutes: this process's budget
        trained = lambda: self.trained_s + time.monotonic() - start  # noqa: E731 - the run's, resumed parts included
        if main and t.snapshot_every and self.step == 0:
            self.save_model(self.out / "snapshots" / "step_000000", 0.0)  # the starting point, for comparison
        with _stop_requests() as signalled, contextlib.closing(writer) if writer else contextlib.nullcontext():
            while self.step < t.steps and not any_of((deadline is not None and time.monotonic() >= deadline) or bool(signalled.asked)
                                                     or (stop is not None and stop.is_set()), self.world, self.device):
                losses = self.train_step()
                if writer and (self.step % t.log_every == 0 or self.step == t.steps):
                    for k, v in losses.items():
                        writer.add_scalar(f"loss/{k}", v, self.step)
                if writer and self.step % t.sample_every == 0:
                    writer.add_image("samples", self.sample_grid(), self.step)
                if self.step % t.checkpoint_every == 0:
                    self.save(trained())
                if main and t.snapshot_every and self.step % t.snapshot_every == 0:
                    self.save_model(self.out / "snapshots" / f"step_{self.step:06d}", trained())
                if on_step:
                    on_step(StepInfo(self.step, losses, time.monotonic() - start))
        self.save(trained())
        if signalled.asked:
            raise KeyboardInterrupt  # after the state of the last whole step is saved
        return self.out / "model"

    @torch.no_grad()
    def paint(self, x: torch.Tensor) -> torch.Tensor:
        """[N, 3, H, W] (sides multiples of 8) -> the look as trained so far (the EMA generator, with the run's
        fixed inputs), on the CPU: a training preview of a look that takes the frame alone (unpaired, extended)."""
        batch = self._fill({"plate": x.to(self.device)})
        return with_extras(self.G_ema, batch)(batch["plate"]).clamp(0, 1).float().cpu()

    @torch.no_grad()
    def sample_grid(self) -> torch.Tensor:
        preview = self._complete(self._fill({k: v[None].to(self.device) for k, v in self.data.preview.items()}))
        x = preview["plate"]
        row = [x, with_extras(self.G_ema, preview)(x)] + [v for k, v in preview.items() if k != "plate" and v.shape[1] == 3]
        return torch.cat(row, -1)[0].clamp(0, 1).cpu()  # [3, H, k*W]

    def _fill(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        n, _, h, w = batch["plate"].shape
        return {**batch, **{k: v.to(batch["plate"].device)[None, :, None, None].expand(n, -1, h, w) for k, v in self.fixed.items()}}

    def _painter(self, teacher: str) -> Painter:
        """The trained look a distilled one learns (data.teacher, a model directory), on the training device."""
        net, _ = load_model(teacher)
        net.to(self.device)

        @torch.no_grad()
        def paint(batch: dict[str, torch.Tensor]) -> torch.Tensor:
            on = {k: v.to(self.device) for k, v in batch.items()}
            return with_extras(net, on)(on["plate"]).clamp(0, 1).to(batch["plate"].device)

        return Painter(paint, tuple(getattr(net, "looks", ())))

    def _extend(self, base_dir: Path) -> None:
        """Start from a multi-look model with one more look, whose modulation alone trains: it
        starts as the mean of the model's looks; every other weight is the base's and stays."""
        base, _ = load_model(base_dir)
        own = self.G.state_dict()
        for k, v in base.state_dict().items():
            if k.startswith("mod."):
                own[k][:-1] = v
                own[k][-1] = v[1:].mean(0)
            else:
                own[k] = v
        self.G.load_state_dict(own)
        for name, p in self.G.named_parameters():
            p.requires_grad_(name.startswith("mod."))
            if name.startswith("mod."):
                keep = torch.zeros(p.shape[0], 1)
                keep[-1] = 1
                p.register_hook(lambda g, keep=keep: g * keep.to(g.device))
        self.fixed["look"] = torch.zeros(len(self.G.looks))
        self.fixed["look"][-1] = 1

    # -- artifacts --------------------------------------------------------------

    def save(self, elapsed_s: float | None = None) -> None:
        """The training state and the model, written by rank 0 (every process calls it: the weights' checksums
        of all processes are gathered into the state, equal while they stay in step)."""
        sums = checksums([self.G, self.G_ema], self.world, self.device)
        if not self.world.main:
            return
        state = {
            "step": self.step,
            "G": self.G.state_dict(),
            "D": self.D.state_dict() if self.D is not None else {},
            "G_ema": self.G_ema.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict() if self.opt_d is not None else {},
            "rng_data": self.gen.get_state(),
            "rng_torch": torch.get_rng_state(),
            "rng_cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "config": self.cfg.to_dict(),
            "processes": self.world.size,
            "checksums": sums,
            **({"elapsed_s": elapsed_s} if elapsed_s is not None else {}),
        }
        save_state(self.out / STATE_FILE, state)
        self.saved_step = self.step
        self.save_model(self.out / "model", elapsed_s)

    def save_model(self, model_dir: Path, elapsed_s: float | None = None) -> None:
        """The inference model (EMA generator) as it is now; `elapsed_s`: the run's training time so far (resumed parts included)."""
        m = self.cfg.model
        info = {
            "generator": {"name": m.generator, "kwargs": m.generator_kwargs},
            "steps": self.step,
            **({"elapsed_s": round(elapsed_s, 2)} if elapsed_s is not None else {}),
            "config": self.cfg.to_dict(),
        }
        save_model(model_dir, self.G_ema, info, self.grams or None, self.objective.trunk_name)

    def _load(self, state: dict) -> None:
        if state.get("processes", 1) != self.world.size:
            raise StylereelError(f"{self.out}: trained by {state.get('processes', 1)} process(es), resumed by {self.world.size}; resume it "
                                 f"with --nproc {state.get('processes', 1)} (each process's slice of the data is fixed by their number)")
        self.step = state["step"]
        self.trained_s = float(state.get("elapsed_s", 0.0))
        self.G.load_state_dict(state["G"])
        self.G_ema.load_state_dict(state["G_ema"])
        self.opt_g.load_state_dict(state["opt_g"])
        if self.D is not None:
            self.D.load_state_dict(state["D"])
            self.opt_d.load_state_dict(state["opt_d"])
        # The rates are the config's: the optimizer's saved state carries the rates it ran at, and a resume may
        # change them (`--train.lr_g=...`, e.g. a lower rate to settle a long run).
        for opt, lr in ((self.opt_g, self.cfg.train.lr_g), (self.opt_d, self.cfg.train.lr_d)):
            for group in opt.param_groups if opt is not None else ():
                group["lr"] = lr
        self.gen.set_state(state["rng_data"])
        torch.set_rng_state(state["rng_torch"])
        if state.get("rng_cuda") and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng_cuda"])


class _StopFlag:
    asked: int | None = None  # the signal that asked


@contextlib.contextmanager
def _stop_requests():
    """Ctrl-C (SIGINT) or a farm's SIGTERM asks the loop to stop after the step in progress,
    so the state saved is a whole step's; a second signal stops at once (KeyboardInterrupt)."""
    flag = _StopFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag  # signal handlers belong to the main thread
        return

    def ask(signum, _frame):
        if flag.asked:
            raise KeyboardInterrupt
        flag.asked = signum

    before = {sig: signal.signal(sig, ask) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield flag
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)
