"""The kernel benchmark runs and prints one JSON line (its figures are not asserted:
performance is measured by running the script, not in tests)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_quick_benchmark_prints_one_json_line():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "kernel.py"), "--quick"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert report["benchmark"] == "kernel"
    # every run handled exactly the events the workload implies (checked inside the script too)
    assert report["trivial"]["100"]["local"]["events"] == report["trivial"]["100"]["ray2"]["events"] == 2000
    assert report["work"]["100"]["ray2_over_local"] > 0
    assert report["ray2_window_overhead"]["compiled_graph_ms_per_window"] > 0
