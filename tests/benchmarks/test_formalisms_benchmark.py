"""The formalisms benchmark runs and prints one JSON line (timings are not asserted)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_formalisms_benchmark_prints_one_json_line():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "formalisms.py"), "--repeats", "1"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1
    results = json.loads(lines[0])["results"]
    assert {"bell_swap", "bell_dejmps_round", "bell_pair_record_at", "density_teleport_1_qubit"} <= set(results)
    assert all(v > 0 for v in results.values())
