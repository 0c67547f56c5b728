"""`stylereel train | stylize | farm-job | eval | demo | looks | export | ui | bench speed`.

The only module that reads argv or prints. Config overrides are written
`--section.key=value` (e.g. `--train.lr_g=2e-4 --loss.adversarial.d_loss=hinge`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional, Tuple

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, help="GAN style transfer for film VFX, games and ads.")

# Options that take several paths: `--content a.jpg b.jpg` is expanded to
# `--content a.jpg --content b.jpg` before click sees it, so shell globs work.
MULTI_VALUE = {"--content", "--style"}
OVERRIDES = {"allow_extra_args": True, "ignore_unknown_options": True}
SHOWN_FAILURES = 5  # failed frames named on stderr; the render log lists them all


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
    content: List[str] = typer.Option([], help="content images, folders, sequences (plate.####.exr:1001-1100) or movies (unpaired look)"),
    style: List[str] = typer.Option([], help="style images or folders (unpaired look)"),
    pairs: Optional[str] = typer.Option(None, help="DIR with input/NAME and target/NAME, or PLATE=PAINTED: a shot and its painted keyframes (paired look)"),
    look: List[str] = typer.Option([], help="NAME=PAIRS, once per look: several paired looks in one model (fusion, strength and regions at render time)"),
    extend: Optional[str] = typer.Option(None, help="a multi-look model (or 'builtin'): learn one more look from --style, training only that look's parameters"),
    name: Optional[str] = typer.Option(None, help="the new look's name (with --extend)"),
    distill: Optional[str] = typer.Option(None, help="a trained look (built-in name or model directory) to learn from --content images painted by it: "
                                          "with --model.generator_kwargs, a smaller network that renders the same look"),
    steps: Optional[int] = typer.Option(None, help="training steps"),
    minutes: Optional[float] = typer.Option(None, help="wall-clock budget in minutes"),
    size: Optional[int] = typer.Option(None, help="training crop size in pixels"),
    config: Optional[Path] = typer.Option(None, help="YAML config file"),
    resume: bool = typer.Option(False, help="continue the run in --out from its last checkpoint"),
    nproc: int = typer.Option(1, help="train in N processes (torchrun; gloo on CPU, nccl with one GPU each): the global batch (data.batch) split between them"),
    dry_run: bool = typer.Option(False, "--dry-run", help="print the resolved config and exit"),
) -> None:
    """Train a look: unpaired (--content/--style), paired keyframes (--pairs), or a trained look again (--distill)."""
    from stylereel.run import build_config, resume_config
    from stylereel.train.checkpoint import has_state, saved_config, state_step

    overrides = _overrides(ctx)
    if name is not None and extend is None:
        _fail("--name names the look that --extend adds; give --extend MODEL too")
    if extend is not None:
        if extend == "builtin":
            from stylereel.looks import multi_look_model

            extend = str(multi_look_model())
        overrides = [f"model.extend={extend}", f"model.new_look={name or 'new'}", *overrides]
    if resume:
        if not has_state(out):
            _fail(f"{out}: no checkpoint to resume from")
        if content or style or pairs or config:
            _fail("--resume continues a run with its own data and config; give only --out, a budget and overrides")
        cfg = resume_config(saved_config(out), overrides, steps, minutes)
    else:
        from stylereel.io.frames import blocking_file

        blocking = blocking_file(out)
        if blocking is not None:
            _fail(f"--out {out}: cannot make the run folder there: {blocking} is a file")
        if has_state(out):
            _fail(f"{out}: already holds a run at step {state_step(out)}; pass --resume to continue it or choose another --out")
        cfg = build_config(content, style, pairs, config, overrides, steps, minutes, size, looks=look, distill=distill)
    if dry_run:
        typer.echo(cfg.to_yaml(), nl=False)
        return
    if nproc != 1:  # checked here, once, before the processes start
        if nproc < 1 or cfg.data.batch % nproc:
            _fail(f"--nproc {nproc}: " + ("expected at least 1 process" if nproc < 1 else
                  f"data.batch {cfg.data.batch} cannot be split evenly between {nproc} processes"))
        _torchrun(nproc)
    model_dir = _fit(cfg, out, resume)
    typer.echo(f"model: {model_dir}")


def _torchrun(nproc: int) -> None:
    """This `train` command again in `nproc` processes under torchrun (one machine), then exit with its status."""
    import os
    import subprocess

    if "WORLD_SIZE" in os.environ:
        _fail("--nproc: already running under torchrun; give the process count to torchrun alone")
    argv, skip = [], False
    for a in sys.argv[1:]:
        if skip:
            skip = False
        elif a == "--nproc":
            skip = True
        elif not a.startswith("--nproc="):
            argv.append(a)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}", "-m", "stylereel.cli", *argv]
    raise typer.Exit(subprocess.run(cmd).returncode)


def _fit(cfg, out: Path, resume: bool) -> Path:
    from tqdm import tqdm

    from stylereel.io.frames import check_writable
    from stylereel.train.distributed import leave
    from stylereel.train.trainer import Trainer

    check_writable(out)  # a read-only or full place is refused before the data loads
    trainer = Trainer(cfg, out, resume=resume)
    if not trainer.world.main:  # one progress bar and one report: rank 0's
        try:
            trainer.fit()
            raise typer.Exit(0)
        finally:
            leave()
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
    except KeyboardInterrupt:
        bar.close()
        saved = f"its state at step {trainer.saved_step} is saved" if trainer.saved_step is not None else "no state saved yet"
        typer.echo(f"{out}: stopped at step {trainer.step}, {saved}; continue with: stylereel train --out {out} --resume", err=True)
        raise
    finally:
        bar.close()
        leave()


@app.command()
def stylize(
    args: List[str] = typer.Argument(..., metavar="[MODEL] INPUTS...", help="a run or model directory (unless --look), then stills or folders, a sequence (plate.####.exr, plate.%04d.dpx, with an optional :1001-1100) or a movie"),
    look: Optional[str] = typer.Option(None, help="a look by name, or a mix inside the network (ink=0.7,fauve=0.3): of a multi-look MODEL, or built in without one (stylereel looks)"),
    look_strength: float = typer.Option(1.0, "--strength", help="0..1: from the untouched plate to the full look (inside a multi-look network; mixed with the plate for a single look)"),
    region: List[str] = typer.Option([], help="MATTE=LOOK: a region's own look (or none) from a matte file, a sequence numbered like the shot, or 'alpha'; repeatable"),
    output: Path = typer.Option(..., "-o", "--output", help="a file (one still), a folder (stills), a pattern out/shot_look.####.exr, or a movie (.mov ProRes, .mp4 H.264)"),
    frames: Optional[str] = typer.Option(None, help="frame range of a sequence or movie: 1001-1100, 1001-1100x2, 1001,1005,1010-1020"),
    only: Optional[str] = typer.Option(None, help="render only these of the shot's frames (a farm task's share; --frames names the whole shot); under --temporal the frames before them are rendered unwritten first, so shares join seamlessly"),
    overwrite: bool = typer.Option(False, help="render frames whose output exists again (default: skip them, so a stopped render resumes)"),
    colorspace_in: Optional[str] = typer.Option(None, "--colorspace-in", help="OCIO colour space or role of the input (default: scene_linear for EXR, sRGB otherwise)"),
    colorspace_out: Optional[str] = typer.Option(None, "--colorspace-out", help="OCIO colour space or role of the output (default: by output format, as for input)"),
    codec: Optional[str] = typer.Option(None, help="movie codec: h264, prores_hq, prores_4444 (default: by extension; 4444 when the input has alpha)"),
    fps: Optional[str] = typer.Option(None, help="frame rate of a movie made from frames (default: the input's, else 24); e.g. 24000/1001"),
    keyframes: Optional[str] = typer.Option(None, help="painted frames of this shot (painted.####.png, numbered like it) for a guided look (--data.mode=guided)"),
    temporal: bool = typer.Option(False, "--temporal", help="blend each frame with the previous one carried along the plate's motion (no boiling where the scene holds still)"),
    temporal_strength: Optional[float] = typer.Option(None, help="how much of the carried previous frame a trusted pixel takes, 0..0.95 (default: the tuned value; implies --temporal)"),
    both_ways: bool = typer.Option(False, "--both-ways", help="offline renders: blend with the next frame as well as the previous one (no lag, steadier; implies --temporal)"),
    texture_scale: Optional[float] = typer.Option(None, help="stroke size relative to the frame: 1 reads at any resolution as at 1080p, 2 twice as coarse, 0.5 finer (default: the frame's own pixels)"),
    preserve_color: Optional[str] = typer.Option(None, help="keep the plate's colour: 'luminance' (the look's luminance, the plate's chroma) or 'palette' (the look's texture in the plate's palette)"),
    preserve_lighting: float = typer.Option(0.0, help="0..1: how much of the plate's shading and exposure (low-frequency luminance) replaces the look's"),
    depth: Optional[str] = typer.Option(None, help="output precision: 8, 10, 12, 16 (integer formats), half or float (EXR); default: the input's where the format holds it"),
    tile: Optional[float] = typer.Option(None, help="megapixels the network runs at once: larger frames go in tiles (default 16.8, 4K whole); smaller needs less memory, same picture"),
    device: str = typer.Option("auto", help="auto | cpu | cuda"),
    precision: str = typer.Option("auto", help="auto | fp32 | bf16 | int8: the network's arithmetic (auto: bf16 where the device has bf16 units, else fp32; int8: quantized once per model on the CPU engine, pip install 'stylereel[int8]'); recorded in the render's JSON"),
    ray: Optional[str] = typer.Option(None, "--ray", help="render on a Ray cluster: 'auto' (this machine's cluster, else one started here) or its ADDRESS (head:6379); chunks of frames become tasks, a killed worker's chunk is retried"),
    chunk: Optional[int] = typer.Option(None, help="with --ray: frames per task (default: about 3 tasks per worker, at least 10 frames, 50 under --temporal)"),
    ray_cpus: int = typer.Option(1, "--ray-cpus", help="with --ray: CPUs (threads) per task"),
) -> None:
    """Render stills, sequences and movies in a trained or built-in look (precision, alpha, colour space, frame rate, timecode and audio kept)."""
    from stylereel.model import ModelError, resolve_model_dir

    def is_model(p: str) -> bool:
        try:
            resolve_model_dir(p)
            return True
        except ModelError:
            return False

    wants_map = look is not None and ("," in look or "=" in look) or look_strength != 1.0 or bool(region)
    chose_builtin = look is not None and not (len(args) >= 2 and is_model(args[0]))
    if chose_builtin:
        from stylereel.looks import model_for

        names = [p.split("=")[0].strip() for p in look.split(",") if p.strip()]
        model, inputs = model_for(names, multi=wants_map), args
    elif len(args) < 2:
        _fail("stylize needs a MODEL and at least one INPUT (or --look NAME and the INPUTs)")
    else:
        model, inputs = Path(args[0]), args[1:]

    from stylereel.render.stylize import Stylizer

    _check_device(device)
    from dataclasses import replace

    from stylereel.io.media import open_source
    from stylereel.render.controls import Controls
    from stylereel.render.options import RenderOptions
    from stylereel.render.plan import make_plan
    from stylereel.render.temporal import STRENGTH

    options = RenderOptions(overwrite=overwrite, colorspace_in=colorspace_in, colorspace_out=colorspace_out, depth=depth, codec=codec,
                            fps=fps, temporal=temporal_strength if temporal_strength is not None else (STRENGTH if temporal or both_ways else None),
                            both_ways=both_ways, keyframes=keyframes, controls=Controls(texture_scale, preserve_color, preserve_lighting),
                            look=look, strength=look_strength, regions=tuple(region), progress=True)
    plan = make_plan(open_source(list(inputs), frames), output, options=options)  # checked whole before the model loads
    if only is not None:
        from stylereel.io.sequence import parse_frames

        plan = plan.part(parse_frames(only))
    if tile is not None and not tile >= 0.25:
        _fail(f"--tile: expected at least 0.25 megapixels, got {tile}")
    stylizer = Stylizer(model, device=device, precision=precision, tile_pixels=round(tile * 1e6) if tile else None)
    if chose_builtin and stylizer.look_names is None:
        plan = replace(plan, options=replace(options, look=None))  # --look named the built-in single look itself
    if ray is not None:
        from stylereel.render.ray_render import render_on_ray

        report = render_on_ray(stylizer, plan, ray, chunk, ray_cpus, device, precision)
    else:
        report = stylizer.run(plan)
    problems = list(report.failed.values())
    for problem in problems[:SHOWN_FAILURES]:
        typer.echo(f"stylereel: error: {problem}", err=True)
    if len(problems) > SHOWN_FAILURES:
        typer.echo(f"stylereel: error: {len(problems) - SHOWN_FAILURES} more frames failed (each is listed in {report.log})", err=True)
    # what ran, once per render (and in its JSON log); on Ray, what the workers said they ran
    ran = f"{'; '.join(report.ran)} on the Ray workers" if report.ran else f"{stylizer.ran()} ({stylizer.engine.precision_note})"
    typer.echo(f"{report.output}: {report.summary()}; {ran}" + (f" (log: {report.log})" if report.log else ""))
    if report.failed:
        raise typer.Exit(3)


# stylize options a farm task may not take: the job sets them per task, or they would break a retried task
FARM_OWN = {"--frames", "--only", "-o", "--output", "--overwrite", "--both-ways", "--ray", "--chunk", "--ray-cpus"}


@app.command("farm-job", context_settings=OVERRIDES)
def farm_job(
    ctx: typer.Context,
    model: str = typer.Argument(..., help="a run or model directory, or a built-in look's name"),
    shot: str = typer.Argument(..., help="the plates: a sequence pattern (plate.####.exr) or a movie"),
    output: str = typer.Option(..., "--output", help="the rendered frames: a sequence pattern, e.g. out/plate_look.####.exr"),
    job: Path = typer.Option(..., "-o", "--job", help="the Open Job Description template to write (job.yaml)"),
    frames: Optional[str] = typer.Option(None, help="the shot's frames (default: all of them): 1001-1100, 1001-1100x2"),
    chunk: Optional[int] = typer.Option(None, help="frames per task (default 10, or 50 with --temporal, where each task first renders 6 frames unwritten and warms the steadied plate on up to 66)"),
    name: Optional[str] = typer.Option(None, help="the job's name on the farm"),
) -> None:
    """Write an Open Job Description job rendering SHOT, CHUNK frames per task (`openjd run JOB`, AWS Deadline Cloud).
    Options after `--` are stylize's, for every task: farm-job MODEL SHOT --output ... -o job.yaml -- --temporal"""
    from stylereel.farm import job_template, write_job
    from stylereel.io.media import open_source
    from stylereel.model import ModelError, resolve_model_dir
    from stylereel.render.options import RenderOptions
    from stylereel.render.plan import make_plan

    options = list(ctx.args)
    own = [a for a in options if a.split("=")[0] in FARM_OWN]
    if own:
        _fail(f"{own[0]}: the job sets it for each task (farm-job takes --frames and --output itself)")
    if chunk is None:
        temporal = any(a.split("=")[0] in ("--temporal", "--temporal-strength") for a in options)
        chunk = 50 if temporal else 10
    if chunk < 1:
        _fail(f"--chunk: expected at least 1 frame per task, got {chunk}")
    try:
        model_dir = resolve_model_dir(model)
    except ModelError:
        from stylereel.looks import look_dir, names

        if model not in names():
            raise
        model_dir = look_dir(model)
    stylize_cmd = typer.main.get_command(app).commands["stylize"]
    try:  # the options every task will run with, read now as stylize reads them
        stylize_cmd.make_context("stylize", [str(model_dir), shot, "-o", output, *options])
    except typer.exceptions.TyperException as e:  # typer's own click: a usage error, as stylize would print it
        _fail(f"stylize options after --: {e.format_message()}")
    source = open_source(shot, frames)
    numbers = list(source.numbers)
    make_plan(source, output, options=RenderOptions()).chunks(1)  # refused now: a movie output, a bad pattern
    here = job.resolve().parent  # OpenJD joins a PATH parameter's default to the template's folder

    def where(p) -> str:  # relative inside the template's folder, else absolute
        p = Path(p).resolve()
        return p.relative_to(here).as_posix() if p.is_relative_to(here) else str(p)

    paths = {"Model": where(model_dir), "Shot": where(shot), "Output": where(output)}
    _, params = write_job(job, job_template(paths, numbers, chunk, options, name), paths)
    tasks = -(-len(numbers) // chunk)
    typer.echo(f"{job}: {len(numbers)} frames of {shot} in {tasks} task{'s' if tasks != 1 else ''} of up to {chunk}; "
               f"run it here: openjd run {job} -p file://{params}")


@app.command("eval")
def eval_(
    model: Optional[Path] = typer.Argument(None, help="run directory or model directory (not with --temporal)"),
    temporal: Optional[Tuple[str, str]] = typer.Option(None, help="INPUT_SHOT OUTPUT_SHOT: warping error of a render against its input (sequences or movies, ranges allowed)"),
    pairs: Optional[str] = typer.Option(None, help="held-out DIR with input/ and target/, or PLATE=TRUTH sequences/movies (paired look): PSNR, SSIM"),
    content: List[str] = typer.Option([], help="held-out content images, sequences or movies (unpaired look): style and content distance"),
    style: List[Path] = typer.Option([], help="style images to measure against (default: the look's own)"),
    size: int = typer.Option(512, help="longer side at which unpaired content is evaluated"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="write the report as JSON here"),
    sheet: Optional[Path] = typer.Option(None, help="contact sheet PNG (default: beside --json)"),
    device: str = typer.Option("auto"),
) -> None:
    """Score a model on held-out data and write a contact sheet; or a rendered shot's temporal stability."""
    from stylereel.evaluate import run_eval
    from stylereel.io.atomic import atomic_write_text

    if temporal:
        from stylereel.evaluate import evaluate_temporal

        if model is not None or pairs or content:
            _fail("--temporal scores a rendered shot against its input: give INPUT_SHOT OUTPUT_SHOT only")
        plot = sheet if sheet is not None else (json_out.with_suffix(".png") if json_out else None)
        report = evaluate_temporal(temporal[0], temporal[1], plot)
        if json_out:
            atomic_write_text(json_out, json.dumps(report, indent=2) + "\n")
        typer.echo(f"warping_error={report['warping_error']:.6f} over {report['frames']} frames")
        if plot:
            typer.echo(f"plot: {plot}")
        return
    if model is None:
        _fail("eval needs a MODEL (or --temporal INPUT_SHOT OUTPUT_SHOT)")
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
    out: Path = typer.Option(Path("stylereel-demo"), "--out", help="where to write the movie, the stills and the contact sheet"),
    look: str = typer.Option("starry_night", help="a built-in look (stylereel looks)"),
) -> None:
    """Render the bundled sample clip and photos in a built-in look (no training): a movie, stills and a before/after sheet."""
    from stylereel.demo import run_demo
    from stylereel.looks import look_dir

    look_dir(look)  # a wrong name fails before anything is written
    typer.echo(f"rendering the bundled clip and photos in the built-in look {look!r} -> {out}")
    result = run_demo(out, look)
    typer.echo(f"movie: {result.movie}")
    typer.echo(f"stills: {out / 'stills'}")
    typer.echo(f"contact sheet: {result.sheet}")
    typer.echo("train your own look: stylereel train --content PLATES --style PAINTING --out runs/mine --minutes 10")


