"""Scenario throughput: shipped scenario files run end to end, each repeat in a fresh process.

For each scenario it measures the time to read, validate and build it (``Scenario.from_toml``:
topology loading, repeater insertion, actors) and the time to run it on the local backend,
with events, events per second, peak resident memory and the digest (equal across repeats:
the run is deterministic).  It prints one JSON line: every repeat, and per scenario the
medians and the ratio of its median run time to the first scenario's, measured in the same
invocation (the machine is shared, so compare ratios rather than absolute times).

    python benchmarks/scenarios.py                          # metro-30 and europe-backbone, 3 repeats
    python benchmarks/scenarios.py --scenarios metro-demo --repeat 1
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def one(name: str) -> dict:
    from qactors.scenario import Scenario, run_scenario
    t0 = time.perf_counter()
    scenario = Scenario.from_toml(SCENARIOS / f"{name}.toml").with_overrides(progress=False)
    built = time.perf_counter() - t0
    t0 = time.perf_counter()
    run = run_scenario(scenario)
    wall = time.perf_counter() - t0
    r = run.result
    return {"scenario": name, "nodes": scenario.graph.number_of_nodes(), "links": scenario.graph.number_of_edges(),
            "build_s": round(built, 3), "run_s": round(wall, 3), "events": r.events,
            "events_per_s": round(r.events / wall), "digest": r.digest,
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenarios", nargs="+", default=["metro-30", "europe-backbone"],
                   help="names of files in scenarios/ (default: the city- and continent-scale deployments)")
    p.add_argument("--repeat", type=int, default=3, help="runs per scenario, each in a fresh process (default 3)")
    args = p.parse_args(argv)
    runs = []
    ctx = multiprocessing.get_context("spawn")
    for name in args.scenarios:
        for i in range(args.repeat):
            print(f"  {name} run {i + 1}/{args.repeat}", file=sys.stderr, flush=True)
            with ctx.Pool(1) as pool:
                runs.append(pool.apply(one, (name,)))
    medians = {}
    for name in args.scenarios:
        mine = [r for r in runs if r["scenario"] == name]
        medians[name] = {k: statistics.median(r[k] for r in mine) for k in ("build_s", "run_s", "events_per_s",
                                                                             "peak_rss_mib")}
        medians[name]["deterministic"] = len({r["digest"] for r in mine}) == 1
    first = medians[args.scenarios[0]]["run_s"]
    for m in medians.values():
        m["run_ratio_to_first"] = round(m["run_s"] / first, 3) if first > 0 else None
    print(json.dumps({"benchmark": "scenarios", "repeat": args.repeat,
                      "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                  "platform": platform.platform()},
                      "medians": medians, "runs": runs}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
