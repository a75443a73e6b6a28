"""Memories and channels as actors: what a network is made of, the memory bank's messages, and
shared memory pools (statistical multiplexing) against per-request reservation."""

from __future__ import annotations

import networkx as nx
import pytest

import qactors
from qactors.hardware.memory import QuantumMemory
from qactors.protocols.link import GOOD, Go, Herald, LinkPhysics, LinkSideArgs, Photon, Ready
from qactors.protocols.memory import FreeSlots, MemoryBank, Stored
from qactors.protocols.network import Request, network_actors, quantum_network
from qactors.quantum.bell import MemoryNoise, PairEnd, PairRecord
from qactors.testing import ActorProbe

MS = 10 ** 9
PHYS = LinkPhysics("double_click", eta_arm=0.5, visibility=0.8)
NOISE = MemoryNoise()


def line(n: int, km: float = 10.0, channels: int = 1) -> nx.Graph:
    g = nx.path_graph(n)
    nx.set_edge_attributes(g, km, "length_km")
    nx.set_edge_attributes(g, channels, "channels")
    return g


def repeater(**kw) -> qactors.Network:
    return quantum_network(line(3, channels=2), [Request("r", "0", "2", pairs=4)], physics=PHYS, **kw)


# -- what a network is made of -----------------------------------------------------------------

def test_a_repeater_is_nodes_memories_and_channels_each_placed_with_its_node():
    net = repeater()
    actors = network_actors(net)
    by_kind = {}
    for actor_id, kind, site in actors:
        by_kind.setdefault(kind, []).append((actor_id, site))
    assert by_kind["node"] == [("0", "0"), ("1", "1"), ("2", "2")]
    # one bank per node and link, at its node's site; one channel per link (not per slot)
    assert sorted(by_kind["memory"]) == [("0/memory:0-1", "0"), ("1/memory:0-1", "1"), ("1/memory:1-2", "1"),
                                         ("2/memory:1-2", "2")]
    assert sorted(by_kind["channel"]) == [("0-1/station", "0-1/station"), ("1-2/station", "1-2/station")]
    assert len(actors) == 9
    # the node reaches its memory in the memory's access time; the memory speaks to the channel over the fibre
    node, bank, station = (net.index[i] for i in ("1", "1/memory:0-1", "0-1/station"))
    assert net.adjacency[node][bank] == QuantumMemory(2).access_time_ps
    assert net.adjacency[bank][station] == net.adjacency[node][station]


@pytest.mark.ray
@pytest.mark.slow
def test_every_actor_of_a_repeater_is_its_own_ray_actor_with_the_local_digest(ray_session):
    net = repeater(memory=QuantumMemory(2, t2_s=0.05))
    local = qactors.run(net, until_ps=20 * MS, seed=3)
    remote = qactors.run(net, until_ps=20 * MS, seed=3, backend="ray-per-actor")
    assert remote.shards == len(net) == 9  # node, memory and channel actors: one Ray actor each
    assert remote.digest == local.digest and remote.states == local.states
    assert local.states["0"]["roles"]["r"].outcome == "served: 4 pairs"


# -- the memory bank's messages --------------------------------------------------------------------

def bank(allocation: str = "reserved", slots: int = 2) -> ActorProbe:
    args = [LinkSideArgs(f"A-B:{i}", "A-B/station", PHYS, 100) for i in range(slots)]
    memory = QuantumMemory(2, access_time_ps=7)
    return ActorProbe(MemoryBank("A/memory:A-B", "A", "A-B", args, memory, allocation=allocation),
                      peers=["A", "A-B/station", "X"])


def pair(slot: str, t: int = 0) -> PairRecord:
    return PairRecord(f"{slot}#0", (0.9, 0.0, 0.0, 0.1), t, PairEnd("A", NOISE, t), PairEnd("B", NOISE, t))


def test_a_reserved_bank_generates_only_when_its_node_asks_and_reports_each_pair_after_its_access_time():
    probe = bank("reserved")
    assert probe.start() == []
    assert probe.deliver(FreeSlots(("A-B:1",), True), "X", 10) == [] and probe.actor.ignored == 1  # not its node
    sent = probe.deliver(FreeSlots(("A-B:1",), True), "A", 10)
    assert [(s.to, s.delay_ps, type(s.msg), s.msg.link) for s in sent] == [("A-B/station", 100, Ready, "A-B:1")]
    assert probe.deliver(FreeSlots(("A-B:1",), True), "A", 11) == []   # already generating
    assert [type(s.msg) for s in probe.deliver(Go("A-B:1", 0), "A-B/station", 200)] == [Photon]
    sent = probe.deliver(Herald("A-B:1", 0, 1, GOOD, pair("A-B:1", 150)), "A-B/station", 400)
    assert sent == [("A", 7, Stored("A-B:1", pair("A-B:1", 150)))]
    assert probe.actor.held == {"A-B:1": pair("A-B:1", 150)}
    assert probe.deliver(Herald("A-B:1", 0, 1, GOOD, pair("A-B:1", 150)), "A-B/station", 401) == []  # duplicate
    assert probe.deliver(FreeSlots(("A-B:1",), False), "A", 500) == [] and probe.actor.held == {}
    sent = probe.deliver(FreeSlots(("A-B:1", "A-B:0"), True), "A", 600)
    assert sorted((s.msg.link, s.msg.round) for s in sent) == [("A-B:0", 0), ("A-B:1", 1)]