@app.command()
def looks(
    sheet: Optional[Path] = typer.Option(None, help="also write a thumbnail sheet: every built-in look on a bundled photo"),
) -> None:
    """List the built-in looks (stylereel stylize --look NAME INPUT -o OUTPUT)."""
    from stylereel.looks import describe, names

    for name in names():
        typer.echo(f"{name:14s} {describe(name)}")
    if sheet is not None:
        from stylereel.demo import write_looks_sheet

        typer.echo(f"sheet: {write_looks_sheet(sheet)}")


EXPORT_FORMATS = {"onnx": ".onnx", "flame": ".onnx", "torchscript": ".pt"}


@app.command()
def export(
    model: str = typer.Argument(..., help="run or model directory, or a built-in look's name (stylereel looks)"),
    output: Path = typer.Option(..., "-o", "--output", help="the file to write, e.g. look.onnx"),
    format_: str = typer.Option("onnx", "--format", help="onnx: one self-contained file (strength and look mix as inputs); "
                                "flame: the ONNX file with them baked in, and the JSON sidecar Flame's Inference node reads; "
                                "torchscript: for Nuke's Inference node (CatFileCreator), strength a knob"),
    look: Optional[str] = typer.Option(None, help="flame, torchscript: the look or mix baked in (ink, or ink=0.7,fauve=0.3); default the model's first"),
    look_strength: float = typer.Option(1.0, "--strength", help="flame: the strength baked in; torchscript: the strength knob's default (0..1)"),
) -> None:
    """Write a look for another runtime (inputs, encoding and looks in the file's metadata)."""
    if format_ not in EXPORT_FORMATS:
        _fail(f"--format: expected one of {', '.join(EXPORT_FORMATS)}, got {format_!r}")
    if output.suffix.lower() != EXPORT_FORMATS[format_]:
        _fail(f"{output}: an {format_} export is written as {EXPORT_FORMATS[format_]}")
    if format_ == "onnx" and (look is not None or look_strength != 1.0):
        _fail("--look and --strength are inputs of an onnx export (set them where it runs); they are baked into --format flame")
    if not 0 <= look_strength <= 1:
        _fail(f"--strength: expected 0 to 1, got {look_strength}")
    from stylereel.export.onnx import export_flame, export_onnx
    from stylereel.model import load_model

    where = Path(model)
    if not where.exists():
        from stylereel.looks import look_dir

        where = look_dir(model)  # a built-in look by name (a one-line error, with a suggestion, for any other)
    net, info = load_model(where)
    mix = None
    if look is not None:
        if not getattr(net, "looks", None):
            _fail(f"--look {look!r}: {model} holds one look; --look picks among a multi-look model's looks")
        from stylereel.render.look_map import parse_mix

        mix = parse_mix(look, [n for n in net.looks if n != "none"])
    if format_ == "torchscript":
        from stylereel.export.torchscript import export_torchscript

        typer.echo(f"{export_torchscript(net, output, str(model), mix, look_strength)}: for Nuke's Inference node (docs/nuke.md)")
        return
    if format_ == "flame":
        onnx_file, sidecar = export_flame(net, info, output, str(model), look_strength, mix)
        typer.echo(f"{onnx_file}: for Flame's Inference node, with {sidecar.name} beside it (docs/flame.md)")
        return
    meta = export_onnx(net, info, output, str(model))
    looks = json.loads(meta["looks"])
    typer.echo(f"{output}: {format_}, inputs {', '.join(json.loads(meta['inputs']))}" + (f"; looks {', '.join(looks)}" if looks else ""))


