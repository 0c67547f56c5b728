"""Claim files for shared work: several renders (farm tasks, two artists) writing one shot
into one folder each take a frame before rendering it, so no frame is rendered twice.

`.NAME.claim` beside the output holds "host pid time", created with O_EXCL (atomic on
local and NFSv3+ filesystems). A claim is stale, and may be taken over, when its process
is gone (same host) or it is older than `STALE_SECONDS` (another host: a dead machine); the
frame's temp files, which only the claim's holder writes, go with a stale claim.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from stylereel.io.atomic import remove_temps_of

STALE_SECONDS = 600


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


class Claim:
    def __init__(self, output: str | os.PathLike):
        out = Path(output)
        self.output = out
        self.path = out.with_name(f".{out.name}.claim")
        self.held = False

    def _stale(self) -> bool:
        try:
            host, pid, _ = self.path.read_text().split()
            age = time.time() - self.path.stat().st_mtime
        except (OSError, ValueError):
            return False  # being written this instant, or gone: not ours to judge
        if host == socket.gethostname():
            return not _alive(int(pid))
        return age > STALE_SECONDS

    def take(self) -> bool:
        """True if this process now holds the frame; False if another live render does."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if not self._stale():
                    return False
                try:
                    self.path.unlink()
                except FileNotFoundError:
                    pass
                remove_temps_of(self.output)  # what the dead holder left half-written
                continue
            try:
                with os.fdopen(fd, "w") as f:
                    f.write(f"{socket.gethostname()} {os.getpid()} {time.time():.0f}\n")
            except OSError:  # a full disk: the claim was made but not written, so it is no one's; take it back
                self.path.unlink(missing_ok=True)
                raise
            self.held = True
            return True
        return False

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False
