"""OpenVINO, imported the one way stylereel imports it: with its usage reporting off.

`import openvino` imports its model converter, which asks the openvino_telemetry package for a
reporter as it loads. Unless the user has opted out (`opt_in_out --opt_out`), that reporter
writes a client ID and counters under the user's home (`~/intel`) and sends usage events to
Google Analytics from a forked process: from inside a render, on a farm node, on a workstation
kept off the network. The reporter is one object per process, set up by that first import, and
the converter declines it in CI jobs (the `CI` environment variable). So the first import runs
here with `CI=true` for its duration only: the process's reporter is made declined and stays so
for everything that shares it (NNCF too). Where the caller's own code imported OpenVINO first,
its choice stands. tests/test_engine_offline.py renders with a fresh home and finds nothing written there.
"""

from __future__ import annotations

import importlib
import os
import sys


def openvino():
    """The `openvino` module, its usage reporting declined for this process."""
    if "openvino" in sys.modules:
        return sys.modules["openvino"]
    before = os.environ.get("CI")
    os.environ["CI"] = "true"
    try:
        return importlib.import_module("openvino")
    finally:
        if before is None:
            os.environ.pop("CI", None)
        else:
            os.environ["CI"] = before
