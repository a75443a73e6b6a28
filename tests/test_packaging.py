"""Both install modes expose the top-level folders as qactors.hardware etc. and
install no generic top-level package (DESIGN section 1)."""

from __future__ import annotations

import os
import site
import subprocess
import sys
import tomllib
import venv
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement  # pytest's own dependency

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


def running_site_dirs() -> list[str]:
    """The site-packages folders of the interpreter running the tests (a virtual environment's own ones
    when the tests run in one; the user site only where that interpreter reads it)."""
    dirs = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    found = []
    for d in dirs:
        if os.path.isdir(d) and os.path.realpath(d) not in map(os.path.realpath, found):
            found.append(d)
    return found


def make_venv(path: Path) -> Path:
    """A probe environment that installs into its own site-packages and finds everything else (pip, the
    dependencies, the build backend) in the running environment's, listed after its own by a .pth file, so
    nothing is downloaded.  A venv with system site packages would see the base interpreter's folders
    instead, which lack the dependencies when the tests run in a virtual environment."""
    venv.EnvBuilder(system_site_packages=False, with_pip=False).create(path)
    python = path / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    (Path(purelib) / "zz_running_environment.pth").write_text("".join(d + "\n" for d in running_site_dirs()))
    return python


def build_backend_is_here() -> bool:
    """Whether the running environment has every build requirement of pyproject.toml (then pip builds
    with it, offline; otherwise pip's isolated build fetches them from the package index)."""
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    for req in map(Requirement, requires):
        try:
            if not req.specifier.contains(metadata.version(req.name), prereleases=True):
                return False
        except metadata.PackageNotFoundError:
            return False
    return True


BUILD = ["--no-build-isolation"] if build_backend_is_here() else []


def pip(python: Path, *args: str) -> None:
    """Install into the probe environment only: --ignore-installed, as the running environment's copy of
    qactors is visible to the probe's pip and must neither satisfy nor be uninstalled by the install."""
    out = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--ignore-installed", *BUILD,
                          *args], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]


def probe(python: Path, cwd: Path) -> dict:
    import json
    out = subprocess.run([str(python), "-c", PROBE, *source_packages()], capture_output=True, text=True, cwd=cwd,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


def test_wheel_contains_the_mapped_packages_only(tmp_path):
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", *BUILD, "-w", str(tmp_path),
                          str(ROOT)], capture_output=True, text=True, timeout=600)
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
