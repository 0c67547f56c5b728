"""The training objective: the active loss terms, the loss trunks they read, and the critic.

Built once per run from the `loss` section of the config and from what the data
provides; the trainer then asks it for the generator's loss and the critic's loss
of a `Step`, and never looks at which terms there are.
"""

from __future__ import annotations

from typing import Callable, Iterable, Mapping

import torch

from stylereel.errors import StylereelError
from stylereel.losses.perceptual import mean_grams
from stylereel.losses.terms import Adversarial, Step, Term, build_terms, resolve_terms
from stylereel.nets.features import PIXELS, Trunk, spec


class Objective:
    """`loss`: {term: options}; `provides`: the batch keys the data gives; `look`: the batch key
    holding real examples of the look (what the critic calls real); `condition`: the batch key
    the critic also sees beside an image (aligned data), or None."""

    def __init__(self, loss: Mapping[str, Mapping], provides: Iterable[str], look: str, condition: str | None,
                 device: torch.device | str = "cpu", bf16: bool = False):
        self.terms: dict[str, Term] = build_terms(loss)
        if not self.terms:
            raise StylereelError("loss: no term has a non-zero weight; nothing to train")
        provides = set(provides)
        for name, term in self.terms.items():
            missing = [k for k in term.needs if k not in provides]
            if missing:
                raise StylereelError(f"loss term {name!r} needs {', '.join(repr(k) for k in missing)} in each batch, "
                                     f"which this data does not give (it gives {', '.join(sorted(provides))})")
        self.device, self.bf16 = torch.device(device), bf16
        self.look, self.condition = look, condition
        # One trunk per name any term reads, each built only as deep as its deepest layer.
        wanted: dict[str, set[str]] = {}
        for t in self.terms.values():
            if t.layers - {PIXELS}:
                wanted.setdefault(t.trunk, set()).update(t.layers - {PIXELS})
        self.trunks = {name: Trunk(sorted(layers), name).to(self.device) for name, layers in wanted.items()}
        # A batch entry (the plate, a teacher) is read only by the terms that compare the output to it: its
        # trunk pass stops at the deepest layer they read (the output's pass runs to the trunk's deepest).
        self.reads: dict[tuple[str, str], set[str]] = {}
        for t in self.terms.values():
            if getattr(t, "of", None) is not None and t.layers - {PIXELS}:
                self.reads.setdefault((t.of, t.trunk), set()).update(t.layers - {PIXELS})
        self.trunk_name = resolve_terms(loss)["trunk"]  # the run's: the look's statistics are kept on it
        self._pixels = any(PIXELS in t.layers for t in self.terms.values())
        self.uses_critic = any(t.uses_critic for t in self.terms.values())
        # The critic is trained by the adversarial term's D loss, even where only feature matching reads it.
        adv = self.terms.get("adversarial") or Adversarial(**resolve_terms({"adversarial": dict(loss.get("adversarial", {}))})["adversarial"])
        self._critic_loss = adv.critic_loss
        self.critic_channels = 3 * (2 if condition else 1)

    @property
    def layers(self) -> dict[str, tuple[str, ...]]:
        """{trunk: the layers built} for every trunk the terms read."""
        return {name: t.layers for name, t in self.trunks.items()}

    @torch.no_grad()
    def set_look(self, images: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        """Give every term that reads the look its targets from the look's whole images, and
        return their Gram matrices on the run trunk's style layers, so a model can be scored
        without its style images (`style_grams`; `metrics.style.StyleMetrics` on the same trunk)."""
        readers = [t for t in self.terms.values() if t.reads_look]
        metric = self.trunk_name
        per_trunk: dict[str, list[dict]] = {}
        for name in {metric, *(t.trunk for t in readers)}:
            layers = set(spec(name).style_layers) if name == metric else set()
            layers = sorted(layers.union(*(t.layers for t in readers if t.trunk == name)) - {PIXELS})
            built = self.trunks.get(name)
            trunk = built if built is not None and set(layers) <= set(built.layers) else Trunk(layers, name).to(self.device)
            per_trunk[name] = [{PIXELS: i[None].float().to(self.device), **{k: v.float() for k, v in trunk(i[None].to(self.device)).items()}}
                               for i in images]  # float32: targets are exact
        for t in readers:
            t.set_look(per_trunk[t.trunk])
        return mean_grams(per_trunk[metric], spec(metric).style_layers)

    def features_of(self) -> Callable:
        def run(img: torch.Tensor, trunk: str, key: str = "fake"):
            # The frozen trunk is most of a step's cost; bf16 halves it and the losses
            # (Grams included) are then taken in float32.
            feats = {}
            if trunk in self.trunks:
                with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
                    feats = self.trunks[trunk](img, self.reads.get((key, trunk)) if key != "fake" else None)
            return {**({PIXELS: img.float()} if self._pixels else {}), **{k: v.float() for k, v in feats.items()}}

        return run

    def step(self, batch: dict[str, torch.Tensor], generate: Callable, critic=None) -> Step:
        """A Step over `batch`; `critic` is the discriminator module (when `uses_critic`)."""
        def judge(img, b):
            return critic(torch.cat([b[self.condition], img], 1) if self.condition else img)

        return Step(batch, generate, self.features_of() if self.trunks or self._pixels else None,
                    judge if critic is not None else None)

    def critic_loss(self, s: Step) -> torch.Tensor:
        """The discriminator's loss: the look's real examples against the (detached) output."""
        fake = s.fake.detach()
        return self._critic_loss(s.judge(s.batch[self.look]), s.judge(fake))

    def generator_loss(self, s: Step) -> tuple[torch.Tensor, dict[str, float]]:
        """Weighted sum of the active terms, and each weighted term for logging."""
        parts = {name: t.weight * t(s) for name, t in self.terms.items()}
        total = sum(parts.values())
        return total, {"g": total.item(), **{k: v.item() for k, v in parts.items()}}
