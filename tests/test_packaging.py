"""Both install modes expose the top-level folders as qactors.hardware etc. and
install no generic top-level package (DESIGN section 1)."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"qactors": "qactors", "hardware": "qactors.hardware", "protocols": "qactors.protocols",
           "topologies": "qactors.topologies"}


def source_packages() -> list[str]:
    """Every package in the source tree, by the name it is installed under."""
    names = []
    for folder, name in FOLDERS.items():
        for init in sorted((ROOT / folder).rglob("__init__.py")):
            rel = init.parent.relative_to(ROOT / folder).parts
            names.append(".".join((name, *rel)))
    return names


PROBE = ("import json, sys, importlib, importlib.util;"
         "names = sys.argv[1:];"
         "print(json.dumps({m: importlib.import_module(m).__file__ for m in names} | "
         "{'bare': [n for n in ('hardware', 'protocols', 'topologies') if importlib.util.find_spec(n)]}))")


def make_venv(path: Path) -> Path:
    # system site packages provide ray, numpy, ... so nothing is downloaded but the build backend
    venv.EnvBuilder(system_site_packages=True, with_pip=True).create(path)
    return path / "bin" / "python"


def pip(python: Path, *args: str) -> None:
    out = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", *args],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]


def probe(python: Path, cwd: Path) -> dict:
    import json
    out = subprocess.run([str(python), "-c", PROBE, *source_packages()], capture_output=True, text=True, cwd=cwd,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


def test_wheel_contains_the_mapped_packages_only(tmp_path):
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    wheel = next(tmp_path.glob("qactors-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert tops == {"qactors"}
    for pkg in source_packages():  # every package of the source tree is in the wheel
        assert pkg.replace(".", "/") + "/__init__.py" in names, pkg

    python = make_venv(tmp_path / "venv")
    pip(python, str(wheel))
    files = probe(python, cwd=tmp_path)
    site = str(tmp_path / "venv")
    assert all(files[m].startswith(site) for m in source_packages()), files
    assert files["bare"] == []


def test_editable_install_maps_the_source_folders(tmp_path):
    python = make_venv(tmp_path / "venv")
    pip(python, "-e", str(ROOT))
    files = probe(python, cwd=tmp_path)
    assert files["qactors"] == str(ROOT / "qactors" / "__init__.py")
    assert files["qactors.hardware"] == str(ROOT / "hardware" / "__init__.py")
    assert files["qactors.protocols"] == str(ROOT / "protocols" / "__init__.py")
    assert files["bare"] == []
