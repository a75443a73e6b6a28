"""Requests over a small metro network: routing, reservation, swapping policies, purification,
teleportation and QKD, each request reported as it was served.

    Alice --12 km-- R1 --15 km-- R2 --10 km-- Bob
      \\                                      /
       `--20 km-- R3 --------- 25 km -------'      (R3-Bob is longer: routes prefer R1-R2)
"""

import networkx as nx

import qactors
from qactors.hardware.memory import QuantumMemory
from qactors.protocols.link import LinkPhysics
from qactors.protocols.network import Purification, Request, quantum_network, request_report

MS = 10 ** 9  # picoseconds per millisecond


def build(seed_requests: bool = True) -> tuple[nx.Graph, list[Request]]:
    g = nx.Graph()
    for a, b, km in (("Alice", "R1", 12), ("R1", "R2", 15), ("R2", "Bob", 10), ("Alice", "R3", 20),
                     ("R3", "Bob", 25), ("R3", "Carol", 8)):
        g.add_edge(a, b, length_km=km)
    requests = [
        Request("teleport", "Alice", "Bob", pairs=200, application="teleport", channels=2),
        Request("bbm92", "Carol", "Bob", pairs=300, application="bbm92", start_ps=1 * MS),
        Request("e91-nested", "Alice", "Carol", pairs=150, application="e91", policy="nested", start_ps=2 * MS),
        Request("purified", "Alice", "Bob", pairs=50, channels=2, start_ps=3 * MS, min_fidelity=0.9,
                purification=Purification("dejmps", "recurrence", "link", target_fidelity=0.99)),
    ]
    return g, requests


def main(seed: int = 1) -> dict:
    g, requests = build()
    net = quantum_network(g, requests, physics=LinkPhysics("double_click", eta_arm=0.6, visibility=0.93),
                          memory=QuantumMemory(2, t2_s=0.5), channels_per_link=4, swap_success_probability=0.5)
    result = qactors.run(net, until_ps=60_000 * MS, seed=seed, collect_states=True)
    return {r.request_id: request_report(result.states, r.request_id) for r in requests}


if __name__ == "__main__":
    for name, report in main().items():
        line = (f"{name:>11}: {report['outcome']:<28} path {'-'.join(report['path']):<22} "
                f"{report['pairs']:4d} pairs  {report['rate_hz']:8.1f}/s  F = {report['mean_fidelity']:.3f}")
        if "teleport_fidelity" in report:
            line += f"  teleportation {report['teleport_fidelity']:.3f}"
        if "key" in report:
            key = report["key"]
            line += f"  {key.protocol} QBER {key.qber:.3f}, key {key.rate_bps:.1f} bit/s"
        print(line)
