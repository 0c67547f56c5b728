"""The unpaired look against the weight of its critic: the default objective trained with the
adversarial term (and, in one variant, the Gram style term) at other weights, same data and
budget, scored on the held-out photos like `bench/studies/grain.py`.

    python bench/studies/critic_weight.py --data DATA_DIR --minutes 4

The critic judges output patches against patches of the painting in colour; the Gram style
term on the loss trunk is largely colour-blind (bench/RESULTS.md, "grain"). A diagnosis of
how the two trade the painting's strokes and palette against stripes and the subject: each
variant is one run with one seed, so differences of about 0.15 in Magenta style distance
are within what reseeding moves. Writes bench/RESULTS.md (section "critic") and
docs/images/unpaired_critic.png.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.studies.grain import compare  # noqa: E402
from bench.results import rel_path, write_section  # noqa: E402

VARIANTS = {
    "adversarial 0.05 (the default until 820e375)": ["--loss.adversarial.weight=0.05"],
    "adversarial 0.25": ["--loss.adversarial.weight=0.25"],
    "adversarial 0.5 (the default since)": ["--loss.adversarial.weight=0.5"],
    "adversarial 1, style 4": ["--loss.adversarial.weight=1.0", "--loss.style.weight=4.0"],
}


def main() -> None:
    args, train, steps, rows = compare(__doc__, "critic", {n: ("reel", o) for n, o in VARIANTS.items()}, label="magenta")
    nets = list(steps)

    def mean(n, k):
        return float(np.mean([r[k] for r in rows[n]]))

    lines = [
        f"Each trained with the unpaired defaults and the options named on the same {len(train)} photos and "
        f"`styles/starry_night.jpg` for {args.minutes:g} minutes ({', '.join(f'{s} steps' for s in steps.values())}); scored on "
        f"the 4 held-out photos at {args.size} px (one run each). Stripes as in the section \"grain\" (the photos' own: "
        f"{mean('the photo', 'stripes'):.2f}).",
        "",
        "| output | options | Magenta style distance | content distance | stripes |",
        "| --- | --- | --- | --- | --- |",
    ]
    for n in nets:
        lines.append(f"| {n} | `{' '.join(VARIANTS[n]) or '-'}` | {mean(n, 'magenta'):.3f} | {mean(n, 'content_distance'):.3f} | "
                     f"{mean(n, 'stripes'):.2f} |")
    lines += ["", f"Sheet: `{rel_path(args.sheet)}` (photo | each variant, labelled with its Magenta style distance)."]
    write_section("critic", "Unpaired look: the critic's weight", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
