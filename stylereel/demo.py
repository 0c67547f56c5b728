"""`stylereel demo`: the main job on built-in defaults. The sample clip bundled in the
package (a real camera shot) and the bundled photos rendered in a built-in look, no
training: a movie through the shot renderer (flicker handled both ways), the stills, and
a before/after contact sheet.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from stylereel.errors import StylereelError
from stylereel.io.frames import read_image
from stylereel.io.media import open_source
from stylereel.looks import look_dir, names
from stylereel.render.contact_sheet import write_contact_sheet
from stylereel.render.look_map import LookMap
from stylereel.render.stylize import Stylizer
from stylereel.render.temporal import STRENGTH

CLIP_FRAMES_SHOWN = (1, 24, 48)


def demo_dir() -> Path:
    return Path(str(resources.files("stylereel") / "assets" / "demo"))


@dataclass
class DemoResult:
    movie: Path
    stills: list[Path]
    sheet: Path


def run_demo(out: Path, look: str) -> DemoResult:
    d = demo_dir()
    stylizer = Stylizer(look_dir(look))
    which = look if stylizer.look_names else None  # a look of the multi-look model, or the single look itself
    clip = d / "clip" / "tree.mp4"
    movie = out / f"tree_{look}.mp4"
    report = stylizer.render(str(clip), movie, overwrite=True, temporal=STRENGTH, both_ways=True, look=which)
    if not report.ok:
        raise StylereelError(f"{movie}: {report.summary()}")
    photos = sorted(p for folder in ("content", "heldout") for p in (d / folder).iterdir())
    stills = []
    for p in photos:
        dst = out / "stills" / f"{p.stem}_{look}.png"
        report = stylizer.render([p], dst, overwrite=True, log=False, look=which)
        if not report.ok:
            raise StylereelError(f"{dst}: {report.summary()}")
        stills.append(dst)
    rows, labels = [], []
    shown = ",".join(map(str, CLIP_FRAMES_SHOWN))
    before, after = open_source(f"{clip}:{shown}"), open_source(f"{movie}:{shown}")
    for (i, plate, _), (_, styled, _) in zip(before.frames(), after.frames()):
        rows.append([plate.rgb, styled.rgb])
        labels.append([f"clip frame {before.numbers[i]}", look])
    for p, dst in zip(photos, stills):
        rows.append([read_image(p).rgb, read_image(dst).rgb])
        labels.append([p.name, look])
    sheet = write_contact_sheet(out / "contact_sheet.png", rows, labels)
    return DemoResult(movie, stills, sheet)


def write_looks_sheet(path: Path, per_row: int = 4) -> Path:
    """Every built-in look on a held-out bundled photo, labelled with its name."""
    photo = read_image(sorted((demo_dir() / "heldout").iterdir())[0]).rgb
    loaded: dict[Path, Stylizer] = {}
    cells = [(photo, "photo")]
    for n in names():
        if look_dir(n) not in loaded:
            loaded[look_dir(n)] = Stylizer(look_dir(n))
        st = loaded[look_dir(n)]
        if st.look_names:
            cells.append((LookMap(st.look_names, {n: 1.0}).stylize(st, photo), n))
        else:
            cells.append((st(photo), n))
    rows = [cells[i : i + per_row] for i in range(0, len(cells), per_row)]
    return write_contact_sheet(path, [[c[0] for c in r] for r in rows], [[c[1] for c in r] for r in rows], height=200)
