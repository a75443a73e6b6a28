"""The repeater chain of ``benchmarks/chain.py`` built in SeQUeNCe 1.3.1, for a side-by-side CPU comparison.

qactors' reference run::

    python benchmarks/chain.py --stacks network-asap --models attempts --nodes 64 --sim-ms 20 --memories 10

This script builds the same chain with SeQUeNCe's own router stack, runs it with a seed and prints ONE
JSON line: ``peer``, ``version``, ``nodes``, ``memories``, ``sim_ms``, ``seed``, ``cpu_s`` and ``wall_s``
(``Timeline.init``, the request and ``Timeline.run``; building the topology is ``build_cpu_s``),
``events`` (``Timeline.run_counter``: events the timeline executed), ``pairs_delivered`` (end-to-end pairs
the initiator's ``RequestApp`` counted), ``reservation_approved``, ``generation_start_ms``, ``load_avg_1m``.

Install and run (SeQUeNCe 1.3.1 needs Python >= 3.12, so it lives in a venv of its own; run this script
with that venv's python, never with the project's interpreter; it does not import qactors)::

    ~/.pyenv/versions/3.12.1/bin/python -m venv /tmp/seqvenv && /tmp/seqvenv/bin/pip install sequence==1.3.1
    /tmp/seqvenv/bin/python benchmarks/peers/sequence_chain.py                 # 64 nodes, 10 memories, 20 ms
    /tmp/seqvenv/bin/python benchmarks/peers/sequence_chain.py --nodes 8 --memories 2 --sim-ms 5 --seed 3

What matches chain.py (``--stacks network-asap --models attempts``):

* a line of ``--nodes`` quantum routers, 10 km apart, a BSM node in the middle of every link
  (SeQUeNCe's ``meet_in_the_middle`` quantum connection: two 5 km channels), 0.2 dB/km fibre;
* double-click heralding: SeQUeNCe's Barrett-Kok generation with ``SingleAtomBSM`` detectors of
  efficiency 0.9, no dark counts, memory efficiency 1: success ``eta_arm^2 / 2`` = 0.256 per attempt,
  attempt by attempt (every photon is simulated);
* ``--memories`` memories per link side: interior routers have ``2 * memories`` memories
  (``memo_size``), the two ends ``memories``; the request asks for ``memories`` per node, so RSVP gives
  each link side exactly ``memories``;
* one request, end to end (router 0 to the last), served until the end of the run, with a fidelity
  threshold of 0.001 (qactors: 0, which SeQUeNCe does not allow): every pair counts;
* generation starts at three one-way path latencies (9.27 ms for 64 nodes), where qactors' reservation
  (Reserve out, Confirm back, Activate out) starts it, so both generate over the same window; classical
  messages take the fibre's latency (refractive index 1.47, as qactors: 4.90 us/km, summed over the
  links between the two routers: SeQUeNCe has a direct classical channel between every pair of routers);
* raw link fidelity (1 + V) / 2 = 0.975 for visibility 0.95, qactors' double-click pair fidelity;
  swaps always succeed and add no error (``swapping_success_prob`` 1, ``swapping_degradation`` 1);
* no purification: the purification rules (``ep_await``, ``ep_request``) are disabled on every router;
* ``--sim-ms`` of simulated time, one process, one seed.

What differs (SeQUeNCe's own protocol stack):

* swapping: SeQUeNCe's reservation rules swap in a fixed nested (doubling) order over the path, not as
  soon as possible; a middle node swaps only pairs whose remote nodes are its partners at its level;
* generation timing: each Barrett-Kok attempt is two rounds, each with a NEGOTIATE / NEGOTIATE_ACK
  exchange between the routers before the emission and the BSM result after it, and a failed attempt
  goes back through the resource manager (a new request to the neighbour), several link round trips
  per attempt; qactors (``one-round`` timing) makes an attempt every herald round trip (49 us);
* memories: SeQUeNCe's ket-vector formalism has no T1 / T2 noise; its ``coherence_time`` (set to
  T2 = 1 s) is a cut-off after which an entangled memory is reset, which never fires within 20 ms;
  qactors applies T1 = 10 s, T2 = 1 s decoherence to every stored qubit;
* fidelity: SeQUeNCe samples each heralded pair as a Bell state with the raw fidelity (depolarising
  error) and tracks fidelity as the product ``f1 * f2 * degradation`` on swaps; qactors tracks each
  pair's Pauli error exactly (dephasing ``(1 - V) / 2`` per link plus memory noise);
* quantum channels use SeQUeNCe's fixed 2e8 m/s (5.0 us/km, qactors 4.90 us/km);
* events: SeQUeNCe counts timeline events (photon emissions, channel deliveries, detector clicks,
  messages, rule loads); qactors counts delivered actor messages: the counts are of different things.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

INSTALL = ("~/.pyenv/versions/3.12.1/bin/python -m venv /tmp/seqvenv && "
           "/tmp/seqvenv/bin/pip install sequence==1.3.1")
SEQUENCE_VERSION = "1.3.1"

LINK_KM = 10.0
ATTENUATION_DB_PER_KM = 0.2
DETECTION_EFFICIENCY = 0.9
VISIBILITY = 0.95
LINK_FIDELITY = (1.0 + VISIBILITY) / 2.0   # qactors' double-click pair: phase flip with probability (1 - V) / 2
T2_S = 1.0
FIBRE_PS_PER_KM = 1.47 / 299_792_458.0 * 1e3 * 1e12   # qactors' Fibre: refractive index 1.47
TARGET_FIDELITY = 1e-3
PS_PER_MS = 10 ** 9


def import_sequence():
    """SeQUeNCe's modules, or exit 2 with the install command when this interpreter cannot import it."""
    try:
        import sequence  # noqa: F401
        from sequence.app.request_app import RequestApp
        from sequence.kernel.timeline import Timeline
        from sequence.resource_management.reservation_rule_registry import EP_AWAIT, EP_REQUEST
        from sequence.topology.router_net_topo import RouterNetTopo
    except ImportError as exc:
        sys.stderr.write(
            f"sequence_chain.py needs SeQUeNCe {SEQUENCE_VERSION} (Python 3.12 or newer), which this interpreter "
            f"({sys.executable}, Python {platform.python_version()}) cannot import: {exc}\n"
            f"Install it in a Python 3.12 venv and run the script with that venv's python:\n"
            f"    {INSTALL}\n"
            f"    /tmp/seqvenv/bin/python benchmarks/peers/sequence_chain.py\n")
        raise SystemExit(2) from None
    return RequestApp, Timeline, RouterNetTopo, (EP_AWAIT, EP_REQUEST)


