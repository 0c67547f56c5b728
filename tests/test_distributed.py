"""Training in two processes (`stylereel train --nproc 2`: torchrun, gloo on the CPU) against one
process on the same global batch: the same gradients, the same weights in both processes, and a
resume that needs the same number of processes and says so."""

import subprocess
import sys

import cv2
import pytest
import torch

from stylereel.train.checkpoint import STATE_FILE

COMMON = ["--steps", "1", "--data.batch=4", "--data.size=64", "--train.bf16=false"]  # fp32: bf16 rounding differs by batch shape


def train(*args):
    return subprocess.run([sys.executable, "-m", "stylereel.cli", "train", *map(str, args)], capture_output=True, text=True)


@pytest.fixture
def pairs(tmp_path, data_dir):
    a, b = cv2.imread(str(data_dir / "home.png")), cv2.imread(str(data_dir / "fruits.png"))
    b = cv2.resize(b, (a.shape[1], a.shape[0]))
    for sub, (x, y) in {"input": (a, b), "target": (b, a)}.items():
        (tmp_path / "pairs" / sub).mkdir(parents=True)
        cv2.imwrite(str(tmp_path / "pairs" / sub / "a.png"), x)
        cv2.imwrite(str(tmp_path / "pairs" / sub / "b.png"), y)
    return tmp_path / "pairs"


def state(run):
    return torch.load(run / STATE_FILE, weights_only=False)


def test_two_processes_step_as_one_and_stay_identical(pairs, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    r = train("--pairs", pairs, "--out", one, *COMMON)
    assert r.returncode == 0, r.stderr[-2000:]
    r = train("--pairs", pairs, "--out", two, *COMMON, "--nproc", 2)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.count("model:") == 1  # rank 0 alone reports (and writes)
    a, b = state(one), state(two)
    assert b["processes"] == 2
    # Adam's first moment after one step is (1 - beta1) x the gradient: the averaged gradient of the two halves
    # equals one process's gradient of the whole batch (the generator's and the critic's)
    for opt in ("opt_g", "opt_d"):
        for k, s in a[opt]["state"].items():
            g1, g2 = s["exp_avg"], b[opt]["state"][k]["exp_avg"]
            assert (g1 - g2).abs().max() <= 1e-4 * g1.abs().max() + 1e-12, (opt, k)

    # the two processes' weights are identical (their checksums, gathered when rank 0 saved)
    assert len(b["checksums"]) == 2 and b["checksums"][0] == b["checksums"][1]

    # resumed by another number of processes: refused, saying how to resume it
    r = train("--out", two, "--resume", "--steps", 4)
    assert r.returncode != 0
    assert "trained by 2 process(es), resumed by 1" in r.stderr and "--nproc 2" in r.stderr and "Traceback" not in r.stderr


def test_a_batch_that_does_not_split_is_refused(pairs, tmp_path):
    r = train("--pairs", pairs, "--out", tmp_path / "r", "--steps", 1, "--data.batch=3", "--nproc", 2)
    assert r.returncode != 0
    assert "--nproc 2: data.batch 3 cannot be split evenly between 2 processes" in r.stderr and "Traceback" not in r.stderr
