"""The README's link example: a heralded double-click link between two nodes 50 km apart."""

import qactors
from qactors.protocols.link import LinkPhysics, two_node_link


def main(pairs: int = 100, seed: int = 1) -> qactors.RunResult:
    physics = LinkPhysics("double_click", eta_arm=0.9 * 10 ** (-0.2 * 25 / 10))   # p = 0.0405 per attempt
    return qactors.run(two_node_link(50, physics, max_pairs=pairs), until_ps=10**13, seed=seed)


if __name__ == "__main__":
    result = main()
    deliveries = result.states["A"]["deliveries"]                                # (time, attempts, kind, fidelity)
    attempts = sum(d[1] for d in deliveries) / len(deliveries)
    print(f"{len(deliveries)} pairs, {attempts:.1f} attempts per pair on average, {result.events} events")
