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
PROBE = ("import json, qactors, qactors.hardware, qactors.protocols, qactors.topologies, importlib.util;"
         "print(json.dumps({m: __import__(m, fromlist=['x']).__file__ for m in "
         "['qactors', 'qactors.hardware', 'qactors.protocols', 'qactors.topologies']} | "
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
    out = subprocess.run([str(python), "-c", PROBE], capture_output=True, text=True, cwd=cwd, timeout=120)
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
    for pkg in ("core", "backends", "hardware", "protocols", "topologies"):
        assert f"qactors/{pkg}/__init__.py" in names

    python = make_venv(tmp_path / "venv")
    pip(python, str(wheel))
    files = probe(python, cwd=tmp_path)
    site = str(tmp_path / "venv")
    assert all(files[m].startswith(site) for m in ("qactors", "qactors.hardware", "qactors.topologies"))
    assert files["bare"] == []


def test_editable_install_maps_the_source_folders(tmp_path):
    python = make_venv(tmp_path / "venv")
    pip(python, "-e", str(ROOT))
    files = probe(python, cwd=tmp_path)
    assert files["qactors"] == str(ROOT / "qactors" / "__init__.py")
    assert files["qactors.hardware"] == str(ROOT / "hardware" / "__init__.py")
    assert files["qactors.protocols"] == str(ROOT / "protocols" / "__init__.py")
    assert files["bare"] == []