@app.command()
def ui(
    port: int = typer.Option(7860, help="the port on 127.0.0.1"),
    open_browser: bool = typer.Option(False, "--open", help="open the page in the default browser"),
) -> None:
    """A local web page: drop frames, pick or learn a look, preview, render, download (pip install 'stylereel[ui]')."""
    try:
        import gradio  # noqa: F401
    except ImportError:
        _fail("the web UI needs Gradio: pip install 'stylereel[ui]'")
    from stylereel.ui import serve

    typer.echo(f"stylereel ui: http://127.0.0.1:{port} (Ctrl-C stops it)")
    serve(port, open_browser=open_browser)


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
    from stylereel.device import cpu_description

    names = list(only) or default_networks(str(onnx) if onnx else None)
    results = measure(names, sizes, runs, peer_runs, str(onnx) if onnx else None)
    cpu = cpu_description()
    if json_out:
        typer.echo(json.dumps({"cpu": cpu, **results}))
        return
    typer.echo(f"{cpu['model']}: {', '.join(cpu['isa']) or 'no AVX2'}; {cpu['cores']} cores")
    magenta = results.get("multistyle26_onnx", {})
    for name, cells in results.items():
        for size, c in cells.items():
            than = f"  {magenta[size]['ms_per_frame'] / c['ms_per_frame']:5.1f}x Magenta's speed" if size in magenta and name != "multistyle26_onnx" else ""
            isa = f"{c['kernels']} kernels  " if c.get("kernels") else ""
            typer.echo(f"{name:24s} {size:6s} {c['ms_per_frame']:10.1f} ms/frame  {c['fps']:6.2f} fps  {isa}peak {c['peak_mib']:7.0f} MiB{than}")


