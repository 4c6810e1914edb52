"""Code shape: no function in the training package over 60 lines or with more than 6 parameters.

`self`/`cls` are not counted; keyword-only parameters, `*args` and `**kwargs` are. A function's lines
run from its `def` to its last line, nested functions included. Run as a script to list the
offenders anywhere: `python tests/test_code_shape.py src/jingu src/w2v`.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
MAX_LINES = 60
MAX_PARAMS = 6


def parameter_count(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    if positional and positional[0].arg in ("self", "cls"):
        positional = positional[1:]
    return len(positional) + len(args.kwonlyargs) + (args.vararg is not None) + (args.kwarg is not None)


def offenders(paths: list[Path]) -> list[str]:
    """'file:line name: N lines, M parameters' for every function over either limit under `paths`."""
    found = []
    files = sorted(f for p in paths for f in ([p] if p.is_file() else p.rglob("*.py")))
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for node in sorted(functions, key=lambda n: n.lineno):
            lines, params = node.end_lineno - node.lineno + 1, parameter_count(node)
            if lines > MAX_LINES or params > MAX_PARAMS:
                where = path.relative_to(SRC) if path.is_relative_to(SRC) else path
                found.append(f"{where}:{node.lineno} {node.name}: {lines} lines, {params} parameters")
    return found


def test_the_counter_sees_lines_and_parameters(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    source = (
        "class C:\n"
        "    def ok(self, a, b, c, d, e, f):\n        pass\n"
        "    def wide(self, a, b, c, d, e, f, *, g):\n        pass\n"
        f"def long():\n{body}\n"
        "def short(*args, **kwargs):\n    pass\n"
    )
    (tmp_path / "m.py").write_text(source, encoding="utf-8")
    found = offenders([tmp_path])
    assert [line.split(" ", 1)[1] for line in found] == ["wide: 2 lines, 7 parameters", "long: 61 lines, 0 parameters"]


def device_questions(paths: list[Path]) -> list[str]:
    """'file:line function: code' for every place that asks which device or array library it runs on:
    an `is`/`is not` against numpy or cupy, or a comparison with the device string "cpu"."""
    found = []
    for path in sorted(f for p in paths for f in ([p] if p.is_file() else p.rglob("*.py"))):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for func in [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]:
            for node in ast.walk(func):
                if not isinstance(node, ast.Compare):
                    continue
                sides = [node.left, *node.comparators]
                modules = any(isinstance(n, ast.Name) and n.id in ("np", "numpy", "cupy", "cp") for n in sides)
                identity = any(isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops)
                cpu = any(isinstance(n, ast.Constant) and n.value == "cpu" for n in sides)
                if (modules and identity) or cpu:
                    where = path.relative_to(SRC) if path.is_relative_to(SRC) else path
                    found.append(f"{where}:{node.lineno} {func.name}: {ast.unparse(node)}")
    return sorted(set(found))


def test_the_device_question_counter_finds_each_kind(tmp_path):
    (tmp_path / "m.py").write_text(
        "def a(xp):\n    return xp is np\n"
        "def b(xp):\n    return 1 if xp is not cupy else 2\n"
        "def c(device):\n    return device == 'cpu'\n"
        "def d(xp, n):\n    return xp == n and n is None\n", encoding="utf-8")
    assert [line.split(" ", 1)[1] for line in device_questions([tmp_path])] == [
        "a: xp is np", "b: xp is not cupy", "c: device == 'cpu'"]


def test_the_training_package_asks_for_the_device_once():
    """Issue 22: the host and device code sit in their own classes (pipelines, the ops' backends);
    `pipeline_for` is the one place that picks them."""
    found = device_questions([SRC / "w2v" / "training"])
    assert [line.split(" ", 2)[1] for line in found] == ["pipeline_for:"], "\n".join(found)


def test_training_functions_are_short_and_narrow():
    found = offenders([SRC / "w2v" / "training"])
    assert not found, "split these (issue 22):\n" + "\n".join(found)


if __name__ == "__main__":
    print("\n".join(offenders([Path(p).resolve() for p in sys.argv[1:]] or [SRC])))
