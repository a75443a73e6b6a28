"""benchmarks/randomtopo.py (NIST's random-topology workload) runs small and prints one JSON line whose
physics is sane: pairs are delivered, their fidelity lies between the classical bound and the initial 0.99,
and the requests are as drawn (distinct endpoints 2 to 5 hops apart).  Timings are not asserted."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "randomtopo.py"


def _module():
    spec = importlib.util.spec_from_file_location("randomtopo_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_randomtopo_benchmark_prints_one_json_line_with_sane_physics():
    out = subprocess.run([sys.executable, str(SCRIPT), "--sizes", "16", "--sim-s", "0.2", "--repeat", "2"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert report["benchmark"] == "randomtopo" and report["timing"] == "two-round" and report["repeat"] == 2
    (run,) = report["runs"]
    assert (run["nodes"], run["edges"], run["requests"]) == (16, 20, 2)
    for key in ("wall_s", "cpu_s", "build_cpu_s"):
        assert run[key] >= 0
    assert len(run["cpu_s_all"]) == 2
    assert run["events"] > 0 and run["pairs_delivered"] > 0
    assert 0.5 < run["mean_fidelity"] <= 0.99
    assert sum(r["pairs"] for r in run["per_request"]) == run["pairs_delivered"]
    assert all(2 <= r["hops"] <= 5 for r in run["per_request"])


def test_graph_and_requests_follow_the_workload():
    m = _module()
    for n in (16, 32, 64):
        g, rng = m.random_topology(n, seed=7)
        assert g.number_of_nodes() == n and g.number_of_edges() == round(1.25 * n) and nx.is_connected(g)
        assert all(d["length_km"] == 30.0 for *_, d in g.edges(data=True))
        drawn = m.draw_requests(g, rng, max(2, n // 10))
        ends = [v for s, d, _ in drawn for v in (s, d)]
        assert len(ends) == len(set(ends)) == 2 * max(2, n // 10)
        for s, d, path in drawn:
            assert path[0] == s and path[-1] == d and 2 <= len(path) - 1 <= 5
            assert len(path) - 1 == nx.shortest_path_length(g, s, d)
    g1, _ = m.random_topology(32, seed=7)
    g2, _ = m.random_topology(32, seed=7)
    assert sorted(g1.edges) == sorted(g2.edges)  # the seed fixes the graph


def test_one_round_timing_runs_too():
    out = subprocess.run([sys.executable, str(SCRIPT), "--sizes", "16", "--sim-s", "0.05", "--repeat", "1",
                          "--timing", "one-round"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["timing"] == "one-round" and report["runs"][0]["events"] > 0
