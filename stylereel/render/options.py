"""How to render: `RenderOptions`, checked whole when made, before any frame is read.

The CLI, the Python API (`Stylizer.render(src, dst, **options)`) and anything that drives
renders (a web UI, farm workers) build the same object, so a rule such as "a frame rate is
positive" or "blending with the next frame needs --temporal" lives here once. It holds
plain values only (the looks by name, mattes by path) and goes to and from a dict
(`to_dict`, `from_dict`), so a render can be described in a file and handed to another
process; what needs the model (which looks it has) is resolved when the render starts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from fractions import Fraction

from stylereel.errors import StylereelError
from stylereel.render.controls import Controls

DEPTHS = {"8": "uint8", "10": "uint10", "12": "uint12", "16": "uint16", "half": "half", "float": "float"}
TEMPORAL_MAX = 0.95  # a blend that keeps more of the carried frame than this never lets the picture move


class RenderError(StylereelError):
    pass


@dataclass(frozen=True)
class RenderOptions:
    """Every setting of a render but the model, the input and the output.

    - `overwrite`: render frames whose output exists (else a re-run skips them).
    - `colorspace_in`, `colorspace_out`: OCIO names (default by the frames' samples: float scene-linear, integer sRGB).
    - `depth`: the output frames' precision (`DEPTHS`) instead of the input's; `codec`, `fps`: movies.
    - `temporal`: blend each frame with the previous one carried along the plate's motion, with this
      strength (`stylereel.render.temporal`); `both_ways`: with the next one too.
    - `keyframes`: painted frames of this shot for a guided look.
    - `controls`: texture scale, colour and lighting kept from the plate (`stylereel.render.controls`).
    - `look`: a multi-look model's look or mix (`ink`, `ink=0.7,fauve=0.3`; default its first look);
      `strength` 0..1 from the plate to the full look; `regions`: `MATTE=LOOK` specs
      (`stylereel.render.look_map`). Strength and regions work with every model.
    - `progress`: a progress bar on a terminal; `log`: the JSON render log beside the output.
    """

    overwrite: bool = False
    colorspace_in: str | None = None
    colorspace_out: str | None = None
    depth: str | None = None
    codec: str | None = None
    fps: Fraction | None = None
    temporal: float | None = None
    both_ways: bool = False
    keyframes: str | None = None
    controls: Controls = field(default_factory=Controls)
    look: str | None = None
    strength: float = 1.0
    regions: tuple[str, ...] = ()
    progress: bool = False
    log: bool = True

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 - normalising a frozen instance while it is made
        if self.fps is not None:
            try:
                rate = Fraction(str(self.fps))
            except (ValueError, ZeroDivisionError):
                rate = None
            if rate is None or rate <= 0:
                raise RenderError(f"--fps: expected a positive rate such as 24, 25 or 24000/1001, got {self.fps!r}")
            set_("fps", rate)
        if self.depth is not None:
            set_("depth", str(self.depth))
            if self.depth not in DEPTHS:
                raise RenderError(f"--depth: expected one of {', '.join(DEPTHS)}, got {self.depth!r}")
        if self.temporal is not None and not 0 <= self.temporal <= TEMPORAL_MAX:
            raise RenderError(f"--temporal-strength: must be between 0 and {TEMPORAL_MAX}, got {self.temporal}")
        if self.both_ways and self.temporal is None:
            raise RenderError("both ways: blending with the next frame needs --temporal")
        if not 0 <= self.strength <= 1:
            raise RenderError(f"--strength: expected 0 to 1, got {self.strength}")
        if isinstance(self.controls, dict):
            set_("controls", Controls(**self.controls))
        set_("regions", (self.regions,) if isinstance(self.regions, str) else tuple(str(r) for r in self.regions))

    @property
    def sample(self) -> str | None:
        """The output's sample type for `depth` (`stylereel.io.frames`), None to keep the input's."""
        return DEPTHS[self.depth] if self.depth is not None else None

    def to_dict(self) -> dict:
        """Plain values (JSON, YAML): `RenderOptions.from_dict(o.to_dict()) == o`."""
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        return {**d, "fps": str(self.fps) if self.fps is not None else None, "controls": asdict(self.controls),
                "regions": list(self.regions)}

    @classmethod
    def from_dict(cls, d: dict) -> "RenderOptions":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise RenderError(f"render options: unknown {', '.join(map(repr, unknown))} (known: {', '.join(sorted(known))})")
        return cls(**{**d, "regions": tuple(d.get("regions", ()))})
