"""Every user mistake of every command, through the real CLI: one line on stderr that
names the file or setting and the problem, a non-zero exit, no traceback, nothing written."""

import subprocess
import sys

import numpy as np
import pytest

from stylereel.io.frames import read_image, write_image


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "stylereel.cli", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def assert_clean_error(r, *needles):
    err = r.stderr.strip()
    assert r.returncode != 0, r.stdout
    assert "Traceback" not in err, err
    assert len(err.splitlines()) == 1, err
    for n in needles:
        assert str(n) in err, err


@pytest.fixture(scope="module")
def model(tmp_path_factory, data_dir=None):
    from pathlib import Path

    data = Path(__file__).parent / "data"
    run_dir = tmp_path_factory.mktemp("model") / "run"
    r = run("train", "--content", data / "home.png", "--style", data / "starry_night.png", "--out", run_dir, "--steps", 1,
            "--data.size=32", "--data.batch=1", "--data.max_side=64", "--data.style_size=64")
    assert r.returncode == 0, r.stderr
    return run_dir


@pytest.fixture
def files(tmp_path, data_dir):
    empty = tmp_path / "empty"
    empty.mkdir()
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    yaml_bad = tmp_path / "bad.yaml"
    yaml_bad.write_text("train: [1, 2\n")
    no_target = tmp_path / "keys"
    (no_target / "input").mkdir(parents=True)
    write_image(no_target / "input" / "a.png", np.zeros((8, 8, 3), np.float32))
    return {"empty": empty, "broken": broken, "yaml_bad": yaml_bad, "no_target": no_target,
            "home": data_dir / "home.png", "style": data_dir / "starry_night.png", "tmp": tmp_path}


TRAIN_CASES = {
    "pairs is an empty folder": (["--pairs", "{empty}"], ["empty/input", "missing folder"]),
    "pairs folder without target": (["--pairs", "{no_target}"], ["keys/target", "missing folder"]),
    "pairs does not exist": (["--pairs", "{tmp}/nope"], ["nope", "no such file"]),
    "pairs by override is empty": (["--data.pairs={empty}"], ["empty/input", "missing folder"]),
    "content missing": (["--content", "{tmp}/missing.png", "--style", "{style}"], ["missing.png", "no such file"]),
    "content undecodable": (["--content", "{broken}", "--style", "{style}"], ["broken.png", "not a decodable image"]),
    "content folder empty": (["--content", "{empty}", "--style", "{style}"], ["empty", "no images in directory"]),
    "style missing": (["--content", "{home}"], ["needs --content and --style"]),
    "pairs and content": (["--pairs", "{empty}", "--content", "{home}"], ["not both"]),
    "unknown mode": (["--pairs", "{empty}", "--data.mode=pairde"], ["pairde", "did you mean 'paired'"]),
    "mode paired without pairs": (["--data.mode=paired"], ["paired look needs keyframes"]),
    "config key typo": (["--content", "{home}", "--style", "{style}", "--train.stpes=3"], ["train.stpes", "did you mean 'steps'"]),
    "config value": (["--content", "{home}", "--style", "{style}", "--train.steps=many"], ["train.steps", "expected int"]),
    "config value YAML reads as a date": (["--content", "{home}", "--style", "{style}", "--train.steps=2020-13-45"], ["train.steps", "expected int", "2020-13-45"]),
    "loss term typo": (["--content", "{home}", "--style", "{style}", "--loss.stlye.weight=1"], ["stlye", "did you mean 'style'"]),
    "loss option typo": (["--content", "{home}", "--style", "{style}", "--loss.style.wieght=1"], ["loss.style.wieght", "did you mean 'weight'"]),
    "term needs a target": (["--content", "{home}", "--style", "{style}", "--loss.l1.weight=1", "--steps=1"], ["'l1' needs 'target'"]),
    "unknown generator": (["--content", "{home}", "--style", "{style}", "--model.generator=rell"], ["rell", "did you mean 'reel'"]),
    "unknown generator option": (["--content", "{home}", "--style", "{style}", "--model.generator_kwargs={{chanels: [8, 16, 32]}}"],
                                 ["model.generator_kwargs.chanels", "did you mean 'channels'", "valid for generator reel: channels, n_blocks, expand"]),
    "option of another generator": (["--content", "{home}", "--style", "{style}", "--model.generator=johnson",
                                     "--model.generator_kwargs={{expand: 4}}"], ["model.generator_kwargs.expand", "valid for generator johnson: n_blocks"]),
    "bad yaml": (["--config", "{yaml_bad}"], ["bad.yaml", "not valid YAML"]),
    "missing yaml": (["--config", "{tmp}/none.yaml"], ["none.yaml", "not found"]),
    "negative size": (["--content", "{home}", "--style", "{style}", "--size", "-4"], ["data.size", "at least 16"]),
    "style trim too large": (["--content", "{home}", "--style", "{style}", "--data.style_trim=0.5"], ["data.style_trim", "below 0.5"]),
    "swd without samples": (["--content", "{home}", "--style", "{style}", "--loss.swd.samples=0"], ["loss.swd", "at least 1"]),
    "light scale zero": (["--content", "{home}", "--style", "{style}", "--loss.light.scale=0"], ["loss.light.scale", "at least 1"]),
    "unknown teacher": (["--content", "{home}", "--style", "{style}", "--data.teacher=adian"], ["data.teacher", "did you mean 'adain'"]),
    "unknown trunk": (["--content", "{home}", "--style", "{style}", "--loss.trunk=vgg91"], ["unknown loss trunk 'vgg91'", "did you mean 'vgg19'", "hed_vgg16"]),
    "layer the trunk lacks": (["--content", "{home}", "--style", "{style}", "--loss.trunk=hed_vgg16", "--loss.content.layers=[relu5_1]"],
                              ["loss.content.layers", "hed_vgg16 has no layer 'relu5_1'"]),
    "stray argument": (["--content", "{home}", "--style", "{style}", "oops"], ["oops"]),
    "resume without a run": (["--resume"], ["no checkpoint to resume from"]),
}


