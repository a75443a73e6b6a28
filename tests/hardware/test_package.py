"""The qactors.hardware package: public surface, doctested examples, dependencies."""

from __future__ import annotations

import ast
import doctest
import importlib
from pathlib import Path

import pytest

import qactors.hardware as hardware

MODULES = ["channels", "memory", "sources", "detectors", "bsa", "links"]
FOLDER = Path(__file__).resolve().parents[2] / "hardware"


def _top_level_definitions(path: Path) -> set[str]:
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {n for n in names if not n.startswith("_")}


@pytest.mark.parametrize("name", MODULES)
def test_all_is_strict_and_reexported(name):
    """``__all__`` lists exactly the public names a module defines, and the package re-exports them."""
    module = importlib.import_module(f"qactors.hardware.{name}")
    assert sorted(module.__all__) == sorted(_top_level_definitions(FOLDER / f"{name}.py"))
    assert set(module.__all__) <= set(hardware.__all__)
    for exported in module.__all__:
        assert getattr(hardware, exported) is getattr(module, exported)


def test_package_exports_nothing_else():
    everything = set()
    for name in MODULES:
        everything.update(importlib.import_module(f"qactors.hardware.{name}").__all__)
    assert sorted(hardware.__all__) == sorted(everything)


@pytest.mark.parametrize("name", ["__init__"] + MODULES)
def test_doctests(name):
    module = hardware if name == "__init__" else importlib.import_module(f"qactors.hardware.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and (result.attempted > 0 or name == "__init__")


