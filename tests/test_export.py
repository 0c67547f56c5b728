"""`stylereel export --format onnx`: every kind of model (single look, multi-look, guided) as
one ONNX file, loaded in a fresh ONNX Runtime session and compared with the model in PyTorch
on sizes nothing else uses; strength and the look mix as inputs; bad requests refused."""

import json
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from stylereel.export.graph import ExportGraph
from stylereel.looks import look_dir
from stylereel.model import load_model, save_model
from stylereel.nets.generator import build_generator


def cli(*args):
    return subprocess.run([sys.executable, "-m", "stylereel.cli", *map(str, args)], capture_output=True, text=True)


def run_onnx(path, inputs: dict) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {k: v.numpy() for k, v in inputs.items()})[0]


@pytest.fixture(scope="module")
def guided_model(tmp_path_factory):
    """A guided look (what `--data.mode=guided` trains), with weights that are not the identity."""
    torch.manual_seed(3)
    net = build_generator("reel_guided")
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    folder = tmp_path_factory.mktemp("guided") / "model"
    save_model(folder, net, {"generator": {"name": "reel_guided", "kwargs": {}}, "steps": 0})
    return folder


def test_a_single_look_exports_with_strength_and_matches_pytorch(tmp_path):
    out = tmp_path / "look.onnx"
    r = cli("export", "starry_night", "-o", out)
    assert r.returncode == 0, r.stderr
    assert list(tmp_path.iterdir()) == [out]  # one self-contained file, no .onnx.data beside it
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert meta["colour_encoding"] == "sRGB" and json.loads(meta["looks"]) == [] and meta["stylereel_version"]
    graph = ExportGraph(load_model(look_dir("starry_night"))[0])
    rng = torch.Generator().manual_seed(0)
    for h, w in ((67, 101), (1080, 1920)):
        image = torch.rand(1, 3, h, w, generator=rng)
        for s in (1.0, 0.35):
            strength = torch.tensor([[s]])
            got = run_onnx(out, {"image": image, "strength": strength})
            with torch.no_grad():
                want = graph(image, strength).numpy()
            assert got.shape == (1, 3, h, w)
            assert np.abs(got - want).max() <= 1e-4, (h, w, s)
    zero = run_onnx(out, {"image": image[..., :67, :101], "strength": torch.zeros(1, 1)})
    assert np.abs(zero - image[..., :67, :101].numpy()).max() < 1e-6  # strength 0 is the plate


def test_a_multi_look_model_takes_its_mix_and_strength_as_inputs(tmp_path):
    out = tmp_path / "looks.onnx"
    assert cli("export", "ink", "-o", out).returncode == 0
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    looks = json.loads(meta["looks"])
    assert "ink" in looks and "fauve" in looks and "none" not in looks
    net = load_model(look_dir("ink"))[0]
    image, mix = torch.rand(2, 3, 67, 101), torch.zeros(2, len(looks))
    mix[0, looks.index("ink")] = 0.7
    mix[0, looks.index("fauve")] = 0.3
    mix[1, looks.index("pastel")] = 2.0  # mixed in proportion: the same as 1
    strength = torch.tensor([[1.0], [0.5]])
    got = run_onnx(out, {"image": image, "strength": strength, "look": mix})
    # the render's own weights for the same settings (stylereel.render.look_map), through the network
    names = net.looks
    weights = torch.zeros(2, len(names))
    weights[0, names.index("ink")], weights[0, names.index("fauve")] = 0.7, 0.3
    weights[1, names.index("pastel")], weights[1, names.index("none")] = 0.5, 0.5
    with torch.no_grad():
        want = net.float().eval()(image, weights[:, :, None, None].expand(2, len(names), 67, 101)).numpy()
    assert np.abs(got - want).max() <= 1e-4
    assert np.abs(got[0] - got[1]).mean() > 0.01  # the inputs matter


def test_a_guided_look_takes_its_guide(tmp_path, guided_model):
    out = tmp_path / "guided.onnx"
    r = cli("export", guided_model, "-o", out)
    assert r.returncode == 0, r.stderr
    assert "guide" in r.stdout
    net = load_model(guided_model)[0]
    image, guide = torch.rand(1, 3, 101, 67), torch.rand(1, 4, 101, 67)
    got = run_onnx(out, {"image": image, "strength": torch.ones(1, 1), "guide": guide})
    with torch.no_grad():
        want = net.float().eval()(image, guide).numpy()
    assert np.abs(got - want).max() <= 1e-4


@pytest.mark.parametrize("args, needle", [
    (["starry_nite", "-o", "x.onnx"], "did you mean 'starry_night'"),
    (["starry_night", "-o", "x.pt"], "an onnx export is written as .onnx"),
    (["starry_night", "-o", "x.onnx", "--format", "coreml"], "--format: expected one of onnx"),
])
def test_bad_export_requests_are_one_line_errors(tmp_path, args, needle):
    r = subprocess.run([sys.executable, "-m", "stylereel.cli", "export", *args], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2 and needle in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_flame_export_bakes_strength_and_mix_and_writes_the_sidecar(tmp_path, guided_model):
    full, flame = tmp_path / "full.onnx", tmp_path / "flame" / "ink_fauve.onnx"
    assert cli("export", "ink", "-o", full).returncode == 0
    r = cli("export", "ink", "--format", "flame", "--look", "ink=0.7,fauve=0.3", "--strength", "0.6", "-o", flame)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in flame.parent.iterdir()) == ["ink_fauve.json", "ink_fauve.onnx"]
    sidecar = json.loads(flame.with_suffix(".json").read_text())["ModelDescription"]
    assert sidecar["SupportsSceneLinear"] is False and sidecar["Padding"] == 1
    assert [i["Name"] for i in sidecar["Inputs"]] == [i.name for i in ort.InferenceSession(str(flame)).get_inputs()] == ["image"]
    assert sidecar["Outputs"][0]["Name"] == "image_out" and sidecar["Outputs"][0]["Channels"] == "RGB"
    looks = json.loads({p.key: p.value for p in onnx.load(str(full)).metadata_props}["looks"])
    mix = torch.zeros(1, len(looks))
    mix[0, looks.index("ink")], mix[0, looks.index("fauve")] = 0.7, 0.3
    image = torch.rand(1, 3, 67, 101)
    want = run_onnx(full, {"image": image, "strength": torch.tensor([[0.6]]), "look": mix})
    assert np.abs(run_onnx(flame, {"image": image}) - want).max() <= 1e-5
    r = cli("export", guided_model, "--format", "flame", "-o", tmp_path / "g.onnx")
    assert r.returncode == 2 and "Flame's Inference node gives it images only" in r.stderr