@pytest.mark.parametrize("case", TRAIN_CASES, ids=list(TRAIN_CASES))
def test_train_user_errors(case, files):
    args, needles = TRAIN_CASES[case]
    out = files["tmp"] / "run"
    r = run("train", *[a.format(**files) for a in args], "--out", out, "--steps", 1)
    assert_clean_error(r, *needles)
    assert not (out / "checkpoints").exists()


def test_train_corrupt_resume_state(files):
    out = files["tmp"] / "run"
    (out / "checkpoints").mkdir(parents=True)
    (out / "checkpoints" / "state.pt").write_bytes(b"not a checkpoint")
    assert_clean_error(run("train", "--out", out, "--resume"), "state.pt", "cannot read resume state")


def test_stylize_user_errors(files, model, tmp_path):
    home = files["home"]
    cases = [
        (["stylize", tmp_path / "nomodel", home, "-o", tmp_path / "o.png"], ["nomodel", "not a stylereel model"]),
        (["stylize", model, tmp_path / "missing.png", "-o", tmp_path / "o.png"], ["missing.png", "no such file"]),
        (["stylize", model, files["broken"], "-o", tmp_path / "o.png"], ["broken.png", "not a decodable image"]),
        (["stylize", model, home, "-o", tmp_path / "o.gif"], ["o.gif", "unsupported extension"]),
        (["stylize", model, home, files["style"], "-o", files["broken"]], ["broken.png", "is a file"]),
        (["stylize", model, home, "-o", tmp_path / "o.png", "--device", "gpu"], ["--device", "gpu"]),
    ]
    for args, needles in cases:
        assert_clean_error(run(*args), *needles)


def test_stylize_never_overwrites_an_input(model, tmp_path, data_dir):
    plate = tmp_path / "a.png"
    write_image(plate, read_image(data_dir / "home.png").rgb)
    before = plate.read_bytes()
    assert_clean_error(run("stylize", model, plate, "-o", plate), "a.png", "overwrite")
    assert_clean_error(run("stylize", model, tmp_path, "-o", tmp_path), "a.png", "overwrite")
    assert plate.read_bytes() == before