def _check_device(device: str) -> None:
    if device not in ("auto", "cpu") and not device.startswith("cuda"):
        _fail(f"--device: expected auto, cpu or cuda[:N], got {device!r}")


EXIT_CODES = {  # documented in docs/troubleshooting.md
    0: "done",
    1: "internal error: a bug in stylereel (rerun with --debug for the traceback and report it)",
    2: "a mistake in the command, a setting or an input file: the message names it",
    3: "a render finished but some frames failed (each named; the rest are written)",
    4: "the system refused: a file or folder could not be read or written (permissions, disk full)",
    130: "interrupted (Ctrl-C); a render or training resumes where it stopped",
}


def main() -> None:
    from stylereel.device import keep_freed_memory
    from stylereel.errors import StylereelError

    keep_freed_memory()  # this process is ours: frames' memory is reused, not faulted in anew each frame

    argv = sys.argv[1:]
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    try:
        app(args=_expand_multi(argv), prog_name="stylereel")
    except StylereelError as e:
        if debug:
            raise
        # A mistake the user can fix (a bad file, value or name): one line, no traceback.
        typer.echo(f"stylereel: error: {' '.join(str(e).split())}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:  # (typer itself answers Ctrl-C inside a command with exit code 130)
        if debug:
            raise
        sys.exit(130)
    except OSError as e:
        if debug:
            raise
        where = f"{e.filename}: " if e.filename else ""
        typer.echo(f"stylereel: error: {where}{e.strerror or e}", err=True)
        sys.exit(4)
    except Exception as e:  # noqa: BLE001 - a bug: one line for the user, the traceback with --debug
        if debug:
            raise
        typer.echo(f"stylereel: internal error: {type(e).__name__}: {' '.join(str(e).split())} (rerun with --debug for the traceback)", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
