"""Repeater-chain throughput: linear chains of N nodes with 10 km links, fixed simulated time.

Each configuration (N, link model) runs in a fresh process so that its peak
resident memory is its own.  For each it prints wall time, events, events/s,
end-to-end pairs delivered, their mean fidelity and the peak RSS, as one JSON
line for the whole sweep.  Links: double click over 0.2 dB/km fibre with a
detection efficiency of 0.9 (p = 0.26 per attempt at 10 km), visibility
0.95; memories T1 = 10 s, T2 = 1 s; swap-as-soon-as-possible repeaters.

Reference point: SeQUeNCe 1.3.1 is reported to need about 100 s of
CPU for 0.1 s of simulated time on a comparable 64-node chain.

    python benchmarks/chain.py                      # N = 2..256, both models, 0.1 s simulated
    python benchmarks/chain.py --nodes 2 8 --sim-ms 10
    python benchmarks/chain.py --stacks chain network-asap network-nested   # the network layer too
    python benchmarks/chain.py --stacks network-asap --models attempts --nodes 64 --sim-ms 20 --memories 10

``--memories M`` gives every link M memories at each end and the request M channels
(multiplexed links; the network layer only: the chain builder has one memory per link side).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import sys
import time


def build(nodes: int, model: str, stack: str, memories: int = 1):
    """The chain as the chain builder makes it, or as one standing request of the network layer
    (same links and memories; ``stack`` is ``chain`` or ``network-<policy>``) using ``memories``
    memories at each end of every link (the chain builder: 1 only)."""
    from qactors.demo import chain_demo
    if stack == "chain":
        if memories != 1:
            raise ValueError(f"memories = {memories!r} with stack 'chain'; allowed: 1 (the chain builder has "
                             f"one memory per link side; use a network-<policy> stack for more)")
        return chain_demo(nodes, 10.0, model=model)
    import networkx as nx
    from qactors.hardware.links import midpoint_arm_efficiency
    from qactors.hardware.memory import QuantumMemory
    from qactors.protocols.link import LinkPhysics
    from qactors.protocols.network import Request, quantum_network
    g = nx.path_graph(nodes)
    nx.set_edge_attributes(g, 10.0, "length_km")
    physics = LinkPhysics("double_click", eta_arm=midpoint_arm_efficiency(10.0, detection_efficiency=0.9),
                          visibility=0.95)
    policy = stack.split("-", 1)[1]
    return quantum_network(g, [Request("r", "0", str(nodes - 1), pairs=10 ** 9, policy=policy, channels=memories)],
                           physics=physics, model=model, channels_per_link=memories,
                           memory=QuantumMemory(num_qubits=2, t1_s=10.0, t2_s=1.0))


def one(args: tuple[int, str, float, int, str, int]) -> dict | None:
    nodes, model, sim_ms, seed, stack, memories = args
    import qactors
    from qactors.demo import summarise_chain
    net = build(nodes, model, stack, memories)
    if net is None:
        return None
    until = round(sim_ms * qactors.MS)
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    result = qactors.run(net, until_ps=until, seed=seed, record_digest=False)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    if stack == "chain":
        summary = summarise_chain(result.states, until)
    else:
        delivered = result.states[str(nodes - 1)]["roles"]["r"].delivered
        summary = {"pairs_delivered": len(delivered)}
        if delivered:
            summary["mean_fidelity"] = sum(d[1] for d in delivered) / len(delivered)
    return {"nodes": nodes, "model": model, "stack": stack, "memories": memories, "wall_s": round(wall, 3),
            "cpu_s": round(cpu, 3),
            "events": result.events, "events_per_s": round(result.events / wall),
            "pairs_delivered": summary["pairs_delivered"],
            "mean_fidelity": round(summary.get("mean_fidelity", float("nan")), 5),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nodes", type=int, nargs="+", default=[2, 4, 8, 16, 32, 64, 128, 256])
    p.add_argument("--models", nargs="+", default=["geometric", "attempts"], choices=["geometric", "attempts"])
    p.add_argument("--sim-ms", type=float, default=100.0, help="simulated time per run, ms (default 100)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--stacks", nargs="+", default=["chain"],
                   choices=["chain", "network-asap", "network-nested", "network-sequential"],
                   help="chain builder (default) and/or the network layer with a swapping policy")
    p.add_argument("--memories", type=int, default=1,
                   help="memories per link side, used as channels per link by the network stacks (default 1; "
                        "the chain stack allows only 1)")
    args = p.parse_args(argv)
    if args.memories < 1 or (args.memories > 1 and "chain" in args.stacks):
        p.error(f"--memories {args.memories}: allowed: an int >= 1, and 1 only with stack 'chain'")
    runs = []
    ctx = multiprocessing.get_context("spawn")
    for stack in args.stacks:
        for model in args.models:
            for n in args.nodes:
                print(f"  {stack} {model} N={n}", file=sys.stderr, flush=True)
                with ctx.Pool(1) as pool:
                    run = pool.apply(one, ((n, model, args.sim_ms, args.seed, stack, args.memories),))
                if run is not None:
                    runs.append(run)
    print(json.dumps({"benchmark": "chain", "sim_ms": args.sim_ms, "link_km": 10.0, "memories": args.memories,
                      "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                  "platform": platform.platform()},
                      "runs": runs}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