def router_name(i: int) -> str:
    return f"r{i}"


def chain_config(nodes: int, memories: int, stop_ps: int, seed: int) -> dict:
    """RouterNetTopo's configuration of the chain (see the module docstring)."""
    import numpy as np
    seeds = [int(s) for s in np.random.SeedSequence(seed).generate_state(2 * nodes - 1)]
    hop_ps = round(LINK_KM * FIBRE_PS_PER_KM)
    detector = {"efficiency": DETECTION_EFFICIENCY, "dark_count": 0}
    templates = {
        "router": {"MemoryArray": {"fidelity": LINK_FIDELITY, "coherence_time": T2_S, "efficiency": 1.0},
                   "EntanglementSwapping": {"swapping_success_prob": 1.0, "swapping_degradation": 1.0}},
        "bsm": {"encoding_type": "single_atom", "SingleAtomBSM": {"detectors": [dict(detector), dict(detector)]}},
    }
    routers = [{"name": router_name(i), "type": "QuantumRouter", "seed": seeds[i], "template": "router",
                "memo_size": memories if i in (0, nodes - 1) else 2 * memories} for i in range(nodes)]
    links = [{"node1": router_name(i), "node2": router_name(i + 1), "type": "meet_in_the_middle",
              "distance": LINK_KM * 1e3, "attenuation": ATTENUATION_DB_PER_KM * 1e-3,
              "seed": seeds[nodes + i], "template": "bsm"} for i in range(nodes - 1)]
    classical = [{"node1": router_name(i), "node2": router_name(j), "delay": (j - i) * hop_ps}
                 for i in range(nodes) for j in range(i + 1, nodes)]
    return {"stop_time": stop_ps, "formalism": "ket_vector", "templates": templates,
            "nodes": routers, "qconnections": links, "cconnections": classical}


def run(nodes: int, memories: int, sim_ms: float, seed: int) -> dict:
    RequestApp, Timeline, RouterNetTopo, purification_rules = import_sequence()
    from importlib.metadata import version
    stop_ps = round(sim_ms * PS_PER_MS)
    start_ps = 3 * (nodes - 1) * round(LINK_KM * FIBRE_PS_PER_KM)
    if start_ps >= stop_ps:
        raise SystemExit(f"--sim-ms {sim_ms}: the request would start at {start_ps / PS_PER_MS:.3f} ms (three path "
                         f"latencies); allowed: a run longer than that")
    Timeline.seed(seed)
    cpu0 = time.process_time()
    topo = RouterNetTopo(chain_config(nodes, memories, stop_ps, seed))
    routers = {r.name: r for r in topo.get_nodes_by_type(RouterNetTopo.QUANTUM_ROUTER)}
    for router in routers.values():
        registry = router.resource_manager.get_reservation_rule_registry()
        for rule in purification_rules:
            registry.disable(rule)
    initiator = RequestApp(routers[router_name(0)])
    RequestApp(routers[router_name(nodes - 1)])   # the responder's app releases its delivered memories
    tl = topo.get_timeline()
    tl.show_progress = False
    build_cpu = time.process_time() - cpu0
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    tl.init()
    initiator.start(router_name(nodes - 1), start_ps, stop_ps, memories, TARGET_FIDELITY)
    tl.run()
    cpu = time.process_time() - cpu0
    wall = time.perf_counter() - t0
    return {"peer": "sequence", "version": version("sequence"), "python": platform.python_version(),
            "nodes": nodes, "memories": memories, "sim_ms": sim_ms, "seed": seed, "link_km": LINK_KM,
            "cpu_s": round(cpu, 3), "wall_s": round(wall, 3), "build_cpu_s": round(build_cpu, 3),
            "events": tl.run_counter, "pairs_delivered": initiator.memory_counter,
            "reservation_approved": initiator.reservation_result,
            "generation_start_ms": round(start_ps / PS_PER_MS, 4),
            "load_avg_1m": round(os.getloadavg()[0], 2)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nodes", type=int, default=64, help="routers in the chain, >= 2 (default 64)")
    p.add_argument("--memories", type=int, default=10, help="memories per link side, >= 1 (default 10)")
    p.add_argument("--sim-ms", type=float, default=20.0, help="simulated time, ms (default 20)")
    p.add_argument("--seed", type=int, default=1, help="seed of every node's generator (default 1)")
    args = p.parse_args(argv)
    if args.nodes < 2:
        p.error(f"--nodes {args.nodes}: allowed: an int >= 2")
    if args.memories < 1:
        p.error(f"--memories {args.memories}: allowed: an int >= 1")
    if args.seed < 0:
        p.error(f"--seed {args.seed}: allowed: an int >= 0")
    print(json.dumps(run(args.nodes, args.memories, args.sim_ms, args.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
