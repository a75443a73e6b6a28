"""benchmarks/peers/sequence_chain.py runs only in a venv with SeQUeNCe 1.3.1 (Python 3.12); with the test
interpreter, where SeQUeNCe is not installed, it exits non-zero and names the install command."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "peers" / "sequence_chain.py"


@pytest.mark.skipif(importlib.util.find_spec("sequence") is not None,
                    reason="SeQUeNCe is installed in the test interpreter")
def test_sequence_peer_without_sequence_names_the_install_command():
    out = subprocess.run([sys.executable, str(SCRIPT), "--nodes", "2", "--sim-ms", "1"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and out.stdout == ""
    assert "pip install sequence==1.3.1" in out.stderr and "Python 3.12" in out.stderr, out.stderr


def test_sequence_peer_help_needs_no_sequence():
    out = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "pip install sequence==1.3.1" in out.stdout and "--memories" in out.stdout
