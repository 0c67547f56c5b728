"""`stylereel ui`: a local web page (Gradio, on 127.0.0.1, offline) to try looks on your own
frames and render them, for art directors and look developers without a terminal.

Drop a still, several stills (or a zip of them) or a movie; pick a built-in look or a trained
model folder; set the mix, strength, a region from a matte and the colour, lighting and texture
controls; preview one frame before and after; render everything with a progress bar and a
cancel button; download the result. A render here is the CLI's render: the same
`RenderOptions`, the same `RenderPlan` and `run_plan`; every error the CLI names is shown on
the page as its one-line message.
"""



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


def preview(looks: Looks, files, choice, model_path, look, strength, region_matte, region_look, texture, color, lighting):
    """The first frame, before and after, at most PREVIEW_SIDE on its longer side."""
    import numpy as np

    work = Path(tempfile.mkdtemp(prefix="stylereel-ui-"))
    try:
        src = _inputs([_path(f) for f in files or []], work)
        if isinstance(src, str):  # a movie: its first frame
            from stylereel.io.media import open_source

            source = open_source(src, "1")
            frame = next(f for _, f, _ in source.frames())
            if frame is None:
                raise StylereelError(f"{Path(src).name}: its first frame cannot be read")
            still = work / "first.png"
            from stylereel.io.frames import write_image

            write_image(still, frame.rgb, alpha=frame.alpha, sample="uint16")
        else:
            from stylereel.io.frames import list_images

            still = list_images(src)[0]
        plate = read_image(still)
        small = work / "small.png"
        _shrink(plate, small)
        stylizer, lock, look_opt = looks.get(choice, model_path, look)
        out = work / "after.png"
        o = RenderOptions(overwrite=True, log=False, look=look_opt, **_options(strength, _path(region_matte), region_look,
                                                                             texture, color, lighting, False))
        with lock:
            report = stylizer.run(stylizer.plan([str(small)], out, options=o))
        if report.failed:
            raise StylereelError(next(iter(report.failed.values())))
        before = read_image(small).rgb
        after = read_image(out).rgb
        return (np.clip(before, 0, 1) * 255).astype("uint8"), (np.clip(after, 0, 1) * 255).astype("uint8")
    finally:
        shutil.rmtree(work, ignore_errors=True)


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

    def shown(fn):
        """Run `fn`, turning the project's one-line errors into a message on the page."""
        def run(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except StylereelError as exc:
                raise gr.Error(str(exc), print_exception=False) from None
            except OSError as exc:
                raise gr.Error(f"{exc.filename or ''}: {exc.strerror or exc}".strip(": "), print_exception=False) from None
        return run

    with gr.Blocks(title="stylereel") as page:
        gr.Markdown("## stylereel\nDrop frames, pick a look, preview, render, download.")
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
