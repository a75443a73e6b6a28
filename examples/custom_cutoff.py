"""A cut-off policy of your own, written as one protocol part.

``FidelityFloor`` discards a repeater's link pair at the moment its fidelity
(as the stored record predicts it, memory decay included) falls below a floor,
instead of after a fixed time: pairs born better live longer.  It is a
``@message`` record (so it travels inside the request to every node and
crosses process boundaries) whose methods are the behaviour; what it remembers
per request lives in the state object it makes.  The timer message and its
handler follow the ``@handler`` registry every actor uses.

    python examples/custom_cutoff.py
"""

from __future__ import annotations

from typing import Any

import networkx as nx

import qactors
from qactors.core.actor import handler
from qactors.core.messages import Message, message
from qactors.hardware.memory import QuantumMemory
from qactors.protocols.cutoffs import Cutoff
from qactors.protocols.link import LinkPhysics
from qactors.protocols.parts import PartState
from qactors.protocols.network import Request, quantum_network, request_report


@message
class FloorReached(Message):
    """Timer: the pair ``pair_id`` of request ``request_id`` has reached the floor."""
    request_id: str
    pair_id: str


class FloorState(PartState):
    """Per request at a repeater: the timer of each stored pair (plain data, as all actor state)."""

    def __init__(self) -> None:
        self.timers: dict[str, int] = {}


@message
class FidelityFloor(Cutoff):
    """Discard a link pair when its fidelity falls below ``floor``."""

    floor: float = 0.8

    def check(self, rid: str) -> None:
        if not 0.25 < self.floor < 1.0:
            raise qactors.ConfigurationError(f"request {rid!r} FidelityFloor.floor = {self.floor!r} is not allowed; "
                                             f"allowed: a number in (0.25, 1)", field="cutoff", value=self.floor)

    def new_state(self, node: Any, role: Any) -> FloorState:
        return FloorState()

    def stored(self, node: Any, role: Any, pair_id: str, born_ps: int) -> None:
        pair = node.held[node._channel_of(role, pair_id)]
        if pair.fidelity_at(node.now) < self.floor:
            at = node.now
        else:  # the first ps at which the fidelity is below the floor (it only falls), by bisection
            low, high = node.now, node.now + 1
            while pair.fidelity_at(high) >= self.floor and high - node.now < 10 ** 15:
                high = node.now + 2 * (high - node.now)
            while high - low > 1:
                mid = (low + high) // 2
                low, high = (mid, high) if pair.fidelity_at(mid) >= self.floor else (low, mid)
            at = high
        role.state["cutoff"].timers[pair_id] = node.set_timer(FloorReached(role.request.request_id, pair_id),
                                                              delay_ps=at - node.now)

    def on_drop(self, node: Any, role: Any, pair_id: str) -> None:
        handle = role.state["cutoff"].timers.pop(pair_id, None)
        if handle is not None:  # used in time
            node.cancel_timer(handle)

    @handler(FloorReached)
    def on_floor(self, node: Any, role: Any, msg: FloorReached, sender: str) -> None:
        role.state["cutoff"].timers.pop(msg.pair_id, None)
        channel = node._channel_of(role, msg.pair_id)
        if channel is not None and role.status == "active":
            role.cutoffs += 1
            node._discard(role, channel)  # drops it, tells the link partner and both ends


def main(floor: float = 0.9, pairs: int = 40) -> dict:
    g = nx.path_graph(4)
    nx.set_edge_attributes(g, 20.0, "length_km")
    request = Request("r", "0", "3", pairs=pairs, cutoff=FidelityFloor(floor))
    net = quantum_network(g, [request], physics=LinkPhysics("double_click", eta_arm=0.5),
                          memory=QuantumMemory(2, t2_s=2e-3))
    result = qactors.run(net, until_ps=100 * qactors.S, seed=1, collect_states=True)
    report = request_report(result.states, "r")
    report["cutoffs"] = sum(result.states[str(v)]["roles"]["r"].cutoffs for v in (1, 2))
    return report


if __name__ == "__main__":
    report = main()
    print(f"{report['outcome']}; mean fidelity {report['mean_fidelity']:.3f}; {report['cutoffs']} pairs cut")
