"""The package's import structure: every module imports on its own, and no
modules import each other in a circle.

The graph is read from the installed sources with ``ast``: every import of
an isoqube module, at module level, inside a function (a deferred import is
still a dependency, only hidden) or under ``if TYPE_CHECKING:``. The
compiled ``_core`` imports ``isoqube.errors`` when it loads (cpp/bindings/
module.cc); it also makes ``isoqube.model``'s Run objects, reading the
classes when it first returns a run, which no module-level code does.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import isoqube
import pytest

PACKAGE = Path(isoqube.__file__).parent
# The compiled module's imports when it loads.
CORE_IMPORTS = {"isoqube._core": {"isoqube.errors"}}


def module_files() -> dict[str, Path]:
    """Every module of the installed package by dotted name."""
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _imported(module: str, node: ast.Import | ast.ImportFrom, known: set[str]) -> list[str]:
    """The isoqube modules one import statement of ``module`` loads."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name in known]
    base = node.module or ""
    if node.level:
        package = module.split(".")
        is_package = (PACKAGE.parent / Path(*package) / "__init__.py").exists()
        anchor = package if is_package else package[:-1]
        anchor = anchor[:len(anchor) - (node.level - 1)]
        base = ".".join(anchor + ([base] if base else []))
    found = []
    for alias in node.names:
        submodule = f"{base}.{alias.name}"
        if submodule in known:
            found.append(submodule)
        elif base in known:
            found.append(base)
    return found


def import_graph() -> dict[str, set[str]]:
    """Which isoqube modules each one imports, anywhere in its source."""
    files = module_files()
    known = set(files) | set(CORE_IMPORTS)
    graph: dict[str, set[str]] = dict(CORE_IMPORTS)
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                targets.update(_imported(module, node, known))
        targets.discard(module)
        graph[module] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_no_isoqube_modules_import_each_other_in_a_circle():
    graph = import_graph()

    assert "isoqube.engine" in graph["isoqube"]  # the graph is read at all
    assert cycles(graph) == []


def test_the_models_import_only_leaf_modules_of_the_package():
    graph = import_graph()

    leaves = {"isoqube.errors", "isoqube.display"}

    assert graph["isoqube.model"] <= leaves | {"isoqube._core"}
    assert all(graph[leaf] == set() for leaf in leaves)


@pytest.mark.parametrize("module", sorted(m for m in module_files() if not m.endswith("__main__")))
def test_each_module_imports_in_a_fresh_interpreter(module):
    imported = subprocess.run([sys.executable, "-c", f"import {module}"],
                              capture_output=True, text=True)

    assert imported.returncode == 0, imported.stderr
