"""Imports point one way only (DESIGN section 1).

    topologies -> protocols -> hardware -> qactors.quantum -> qactors.core
    qactors.backends import core only; only qactors/backends/ray*.py and cluster/ import ray;
    nothing imports cluster.

Checked by reading every module's import statements (including imports inside
functions) with the ast module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"qactors": "qactors", "hardware": "qactors.hardware", "protocols": "qactors.protocols",
           "topologies": "qactors.topologies", "cluster": "cluster", "benchmarks": "benchmarks"}
LOWER = ["core", "quantum", "hardware", "protocols", "topologies"]
ALLOWED = {
    "core": {"core"},
    "quantum": {"core", "quantum"},
    "hardware": {"core", "quantum", "hardware"},
    "protocols": {"core", "quantum", "hardware", "protocols"},
    "topologies": {"core", "quantum", "hardware", "protocols", "topologies"},
    "backends": {"core", "backends"},
    "app": {"core", "quantum", "hardware", "protocols", "topologies", "backends", "app"},
    "cluster": {"core", "quantum", "hardware", "protocols", "topologies", "backends", "app"},
    "benchmarks": {"core", "quantum", "hardware", "protocols", "topologies", "backends", "app"},
}


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    head = FOLDERS[parts[0]].split(".")
    parts = head + parts[1:]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer(name: str) -> str | None:
    parts = name.split(".")
    if parts[0] == "ray":
        return "ray"
    if parts[0] in ("cluster", "benchmarks"):
        return parts[0]
    if parts[0] in ("hardware", "protocols", "topologies", "quantum", "core", "backends"):
        return "bare:" + parts[0]
    if parts[0] != "qactors":
        return None  # the standard library or a third-party package
    if len(parts) > 1 and parts[1] in LOWER + ["backends"]:
        return parts[1]
    return "app"


def imports(path: Path):
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            yield node.lineno, target


def source_files():
    for folder in FOLDERS:
        yield from sorted((ROOT / folder).rglob("*.py"))


def violations():
    found = []
    for path in source_files():
        own = layer(module_name(path))
        rel = path.relative_to(ROOT)
        for lineno, target in imports(path):
            dep = layer(target)
            if dep is None:
                continue
            where = f"{rel}:{lineno} imports {target}"
            if dep.startswith("bare:"):
                found.append(f"{where}: use the qactors.{dep[5:]} namespace")
            elif dep == "ray":
                if not (own == "cluster" or (own == "backends" and path.name.startswith("ray"))):
                    found.append(f"{where}: only qactors/backends/ray*.py and cluster/ may import ray")
            elif dep == "cluster":
                found.append(f"{where}: nothing imports cluster/")
            elif dep not in ALLOWED[own]:
                found.append(f"{where}: the {own} layer may not depend on {dep}")
    return found


def test_imports_point_one_way():
    assert violations() == []


def test_the_checker_catches_a_bad_import(tmp_path, monkeypatch):
    bad = ROOT / "hardware" / "_layering_probe.py"
    bad.write_text("from qactors.protocols import something\nimport ray\nfrom ..topologies import x\n")
    try:
        found = violations()
    finally:
        bad.unlink()
    assert any("_layering_probe.py:1" in v and "may not depend on protocols" in v for v in found)
    assert any("_layering_probe.py:2" in v and "may import ray" in v for v in found)
    assert any("_layering_probe.py:3" in v and "may not depend on topologies" in v for v in found)


@pytest.mark.parametrize("name, expected", [
    ("qactors.core.kernel", "core"), ("qactors.hardware", "hardware"), ("qactors.cli", "app"),
    ("ray.util", "ray"), ("numpy", None), ("hardware.fibre", "bare:hardware")])
def test_layer_names(name, expected):
    assert layer(name) == expected
