"""NIST's random-topology workload: swap-asap over random graphs of N = 16 to 128 nodes, 1 s simulated.

The scalability study of NIST's simulator MQNS (``examples/scalability_randomtopo`` of
usnistgov/mqns), expressed as closely as this simulator allows:

* graph: a random recursive tree (node ``i`` joins a uniformly chosen earlier node) plus
  extra links between uniformly drawn unlinked pairs, ``round(1.25 N)`` links in all (average
  degree 2.5).  Nodes are ``n1 .. nN``.  The draws come from ``numpy.random.default_rng(seed)``
  in the order MQNS's ``RandomTopology`` makes them, so a seed gives MQNS's graph;
* every link 30 km of fibre at 0.2 dB/km (signals at 2e8 m/s, one-way delay ``tau`` = 150 us)
  with a double-click (Barrett-Kok) heralding station half-way; source (memory emission)
  efficiency 0.95 and detector efficiency 0.95, so ``eta_arm = 0.95^2 x 10^(-0.3)`` and
  ``p = eta_arm^2 / 2 = 0.102`` per attempt;
* attempt timing (``--timing``): ``two-round`` (default, NIST's): an attempt every
  ``5 tau`` = 750 us, a success heralded ``4 tau`` = 600 us after the qubits were prepared;
  ``one-round``: this simulator's default, an attempt and its herald every ``tau`` = 150 us;
* each heralded pair a Werner state of fidelity 0.99 when stored; memories dephase with
  ``T2`` = 5 ms (MQNS's coherence time ``t_cohere``, whose default decay is dephasing), no
  amplitude damping; a repeater discards a link pair 5 ms after its older qubit was stored
  (MQNS discards a qubit when its pair's coherence time has run out);
* two memory slots per link at each end, shared by every request that crosses the link
  (statistical multiplexing); memory access 1 ps (MQNS has no access latency);
* swap-asap repeaters, swap success 0.5;
* ``max(2, N // 10)`` requests (20 % of the nodes are endpoints), drawn as MQNS's
  ``random_requests`` draws them: uniform source and destination, each node an endpoint of
  at most one request, 2 to 5 hops apart by the fewest-hops path, and no request whose path
  shares a link with an earlier one where a node is an endpoint of one and inside the other.
  Each request asks for pairs without end over that pinned path.

For each N it runs the workload ``--repeat`` times, each in a fresh process, and reports the
medians of wall time and CPU time (``time.process_time``) of ``qactors.run`` (the run loop and
its state collection), the CPU time of building the graph, requests and network apart, and
the events, end-to-end pairs delivered and their mean fidelity on arrival (the same in every
repeat: runs are deterministic).  One JSON line on stdout; progress on stderr.  ``--profile``
prints the top cProfile entries of each run loop to stderr.

Differences from the MQNS workload that remain:

* the links' heralding is this simulator's actor model: a round opens when both ends offer a
  free slot (one message to the station and one back, ``tau`` in all); MQNS reserves a qubit
  with a request and an answer between the nodes (``2 tau``).  With two-round timing the
  first attempt's negotiation overlaps that set-up in both;
* the pair state is Bell-diagonal: memory dephasing turns the Werner pair into a dephased one
  (fidelity tends to 1/2), where MQNS keeps a Werner state whose parameter decays (fidelity
  tends to 1/4); swaps compose Pauli channels instead of multiplying Werner parameters;
* the cut-off is per link pair at a repeater (5 ms after its older qubit was stored); MQNS
  gives a swapped pair the earliest expiry of the pairs it joined and discards it wherever it
  is held, so a long chain of old links is cut sooner there;
* shared slots: each link's channel gives each pair to the requests that want the link's pairs
  in turn (the herald names the request); MQNS lets a swapping node pick among the pairs of
  any path;
* paths are fewest-hops paths by networkx (all links are 30 km, so shortest by fibre too); MQNS's
  Dijkstra (SciPy's, on hop counts) may break ties differently, and its conflict check compares
  links with their direction along the paths, so some requests differ between the two for the
  same seed (the graph is the same: for seed 100 the first request agrees at every N, all three
  at N = 32);
* memory decay is applied continuously from storage (Bell-diagonal records); MQNS applies it when
  a pair is touched (swap, consumption);
* requests are set up (reservation, activation) by messages along the path before generation
  starts; MQNS installs its paths from a controller before the run;
* the classical messages of the swap protocol differ (here: swap records to both path ends);
  event counts are of this simulator's messages and timers, not MQNS's events.

Reference point: MQNS takes 0.54 / 0.59 / 1.31 / 2.15 CPU-s in its run loop for N = 16 / 32 / 64
/ 128 (19.9k / 25.0k / 48.8k / 80.7k events) on this workload with seed 100, the default here.

    python benchmarks/randomtopo.py                          # N = 16, 32, 64, 128; 1 s; median of 3
    python benchmarks/randomtopo.py --sizes 16 --sim-s 0.05 --repeat 1
    python benchmarks/randomtopo.py --sizes 128 --repeat 1 --profile
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

LENGTH_KM = 30.0
ATTENUATION_DB_PER_KM = 0.2
C_M_PER_S = 2e8
REFRACTIVE_INDEX = 299_792_458 / C_M_PER_S  # light at 2e8 m/s in the fibre, as MQNS's default
SOURCE_EFFICIENCY = 0.95
DETECTOR_EFFICIENCY = 0.95
INITIAL_FIDELITY = 0.99
T_COHERE_S = 5e-3
SWAP_SUCCESS = 0.5
SLOTS_PER_LINK = 2
AVERAGE_DEGREE = 2.5
MIN_HOPS, MAX_HOPS = 2, 5


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def random_topology(nodes: int, seed: int):
    """The graph: a random recursive tree plus uniform extra links, ``round(nodes * 2.5 / 2)`` links,
    every one ``LENGTH_KM`` long, and the generator (to draw the requests from next)."""
    import networkx as nx
    import numpy as np
    if nodes < 2:
        raise SystemExit(f"--sizes: {nodes} nodes is not allowed; allowed: at least 2")
    edges = round(nodes * AVERAGE_DEGREE / 2)
    if not nodes - 1 <= edges <= nodes * (nodes - 1) // 2:
        raise SystemExit(f"--sizes: {nodes} nodes cannot have {edges} links")
    rng = np.random.default_rng(seed)
    g = nx.Graph()
    names = [f"n{i + 1}" for i in range(nodes)]
    g.add_nodes_from(names)
    linked = set()
    for i in range(1, nodes):  # node i joins one of the nodes before it
        j = int(rng.integers(0, i - 1, endpoint=True))
        linked.add((j, i))
        g.add_edge(names[j], names[i], length_km=LENGTH_KM)
    for _ in range(edges - (nodes - 1)):
        while True:
            a, b = int(rng.integers(0, nodes)), int(rng.integers(0, nodes))
            if a != b and (min(a, b), max(a, b)) not in linked:
                break
        linked.add((min(a, b), max(a, b)))
        g.add_edge(names[a], names[b], length_km=LENGTH_KM)
    return g, rng


def draw_requests(g, rng, count: int) -> list[tuple[str, str, tuple]]:
    """``count`` (source, dest, path) triples: distinct endpoints, ``MIN_HOPS`` to ``MAX_HOPS`` apart,
    and no path sharing a link with an earlier one where a node is an endpoint of one and inside the other."""
    import networkx as nx
    names = list(g.nodes)
    if 2 * count > len(names):
        raise SystemExit(f"{count} requests need {2 * count} distinct endpoints; the graph has {len(names)}")
    hops = dict(nx.all_pairs_shortest_path_length(g))
    used: set[str] = set()
    accepted: list[tuple[set, set]] = []  # (endpoints, links) of each accepted path
    out = []
    for _ in range(count):
        for _tries in range(100_000):
            s, d = names[int(rng.integers(0, len(names)))], names[int(rng.integers(0, len(names)))]
            if s == d or s in used or d in used:
                continue
            if not MIN_HOPS <= hops[s][d] <= MAX_HOPS:
                continue
            path = tuple(nx.shortest_path(g, s, d))
            ends, links = {s, d}, {frozenset(e) for e in zip(path, path[1:])}
            if any((u in ends) != (u in other_ends) for other_ends, other_links in accepted
                   for link in links & other_links for u in link):
                continue
            accepted.append((ends, links))
            used.update(ends)
            out.append((s, d, path))
            break
        else:
            raise SystemExit(f"could not draw request {len(out) + 1} of {count}; try another --seed")
    return out


def build(nodes: int, seed: int, timing: str):
    """The network of the workload for ``nodes`` and ``seed``, and its requests."""
    from qactors.core.time import to_ps
    from qactors.hardware.links import midpoint_arm_efficiency
    from qactors.hardware.memory import QuantumMemory
    from qactors.protocols.link import LinkPhysics
    from qactors.protocols.network import Request, quantum_network
    g, rng = random_topology(nodes, seed)
    drawn = draw_requests(g, rng, max(2, nodes // 10))
    cutoff = to_ps(T_COHERE_S)
    requests = [Request(f"r{i}", s, d, pairs=10 ** 12, policy="asap", cutoff_ps=cutoff, path=path)
                for i, (s, d, path) in enumerate(drawn)]
    eta = midpoint_arm_efficiency(LENGTH_KM, detection_efficiency=SOURCE_EFFICIENCY * DETECTOR_EFFICIENCY,
                                  attenuation_db_per_km=ATTENUATION_DB_PER_KM)
    physics = LinkPhysics("double_click", eta_arm=eta, timing=timing, initial_fidelity=INITIAL_FIDELITY)
    memory = QuantumMemory(num_qubits=SLOTS_PER_LINK, t2_s=T_COHERE_S, access_time_ps=1)
    net = quantum_network(g, requests, physics=physics, memory=memory, channels_per_link=SLOTS_PER_LINK,
                          swap_success_probability=SWAP_SUCCESS, refractive_index=REFRACTIVE_INDEX,
                          allocation="shared")
    return g, requests, net


def one(args: tuple[int, int, float, str, bool]) -> dict:
    nodes, seed, sim_s, timing, profile = args
    import networkx  # noqa: F401  (imported before the clock starts: build time is building alone)
    import numpy  # noqa: F401
    import qactors
    import qactors.protocols.network  # noqa: F401
    from qactors.core.time import to_ps
    cpu0 = time.process_time()
    g, requests, net = build(nodes, seed, timing)
    build_cpu = time.process_time() - cpu0
    until = to_ps(sim_s)
    profiler = None
    if profile:
        import cProfile
        profiler = cProfile.Profile()
    t0, cpu0 = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.enable()
    result = qactors.run(net, until_ps=until, seed=seed, record_digest=False)
    if profiler is not None:
        profiler.disable()
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    if profiler is not None:
        import io
        import pstats
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        log(f"--- cProfile of the run loop, N = {nodes} (sorted by own time) ---\n{out.getvalue()}")
    per_request, fidelities = [], []
    for r in requests:
        delivered = result.states[r.dest]["roles"][r.request_id].delivered
        fids = [d[1] for d in delivered]
        fidelities += fids
        per_request.append({"id": r.request_id, "source": r.source, "dest": r.dest, "hops": len(r.path) - 1,
                            "pairs": len(fids), "rate_hz": round(len(fids) / sim_s, 3),
                            "mean_fidelity": round(sum(fids) / len(fids), 5) if fids else None})
    return {"nodes": nodes, "edges": g.number_of_edges(), "requests": len(requests),
            "build_cpu_s": round(build_cpu, 4), "wall_s": round(wall, 4), "cpu_s": round(cpu, 4),
            "events": result.events, "pairs_delivered": len(fidelities),
            "mean_fidelity": round(sum(fidelities) / len(fidelities), 5) if fidelities else None,
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "per_request": per_request}


def median_of(runs: list[dict]) -> dict:
    """The first run's figures with the timings replaced by the medians over ``runs`` (events and
    pairs are the same in every run)."""
    out = dict(runs[0])
    for key in ("build_cpu_s", "wall_s", "cpu_s", "peak_rss_mib"):
        out[key] = round(statistics.median(r[key] for r in runs), 4)
    out["cpu_s_all"] = [r["cpu_s"] for r in runs]
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[16, 32, 64, 128], help="numbers of nodes")
    p.add_argument("--seed", type=int, default=100, help="seed of the graph, the requests and the run (default 100)")
    p.add_argument("--repeat", type=int, default=3, help="runs per size; timings are their median (default 3)")
    p.add_argument("--timing", choices=["one-round", "two-round"], default="two-round",
                   help="attempt timing of the links (default two-round, NIST's)")
    p.add_argument("--sim-s", type=float, default=1.0, help="simulated time per run, s (default 1)")
    p.add_argument("--profile", action="store_true", help="print each run loop's top cProfile entries to stderr")
    args = p.parse_args(argv)
    if args.repeat < 1 or not (args.sim_s > 0 and math.isfinite(args.sim_s)):
        p.error("--repeat must be >= 1 and --sim-s a finite number > 0")
    ctx = multiprocessing.get_context("spawn")
    runs = []
    for n in args.sizes:
        done = []
        for i in range(args.repeat):
            log(f"  randomtopo N={n} {args.timing} run {i + 1}/{args.repeat}")
            with ctx.Pool(1) as pool:
                done.append(pool.apply(one, ((n, args.seed, args.sim_s, args.timing, args.profile),)))
        runs.append(median_of(done))
    print(json.dumps({"benchmark": "randomtopo", "sim_s": args.sim_s, "seed": args.seed, "repeat": args.repeat,
                      "timing": args.timing,
                      "workload": {"link_km": LENGTH_KM, "attenuation_db_per_km": ATTENUATION_DB_PER_KM,
                                   "source_efficiency": SOURCE_EFFICIENCY,
                                   "detector_efficiency": DETECTOR_EFFICIENCY,
                                   "initial_fidelity": INITIAL_FIDELITY, "t2_s": T_COHERE_S,
                                   "cutoff_s": T_COHERE_S, "swap_success": SWAP_SUCCESS,
                                   "slots_per_link": SLOTS_PER_LINK, "allocation": "shared", "policy": "asap",
                                   "average_degree": AVERAGE_DEGREE, "hops": [MIN_HOPS, MAX_HOPS]},
                      "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                  "platform": platform.platform()},
                      "runs": runs}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
