"""What every still format shares: the `Frame` a reader returns, the `ImageError` it raises,
sample types, and `StillFormat`, the record a format module registers (`FORMATS`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from stylereel.errors import StylereelError
from stylereel.registry import Registry

INTEGER_SAMPLES = {"uint8": 8, "uint10": 10, "uint12": 12, "uint16": 16}
FLOAT_SAMPLES = ("half", "float")


class ImageError(StylereelError):
    """An image could not be read or written; the message is one line naming the file."""

    def __init__(self, path: str | os.PathLike, problem: str):
        # Collapse whitespace so multi-line library errors still give one-line messages in logs.
        problem = " ".join(str(problem).split())
        super().__init__(f"{os.fspath(path)}: {problem}")
        self.path = os.fspath(path)
        self.problem = problem


@dataclass
class Frame:
    rgb: np.ndarray  # float32 [H, W, 3]: integer formats in [0, 1]; EXR as stored (scene-linear, unbounded)
    alpha: np.ndarray | None  # [H, W] in the stored dtype (uint8/uint16, float16/float32 for EXR)
    sample: str  # stored precision of the colour channels: uint8/10/12/16, half, float
    path: str
    extra: dict[str, Any] = field(default_factory=dict)  # format passthrough (EXR: "exr")
    premultiplied: bool = False  # the colour is multiplied by alpha (the file format's convention: EXR's)

    @property
    def bit_depth(self) -> int:
        return INTEGER_SAMPLES.get(self.sample) or (16 if self.sample == "half" else 32)

    @property
    def is_float(self) -> bool:
        return self.sample in FLOAT_SAMPLES


def max_code(sample: str) -> int:
    return (1 << INTEGER_SAMPLES[sample]) - 1


def quantize(values: np.ndarray, sample: str) -> np.ndarray:
    """[0, 1] values as integer codes of `sample` (clipped, rounded to nearest)."""
    scaled = np.clip(values.astype(np.float64), 0.0, 1.0) * max_code(sample)
    return np.rint(scaled).astype(np.uint8 if sample == "uint8" else np.uint16)


def no_check(path: Path) -> None:
    return None


def keep_sample(path: Path, sample: str, has_alpha: bool, requested: bool) -> str:
    return sample


@dataclass(frozen=True)
class StillFormat:
    """One still format, every fact about it in one place (`stylereel.io.formats` lists them).

    - `extensions` (the first is the format's own); `samples` it stores (the first its default);
      `premultiplied`: its alpha convention (EXR premultiplies; the rest carry straight alpha).
      Frames stored in float are scene-linear unless told otherwise, in every format.
    - `magic`: how its files begin, so a file is read as what it holds whatever its name says.
    - `read(path) -> Frame`; `header(path) -> (width, height, channels)` without decoding pixels
      (None where it cannot tell; the reader then names the problem); `check(path)`: a cheap
      test, before decoding, for damage the decoder would hide (a truncated JPEG).
    - `write(path, tmp, rgb, alpha, sample, like)`: encode float RGB (and alpha, already in the
      sample's storage type) into the temp file `tmp` (`path` names the target in errors);
      `fit(path, sample, has_alpha, requested) -> sample`: the sample it will write, or an
      `ImageError` where it cannot hold that with that alpha (`requested`: the user asked for it).
    """

    name: str
    extensions: tuple[str, ...]
    samples: tuple[str, ...]
    premultiplied: bool
    magic: tuple[bytes, ...]
    read: Callable[[Path], Frame]
    write: Callable[..., None]
    header: Callable[[Path], tuple[int, int, int] | None]
    check: Callable[[Path], None] = no_check
    fit: Callable[[Path, str, bool, bool], str] = keep_sample


FORMATS: Registry[StillFormat] = Registry("still format")


def register(fmt: StillFormat) -> StillFormat:
    return FORMATS.register(fmt.name)(fmt)
