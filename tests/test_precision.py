"""`--precision auto|fp32|bf16|int8`: what a render runs at is chosen once, said in its summary and
recorded in its JSON log; int8 is quantized once per model by NNCF, checked against fp32 and cached
beside the model (or in the user's cache where the model folder cannot be written)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from stylereel.device import bf16_supported
from stylereel.looks import look_dir
from stylereel.render.engine import InferenceEngine, PrecisionError, choose_precision


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "stylereel.cli", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


def test_auto_takes_bf16_only_where_the_cpu_has_it_and_a_bad_name_is_refused():
    cpu = torch.device("cpu")
    assert choose_precision("auto", cpu, "openvino")[0] == ("bf16" if bf16_supported(cpu) else "fp32")
    assert choose_precision("fp32", cpu, "openvino") == ("fp32", "asked for")
    with pytest.raises(PrecisionError, match="expected one of auto, fp32, bf16, int8"):
        choose_precision("int4", cpu, "openvino")
    with pytest.raises(PrecisionError, match="runs on the CPU engine"):
        InferenceEngine(torch.nn.Conv2d(3, 3, 1), "cpu", precision="int8", backend="torch")


def test_the_precision_is_in_the_summary_and_the_log_and_a_bad_one_is_one_line(tmp_path, data_dir):
    r = cli("stylize", "--look", "starry_night", data_dir / "home.png", "-o", tmp_path / "a.png", "--precision", "fp32")
    assert r.returncode == 0, r.stderr
    log = json.loads((tmp_path / "a.render.json").read_text())
    assert log["precision"] == "fp32" and log["kernels"] in ("avx512", "avx2")  # the convolutions' instruction set
    assert f"fp32 on cpu, {log['kernels']} kernels (asked for)" in r.stdout
    r = cli("stylize", "--look", "starry_night", data_dir / "home.png", "-o", tmp_path / "b.png", "--precision", "int4")
    assert r.returncode == 2 and r.stderr.strip().splitlines() == ["stylereel: error: --precision: expected one of auto, fp32, bf16, int8, got 'int4'"]
    assert not (tmp_path / "b.png").exists()


@pytest.fixture
def look(tmp_path):
    pytest.importorskip("nncf", reason="int8 needs NNCF (pip install 'stylereel[int8]')")
    return Path(shutil.copytree(look_dir("starry_night"), tmp_path / "look", ignore=shutil.ignore_patterns("int8")))


def test_int8_is_quantized_once_checked_against_fp32_and_cached_beside_the_model(look, tmp_path, data_dir):
    r = cli("stylize", look, data_dir / "home.png", "-o", tmp_path / "a.png", "--precision", "int8")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""  # NNCF's progress bars kept off the terminal
    cached = sorted((look / "int8").iterdir())
    assert [p.suffix for p in cached] == [".bin", ".json", ".xml"]
    record = json.loads(cached[1].read_text())
    assert record["calibration_frames"] == 8 and record["held_out_frames"] == 4
    assert 0 < record["mean_codes"] < 40 and record["max_codes"] >= record["mean_codes"]  # measured, not assumed
    log = json.loads((tmp_path / "a.render.json").read_text())
    assert log["precision"] == "int8"
    assert f"int8 on cpu, {log['kernels']} kernels (asked for; {record['mean_codes']:.2f} 8-bit codes from fp32 on average)" in r.stdout

    stamps = [p.stat().st_mtime_ns for p in cached]
    r = cli("stylize", look, data_dir / "home.png", "-o", tmp_path / "b.png", "--precision", "int8")
    assert r.returncode == 0, r.stderr
    assert [p.stat().st_mtime_ns for p in sorted((look / "int8").iterdir())] == stamps  # read back, not made again
    from stylereel.io.frames import read_image

    assert np.array_equal(read_image(tmp_path / "a.png").rgb, read_image(tmp_path / "b.png").rgb)


def test_int8_of_a_model_folder_it_cannot_write_goes_to_the_users_cache_and_tiles_stay_exact(look, tmp_path, monkeypatch):
    from stylereel.model import load_model

    (look / "int8").write_text("a file where the cache folder would go")  # cannot be written, even as root
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    net, _ = load_model(look)
    x = torch.rand(1, 3, 400, 600)
    whole = InferenceEngine(net, "cpu", precision="int8", model_dir=look, tile_pixels=10**9)(x)
    tiled = InferenceEngine(net, "cpu", precision="int8", model_dir=look, tile_pixels=300 * 300)(x)  # haloed tiles of at most 300x300
    assert (look / "int8").read_text() == "a file where the cache folder would go"
    assert len(list((tmp_path / "cache" / "stylereel" / "int8").glob("*/*.xml"))) == 1
    assert (whole - tiled).abs().max() < 1e-4  # the same static scales in every tile