def test_a_shared_bank_generates_every_slot_from_the_start_and_after_every_use():
    probe = bank("shared", slots=3)
    assert sorted(s.msg.link for s in probe.start()) == ["A-B:0", "A-B:1", "A-B:2"]
    sent = probe.deliver(Herald("A-B:2", 0, 1, GOOD, pair("A-B:2"), purpose="r7"), "A-B/station", 300)
    assert sent == [("A", 7, Stored("A-B:2", pair("A-B:2"), "r7"))]
    sent = probe.deliver(FreeSlots(("A-B:2",), False), "A", 400)  # used: back to the pool at once
    assert [(s.msg.link, s.msg.round) for s in sent] == [("A-B:2", 1)]


# -- shared pools against reservation ------------------------------------------------------------

def two_requests(channels: int) -> list[Request]:
    return [Request("r1", "0", "2", pairs=20, channels=channels, retries=0),
            Request("r2", "0", "2", pairs=20, channels=channels, retries=0, start_ps=1)]


def outcomes(allocation: str, channels: int, **kw):
    g = line(3, channels=2)
    net = quantum_network(g, two_requests(channels), physics=PHYS, allocation=allocation, **kw)
    result = qactors.run(net, until_ps=5000 * MS, seed=2, collect_states=True)
    return result, {rid: result.states["0"]["roles"][rid].outcome for rid in ("r1", "r2")}


def test_two_requests_share_a_two_slot_link_where_reservation_must_reject_or_split():
    # reserved: the first request holds both slots of each link, so the second is turned away ...
    _, reserved = outcomes("reserved", channels=2)
    assert reserved == {"r1": "served: 20 pairs", "r2": "rejected at 0: no free memory on the first link"}
    # ... or each gets one slot of its own
    _, split = outcomes("reserved", channels=1)
    assert split == {"r1": "served: 20 pairs", "r2": "served: 20 pairs"}
    # shared: both draw from the pool of both slots, and both ends of each agree on every pair
    result, shared = outcomes("shared", channels=2)
    assert shared == {"r1": "served: 20 pairs", "r2": "served: 20 pairs"}
    for rid in ("r1", "r2"):
        src, dst = (result.states[n]["roles"][rid] for n in ("0", "2"))
        assert [d[2] for d in src.delivered] == [d[2] for d in dst.delivered]
        # perfect memories: every pair is two V = 0.8 links joined, whichever slot it came from
        assert all(d[1] == pytest.approx((1 + 0.8 ** 2) / 2) for d in dst.delivered)
    for v in ("0", "1", "2"):
        assert result.states[v]["owner"] == {}  # nothing was reserved
    # pairs were lent to both requests while both ran: their deliveries interleave in time
    t1 = [d[0] for d in result.states["2"]["roles"]["r1"].delivered]
    t2 = [d[0] for d in result.states["2"]["roles"]["r2"].delivered]
    assert t2[0] < t1[-1] and t1[0] < t2[-1]


def test_shared_links_take_only_asap_requests():
    with pytest.raises(qactors.ConfigurationError, match=r"policy = 'nested' is not allowed; allowed: 'asap' on a "
                                                         r"path with shared memories \(link \(0, 1\)"):
        quantum_network(line(3, channels=2), [Request("r", "0", "2", policy="nested")], physics=PHYS,
                        allocation="shared")
    with pytest.raises(qactors.ConfigurationError, match=r"allocation = 'pooled' is not allowed"):
        quantum_network(line(3), [], physics=PHYS, allocation="pooled")
    g = line(3)
    g.edges[0, 1]["allocation"] = "any"
    with pytest.raises(qactors.ConfigurationError, match=r"edge \(0, 1\) allocation = 'any' is not allowed"):
        quantum_network(g, [], physics=PHYS)


def test_a_path_may_mix_shared_and_reserved_links():
    g = line(4, channels=2)
    g.edges[1, 2]["allocation"] = "shared"
    reqs = [Request("a", "0", "3", pairs=10), Request("b", "1", "2", pairs=10, start_ps=1)]
    result = qactors.run(quantum_network(g, reqs, physics=PHYS), until_ps=5000 * MS, seed=5, collect_states=True)
    assert [result.states[src]["roles"][rid].outcome for src, rid in (("0", "a"), ("1", "b"))] == [
        "served: 10 pairs", "served: 10 pairs"]
    assert result.states["1"]["roles"]["a"].request.shared == (False, True, False)
