"""The packages import downwards only: jingu knows nothing of w2v; the data, text and vector layers
know nothing of training; nothing below the command line imports the commands or the report."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"

# package (module prefix) -> prefixes it must never import
FORBIDDEN = {
    "jingu": ("w2v",),
    "w2v.errors": ("w2v.",),
    "w2v.io": ("w2v.config", "w2v.data", "w2v.text", "w2v.vectors", "w2v.training", "w2v.commands", "w2v.report"),
    "w2v.config": ("w2v.data", "w2v.text", "w2v.vectors", "w2v.training", "w2v.commands", "w2v.report", "w2v.cli"),
    "w2v.text": ("w2v.data", "w2v.vectors", "w2v.training", "w2v.commands", "w2v.report", "w2v.cli"),
    "w2v.data": ("w2v.vectors", "w2v.training", "w2v.commands", "w2v.report", "w2v.cli"),
    "w2v.vectors": ("w2v.training", "w2v.commands", "w2v.report", "w2v.cli"),
    "w2v.training": ("w2v.commands", "w2v.report", "w2v.cli", "w2v.evaluation"),
    "w2v.report": ("w2v.commands", "w2v.cli", "w2v.training"),
}


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        out.append((".".join(parts[:-1] if parts[-1] == "__init__" else parts), path))
    return out


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_each_layer_imports_only_the_layers_below_it(package):
    modules = [(name, path) for name, path in _modules() if name == package or name.startswith(package + ".")]
    assert modules, f"no module found for {package}"
    wrong = sorted(
        f"{name} imports {imported}"
        for name, path in modules
        for imported in _imports(path)
        if any(imported == bad.rstrip(".") or imported.startswith(bad if bad.endswith(".") else bad + ".")
               or imported == bad for bad in FORBIDDEN[package])
    )
    assert wrong == []


def test_the_check_sees_an_upward_import(tmp_path):
    """The rule is live: an import of the commands from the config module is reported."""
    sample = tmp_path / "config.py"
    sample.write_text("from w2v.commands._args import boolean\n", encoding="utf-8")
    assert "w2v.commands._args" in _imports(sample)
    assert any("w2v.commands._args".startswith(bad + ".") for bad in FORBIDDEN["w2v.config"])