def test_stylize_refuses_two_inputs_for_one_output(model, tmp_path, data_dir):
    for shot in ("shotA", "shotB"):
        write_image(tmp_path / shot / "frame.0001.png", read_image(data_dir / "home.png").rgb)
    out = tmp_path / "out"
    r = run("stylize", model, tmp_path / "shotA", tmp_path / "shotB", "-o", out)
    assert_clean_error(r, "frame.0001.png", "two inputs", "shotA", "shotB")
    assert not out.exists()  # refused before anything was rendered


def test_eval_user_errors(files, model, tmp_path):
    cases = [
        (["eval", model], ["needs --pairs DIR", "--content IMAGES"]),
        (["eval", tmp_path / "nomodel", "--content", files["home"]], ["nomodel", "not a stylereel model"]),
        (["eval", model, "--pairs", files["empty"]], ["empty/input", "missing folder"]),
        (["eval", model, "--content", tmp_path / "missing.png"], ["missing.png", "no such file"]),
        (["eval", model, "--content", files["home"], "--style", files["broken"]], ["broken.png", "not a decodable image"]),
        (["eval", model, "--content", files["home"], "--size", 0], ["--size", "at least 16"]),
    ]
    for args, needles in cases:
        assert_clean_error(run(*args), *needles)


def test_eval_without_grams_asks_for_style(files, model, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(model / "model", copy)
    (copy / "style_grams.safetensors").unlink()
    assert_clean_error(run("eval", copy, "--content", files["home"]), "no style Grams", "--style")


def test_demo_looks_and_bench_user_errors(tmp_path, files):
    assert_clean_error(run("demo", "--out", tmp_path / "d", "--look", "stary_night"), "no built-in look 'stary_night'",
                       "did you mean 'starry_night'")
    assert not (tmp_path / "d").exists()
    assert_clean_error(run("stylize", "--look", "starrynight", files["home"], "-o", tmp_path / "o.png"), "did you mean 'starry_night'")
    assert_clean_error(run("stylize", files["home"], "-o", tmp_path / "o.png"), "needs a MODEL and at least one INPUT")
    assert not (tmp_path / "o.png").exists()
    assert_clean_error(run("bench", "speed", "--size", "8k"), "unknown size '8k'")
    assert_clean_error(run("bench", "speed", "--onnx", tmp_path / "x.onnx"), "x.onnx", "no such ONNX file")


def test_outputs_where_a_file_is_in_the_way_and_debug(tmp_path, files):
    (tmp_path / "afile").write_text("x")
    r = run("stylize", "--look", "ink", files["home"], "-o", tmp_path / "afile" / "o.png")
    assert_clean_error(r, "afile is a file, not a folder")
    assert r.returncode == 2 and (tmp_path / "afile").read_text() == "x"
    r = run("train", "--content", files["home"], "--style", files["style"], "--out", tmp_path / "afile" / "run", "--steps", 1,
            "--data.size=32", "--data.max_side=64", "--data.style_size=64")
    assert_clean_error(r, "afile is a file")
    r = run("stylize", "--look", "ink", files["home"], "-o", tmp_path / "afile" / "o.png", "--debug")
    assert r.returncode != 0 and "Traceback" in r.stderr  # --debug shows where


@pytest.mark.parametrize("exc, code, needle", [("PermissionError(13, 'Permission denied', '/shot/a.exr')", 4, "/shot/a.exr: Permission denied"),
                                               ("OSError(28, 'No space left on device', '/out/b.exr')", 4, "No space left on device"),
                                               ("KeyError('x')", 1, "internal error: KeyError"),
                                               ("KeyboardInterrupt()", 130, "")])
def test_exit_codes_for_what_the_system_refuses_bugs_and_interrupts(exc, code, needle):
    code_ = (f"import sys, stylereel.looks as L\ndef boom(): raise {exc}\nL.names = boom\n"
             "sys.argv = ['stylereel', 'looks']\nfrom stylereel.cli import main\nmain()")
    r = subprocess.run([sys.executable, "-c", code_], capture_output=True, text=True)
    assert r.returncode == code and needle in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == (1 if needle else 0)  # Ctrl-C: the exit code says it
