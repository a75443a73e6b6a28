"""benchmarks/versus.py prints one JSON line; with this tree on both sides the event counts agree exactly
(runs are deterministic), so the events ratio is 1 (CPU figures are not asserted)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_versus_against_itself_gives_equal_events():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "versus.py"), "--baseline", sys.executable,
                          "--repeat", "1", "--workloads", "chain-nested"], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1
    w = json.loads(lines[0])["workloads"]["chain-nested"]
    assert w["current"]["events"] == w["baseline"]["events"] > 0 and w["current"]["pairs"] > 0
    assert w["ratio"]["events_per_pair"] == 1.0
