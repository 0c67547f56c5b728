"""`stylereel demo`: the main job on built-in defaults, from images bundled in the package."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from stylereel.config import RunConfig
from stylereel.data.images import load_images
from stylereel.render.contact_sheet import write_contact_sheet
from stylereel.render.stylize import Stylizer
from stylereel.run import build_config


def demo_dir() -> Path:
    return Path(str(resources.files("stylereel") / "assets" / "demo"))


def demo_config(minutes: float) -> RunConfig:
    d = demo_dir()
    # A one-minute demo starts from the shipped base: recognisable from the first steps (random init is mush that
    # early). The time budget ends the run.
    return build_config(content=[d / "content"], style=[d / "style"], minutes=minutes, steps=100_000,
                        overrides=["model.init=base", "train.checkpoint_every=100"])


def render_demo_sheet(model_dir: Path, path: Path) -> Path:
    d = demo_dir()
    stylizer = Stylizer(model_dir)
    rows, labels = [], []
    for folder, tag in (("content", "trained on"), ("heldout", "held out")):
        for img in load_images([d / folder]):
            x = img.permute(1, 2, 0).numpy()
            rows.append([x, stylizer(x)])
            labels.append([f"before ({tag})", "after"])
    return write_contact_sheet(path, rows, labels)
