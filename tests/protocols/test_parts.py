"""Protocol parts: chosen by passing a part, each one's decisions checked without a runtime, and a
cut-off policy of the user's own (examples/custom_cutoff.py) as one part."""

from __future__ import annotations

import math
import runpy
from pathlib import Path
from types import SimpleNamespace

import networkx as nx
import numpy as np
import pytest

import qactors
from qactors.hardware.memory import QuantumMemory
from qactors.protocols.cutoffs import DiscardAfter, RestartOlderChild
from qactors.protocols.link import LinkPhysics
from qactors.protocols.memory import Stored, memory_id
from qactors.protocols.network import (Activate, AsapSwapper, LinkPort, QNode, Request, Reserve, TreeSwapper, _Offer,
                                       quantum_network, with_parts)
from qactors.quantum.bell import PairEnd, PairRecord
from qactors.testing import ActorProbe

ROOT = Path(__file__).resolve().parents[2]
MS = 10 ** 9
PHYS = LinkPhysics("double_click", eta_arm=0.5, visibility=0.9)
EXAMPLE = runpy.run_path(str(ROOT / "examples" / "custom_cutoff.py"))


def line(n: int) -> nx.Graph:
    g = nx.path_graph(n)
    nx.set_edge_attributes(g, 10.0, "length_km")
    return g


def test_names_stand_for_the_built_in_parts():
    req = with_parts(Request("r", "0", "2", selection="youngest", cutoff_ps=5))
    assert req.policy == AsapSwapper("youngest") and req.cutoff == DiscardAfter(5)
    tree = with_parts(Request("r", "0", "2", policy="sequential", cutoff_ps=5))
    assert tree.policy == TreeSwapper("sequential") and tree.cutoff == RestartOlderChild(5)
    assert with_parts(Request("r", "0", "2")).cutoff is None


@pytest.mark.parametrize("policy", ["nested", "sequential", "asap"])
def test_passing_a_part_is_the_same_as_naming_it(policy):
    part = AsapSwapper() if policy == "asap" else TreeSwapper(policy)
    runs = []
    for chosen in (policy, part):
        net = quantum_network(line(5), [Request("r", "0", "4", pairs=10, policy=chosen, cutoff_ps=2 * MS)],
                              physics=PHYS, memory=QuantumMemory(2, t2_s=0.01), swap_success_probability=0.5)
        runs.append(qactors.run(net, until_ps=10 ** 13, seed=3, collect_states=True))
    assert runs[0].digest == runs[1].digest
    assert runs[0].states["0"]["roles"]["r"].outcome == "served: 10 pairs"


def test_bad_parts_are_refused_with_what_is_allowed():
    with pytest.raises(qactors.ConfigurationError, match=r"policy = 42 is not allowed; allowed: \('asap', 'nested', "
                                                         r"'sequential'\) or a swapper part"):
        quantum_network(line(3), [Request("r", "0", "2", policy=42)], physics=PHYS)
    with pytest.raises(qactors.ConfigurationError, match=r"TreeSwapper.tree = 'binary' is not allowed"):
        quantum_network(line(3), [Request("r", "0", "2", policy=TreeSwapper("binary"))], physics=PHYS)
    with pytest.raises(qactors.ConfigurationError, match=r"cutoff = 'soon' is not allowed; allowed: None or a cut-off"):
        quantum_network(line(3), [Request("r", "0", "2", cutoff="soon")], physics=PHYS)
    with pytest.raises(qactors.ConfigurationError, match=r"cutoff_ps = 7 is not allowed; allowed: 0 when a cut-off "
                                                         r"part is given"):
        quantum_network(line(3), [Request("r", "0", "2", cutoff_ps=7, cutoff=DiscardAfter(7))], physics=PHYS)
    with pytest.raises(qactors.ConfigurationError, match=r"DiscardAfter.cutoff_ps = 0 is not allowed"):
        quantum_network(line(3), [Request("r", "0", "2", cutoff=DiscardAfter(0))], physics=PHYS)


# -- decisions, without a runtime -----------------------------------------------------------

NOISE = QuantumMemory(2, t2_s=1e-3).noise()


def pair(pid: str, t: int, a: str = "0", b: str = "1") -> PairRecord:
    return PairRecord(pid, (1.0, 0.0, 0.0, 0.0), t, PairEnd(a, NOISE, t), PairEnd(b, NOISE, t))


def test_restart_older_child_picks_the_older_stale_span_only():
    cut = RestartOlderChild(cutoff_ps=100)
    now = SimpleNamespace(now=1000)
    assert cut.stale_child(now, None, {"l": pair("a", 850), "r": pair("b", 950)}) == "l"
    assert cut.stale_child(now, None, {"l": pair("a", 850), "r": pair("b", 800)}) == "r"   # both stale: the older
    assert cut.stale_child(now, None, {"l": pair("a", 900), "r": pair("b", 990)}) is None  # 100 ps is not more


def repeater(request: Request) -> ActorProbe:
    """Node 1 of path 0 - 1 - 2, reserved and active for ``request``."""
    ports = [LinkPort(link, other, (f"{link}:0",), memory_id("1", link), 1, f"{link}/station", 100)
             for link, other in (("0-1", "0"), ("1-2", "2"))]
    probe = ActorProbe(QNode("1", ports, []), peers=["0", "2", *(p.memory for p in ports),
                                                     *(p.channel for p in ports)])
    probe.start()
    probe.deliver(Reserve(request, 1, ("0-1:0",), 0), "0", 10)
    probe.deliver(Activate("r", -1, 0, 2, 50), "0", 30)
    probe.deliver(_Offer("r", -1, 0, 2), "1", 50)
    return probe


