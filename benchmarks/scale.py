"""Kernel scaling: events per CPU-second and memory per actor as a lattice network grows.

Workload: an s x s grid (s = round(sqrt(N))) of 10 km double-click links, 2 memories per link
side (T2 = 10 ms, cut-off 10 ms), shared allocation: a node actor, a memory-bank actor per link
end and a midpoint-station actor per link, about 7 actors per node.  N / 10 standing requests,
swap as soon as possible, each from a uniformly drawn node to one at most ``--reach`` rows and
columns away (so a request's length does not change with N, and the events of a run grow in
proportion to N).  Each size runs ``--sim-ms`` of simulated time on the local backend, in place
(as ``qactors run`` does), each repeat in a fresh process so its memory figures are its own.

Measured per size: build CPU-s; run-loop CPU-s; events; events per loop CPU-second; resident
memory before building, after building and at the peak, and from them bytes per actor (built,
and at the peak of the run); the distant-pair latency checks (pairs, exact searches, actors the
searches settled).  At the smallest size the run is repeated with the digest on, and its share
of the run's CPU is reported.  Figures are medians over ``--repeat`` runs.

The issue's targets: ``rate_ratio`` (events per CPU-second at the largest size over the
smallest) at least 1 / 1.5, and the largest (20k-node) grid's peak resident memory under 400 MB.

    python benchmarks/scale.py                       # 1k, 5k and 20k nodes, 3 repeats (about 10 min)
    python benchmarks/scale.py --sizes 100 400 --sim-ms 1 --repeat 1     # seconds
    python benchmarks/scale.py --baseline /path/to/other/venv/bin/python  # beside another qactors, alternating
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import platform
import resource
import statistics
import sys
import time

LENGTH_KM = 10.0
CHANNELS = 2
T2_S = 0.01


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def rss_mib() -> float:
    """Resident memory of this process now, MiB (Linux /proc; peak RSS elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20
    except OSError:
        return peak_mib()


def peak_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2 ** 20 if sys.platform == "darwin" else peak / 1024


def build(nodes: int, reach: int, seed: int):
    """The grid network for about ``nodes`` nodes and its requests."""
    import numpy as np

    from qactors.core.time import to_ps
    from qactors.hardware.links import midpoint_arm_efficiency
    from qactors.hardware.memory import QuantumMemory
    from qactors.protocols.link import LinkPhysics
    from qactors.protocols.network import Request, quantum_network
    from qactors.topologies.builders import grid
    side = max(2, round(math.sqrt(nodes)))
    g = grid(side, side, length_km=LENGTH_KM)
    rng = np.random.default_rng(seed)
    requests = []
    for i in range(max(2, side * side // 10)):
        r0, c0 = (int(x) for x in rng.integers(0, side, 2))
        while True:
            dr, dc = (int(x) for x in rng.integers(-reach, reach, 2, endpoint=True))
            r1, c1 = min(side - 1, max(0, r0 + dr)), min(side - 1, max(0, c0 + dc))
            if (r1, c1) != (r0, c0):
                break
        requests.append(Request(f"r{i}", f"n{r0}_{c0}", f"n{r1}_{c1}", pairs=10 ** 12, policy="asap",
                                cutoff_ps=to_ps(T2_S)))
    physics = LinkPhysics("double_click", eta_arm=midpoint_arm_efficiency(LENGTH_KM, detection_efficiency=0.9),
                          visibility=0.95)
    net = quantum_network(g, requests, physics=physics, memory=QuantumMemory(num_qubits=CHANNELS, t2_s=T2_S),
                          channels_per_link=CHANNELS, allocation="shared")
    return side * side, len(requests), net


def one(args: tuple) -> dict:
    nodes, reach, seed, sim_ms, digest = args
    import gc

    import qactors
    from qactors.core.time import to_ps
    import qactors.protocols.network  # noqa: F401  (imports are not the network's memory)
    import qactors.topologies.builders  # noqa: F401
    gc.collect()
    before = rss_mib()
    cpu0 = time.process_time()
    n, requests, net = build(nodes, reach, seed)
    build_cpu = time.process_time() - cpu0
    gc.collect()
    built = rss_mib()
    actors = len(net)
    import inspect
    # in place, as qactors run does (a qactors older than the option copies the actors first)
    extra = {"in_place": True} if "in_place" in inspect.signature(qactors.run).parameters else {}
    cpu0 = time.process_time()
    result = qactors.run(net, until_ps=to_ps(sim_ms * 1e-3), seed=seed, record_digest=digest, collect_states=False,
                         **extra)
    cpu = time.process_time() - cpu0
    loop_s = result.stats["loop_s"]
    peak = peak_mib()
    return {"nodes": n, "actors": actors, "requests": requests, "digest": digest, "build_cpu_s": round(build_cpu, 3),
            "run_cpu_s": round(cpu, 3), "loop_s": round(loop_s, 3), "events": result.events,
            "events_per_cpu_s": round(result.events / cpu), "rss_before_mib": round(before, 1),
            "rss_built_mib": round(built, 1), "peak_rss_mib": round(peak, 1),
            "bytes_per_actor_built": round((built - before) * 2 ** 20 / actors),
            "bytes_per_actor_peak": round((peak - before) * 2 ** 20 / actors),
            "in_place": bool(extra),
            **{k: result.stats.get(k) for k in ("far_pairs", "latency_searches", "latency_settled")}}


def median_of(runs: list[dict]) -> dict:
    out = dict(runs[0])
    for key in ("build_cpu_s", "run_cpu_s", "loop_s", "events_per_cpu_s", "rss_before_mib", "rss_built_mib",
                "peak_rss_mib", "bytes_per_actor_built", "bytes_per_actor_peak"):
        out[key] = statistics.median(r[key] for r in runs)
    out["run_cpu_s_all"] = [r["run_cpu_s"] for r in runs]
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000], help="numbers of nodes (about)")
    p.add_argument("--sim-ms", type=float, default=5.0, help="simulated time per run, ms (default 5)")
    p.add_argument("--reach", type=int, default=4, help="rows and columns between a request's ends, at most (default 4)")
    p.add_argument("--seed", type=int, default=1, help="seed of the requests and the run (default 1)")
    p.add_argument("--repeat", type=int, default=3, help="runs per size; figures are medians (default 3)")
    p.add_argument("--baseline", metavar="PYTHON", default=None,
                   help="also run each job with this interpreter (another qactors installed in it), alternating "
                        "with this tree's, and report the baseline's figures and the ratios beside")
    p.add_argument("--one", default=None, help=argparse.SUPPRESS)  # a baseline job: run it, print its JSON
    args = p.parse_args(argv)
    if args.one is not None:
        print(json.dumps(one(tuple(json.loads(args.one)))))
        return 0
    if args.repeat < 1 or args.reach < 1 or min(args.sizes) < 4 or not (args.sim_ms > 0 and math.isfinite(args.sim_ms)):
        p.error("--repeat and --reach must be >= 1, --sizes >= 4 and --sim-ms a finite number > 0")
    ctx = multiprocessing.get_context("spawn")
    sizes = sorted(args.sizes)

    def fresh(job: tuple) -> dict:
        with ctx.Pool(1) as pool:
            return pool.apply(one, (job,))

    def baseline(job: tuple) -> dict:
        import subprocess
        out = subprocess.run([args.baseline, __file__, "--one", json.dumps(job)], capture_output=True, text=True,
                             cwd="/", check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    per_size, base_size = [], []
    for n in sizes:
        runs, base = [], []
        for i in range(args.repeat):
            log(f"  scale N={n} run {i + 1}/{args.repeat}")
            job = (n, args.reach, args.seed, args.sim_ms, False)
            runs.append(fresh(job))
            if args.baseline:
                base.append(baseline(job))
        per_size.append(median_of(runs))
        if base:
            base_size.append(median_of(base))
    on, off = [], []
    for i in range(args.repeat):  # digest on and off alternately, at the smallest size
        log(f"  scale N={sizes[0]} digest on/off {i + 1}/{args.repeat}")
        on.append(fresh((sizes[0], args.reach, args.seed, args.sim_ms, True))["run_cpu_s"])
        off.append(fresh((sizes[0], args.reach, args.seed, args.sim_ms, False))["run_cpu_s"])
    digest_share = 1 - statistics.median(off) / statistics.median(on)
    small, large = per_size[0], per_size[-1]
    print(json.dumps({
        "benchmark": "scale", "sim_ms": args.sim_ms, "reach": args.reach, "seed": args.seed, "repeat": args.repeat,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "sizes": per_size,
        "rate_ratio": round(large["events_per_cpu_s"] / small["events_per_cpu_s"], 3),
        "largest_peak_rss_mib": large["peak_rss_mib"],
        "digest_share_of_run_cpu": round(digest_share, 3), "digest_cpu_s_on": on, "digest_cpu_s_off": off,
        "targets": {"rate_ratio_at_least": round(1 / 1.5, 3), "peak_rss_mib_below": 400},
        **({"baseline": {"python": args.baseline, "sizes": base_size,
                         "rate_ratio": round(base_size[-1]["events_per_cpu_s"] / base_size[0]["events_per_cpu_s"], 3),
                         "events_per_cpu_s_over_baseline": [round(a["events_per_cpu_s"] / b["events_per_cpu_s"], 3)
                                                            for a, b in zip(per_size, base_size)],
                         "peak_rss_over_baseline": [round(a["peak_rss_mib"] / b["peak_rss_mib"], 3)
                                                    for a, b in zip(per_size, base_size)]}} if base_size else {}),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
