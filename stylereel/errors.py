"""The one exception family for mistakes a user can fix (a bad file, value or name).

The CLI turns any `StylereelError` into one line on stderr and a non-zero exit;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import difflib
from typing import Iterable


class StylereelError(ValueError):
    """A user-facing error; the message is one line and names the file or setting at fault."""


def did_you_mean(name: str, valid: Iterable[str]) -> str:
    """' (did you mean 'x'?)' when a close match exists, else ''.

    >>> did_you_mean("wieght", ["weight", "layers"])
    " (did you mean 'weight'?)"
    """
    close = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
