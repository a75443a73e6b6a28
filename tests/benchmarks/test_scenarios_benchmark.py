"""The scenario benchmark runs and prints one JSON line (figures are not asserted)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_scenario_benchmark_prints_one_json_line():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "scenarios.py"), "--scenarios", "metro-demo",
                          "chain-nested", "--repeat", "2"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert [r["scenario"] for r in report["runs"]] == ["metro-demo"] * 2 + ["chain-nested"] * 2
    assert all(r["events"] > 0 and r["nodes"] > 0 for r in report["runs"])
    assert report["medians"]["metro-demo"]["deterministic"] and report["medians"]["chain-nested"]["deterministic"]
    assert report["medians"]["metro-demo"]["run_ratio_to_first"] == 1.0
