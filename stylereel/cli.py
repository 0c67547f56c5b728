"""`stylereel train | stylize | eval | demo`.

The only module that reads argv or prints. Config overrides are written
`--section.key=value` (e.g. `--train.lr_g=2e-4 --loss.adversarial.d_loss=hinge`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, help="GAN style transfer for film VFX, games and ads.")

# Options that take several paths: `--content a.jpg b.jpg` is expanded to
# `--content a.jpg --content b.jpg` before click sees it, so shell globs work.
MULTI_VALUE = {"--content", "--style"}
OVERRIDES = {"allow_extra_args": True, "ignore_unknown_options": True}


def _expand_multi(argv: list[str]) -> list[str]:
    out, current = [], None
    for tok in argv:
        if tok in MULTI_VALUE:
            current = tok
            continue
        if current and not tok.startswith("-"):
            out += [current, tok]
            continue
        current = None
        out.append(tok)
    return out


def _fail(msg: str) -> None:
    typer.echo(f"stylereel: error: {msg}", err=True)
    raise typer.Exit(2)


def _overrides(ctx: typer.Context) -> list[str]:
    bad = [a for a in ctx.args if not (a.startswith("--") and "." in a.split("=")[0] and "=" in a)]
    if bad:
        _fail(f"unexpected argument {bad[0]!r} (config overrides look like --section.key=value)")
    return list(ctx.args)


@app.command(context_settings=OVERRIDES)
def train(
    ctx: typer.Context,
    out: Path = typer.Option(..., "--out", help="run directory (checkpoints, model/, tb/)"),
    content: List[Path] = typer.Option([], help="content images or folders (unpaired look)"),
    style: List[Path] = typer.Option([], help="style images or folders (unpaired look)"),
    pairs: Optional[Path] = typer.Option(None, help="DIR with input/NAME and target/NAME (paired look)"),
    steps: Optional[int] = typer.Option(None, help="training steps"),
    minutes: Optional[float] = typer.Option(None, help="wall-clock budget in minutes"),
    size: Optional[int] = typer.Option(None, help="training crop size in pixels"),
    config: Optional[Path] = typer.Option(None, help="YAML config file"),
    resume: bool = typer.Option(False, help="continue the run in --out from its last checkpoint"),
    dry_run: bool = typer.Option(False, "--dry-run", help="print the resolved config and exit"),
) -> None:
    """Train a look: unpaired (--content/--style) or paired keyframes (--pairs)."""
    from stylereel.run import build_config, resume_config
    from stylereel.train.checkpoint import has_state, saved_config, state_step

    overrides = _overrides(ctx)
    if resume:
        if not has_state(out):
            _fail(f"{out}: no checkpoint to resume from")
        if content or style or pairs or config:
            _fail("--resume continues a run with its own data and config; give only --out, a budget and overrides")
        cfg = resume_config(saved_config(out), overrides, steps, minutes)
    else:
        if has_state(out):
            _fail(f"{out}: already holds a run at step {state_step(out)}; pass --resume to continue it or choose another --out")
        cfg = build_config(content, style, pairs, config, overrides, steps, minutes, size)
    if dry_run:
        typer.echo(cfg.to_yaml(), nl=False)
        return
    model_dir = _fit(cfg, out, resume)
    typer.echo(f"model: {model_dir}")


def _fit(cfg, out: Path, resume: bool) -> Path:
    from tqdm import tqdm

    from stylereel.train.trainer import Trainer

    trainer = Trainer(cfg, out, resume=resume)
    # With a time budget the bar runs on seconds (its ETA is the budget); otherwise on steps.
    timed = cfg.train.minutes is not None
    total = round(cfg.train.minutes * 60) if timed else cfg.train.steps
    # A seconds bar has no meaningful rate ("1.0s/s"): show elapsed < remaining and the step count instead.
    fmt = "{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}{postfix}" if timed else None
    # In a log file (not a terminal) every redraw is another line: one every 30 s is plenty there.
    bar = tqdm(total=total, initial=0 if timed else trainer.step, unit="s" if timed else "step", dynamic_ncols=True,
               desc=out.name, bar_format=fmt, **({} if sys.stderr.isatty() else {"mininterval": 30, "maxinterval": 60}))

    def on_step(info) -> None:
        bar.update(min(round(info.elapsed), total) - bar.n if timed else info.step - bar.n)
        if info.step % cfg.train.log_every == 0:
            shown = {k: f"{v:.3g}" for k, v in info.losses.items() if k in ("d", "g", "style", "content", "l1")}
            bar.set_postfix({"step": info.step, **shown} if timed else shown, refresh=False)  # drawn with the next update

    try:
        return trainer.fit(on_step)
    finally:
        bar.close()


@app.command()
def stylize(
    model: Path = typer.Argument(..., help="run directory or model directory"),
    inputs: List[Path] = typer.Argument(..., help="images or folders"),
    output: Path = typer.Option(..., "-o", "--output", help="output directory, or a file for a single input"),
    device: str = typer.Option("auto", help="auto | cpu | cuda"),
) -> None:
    """Render images in a trained look (PNG/JPEG/TIFF; bit depth and alpha kept)."""
    from stylereel.render.stylize import Stylizer, output_paths

    _check_device(device)
    jobs = output_paths(inputs, output)
    stylizer = Stylizer(model, device=device)
    for src, dst in jobs:
        stylizer.stylize_file(src, dst)
        typer.echo(str(dst))


@app.command("eval")
def eval_(
    model: Path = typer.Argument(..., help="run directory or model directory"),
    pairs: Optional[Path] = typer.Option(None, help="held-out DIR with input/ and target/ (paired look): PSNR, SSIM"),
    content: List[Path] = typer.Option([], help="held-out content images (unpaired look): style and content distance"),
    style: List[Path] = typer.Option([], help="style images to measure against (default: the look's own)"),
    size: int = typer.Option(512, help="longer side at which unpaired content is evaluated"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="write the report as JSON here"),
    sheet: Optional[Path] = typer.Option(None, help="contact sheet PNG (default: beside --json)"),
    device: str = typer.Option("auto"),
) -> None:
    """Score a model on held-out data and write a contact sheet."""
    from stylereel.evaluate import run_eval
    from stylereel.io.atomic import atomic_write_text

    _check_device(device)
    if size < 16:
        _fail(f"--size: must be at least 16, got {size}")
    if sheet is None and json_out is not None:
        sheet = json_out.with_suffix(".png")
    report = run_eval(model, pairs=pairs, content=content, style=style, size=size, sheet_path=sheet, device=device)
    text = json.dumps(report, indent=2)
    if json_out:
        atomic_write_text(json_out, text + "\n")
    keys = ("psnr", "ssim") if pairs else ("style_distance", "content_distance")
    typer.echo("  ".join(f"{k}={report[k]:.4f}" for k in keys))
    if sheet:
        typer.echo(f"contact sheet: {sheet}")


@app.command()
def demo(
    out: Path = typer.Option(Path("stylereel-demo"), "--out", help="where to write the run and the contact sheet"),
    minutes: float = typer.Option(1.0, help="training budget"),
) -> None:
    """Train a Starry Night look on the bundled photos and render a before/after sheet."""
    from stylereel.demo import demo_config, render_demo_sheet
    from stylereel.train.checkpoint import has_state

    if has_state(out):
        _fail(f"{out}: already holds a demo run; remove it or pass --out elsewhere")
    cfg = demo_config(minutes)
    typer.echo(f"training a Starry Night look for {minutes:g} min on the bundled photos -> {out}")
    model_dir = _fit(cfg, out, resume=False)
    sheet = render_demo_sheet(model_dir, out / "contact_sheet.png")
    typer.echo(f"model: {model_dir}")
    typer.echo(f"contact sheet: {sheet}")


bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks (see bench/RESULTS.md).")
app.add_typer(bench_app, name="bench")


@bench_app.command("speed")
def bench_speed(
    json_out: bool = typer.Option(False, "--json", help="print one JSON object {network: {size: {...}}}"),
    sizes: List[str] = typer.Option(["1080p", "2160p"], "--size", help="1080p and/or 2160p"),
    runs: int = typer.Option(5, help="timed runs for stylereel (median reported)"),
    peer_runs: int = typer.Option(3, help="timed runs for each peer"),
    onnx: Optional[Path] = typer.Option(None, help="multistyle26.onnx, to time Magenta's network too"),
    only: List[str] = typer.Option([], help="measure only these networks"),
) -> None:
    """Time stylereel's default generator against its peers, each in its own process."""
    from stylereel.benchmark.speed import SIZES, default_networks, measure

    bad = [s for s in sizes if s not in SIZES]
    if bad:
        _fail(f"unknown size {bad[0]!r} (valid: {', '.join(SIZES)})")
    if onnx is not None and not onnx.is_file():
        _fail(f"{onnx}: no such ONNX file")
    names = list(only) or default_networks(str(onnx) if onnx else None)
    results = measure(names, sizes, runs, peer_runs, str(onnx) if onnx else None)
    if json_out:
        typer.echo(json.dumps(results))
        return
    for name, cells in results.items():
        for size, c in cells.items():
            typer.echo(f"{name:24s} {size:6s} {c['ms_per_frame']:10.1f} ms/frame  {c['fps']:6.2f} fps  peak {c['peak_mib']:7.0f} MiB")


def _check_device(device: str) -> None:
    if device not in ("auto", "cpu") and not device.startswith("cuda"):
        _fail(f"--device: expected auto, cpu or cuda[:N], got {device!r}")


def main() -> None:
    from stylereel.errors import StylereelError

    try:
        app(args=_expand_multi(sys.argv[1:]), prog_name="stylereel")
    except StylereelError as e:
        # A mistake the user can fix (a bad file, value or name): one line, no traceback.
        typer.echo(f"stylereel: error: {' '.join(str(e).split())}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
