"""Events and CPU per delivered pair: this tree against a baseline install, in one invocation.

Runs the same workloads with two Python interpreters, alternating them run by run (the
machine is shared and noisy, so only figures measured side by side are compared): this
checkout's, and one with a baseline version of qactors installed (for example a release, or
the commit before a change).  Each run is a fresh process.  Workloads:

* ``chain-asap``: the 64-node chain of ``benchmarks/chain.py`` as one standing request of the
  network layer (swap-asap, geometric link model, 100 ms simulated);
* ``chain-nested``: the same chain with the nested (doubling) policy over 32 nodes;
* ``europe-backbone``, ``metro-30``: the shipped scenarios, end to end.

Run ``i`` of each side uses seed ``i`` (both sides the same seeds).  For each workload and side
it prints medians of ``--repeat`` runs (events, CPU seconds, pairs delivered), events and CPU
milliseconds per delivered pair over all runs together, and the ratios this tree / baseline.
One JSON line on stdout.

    git worktree add /tmp/qbase <commit>
    python -m venv --system-site-packages /tmp/basevenv && /tmp/basevenv/bin/pip install --no-deps /tmp/qbase
    python benchmarks/versus.py --baseline /tmp/basevenv/bin/python
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# runs inside the measured interpreter; uses only API that every version since the network layer has
_PROBE = r"""
import json, sys, time
import qactors
workload, scenarios, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])

def delivered(states):
    return sum(len(role.delivered) for st in states.values() if isinstance(st, dict)
               for role in st.get("roles", {}).values() if getattr(role, "index", -1) == role.n)

if workload.startswith("chain-"):
    import networkx as nx
    from qactors.hardware.links import midpoint_arm_efficiency
    from qactors.hardware.memory import QuantumMemory
    from qactors.protocols.link import LinkPhysics
    from qactors.protocols.network import Request, quantum_network
    policy = workload.split("-", 1)[1]
    nodes = 64 if policy == "asap" else 33
    g = nx.path_graph(nodes)
    nx.set_edge_attributes(g, 10.0, "length_km")
    physics = LinkPhysics("double_click", eta_arm=midpoint_arm_efficiency(10.0, detection_efficiency=0.9),
                          visibility=0.95)
    net = quantum_network(g, [Request("r", "0", str(nodes - 1), pairs=10 ** 9, policy=policy)], physics=physics,
                          memory=QuantumMemory(num_qubits=2, t1_s=10.0, t2_s=1.0))
    cpu = time.process_time()
    result = qactors.run(net, until_ps=100 * qactors.MS, seed=seed, record_digest=False)
    cpu = time.process_time() - cpu
    events, states = result.events, result.states
else:
    from qactors.scenario import Scenario, run_scenario
    scenario = Scenario.from_toml(f"{scenarios}/{workload}.toml").with_overrides(progress=False, seed=seed)
    cpu = time.process_time()
    run = run_scenario(scenario)
    cpu = time.process_time() - cpu
    events, states = run.result.events, run.result.states
print(json.dumps({"events": events, "cpu_s": cpu, "pairs": delivered(states)}))
"""


def measure(python: str, workload: str, seed: int, cwd: Path) -> dict:
    out = subprocess.run([python, "-c", _PROBE, workload, str(ROOT / "scenarios"), str(seed)], capture_output=True,
                         text=True, cwd=cwd, timeout=3600)
    if out.returncode != 0:
        raise SystemExit(f"{python} failed on {workload}:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def summary(runs: list[dict]) -> dict:
    """Medians over the runs, and per-pair figures as totals over all runs (the seeds differ, so a run that
    delivers few pairs, as one that meets a deadline, does not stand for the rest)."""
    med = {k: statistics.median(r[k] for r in runs) for k in ("events", "cpu_s", "pairs")}
    pairs = sum(r["pairs"] for r in runs) or float("nan")
    return {"runs": len(runs), "events": med["events"], "cpu_s": round(med["cpu_s"], 3), "pairs": med["pairs"],
            "events_per_pair": round(sum(r["events"] for r in runs) / pairs, 2),
            "cpu_ms_per_pair": round(1e3 * sum(r["cpu_s"] for r in runs) / pairs, 4)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--baseline", required=True, help="a Python interpreter with the baseline qactors installed")
    p.add_argument("--current", default=sys.executable, help="interpreter for this tree (default: this one)")
    p.add_argument("--workloads", nargs="+", default=["chain-asap", "chain-nested", "europe-backbone"],
                   choices=["chain-asap", "chain-nested", "europe-backbone", "metro-30"])
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    neutral = Path(tempfile.gettempdir())  # not the tree: ``python -c`` puts the cwd first on the path
    out = {}
    for workload in args.workloads:
        sides: dict[str, list[dict]] = {"current": [], "baseline": []}
        for i in range(args.repeat):
            for side, python in (("baseline", args.baseline), ("current", args.current)):
                print(f"  {workload} {side} {i + 1}/{args.repeat}", file=sys.stderr, flush=True)
                sides[side].append(measure(python, workload, i + 1, neutral))
        cur, base = summary(sides["current"]), summary(sides["baseline"])
        ratios = {k: round(cur[k] / base[k], 3) for k in ("events_per_pair", "cpu_ms_per_pair")
                  if cur[k] and base[k]}
        out[workload] = {"current": cur, "baseline": base, "ratio": ratios}
    print(json.dumps({"benchmark": "versus", "repeat": args.repeat, "workloads": out}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
