"""`stylereel ui`: a local web page (Gradio, on 127.0.0.1, offline) to try looks on your own
frames and render them, for art directors and look developers without a terminal.

Drop a still, several stills (or a zip of them) or a movie; pick a built-in look or a trained
model folder, or learn a new look from reference images (an instant AdaIN preview, then the
look as it trains, with a progress bar); set the mix, strength, a region from a matte and the
colour, lighting and texture controls; preview one frame before and after; render everything
with a progress bar and a cancel button; download the result. A render here is the CLI's render: the same
`RenderOptions`, the same `RenderPlan` and `run_plan`; every error the CLI names is shown on
the page as its one-line message.
"""



import contextlib
import os
import shutil
import tempfile
import threading
import time
import zipfile
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # offline: no usage reports, no version checks

from stylereel.errors import StylereelError  # noqa: E402
from stylereel.io.frames import IMAGE_EXTENSIONS, read_image  # noqa: E402
from stylereel.io.video import is_movie  # noqa: E402
from stylereel.looks import DEFAULT_LOOK, model_for, names  # noqa: E402
from stylereel.render.controls import Controls  # noqa: E402
from stylereel.render.options import RenderOptions  # noqa: E402
from stylereel.render.stylize import Stylizer  # noqa: E402

PREVIEW_SIDE = 720  # the preview's longer side: quick, and enough to judge a look
COLOR_MODES = ("none", "luminance", "palette")
PROGRESS_EVERY = 0.5  # seconds between progress updates to the page (bench/RESULTS.md, "ui")
LEARN_SIDE = 384  # the side of the training preview: drawn by the training network between steps, so small
LEARN_PREVIEW_EVERY = 5.0  # seconds of training between two previews of the look
LEARN_MODES = {  # what the page offers -> the run's overrides (besides the data and the budget)
    "quick: one more look in the built-in network (about a minute)": "extend",
    "full: a network of its own (10 minutes or more; stronger)": "full",
}


class Session:
    """What one browser tab holds: its cancel switch."""

    def __init__(self):
        self.cancel = threading.Event()


class Looks:
    """Models loaded once and shared by every tab; one render at a time per model."""

    def __init__(self):
        self._models: dict[str, Stylizer] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, choice: str, model_path: str, look: str) -> tuple[Stylizer, threading.Lock, str | None]:
        """The stylizer for the page's choice: a trained model folder if given, else the built-in
        model holding the look(s) named; and the look option to render with."""
        if model_path.strip():
            folder, look_opt = model_path.strip(), (look.strip() or None)
        else:
            wanted = [p.split("=")[0].strip() for p in (look.strip() or choice).split(",") if p.strip()]
            folder = str(model_for(wanted, multi=len(wanted) > 1 or "=" in look))
            look_opt = look.strip() or choice
        with self._guard:
            if folder not in self._models:
                self._models[folder] = Stylizer(folder)
                self._locks[folder] = threading.Lock()
            s = self._models[folder]
        if s.look_names is None:
            look_opt = None  # the built-in single look itself, or a trained single look
        return s, self._locks[folder], look_opt


def _inputs(files: list[str], work: Path) -> list[str] | str:
    """The uploaded files as a render source: one movie, or stills (zips unpacked)."""
    if not files:
        raise StylereelError("no input: drop a still, several stills, a zip of stills or a movie")
    movies = [f for f in files if is_movie(f)]
    if movies:
        if len(files) > 1:
            raise StylereelError(f"{Path(movies[0]).name}: render one movie at a time, without other files")
        return movies[0]
    stills = []
    for f in files:
        if Path(f).suffix.lower() == ".zip":
            folder = work / "unzipped" / Path(f).stem
            try:
                with zipfile.ZipFile(f) as z:
                    for member in z.infolist():
                        name = Path(member.filename).name
                        if member.is_dir() or name.startswith(".") or Path(name).suffix.lower() not in IMAGE_EXTENSIONS:
                            continue
                        folder.mkdir(parents=True, exist_ok=True)
                        (folder / name).write_bytes(z.read(member))
            except zipfile.BadZipFile:
                raise StylereelError(f"{Path(f).name}: not a readable zip file") from None
            if not folder.is_dir():
                raise StylereelError(f"{Path(f).name}: no images in the zip (images: {', '.join(IMAGE_EXTENSIONS)})")
            stills.append(str(folder))
        else:
            stills.append(f)
    return stills


