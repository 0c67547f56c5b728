"""`stylereel export --format onnx`: every kind of model (single look, multi-look, guided) as
one ONNX file, loaded in a fresh ONNX Runtime session and compared with the model in PyTorch
on sizes nothing else uses; strength and the look mix as inputs; bad requests refused."""

import json
import os
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


def nuke_python():
    """A Python with torch 1.12.1 (what Nuke 14/15 embed): STYLEREEL_NUKE_PYTHON, else tools/make_nuke_env.sh's folder."""
    from pathlib import Path

    candidates = [os.environ.get("STYLEREEL_NUKE_PYTHON"), str(Path(__file__).resolve().parent.parent / ".cache" / "nuke-torch112" / "bin" / "python")]
    return next((c for c in candidates if c and Path(c).is_file()), None)


def test_a_torchscript_export_runs_as_nukes_inference_node_runs_it(tmp_path):
    out = tmp_path / "ink_fauve.pt"
    r = cli("export", "ink", "--format", "torchscript", "--look", "ink=0.6,fauve=0.4", "--strength", "0.8", "-o", out)
    assert r.returncode == 0, r.stderr
    m = torch.jit.load(str(out))
    assert m.strength == pytest.approx(0.8)  # CatFileCreator shows it as a knob
    net = load_model(look_dir("ink"))[0]
    graph = ExportGraph(net)
    mix = torch.tensor([[0.6 if n == "ink" else 0.4 if n == "fauve" else 0.0 for n in graph.looks]])
    rgba = torch.rand(1, 4, 67, 101)
    got = m(rgba)
    assert got.shape == rgba.shape and torch.equal(got[:, 3], rgba[:, 3])  # alpha untouched
    with torch.no_grad():
        assert (got[:, :3] - graph(rgba[:, :3], torch.tensor([[0.8]]), mix)).abs().max() <= 1e-4
    assert m(rgba.half()).dtype == torch.float16 and m(torch.rand(1, 3, 20, 30)).shape == (1, 3, 20, 30)  # any size
    m.strength = 0.0
    assert torch.equal(m(rgba)[:, :3], rgba[:, :3])  # strength 0: the plate


@pytest.mark.parametrize("look", ["starry_night", pytest.param("ink", marks=pytest.mark.slow)])  # a single-look model and the six-look one (its mix given once)
def test_the_torchscript_file_loads_and_runs_under_nukes_torch(tmp_path, look):
    python = nuke_python()
    if python is None:
        pytest.skip("no Python 3.10 with torch 1.12.1 (Nuke 14/15's torch): bash tools/make_nuke_env.sh makes one, "
                    "or set STYLEREEL_NUKE_PYTHON")
    out = tmp_path / "look.pt"
    assert cli("export", look, "--format", "torchscript", "-o", out).returncode == 0
    frames = {"odd": torch.rand(1, 3, 67, 101), "hd_rgba": torch.rand(1, 4, 1080, 1920), "tiny": torch.rand(1, 3, 20, 30)}
    torch.save(frames, tmp_path / "in.pt")
    m = torch.jit.load(str(out))
    want = {k: m(v) for k, v in frames.items()}
    code = ("import sys, torch; m = torch.jit.load(sys.argv[1]); xs = torch.load(sys.argv[2]); "
            "torch.save({k: m(v) for k, v in xs.items()}, sys.argv[3]); print(torch.__version__)")
    r = subprocess.run([python, "-c", code, str(out), str(tmp_path / "in.pt"), str(tmp_path / "out.pt")], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("1.12"), r.stderr
    got = torch.load(tmp_path / "out.pt")
    for k in frames:
        assert (got[k] - want[k]).abs().max() <= 1e-4, k
