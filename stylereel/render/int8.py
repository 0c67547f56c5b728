"""int8 rendering on the CPU engine (`--precision int8`): the generator quantized after training by
NNCF's post-training quantization (OpenVINO's own tool), calibrated on frames like those it renders,
checked against fp32 and cached, so only the first int8 render of a model pays for it.

- Calibration: the model's own frames where it keeps some (`calibration/` in the model folder),
  else the photos and clip frames bundled with stylereel (assets/demo), at CALIBRATION_SIDE pixels.
- The check: int8 against fp32 on held-out frames (the bundled held-out photo and clip frames not
  calibrated on), mean and largest absolute difference in 8-bit code values, recorded beside the
  cached network (`generator_DIGEST.json`) and said in the render's summary. `auto` never takes int8:
  on the default look it is beyond MAX_MEAN_CODES and slower than bf16 (bench/RESULTS.md, "precision").
- The cache: `int8/` in the model folder, or under the user's cache folder where the model folder
  cannot be written (a built-in look inside the installed package), keyed by the weights' digest,
  so a retrained model is quantized again. Written whole (temp names, then renamed).
- Static per-tensor activation scales: the same for every tile, so tiled frames stay equal to
  whole ones (to float rounding), as in fp32.

NNCF reports usage unless told not to; rendering stays offline, so its telemetry is switched off
before it is imported (NNCF_CI, which does nothing else).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
from pathlib import Path

import numpy as np

from stylereel.io.atomic import atomic_write_text, temp_path
from stylereel.render.engine import PrecisionError
from stylereel.render.ov import openvino as _openvino

CALIBRATION_SIDE = 512  # longer side of the calibration frames
MAX_MEAN_CODES = 1.0  # int8's mean difference from fp32, in 8-bit code values, for `auto` to take it
CLIP_CALIBRATION = (1, 12, 24, 36, 48)  # frames of the bundled 48-frame clip calibrated on; 6, 30 and 42 are held out
CLIP_HELD_OUT = (6, 30, 42)
VERSION = 4  # of the recipe (3: the full-resolution stage on 2x2 blocks; 4: its conv over the upsampled RGB per pixel): a change quantizes every cached model again


def _frame(rgb: np.ndarray, side: int = CALIBRATION_SIDE) -> np.ndarray:
    """[H, W, 3] in [0, 1] -> [1, 3, h, w] float32 with the longer side `side`, sides a multiple of 8."""
    import cv2

    h, w = rgb.shape[:2]
    s = side / max(h, w)
    size = (max(8, round(w * s) // 8 * 8), max(8, round(h * s) // 8 * 8))
    small = cv2.resize(np.asarray(rgb, np.float32), size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(small.clip(0, 1).transpose(2, 0, 1)[None])


def frames(model_dir: Path) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(calibration, held-out) frames for a model, in the network's working encoding."""
    from importlib import resources

    from stylereel.io.media import open_source, read_frames
    from stylereel.io.working import to_working

    demo = Path(str(resources.files("stylereel") / "assets" / "demo"))
    own = sorted((model_dir / "calibration").glob("*.png")) if (model_dir / "calibration").is_dir() else []
    stills = own or sorted((demo / "content").iterdir())
    clip = demo / "clip" / "tree.mp4"
    read = lambda src: [_frame(to_working(f)[0]) for f in read_frames(open_source(src))]  # noqa: E731
    calibration = read([str(p) for p in stills]) + ([] if own else read(f"{clip}:{','.join(map(str, CLIP_CALIBRATION))}"))
    held_out = read([str(p) for p in sorted((demo / "heldout").iterdir())]) + read(f"{clip}:{','.join(map(str, CLIP_HELD_OUT))}")
    return calibration, held_out


def digest(model_dir: Path) -> str:
    nncf = _nncf()
    openvino = _openvino()

    h = hashlib.sha256((model_dir / "generator.safetensors").read_bytes())
    h.update(f"{VERSION} {openvino.__version__} {nncf.__version__}".encode())
    return h.hexdigest()[:16]


def cache_dir(model_dir: Path) -> Path:
    """Where a model's int8 network is kept: beside it, else the user's cache."""
    here = model_dir / "int8"
    try:
        here.mkdir(exist_ok=True)
        probe = temp_path(here / "probe")
        probe.touch()
        probe.unlink()
        return here
    except OSError:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        key = hashlib.sha256(str(model_dir.resolve()).encode()).hexdigest()[:12]
        return base / "stylereel" / "int8" / f"{model_dir.name}-{key}"


def _nncf():
    os.environ.setdefault("NNCF_CI", "1")  # no usage reports: rendering stays offline
    _openvino()  # NNCF imports OpenVINO: first, with its reporting off
    try:
        import nncf
    except ImportError:
        raise PrecisionError("--precision int8 needs NNCF: pip install 'stylereel[int8]'") from None
    import logging

    logging.getLogger("nncf").setLevel(logging.ERROR)
    return nncf


def quantized(model_dir: Path, model, compile_fp32) -> tuple[object, dict]:
    """The int8 network of `model` (an OpenVINO model of the generator in `model_dir`) and its record
    ({"mean_codes", "max_codes", ...}): from the cache, else quantized now, checked and cached.
    `compile_fp32(model)` -> a function running it in fp32 on a list of arrays (for the check)."""
    ov = _openvino()
    nncf = _nncf()
    key = digest(model_dir)
    where = cache_dir(model_dir)
    xml, record_path = where / f"generator_{key}.xml", where / f"generator_{key}.json"
    if xml.is_file() and record_path.is_file():
        try:
            return ov.Core().read_model(xml), json.loads(record_path.read_text())
        except (RuntimeError, ValueError):
            pass  # a damaged cache: quantized again below
    calibration, held_out = frames(model_dir)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):  # NNCF's progress bars
        q = nncf.quantize(model, nncf.Dataset(calibration), subset_size=len(calibration), preset=nncf.QuantizationPreset.MIXED)
    fp32, int8 = compile_fp32(model), compile_fp32(q)
    diffs = [(int8([x]) - fp32([x])).abs().numpy() * 255 for x in held_out]
    record = {"stylereel_int8": VERSION, "digest": key, "mean_codes": float(np.mean([d.mean() for d in diffs])),
              "max_codes": float(max(d.max() for d in diffs)), "calibration_frames": len(calibration),
              "held_out_frames": len(held_out)}
    where.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(xml)
    ov.save_model(q, str(tmp), compress_to_fp16=False)
    os.replace(tmp.with_suffix(".bin"), xml.with_suffix(".bin"))
    os.replace(tmp, xml)
    atomic_write_text(record_path, json.dumps(record, indent=1) + "\n")
    return q, record