def _options(strength, region_matte, region_look, texture, color, lighting, temporal) -> dict:
    regions = (f"{region_matte}={region_look.strip() or 'none'}",) if region_matte else ()
    return dict(strength=float(strength), regions=regions, temporal=0.4 if temporal else None,
                controls=Controls(float(texture) or None, None if color == "none" else color, float(lighting)))


def _first_still(src: list[str] | str, work: Path) -> Path:
    """The first frame of a render source (`_inputs`): a movie's, as a still in `work`, or the first still."""
    if not isinstance(src, str):
        from stylereel.io.frames import list_images

        return list_images(src)[0]
    from stylereel.io.frames import write_image
    from stylereel.io.media import open_source

    frame = next(f for _, f, _ in open_source(src, "1").frames())
    if frame is None:
        raise StylereelError(f"{Path(src).name}: its first frame cannot be read")
    still = work / "first.png"
    write_image(still, frame.rgb, alpha=frame.alpha, sample="uint16")
    return still


def _uint8(rgb):
    import numpy as np

    return (np.clip(rgb, 0, 1) * 255).astype("uint8")


def _look_of(stylizer: Stylizer, lock: threading.Lock, look_opt, still: Path, work: Path, **knobs) -> tuple:
    """`still` at most PREVIEW_SIDE a side, before and after, rendered as the CLI renders it."""
    small, out = work / "small.png", work / "after.png"
    _shrink(read_image(still), small)
    o = RenderOptions(overwrite=True, log=False, look=look_opt, **_options(**knobs, temporal=False))
    with lock:
        report = stylizer.run(stylizer.plan([str(small)], out, options=o))
    if report.failed:
        raise StylereelError(next(iter(report.failed.values())))
    return _uint8(read_image(small).rgb), _uint8(read_image(out).rgb)


