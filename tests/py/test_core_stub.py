"""python/isoqube/_core.pyi states the compiled module's signatures.

mypy's stubtest (a stage of scripts/test) checks that the stub and the
module have the same names, but it cannot read the signatures of pybind11
functions: they have no ``__text_signature__``. pybind11 writes each one as
the first line of the docstring ("wait(self: isoqube._core.Engine, run_id:
str, timeout: ... = None) -> object"), which parses as a Python ``def``;
here every function and method of the stub is held to it: the same
parameters, in the same order and kinds, the same defaults (``...`` in the
stub stands for any).
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import isoqube
import pytest
from isoqube import _core

STUB = Path(isoqube.__file__).parent / "_core.pyi"


def stub_functions() -> dict[str, ast.FunctionDef]:
    """The stub's functions and methods by dotted name ("Engine.wait")."""
    tree = ast.parse(STUB.read_text(encoding="utf-8"))
    found: dict[str, ast.FunctionDef] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            found[node.name] = node
        elif isinstance(node, ast.ClassDef):
            for member in node.body:
                if isinstance(member, ast.FunctionDef) and not _is_property(member):
                    found[f"{node.name}.{member.name}"] = member
    return found


def _is_property(node: ast.FunctionDef) -> bool:
    return any(ast.unparse(d) == "property" for d in node.decorator_list)


def runtime_signature(name: str) -> ast.arguments | None:
    """The parameters pybind11 documents for ``name``, or None when it
    documents none (a Python-level or an overloaded function)."""
    target = _core
    for part in name.split("."):
        target = inspect.getattr_static(target, part) if inspect.isclass(target) else getattr(
            target, part)
    first_line = (getattr(target, "__doc__", None) or "").splitlines()[:1]
    if not first_line or "(" not in first_line[0]:
        return None
    header = first_line[0].split("(", 1)
    try:
        tree = ast.parse(f"def f({header[1]}: ...")
    except SyntaxError:
        return None
    return tree.body[0].args  # type: ignore[attr-defined]


def shape(arguments: ast.arguments) -> list[tuple[str, str, str | None]]:
    """(kind, name, default) of each parameter but ``self``; a default is
    its source text, "any" for the stub's ``...``."""
    positional = arguments.posonlyargs + arguments.args
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(arguments.defaults))
    defaults += arguments.defaults
    params = [("positional", a.arg, _default(d)) for a, d in zip(positional, defaults)]
    if arguments.vararg:
        params.append(("*args", arguments.vararg.arg, None))
    params += [("keyword", a.arg, _default(d))
               for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults)]
    if arguments.kwarg:
        params.append(("**kwargs", arguments.kwarg.arg, None))
    return [p for p in params if p[1] != "self"]


def _default(node: ast.expr | None) -> str | None:
    if node is None:
        return None
    text = ast.unparse(node)
    return "any" if text == "..." else text


def _same(stub: list, runtime: list) -> bool:
    if len(stub) != len(runtime):
        return False
    for (kind, name, default), (r_kind, r_name, r_default) in zip(stub, runtime):
        if (kind, name) != (r_kind, r_name):
            return False
        if default != r_default and not (default == "any" and r_default is not None):
            return False
    return True


@pytest.mark.parametrize("name", sorted(stub_functions()))
def test_the_stub_states_the_parameters_the_compiled_module_takes(name):
    runtime = runtime_signature(name)
    if runtime is None:
        pytest.skip(f"pybind11 documents no single signature for {name}")
    stub = shape(stub_functions()[name].args)

    assert _same(stub, shape(runtime)), f"{name}: stub {stub}, module {shape(runtime)}"
