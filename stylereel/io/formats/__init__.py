"""Still formats as parts: each module here registers one or more `StillFormat`s (`FORMATS`),
every fact stylereel knows of a format in one record: extensions, sample types, alpha
convention, magic bytes, header probe, reader and writer. `stylereel.io.frames` reads,
probes and writes through them, and tells formats apart by their bytes (`sniff`), never by
the name alone.

Adding a format is one file here and its name in the import below (template:
docs/architecture.md, "Adding a still format").
"""

from stylereel.io.formats.core import (FLOAT_SAMPLES, FORMATS, INTEGER_SAMPLES, Frame, ImageError, StillFormat, max_code,  # noqa: F401
                                       quantize, register)
from stylereel.io.formats import opencv, exr, dpx  # noqa: E402,F401,I001 - each registers its formats, in this order
