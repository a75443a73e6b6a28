"""The chain benchmark runs and prints one JSON line (figures are not asserted)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_chain_benchmark_prints_one_json_line():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "chain.py"), "--nodes", "2", "4", "--sim-ms", "5",
                          "--stacks", "chain", "network-nested"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1
    runs = json.loads(lines[0])["runs"]
    chain = [("chain", m, n) for m in ("geometric", "attempts") for n in (2, 4)]
    nested = [("network-nested", m, n) for m in ("geometric", "attempts") for n in (2, 4)]
    assert [(r["stack"], r["model"], r["nodes"]) for r in runs] == chain + nested
    assert all(r["events"] > 0 and r["peak_rss_mib"] > 0 for r in runs)


def test_chain_benchmark_runs_multiplexed_links_with_memories():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "chain.py"), "--nodes", "4", "--sim-ms", "2",
                          "--models", "attempts", "--stacks", "network-asap", "--memories", "3"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    line = json.loads(out.stdout)
    assert line["memories"] == 3
    [run] = line["runs"]
    assert (run["stack"], run["nodes"], run["memories"]) == ("network-asap", 4, 3) and run["events"] > 0


def test_chain_benchmark_refuses_several_memories_on_the_chain_builder():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "chain.py"), "--nodes", "2", "--memories", "2"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 2 and "--memories 2" in out.stderr
