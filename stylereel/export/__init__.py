"""A trained look for runtimes outside stylereel: ONNX (ONNX Runtime, Flame, any engine that
reads ONNX). `ExportGraph` is the network as such a runtime sees it: named inputs, the look's
strength (and a multi-look model's mix) as inputs of their own, one RGB output."""

from pathlib import Path
from typing import Callable


def write_export(out: Path, what: str, write: Callable[[Path], None]) -> Path:
    """`write(tmp)` into a temp file beside `out`, renamed into place once whole; the exporter's own
    errors become one line naming the file (`what`: "ONNX", "TorchScript")."""
    import warnings

    from stylereel.errors import StylereelError
    from stylereel.io.atomic import temp_path

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(out)
    try:
        with warnings.catch_warnings():  # the exporters' notes (constant folding, traced shapes) are not the user's concern
            warnings.simplefilter("ignore")
            write(tmp)
        tmp.replace(out)
    except StylereelError:
        raise
    except Exception as exc:  # noqa: BLE001 - the exporter's own errors, named in one line
        raise StylereelError(f"{out}: the {what} export failed ({' '.join(str(exc).split())[:300]})") from None
    finally:
        tmp.unlink(missing_ok=True)
    return out
