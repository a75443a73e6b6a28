"""benchmarks/scale.py runs small and prints one JSON line: the grids have the sizes asked for, their
requests stay within the reach, events grow with the network, and the distant-pair latency checks
searched no more than they had pairs to check.  Timings and memory are reported, not asserted."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "scale.py"


def test_scale_benchmark_prints_one_json_line():
    out = subprocess.run([sys.executable, str(SCRIPT), "--sizes", "100", "400", "--sim-ms", "1", "--repeat", "1"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert report["benchmark"] == "scale" and report["repeat"] == 1
    small, large = report["sizes"]
    assert (small["nodes"], large["nodes"]) == (100, 400) and (small["requests"], large["requests"]) == (10, 40)
    assert large["actors"] > 4 * small["actors"] * 0.9 and large["events"] > small["events"] > 0
    for size in report["sizes"]:
        assert size["latency_searches"] <= size["far_pairs"] and size["bytes_per_actor_built"] > 0
    assert report["rate_ratio"] > 0 and report["digest_share_of_run_cpu"] < 1  # (noise may make a tiny run's < 0)


def test_scale_requests_stay_within_reach():
    spec = importlib.util.spec_from_file_location("scale_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    nodes, count, net = module.build(400, 2, seed=3)
    assert nodes == 400 and count == 40
    ends = [(a.pending[r].source, a.pending[r].dest) for a in net.actors if getattr(a, "pending", None)
            for r in a.pending]
    assert len(ends) == 40
    for s, d in ends:
        (r0, c0), (r1, c1) = [tuple(int(x) for x in v[1:].split("_")) for v in (s, d)]
        assert s != d and abs(r0 - r1) <= 2 and abs(c0 - c1) <= 2


def test_scale_benchmark_runs_a_baseline_interpreter_beside():
    """With --baseline (here this same interpreter) every job also runs there, and the ratios line up."""
    out = subprocess.run([sys.executable, str(SCRIPT), "--sizes", "100", "--sim-ms", "1", "--repeat", "1",
                          "--baseline", sys.executable], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    (mine,), (theirs,) = report["sizes"], report["baseline"]["sizes"]
    assert mine["events"] == theirs["events"] > 0  # the same code, the same run
    assert len(report["baseline"]["events_per_cpu_s_over_baseline"]) == 1
