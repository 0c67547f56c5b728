"""docs/architecture.md's import rules, read off the code: data flows one way."""

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "stylereel"

# module (or package folder) -> the stylereel modules it may import. Leaf helpers
# (errors, registry, device) may be imported from anywhere.
ANYWHERE = {"errors", "registry", "device", "flow", "palette"}
RULES = {
    **{leaf: set() for leaf in ANYWHERE},
    "config": set(),
    "io": {"io"},
    "nets": {"nets"},
    "losses": {"losses", "nets.features"},
    "metrics": set(),
    "metrics.image": set(),
    "metrics.temporal": {"io"},
    "metrics.style": {"losses", "nets.features"},
    "data": {"data", "io", "config"},
    "model": {"io", "nets"},
    "train": {"train", "config", "data", "nets", "losses", "model", "io"},
    "render": {"render", "io", "model", "nets"},
    "run": {"config", "losses", "nets", "io", "looks"},
    "evaluate": {"render", "metrics", "data", "io", "model"},
    "looks": set(),
    "demo": {"render", "io", "looks"},
    "benchmark": {"benchmark", "nets", "render", "model", "looks"},
    "export": {"export", "io"},
    "ui": {"render", "io", "looks", "run", "train", "data", "nets"},  # learning a look on the page: the trainer
    "farm": {"io"},
}


def _rule(module: str) -> set[str]:
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in RULES:
            return RULES[".".join(parts[:n])]
    raise AssertionError(f"stylereel.{module} has no import rule in this test (add it, and to docs/architecture.md)")


def _allowed(target: str, allowed: set[str]) -> bool:
    return any(target == a or target.startswith(a + ".") for a in allowed | ANYWHERE)


def test_each_module_imports_only_what_its_layer_may():
    broken = []
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG).with_suffix("")
        module = ".".join(p for p in rel.parts if p != "__init__")
        if module in ("", "cli", "__main__"):
            continue  # the CLI may import anything
        allowed = _rule(module)
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("stylereel"):
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.startswith("stylereel")]
            for name in names:
                target = name.removeprefix("stylereel").lstrip(".")
                if target and not _allowed(target, allowed):
                    broken.append(f"stylereel.{module} imports stylereel.{target}")
    assert not broken, "\n".join(broken)


def test_rendering_does_not_pull_in_training():
    import subprocess
    import sys

    code = "import sys, stylereel.render.stylize, stylereel.evaluate; print(sorted(m for m in sys.modules if m.startswith('stylereel.train') or m == 'stylereel.losses.terms'))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"
