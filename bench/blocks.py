"""The CPU engine with the generator's full-resolution stage as trained against on 2x2 blocks
(`stylereel.nets.space_to_depth`), per model and generator size, at each precision this CPU runs
and with fp32 capped to AVX2 (what a Zen 3 or an older Xeon runs).

    python bench/blocks.py

One process per precision; in it, for every model, one engine of each kind on the same 1920x1080
frame (largest difference between them checked), then both timed alternately, 7 frames each
after a warm-up, median. The models: the shipped Starry Night look, the shipped six-look model
(its first look everywhere), a guided generator and smaller default generators (random weights
with their residual gains opened: speed does not depend on what the weights are).
The engine "as trained" is the same engine with `on_blocks` left out.

Writes bench/RESULTS.md, section "blocks".
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHAPES = [((16, 32, 64), 4), ((8, 32, 64), 4), ((8, 16, 32), 1)]


def models():
    """(name, generator, its extra inputs at 1080p) for every model timed."""
    import torch

    from stylereel.looks import look_dir, multi_look_model
    from stylereel.model import load_model
    from stylereel.nets.generator import build_generator

    def opened(name, **kwargs):
        torch.manual_seed(0)
        g = build_generator(name, **kwargs)
        for p in g.parameters():
            if p.dim() == 4 and p.shape[0] == 1 and p.shape[-1] == 1:
                p.data.fill_(0.3)
        return g

    h, w = 1080, 1920
    multi, _ = load_model(multi_look_model())
    first = torch.zeros(1, len(multi.looks), h, w)
    first[:, 1] = 1
    yield "Starry Night (shipped), (16,48,96)x6", load_model(look_dir("starry_night"))[0], {}
    yield f"six-look model (shipped), {len(multi.looks) - 1} looks", multi, {"look": first}
    yield "guided generator, (16,48,96)x6", opened("reel_guided"), {"guide": torch.rand(1, 4, h, w)}
    for channels, n_blocks in SHAPES:
        yield f"default generator, ({','.join(map(str, channels))})x{n_blocks}", opened("reel", channels=channels, n_blocks=n_blocks), {}


def worker(precision: str) -> list[dict]:
    import torch

    import stylereel.render.engine as engine
    from bench.results import alternate

    x = torch.rand(1, 1080, 1920, 3).permute(0, 3, 1, 2)  # a frame as read: [H, W, 3] in memory
    rows = []
    for name, net, extras in models():
        net.eval()
        blocks = engine.InferenceEngine(net, "cpu", precision=precision)
        on_blocks, engine.on_blocks = engine.on_blocks, lambda n: n
        try:
            trained = engine.InferenceEngine(net, "cpu", precision=precision)
        finally:
            engine.on_blocks = on_blocks
        diff = float((blocks(x, **extras) - trained(x, **extras)).abs().max())
        ms = alternate({kind: (lambda e=e: e(x, **extras)) for kind, e in (("trained", trained), ("blocks", blocks))})
        rows.append({"model": name, "diff": diff, **ms})
    return rows


def main() -> None:
    from bench.results import engine_configs, run_worker, write_section
    from stylereel.device import cpu_description

    rows = [(isa, precision, row) for isa, precision, env in engine_configs() for row in run_worker(__file__, precision, env=env)]
    cpu = cpu_description()
    lines = [
        f"CPU: {cpu['model']}, {', '.join(cpu['isa'])}, {cpu['cores']} cores. 1920x1080, ms per frame (median of 7, the two engines "
        "alternating in one process); largest difference: between the two engines' pictures (bf16 rounds each differently).",
        "",
        "| model | ISA | precision | as trained, ms | on blocks, ms | on blocks / as trained | largest difference |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for isa, precision, r in rows:
        lines.append(f"| {r['model']} | {isa} | {precision} | {r['trained']:.1f} | {r['blocks']:.1f} | {r['blocks'] / r['trained']:.2f} | {r['diff']:.1e} |")
    write_section("blocks", "The full-resolution stage on 2x2 blocks, per model and precision", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        print(json.dumps(worker(sys.argv[2])))
    else:
        main()
