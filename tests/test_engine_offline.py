"""A render touches nothing outside its input and output: OpenVINO's usage reporter (on unless the
user opted out) writes a client ID under the home directory and sends events as OpenVINO is imported;
stylereel imports it with that reporter declined (`stylereel.render.ov`)."""

import os
import subprocess
import sys


def test_a_render_writes_nothing_in_the_home_and_reports_nothing(tmp_path, data_dir):
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "TF_BUILD", "JENKINS_URL")} | {"HOME": str(home)}
    out = tmp_path / "out" / "a.png"
    r = subprocess.run([sys.executable, "-m", "stylereel.cli", "stylize", "--look", "starry_night", str(data_dir / "home.png"),
                        "-o", str(out)], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert out.is_file()
    assert list(home.rglob("*")) == []  # no ~/intel client ID or counters
    script = ("import numpy as np, openvino_telemetry as tm, os; from stylereel.render.engine import InferenceEngine; import torch; "
              "InferenceEngine(torch.nn.Conv2d(3, 3, 1), 'cpu')(torch.rand(1, 3, 8, 8)); "
              "print(tm.Telemetry().consent, os.environ.get('CI'))")
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "None"]  # declined, and the environment left as it was
    assert list(home.rglob("*")) == []