def preview(looks: Looks, files, choice, model_path, look, strength, region_matte, region_look, texture, color, lighting):
    """The first frame, before and after, at most PREVIEW_SIDE on its longer side."""
    work = Path(tempfile.mkdtemp(prefix="stylereel-ui-"))
    try:
        still = _first_still(_inputs([_path(f) for f in files or []], work), work)
        stylizer, lock, look_opt = looks.get(choice, model_path, look)
        return _look_of(stylizer, lock, look_opt, still, work, strength=strength, region_matte=_path(region_matte),
                        region_look=region_look, texture=texture, color=color, lighting=lighting)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def learn(looks: Looks, session: Session, files, references, name, mode, minutes, progress):
    """Learn a look from reference images on the frames dropped: yields (before, after, status, model folder, look)
    as it goes: AdaIN's picture of the first frame at once, then the look as trained so far every
    LEARN_PREVIEW_EVERY seconds, then the trained model rendered as the CLI renders it, selected on the page."""
    import cv2
    import torch

    from stylereel.data.images import load_images
    from stylereel.nets.adain import paint
    from stylereel.run import build_config
    from stylereel.train.trainer import Trainer

    session.cancel.clear()
    refs = [_path(f) for f in references or []]
    if not refs:
        raise StylereelError("no reference: drop one or more images of the look to learn (paintings, graded frames)")
    name = (name or "").strip() or "my_look"
    if not name.replace("_", "").isalnum():
        raise StylereelError(f"look name {name!r}: use letters, digits and _ only")
    work = Path(tempfile.mkdtemp(prefix="stylereel-ui-learn-"))
    content = _inputs([_path(f) for f in files or []], work)
    first = _first_still(content, work)  # zips unpacked once
    still = read_image(first).rgb
    h, w = still.shape[:2]
    scale = min(1.0, LEARN_SIDE / max(h, w))
    plate = torch.from_numpy(cv2.resize(still, (max(8, round(w * scale) // 8 * 8), max(8, round(h * scale) // 8 * 8)),
                                        interpolation=cv2.INTER_AREA)).permute(2, 0, 1)[None].contiguous()

    overrides = []
    if LEARN_MODES[mode] == "extend":
        from stylereel.looks import multi_look_model

        overrides = [f"model.extend={multi_look_model()}", f"model.new_look={name}"]
    cfg = build_config([content] if isinstance(content, str) else content, refs, overrides=overrides,
                       minutes=float(minutes), steps=10**9)
    look_images = load_images(refs, exact_side=cfg.data.style_size, trim=cfg.data.style_trim)
    total = round(float(minutes) * 60)
    progress((0, total), desc="AdaIN preview", unit="s")
    yield (_uint8(plate[0].permute(1, 2, 0).numpy()), _uint8(paint([plate[0]], look_images)[0].permute(1, 2, 0).numpy()),
           "AdaIN's picture (instant); loading the frames to learn on", gr_skip(), gr_skip())

    run = work / name
    trainer = Trainer(cfg, run)
    seen = {"step": 0, "elapsed": 0.0, "shown": -LEARN_PREVIEW_EVERY, "picture": None, "error": None}

    def on_step(info) -> None:
        seen["step"], seen["elapsed"] = info.step, info.elapsed
        if info.elapsed - seen["shown"] >= LEARN_PREVIEW_EVERY:
            seen["shown"], seen["picture"] = info.elapsed, _uint8(trainer.paint(plate)[0].permute(1, 2, 0).numpy())

    def fit() -> None:
        try:
            trainer.fit(on_step, stop=session.cancel)
        except BaseException as exc:  # shown on the page by the loop below
            seen["error"] = exc

    thread = threading.Thread(target=fit, daemon=True)
    thread.start()
    shown = None
    while thread.is_alive():
        thread.join(PROGRESS_EVERY)
        progress((min(round(seen["elapsed"]), total), total), desc=f"learning {name}: step {seen['step']}", unit="s")
        if seen["picture"] is not shown:
            shown = seen["picture"]
            yield gr_skip(), shown, f"learning {name}: step {seen['step']}, {seen['elapsed']:.0f} of {total} s", gr_skip(), gr_skip()
    if seen["error"] is not None:
        raise seen["error"]
    model = run / "model"
    look_opt = name if LEARN_MODES[mode] == "extend" else None
    stylizer, lock, _ = looks.get("", str(model), look_opt or "")
    before, after = _look_of(stylizer, lock, look_opt, first, work, strength=1.0, region_matte=None,
                             region_look="none", texture=0, color="none", lighting=0)
    stopped = "stopped (cancel) " if session.cancel.is_set() else ""
    yield (before, after, f"{name}: learnt, {stopped}after {trainer.step} steps in {seen['elapsed']:.0f} s; model folder {model} "
           "(selected below: Preview and Render all use it)", str(model), look_opt or "")


def gr_skip():
    """Leave an output as it is (Gradio's `skip`)."""
    import gradio as gr

    return gr.skip()


def render(looks: Looks, session: Session, files, choice, model_path, look, strength, region_matte, region_look, texture,
           color, lighting, temporal, progress) -> tuple[str, str]:
    """Everything dropped, rendered as the CLI renders it; returns the file to download and a summary."""
    work = Path(tempfile.mkdtemp(prefix="stylereel-ui-"))
    session.cancel.clear()
    src = _inputs([_path(f) for f in files or []], work)
    stylizer, lock, look_opt = looks.get(choice, model_path, look)
    name = (look_opt or choice or "look").split("=")[0].split(",")[0].strip().replace(" ", "_") or "look"
    if isinstance(src, str):
        out = work / f"{Path(src).stem}_{name}.mp4"
    elif len(src) == 1 and Path(src[0]).is_file():
        out = work / f"{Path(src[0]).stem}_{name}{Path(src[0]).suffix.lower()}"
    else:
        out = work / f"{name}_frames"
    steady = bool(temporal) and isinstance(src, str)  # a movie; stills have no motion to follow
    o = RenderOptions(look=look_opt, **_options(strength, _path(region_matte), region_look, texture, color, lighting, steady))
    plan = stylizer.plan(src, out, options=o)
    progress((0, len(plan.render)), desc="rendering", unit="frames")

    last = [0.0]

    def heard(p) -> None:  # a few updates a second: each one is redrawn by the browser, on the same cores
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY or p.finished == p.total:
            last[0] = now
            progress((p.finished, p.total), desc=f"frame {p.number}: {p.status}", unit="frames")

    with lock:
        report = stylizer.run(plan, heard, session.cancel)
    if report.cancelled:
        raise StylereelError(f"cancelled after {len(report.done)} of {len(plan.render)} frames")
    if report.failed and not report.done:
        raise StylereelError("; ".join(list(report.failed.values())[:3]))
    summary = report.summary() + "".join(f"\n{p}" for p in list(report.failed.values())[:3])  # as the CLI, which also exits 3
    if out.is_dir():
        archive = shutil.make_archive(str(out), "zip", out)
        return archive, summary
    return str(out), summary


def _path(f) -> str | None:
    if f is None:
        return None
    return f if isinstance(f, str) else getattr(f, "name", None) or getattr(f, "path", None)


def _shrink(frame, dst: Path) -> None:
    import cv2

    from stylereel.io.frames import write_image

    h, w = frame.rgb.shape[:2]
    scale = min(1.0, PREVIEW_SIDE / max(h, w))
    rgb = frame.rgb if scale == 1 else cv2.resize(frame.rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    alpha = None
    if frame.alpha is not None:
        from stylereel.io.working import float_alpha

        a = float_alpha(frame.alpha)
        alpha = a if scale == 1 else cv2.resize(a, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_AREA)
    write_image(dst, rgb, alpha=alpha, sample="uint16")


def build(looks: Looks | None = None):
    """The page (a `gradio.Blocks`)."""
    import gradio as gr

    looks = looks or Looks()
    sessions: dict[str, Session] = {}

    def session_of(request: gr.Request) -> Session:
        return sessions.setdefault(request.session_hash or "", Session())

    @contextlib.contextmanager
    def errors_on_page():
        """The project's one-line errors (and the OS's) as a message on the page."""
        try:
            yield
        except StylereelError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        except OSError as exc:
            raise gr.Error(f"{exc.filename or ''}: {exc.strerror or exc}".strip(": "), print_exception=False) from None

    def shown(fn):
        def run(*args, **kwargs):
            with errors_on_page():
                return fn(*args, **kwargs)
        return run

    with gr.Blocks(title="stylereel") as page:
        gr.Markdown("## stylereel\nDrop frames, pick a look (or learn one from reference images), preview, render, download.")
        with gr.Row():
            with gr.Column():
                files = gr.File(label="Frames: a still, several stills, a zip of stills, or a movie", file_count="multiple",
                                elem_id="frames")
                choice = gr.Dropdown(names(), value=DEFAULT_LOOK, label="Built-in look", elem_id="look-choice")
                model_path = gr.Textbox(label="...or a trained model folder (stylereel train --out RUN)", placeholder="runs/starry",
                                        elem_id="model-path")
                look = gr.Textbox(label="Look mix (multi-look models): ink=0.7,fauve=0.3", elem_id="look-mix")
                strength = gr.Slider(0, 1, value=1, step=0.05, label="Strength", elem_id="strength")
                with gr.Accordion("Region, colour, lighting, texture, flicker", open=False):
                    region_matte = gr.File(label="Region matte (white: the region)", file_count="single", elem_id="matte")
                    region_look = gr.Textbox(label="The region's look (a look, a mix, or none)", value="none")
                    texture = gr.Slider(0, 4, value=0, step=0.05,
                                        label="Texture scale (0: the look as trained; 1: strokes sized for 1080 rows, 2 coarser, 0.5 finer)")
                    color = gr.Dropdown(list(COLOR_MODES), value="none", label="Keep the plate's colour")
                    lighting = gr.Slider(0, 1, value=0, step=0.05, label="Keep the plate's lighting")
                    temporal = gr.Checkbox(value=True, label="Steady a movie along its motion (--temporal)")
                with gr.Accordion("Learn a new look from reference images", open=False, elem_id="learn-accordion"):
                    references = gr.File(label="Reference images of the look (paintings, graded frames)", file_count="multiple",
                                         elem_id="references")
                    with gr.Row():
                        learn_name = gr.Textbox(label="Its name", value="my_look", elem_id="learn-name")
                        learn_minutes = gr.Slider(0.1, 30, value=1, step=0.1, label="Minutes of training", elem_id="learn-minutes")
                    learn_mode = gr.Radio(list(LEARN_MODES), value=next(iter(LEARN_MODES)), label="How")
                    learn_btn = gr.Button("Learn the look on these frames", elem_id="learn")
                    learn_status = gr.Textbox(label="Learning", interactive=False, elem_id="learn-status")
                with gr.Row():
                    preview_btn = gr.Button("Preview first frame", elem_id="preview")
                    render_btn = gr.Button("Render all", variant="primary", elem_id="render")
                    cancel_btn = gr.Button("Cancel", elem_id="cancel")
            with gr.Column():
                with gr.Row():
                    before = gr.Image(label="Before", interactive=False, elem_id="before")
                    after = gr.Image(label="After", interactive=False, elem_id="after")
                result = gr.File(label="Result", interactive=False, elem_id="result")
                summary = gr.Textbox(label="Render", interactive=False, elem_id="summary")

        knobs = [files, choice, model_path, look, strength, region_matte, region_look, texture, color, lighting]
        def do_preview(files, choice, model_path, look, strength, region_matte, region_look, texture, color, lighting):
            return shown(preview)(looks, files, choice, model_path, look, strength, region_matte, region_look, texture, color,
                                  lighting)

        preview_btn.click(do_preview, knobs, [before, after])

        def do_render(files, choice, model_path, look, strength, region_matte, region_look, texture, color, lighting, temporal,
                      request: gr.Request, progress=gr.Progress()):
            return shown(render)(looks, session_of(request), files, choice, model_path, look, strength, region_matte,
                                 region_look, texture, color, lighting, temporal, progress)

        render_btn.click(do_render, knobs + [temporal], [result, summary], concurrency_limit=2)

        def do_learn(files, references, name, mode, minutes, request: gr.Request, progress=gr.Progress()):
            with errors_on_page():
                yield from learn(looks, session_of(request), files, references, name, mode, minutes, progress)

        # the progress bar on the status line alone, so the look stays in view as it trains
        learn_btn.click(do_learn, [files, references, learn_name, learn_mode, learn_minutes],
                        [before, after, learn_status, model_path, look], concurrency_limit=1, show_progress_on=learn_status)

        def do_cancel(request: gr.Request) -> None:
            session_of(request).cancel.set()

        cancel_btn.click(do_cancel, None, None, queue=False)
    return page


def serve(port: int = 7860, host: str = "127.0.0.1", open_browser: bool = False) -> None:
    import gradio as gr

    theme = gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])  # no web fonts: offline
    build().queue(default_concurrency_limit=2).launch(server_name=host, server_port=port, inbrowser=open_browser,
                                                     share=False, theme=theme, show_error=True,
                                                  allowed_paths=[tempfile.gettempdir()])