def routed(**kw) -> Request:
    return with_parts(Request("r", "0", "2", path=("0", "1", "2"), offsets_ps=(0, 200, 400), **kw))


def test_discard_after_arms_at_the_older_qubit_and_is_disarmed_by_a_swap():
    probe = repeater(routed(cutoff_ps=1000))
    older = PairRecord("0-1:0#0", (1.0, 0.0, 0.0, 0.0), 300, PairEnd("0", NOISE, 300), PairEnd("1", NOISE, 320))
    sent = probe.deliver(Stored("0-1:0", older), "1/memory:0-1", 400)
    (timer,) = [s for s in sent if s.to == "1"]
    assert timer.delay_ps == 300 + 1000 - 400  # counted from the older qubit
    probe.deliver(Stored("1-2:0", pair("1-2:0#0", 450, "1", "2")), "1/memory:1-2", 500)  # swapped at once
    assert probe.actor.roles["r"].swaps == 1 and probe.actor.roles["r"].state["cutoff"].timers == {}
    assert probe.deliver(timer.msg, "1", 1300) == []  # cancelled: in the kernel it never fires


def test_a_users_cutoff_part_times_its_discard_by_the_records_decay():
    """FidelityFloor (examples/custom_cutoff.py): both qubits dephase with T2 = 1 ms, so a perfect pair's
    fidelity is (1 + exp(-2 t / T2)) / 2 and reaches F at t = -(T2 / 2) ln(2F - 1); the timer is set to
    that time to the ps."""
    floor = 0.8
    probe = repeater(routed(cutoff=EXAMPLE["FidelityFloor"](floor)))
    sent = probe.deliver(Stored("0-1:0", pair("0-1:0#0", 400)), "1/memory:0-1", 400)
    (timer,) = [s for s in sent if s.to == "1"]
    assert abs(timer.delay_ps - (-(1e-3 / 2) * math.log(2 * floor - 1)) * 1e12) <= 1
    sent = probe.deliver(timer.msg, "1", 400 + timer.delay_ps)
    assert sorted(s.to for s in sent if type(s.msg).__name__ == "Discard") == ["0", "2"]  # partner and both ends
    assert probe.actor.roles["r"].cutoffs == 1 and probe.actor.held == {}


def test_the_users_cutoff_runs_in_a_network_and_buys_fidelity():
    """40 pairs over three 20 km links, T2 = 2 ms: with the floor the mean delivered fidelity is higher than
    without (by more than 3 standard errors), and repeaters did cut."""
    with_floor = EXAMPLE["main"](floor=0.9, pairs=40)
    assert with_floor["outcome"] == "served: 40 pairs" and with_floor["cutoffs"] > 0
    g = nx.path_graph(4)
    nx.set_edge_attributes(g, 20.0, "length_km")
    net = quantum_network(g, [Request("r", "0", "3", pairs=40)], physics=LinkPhysics("double_click", eta_arm=0.5),
                          memory=QuantumMemory(2, t2_s=2e-3))
    plain = qactors.run(net, until_ps=100 * qactors.S, seed=1, collect_states=True).states["3"]["roles"]["r"]
    f0 = np.array([d[1] for d in plain.delivered])
    assert len(f0) == 40
    se = f0.std(ddof=1) / math.sqrt(len(f0))
    assert with_floor["mean_fidelity"] - f0.mean() > 3 * se


def test_the_reservation_part_backs_off_by_its_own_round_trips():
    from qactors.protocols.network import _Start
    from qactors.protocols.reservation import HopByHop
    ports = [LinkPort("0-1", "1", ("0-1:0",), memory_id("0", "0-1"), 1, "0-1/station", 100)]
    req = with_parts(Request("r", "0", "2", channels=2, retries=1, path=("0", "1", "2"), offsets_ps=(0, 200, 400)))
    probe = ActorProbe(QNode("0", ports, [req], reservation=HopByHop(min_backoff=2, max_backoff=2)),
                       peers=["1", "2", "0/memory:0-1", "0-1/station"])
    (start,) = probe.start()
    (retry,) = probe.deliver(start.msg, "0", 0)  # one slot where two are asked for: rejected at once
    assert retry.msg == _Start("r", 1, ("0-1",)) and retry.delay_ps == 2 * (2 * 400)  # two round trips; the link named
    assert probe.deliver(retry.msg, "0", retry.delay_ps) == []
    assert probe.actor.roles["r"].outcome == "rejected at 0: no free memory on the first link"
    with pytest.raises(qactors.ConfigurationError, match=r"HopByHop back-off = \(3, 2\) is not allowed"):
        quantum_network(line(3), [], physics=PHYS, reservation=HopByHop(3, 2))


def test_the_application_is_a_part_too():
    from qactors.protocols.applications import Application
    assert with_parts(Request("r", "0", "1", application="teleport", bsm_visibility=0.6)).application == \
        Application("teleport", 0.6)
    digests = []
    for app in ({"application": "teleport", "bsm_visibility": 0.6}, {"application": Application("teleport", 0.6)}):
        net = quantum_network(line(3), [Request("r", "0", "2", pairs=20, **app)], physics=PHYS)
        digests.append(qactors.run(net, until_ps=10 ** 13, seed=2, collect_states=True))
    assert digests[0].digest == digests[1].digest
    assert len(digests[1].states["2"]["roles"]["r"].receiver.teleport_fidelities) == 20
    with pytest.raises(qactors.ConfigurationError, match=r"application = 'dance' is not allowed"):
        quantum_network(line(3), [Request("r", "0", "2", application=Application("dance"))], physics=PHYS)
