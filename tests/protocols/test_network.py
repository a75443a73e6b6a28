"""The network layer: requests, routing, reservation, policies, multiplexing, cut-offs,
purification, delivery records, message orders, and bad requests."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

import qactors
from qactors.hardware.memory import QuantumMemory
from qactors.protocols.link import GOOD, LinkPhysics, MidpointSourcePhysics, SenderReceiverPhysics
from qactors.protocols.memory import FreeSlots, Stored, memory_id
from qactors.protocols.network import (Activate, Confirm, Discard, LinkPort, Purification, Purify, PurifyReply, QNode,
                                       Release, Request, Reserve, SpanDone, _Cutoff, _Offer, _Start, quantum_network,
                                       request_report, swap_tree, with_parts)
from qactors.protocols.swapping import SwapRecord
from qactors.quantum.bell import MemoryNoise, PairEnd, PairRecord, dejmps
from qactors.testing import ActorProbe

MS = 10 ** 9
PHYS = LinkPhysics("double_click", eta_arm=0.5, visibility=0.8)


def line(n: int, km: float = 10.0) -> nx.Graph:
    g = nx.path_graph(n)
    nx.set_edge_attributes(g, km, "length_km")
    return g


def run(graph, requests, *, until_ms=2000, seed=1, backend="local", **kw):
    kw.setdefault("physics", PHYS)
    net = quantum_network(graph, requests, **kw)
    return qactors.run(net, until_ps=until_ms * MS, seed=seed, backend=backend, collect_states=True)


def role(result, node, rid="r"):
    return result.states[node]["roles"][rid]


def assert_path_free(result, graph):
    for v in graph.nodes:
        state = result.states[str(v)]
        assert state["owner"] == {} and state["held"] == {}, f"node {v} still holds memory"


# -- serving requests ----------------------------------------------------------------------

@pytest.mark.parametrize("policy", ["asap", "nested", "sequential"])
@pytest.mark.parametrize("channels", [1, 2])
def test_every_policy_serves_a_request_and_both_ends_agree(policy, channels):
    g = line(5)
    result = run(g, [Request("r", "0", "4", pairs=30, policy=policy, channels=channels)],
                 swap_success_probability=0.5, channels_per_link=2)
    src, dst = role(result, "0"), role(result, "4")
    assert src.outcome == dst.outcome == "served: 30 pairs"
    assert [d[2] for d in src.delivered] == [d[2] for d in dst.delivered]  # the same pairs, in order
    # perfect memories: the delivered fidelity is fixed by the links; 4 links of V = 0.8 dephased pairs
    assert all(d[1] == pytest.approx((1 + 0.8 ** 4) / 2) for d in dst.delivered)
    assert src.request.path == ("0", "1", "2", "3", "4")
    assert_path_free(result, g)


def test_swap_trees():
    assert swap_tree(4, "nested") == {2: (0, 4), 1: (0, 2), 3: (2, 4)}
    assert swap_tree(8, "nested")[4] == (0, 8) and swap_tree(8, "nested")[6] == (4, 8)
    assert swap_tree(4, "sequential") == {1: (0, 2), 2: (0, 3), 3: (0, 4)}
    assert swap_tree(1, "nested") == {}
    with pytest.raises(qactors.ConfigurationError, match="swap tree policy = 'asap'"):
        swap_tree(4, "asap")


def test_routing_takes_the_shortest_fibre_path_or_the_users_function():
    g = nx.Graph()
    g.add_edge("A", "B", length_km=10.0)
    g.add_edge("B", "C", length_km=10.0)
    g.add_edge("A", "D", length_km=6.0)
    g.add_edge("D", "C", length_km=6.0)
    result = run(g, [Request("r", "A", "C", pairs=5)])
    assert role(result, "A").request.path == ("A", "D", "C") and len(role(result, "C").delivered) == 5
    assert "r" not in result.states["B"]["roles"]
    via_b = run(g, [Request("r", "A", "C", pairs=5)], routing=lambda graph, s, d: [s, "B", d])
    assert role(via_b, "A").request.path == ("A", "B", "C") and len(role(via_b, "B").request.path) == 3
    with pytest.raises(qactors.ConfigurationError, match="a simple path of graph edges"):
        quantum_network(g, [Request("r", "A", "C")], physics=PHYS, routing=lambda graph, s, d: [s, d])


def test_a_busy_memory_rejects_a_second_request_and_more_memories_serve_both():
    # R1 holds the only memory of link 1-2 for a long time; R2 wants that link
    g = line(4)
    reqs = [Request("r1", "0", "3", pairs=10 ** 6, deadline_ps=40 * MS),
            Request("r2", "1", "2", pairs=3, start_ps=1 * MS, retries=0)]
    result = run(g, reqs, until_ms=50)
    assert role(result, "1", "r2").outcome == "rejected at 1: no free memory on the first link"
    assert role(result, "0", "r1").outcome.startswith("deadline: ")
    both = run(g, reqs, until_ms=50, channels_per_link=2)
    assert role(both, "1", "r2").outcome == "served: 3 pairs"
    assert_path_free(both, g)


def test_a_rejection_half_way_frees_what_was_reserved_and_retries():
    g = nx.star_graph(["X", "A", "B", "C"])  # X in the middle
    nx.set_edge_attributes(g, 10.0, "length_km")
    reqs = [Request("r1", "A", "B", pairs=10 ** 6, deadline_ps=30 * MS),
            Request("r2", "C", "B", pairs=2, start_ps=1 * MS, retries=1)]
    result = run(g, reqs, until_ms=100)
    assert role(result, "C", "r2").outcome == "rejected at X: no free memory on the next link"
    assert result.states["C"]["owner"] == {}  # C-X was reserved, then freed on the way back
    # with a deadline of R1 short enough, R2's retry finds the path free
    reqs = [Request("r1", "A", "B", pairs=10 ** 6, deadline_ps=2 * MS),
            Request("r2", "C", "B", pairs=2, start_ps=1 * MS, retries=5)]
    late = run(g, reqs, until_ms=100, seed=3)
    assert role(late, "C", "r2").outcome == "served: 2 pairs"


def test_deadline_ends_the_request_and_frees_every_memory():
    g = line(3)
    result = run(g, [Request("r", "0", "2", pairs=10 ** 6, deadline_ps=5 * MS)], until_ms=20)
    src = role(result, "0")
    assert src.outcome == f"deadline: {len(src.delivered)} of 1000000 pairs" and len(src.delivered) > 0
    assert all(t <= 5 * MS for t, _, _ in src.delivered)
    assert_path_free(result, g)


def test_multiplexing_raises_the_rate():
    g = line(3, km=20.0)
    counts = {}
    for channels in (1, 3):
        result = run(g, [Request("r", "0", "2", pairs=10 ** 6, deadline_ps=200 * MS, channels=channels)],
                     until_ms=250, channels_per_link=3)
        counts[channels] = len(role(result, "2").delivered)
    # Poisson counts: the difference is far beyond 3 sigma (about 2.5x the rate with 3 memories per link)
    assert counts[3] - counts[1] > 3 * math.sqrt(counts[3] + counts[1])


def test_min_fidelity_discards_pairs_below_it():
    g = line(3)
    noisy = QuantumMemory(2, t2_s=2e-3)
    result = run(g, [Request("r", "0", "2", pairs=200, min_fidelity=0.7)], memory=noisy)
    both = run(g, [Request("r", "0", "2", pairs=200)], memory=noisy)
    kept = role(result, "2")
    assert kept.below_min > 0 and all(f >= 0.7 - 0.02 for _, f, _ in kept.delivered)
    assert min(f for _, f, _ in role(both, "2").delivered) < 0.7


# -- cut-offs ------------------------------------------------------------------------------

@pytest.mark.parametrize("policy", ["asap", "nested"])
def test_cutoff_trades_rate_for_fidelity(policy):
    g = line(5, km=20.0)
    memory = QuantumMemory(2, t2_s=3e-3)
    out = {}
    for cutoff in (0, 1 * MS):
        result = run(g, [Request("r", "0", "4", pairs=150, policy=policy, cutoff_ps=cutoff)], memory=memory,
                     until_ms=20_000)
        dst = role(result, "4")
        f = np.array([d[1] for d in dst.delivered])
        out[cutoff] = (f.mean(), f.std(ddof=1) / math.sqrt(len(f)), dst.delivered[-1][0],
                       sum(role(result, str(i)).cutoffs for i in range(5)))
    (f0, se0, t0, c0), (f1, se1, t1, c1) = out[0], out[1 * MS]
    assert c0 == 0 and c1 > 0
    assert f1 - f0 > 3 * math.hypot(se0, se1)   # fresher pairs
    assert t1 > t0                                # paid for in time


# -- purification --------------------------------------------------------------------------

@pytest.mark.parametrize("level, nodes", [("link", 2), ("end", 3)])
def test_purification_delivers_exactly_the_dejmps_output(level, nodes):
    """Perfect memories, one round reaches the target: every pair is the DEJMPS output of two
    input pairs (a link pair; or two links of coherence 0.8 joined, coherence 0.64), and the
    share of failed rounds matches the success probability (3 sigma)."""
    coherence = 0.8 ** (nodes - 1)
    c = ((1 + coherence) / 2, 0.0, 0.0, (1 - coherence) / 2)
    assert level == "end" or c == pytest.approx(PHYS.state(GOOD))
    p_ok, out = dejmps(c, c)
    purification = Purification("dejmps", "recurrence", level, target_fidelity=out[0] - 1e-9, max_rounds=1)
    result = run(line(nodes), [Request("r", "0", str(nodes - 1), pairs=300, channels=2,
                                       purification=purification)], channels_per_link=2)
    src, dst = role(result, "0"), role(result, str(nodes - 1))
    assert len(dst.delivered) == 300 and [d[2] for d in src.delivered] == [d[2] for d in dst.delivered]
    assert all(d[1] == pytest.approx(out[0], abs=1e-12) for d in dst.delivered)
    n, failed = src.purifications, src.failed_purifications
    assert dst.purifications == n and dst.failed_purifications == failed
    assert abs(failed / n - (1 - p_ok)) < 3 * math.sqrt(p_ok * (1 - p_ok) / n)


@pytest.mark.parametrize("mode", ["recurrence", "pumping"])
def test_link_purification_on_a_chain_reaches_the_target(mode):
    purification = Purification("bbpssw", mode, "link", target_fidelity=0.93, max_rounds=3)
    result = run(line(4), [Request("r", "0", "3", pairs=60, channels=3, purification=purification)],
                 channels_per_link=3)
    plain = run(line(4), [Request("r", "0", "3", pairs=60, channels=3)], channels_per_link=3)
    f = [d[1] for d in role(result, "3").delivered]
    assert len(f) == 60 and min(f) > max(d[1] for d in role(plain, "3").delivered)


# -- message orders ------------------------------------------------------------------------

NOISE = MemoryNoise()


def node(name, neighbours, channels=1, request=None):
    ports = []
    for other in neighbours:
        link = "-".join(sorted((name, other)))
        ports.append(LinkPort(link, other, tuple(f"{link}:{i}" for i in range(channels)), memory_id(name, link), 1,
                              f"{link}/station", 100))
    peers = sorted({*neighbours, *(request.path if request else ()), *(p.memory for p in ports),
                    *(p.channel for p in ports)} - {name})
    return ActorProbe(QNode(name, ports, [request] if request else []), peers=peers)


def bank(probe, slot):
    """The id of the memory bank that holds ``slot`` at the probed node."""
    return memory_id(probe.actor.id, slot.split(":")[0])


def link_pair(pid, a, b, t=0):
    return PairRecord(pid, (0.9, 0.0, 0.0, 0.1), t, PairEnd(a, NOISE, t), PairEnd(b, NOISE, t))


def request(**kw):
    fields = dict(request_id="r", source="0", dest="2", path=("0", "1", "2"), offsets_ps=(0, 200, 400))
    fields.update(kw)
    return with_parts(Request(**fields))


def active_repeater(channels=2, **kw):
    req = request(channels=channels, **kw)
    probe = node("1", ["0", "2"], channels, req)
    probe.start()
    left = tuple(f"0-1:{i}" for i in range(channels))
    probe.deliver(Reserve(req, 1, left, 0), "0", 10)
    assert [s.msg for s in probe.deliver(Activate("r", -1, 0, 2, 50), "0", 30)] == [_Offer("r", -1, 0, 2)]
    sent = probe.deliver(_Offer("r", -1, 0, 2), "1", 50)
    assert sorted((s.to, s.msg.slots, s.msg.generate) for s in sent) == sorted(
        (memory_id("1", lk), (f"{lk}:{i}",), True) for lk in ("0-1", "1-2") for i in range(channels))
    return probe


@pytest.mark.parametrize("selection, chosen", [("oldest", "0-1:0#0"), ("youngest", "0-1:1#0"),
                                               ("best", "0-1:2#0")])
def test_repeater_selects_pairs_by_policy(selection, chosen):
    rep = active_repeater(channels=3, selection=selection)
    for i, (t, c) in enumerate(((100, (0.8, 0.0, 0.0, 0.2)), (300, (0.8, 0.0, 0.0, 0.2)),
                                (200, (0.95, 0.0, 0.0, 0.05)))):
        pair = PairRecord(f"0-1:{i}#0", c, t, PairEnd("0", NOISE, t), PairEnd("1", NOISE, t))
        assert rep.deliver(Stored(f"0-1:{i}", pair), bank(rep, f"0-1:{i}"), 600) == []
    sent = rep.deliver(Stored("1-2:1", link_pair("1-2:1#0", "1", "2", 150)), bank(rep, "1-2:1"), 650)
    records = [s.msg for s in sent if isinstance(s.msg, SwapRecord)]
    assert len(records) == 2 and {(r.left.pair_id, r.right.pair_id) for r in records} == {(chosen, "1-2:1#0")}


def test_repeater_swaps_the_first_pairs_and_reports_to_both_ends():
    rep = active_repeater(channels=1)
    assert rep.deliver(Stored("0-1:0", link_pair("0-1:0#0", "0", "1", 100)), bank(rep, "0-1:0"),
                       600) == []
    sent = rep.deliver(Stored("1-2:0", link_pair("1-2:0#0", "1", "2", 150)), bank(rep, "1-2:0"), 650)
    records = [s for s in sent if isinstance(s.msg, SwapRecord)]
    assert sorted(s.to for s in records) == ["0", "2"] and all(s.delay_ps >= 200 for s in records)
    # both qubits are reset and generate again, each memory told after its access time
    assert sorted((s.to, s.delay_ps, s.msg.slots, s.msg.generate) for s in sent if isinstance(s.msg, FreeSlots)) == [
        ("1/memory:0-1", 1, ("0-1:0",), True), ("1/memory:1-2", 1, ("1-2:0",), True)]
    # a report from an actor that is not the slot's memory changes nothing
    before = rep.actor.ignored
    assert rep.deliver(Stored("1-2:0", link_pair("1-2:0#1", "1", "2", 150)), "1-2/station", 660) == []
    assert rep.actor.ignored == before + 1 and rep.actor.held == {}


def test_purify_for_a_pair_the_follower_no_longer_holds_fails_both():
    pur = Purification("dejmps", "recurrence", "link", 0.99, 2)
    rep = active_repeater(channels=2, purification=pur, cutoff_ps=1000)  # node 1 follows on link 0-1
    rep.deliver(Stored("0-1:0", link_pair("0-1:0#0", "0", "1", 100)), bank(rep, "0-1:0"), 600)
    sent = rep.deliver(Stored("0-1:1", link_pair("0-1:1#0", "0", "1", 110)), bank(rep, "0-1:1"), 610)
    assert _Cutoff("r", "0-1:1#0") in [s.msg for s in sent if s.to == "1"]
    # our cut-off drops one pair while the leader's Purify naming it is on its way: we tell the
    # partner (also the source) and the far end, and offer the memory again
    gone = link_pair("0-1:1#0", "0", "1", 110)
    sent = rep.deliver(_Cutoff("r", "0-1:1#0"), "1", 1110)
    assert [(s.to, s.msg) for s in sent if isinstance(s.msg, Discard)] == [("0", Discard("r", gone, "1")),
                                                                          ("2", Discard("r", gone, "1"))]
    assert [(s.to, s.msg) for s in sent if isinstance(s.msg, FreeSlots)] == [("1/memory:0-1",
                                                                             FreeSlots(("0-1:1",), True))]
    sent = rep.deliver(Purify("r", "0-1:0#0", "0-1:1#0", 1105), "0", 1200)
    replies = [s.msg for s in sent if isinstance(s.msg, PurifyReply)]
    assert replies == [PurifyReply("r", "0-1:0#0", "0-1:1#0", 1105, 1200, False)]
    assert rep.actor.held == {}  # the other pair went with it
    # a pair is never used before the leader settles it; then a duplicate Settled is harmless
    rep.deliver(Stored("0-1:0", link_pair("0-1:0#1", "0", "1", 1300)), bank(rep, "0-1:0"), 1400)
    rep.deliver(Stored("1-2:0", link_pair("1-2:0#0", "1", "2", 1300)), bank(rep, "1-2:0"), 1400)
    assert rep.actor.roles["r"].swaps == 0 and set(rep.actor.held) == {"0-1:0", "1-2:0"}


def test_leader_ignores_duplicate_replies_and_waits_out_discards_of_locked_pairs():
    pur = Purification("dejmps", "recurrence", "link", 0.99, 2)
    req = request(channels=2, purification=pur, source="1", dest="2", path=("1", "2"), offsets_ps=(0, 200))
    leader = node("1", ["2"], 2, req)
    leader.start()
    assert [type(s.msg) for s in leader.deliver(_Start("r", 0), "1", 0)] == [Reserve]
    sent = leader.deliver(Confirm("r", 0, ()), "2", 400)
    assert [(s.to, s.msg) for s in sent] == [("2", Activate("r", -1, 0, 1, 600)), ("1", _Offer("r", -1, 0, 1))]
    leader.deliver(_Offer("r", -1, 0, 1), "1", 600)
    leader.deliver(Stored("1-2:0", link_pair("1-2:0#0", "1", "2", 700)), bank(leader, "1-2:0"), 800)
    sent = leader.deliver(Stored("1-2:1", link_pair("1-2:1#0", "1", "2", 700)), bank(leader, "1-2:1"), 800)
    assert [s.msg for s in sent if isinstance(s.msg, Purify)] == [Purify("r", "1-2:0#0", "1-2:1#0", 800)]
    # locked in a purification: the reply decides its fate; the ends hear of it now
    dropped = link_pair("1-2:0#0", "1", "2", 700)
    sent = leader.deliver(Discard("r", dropped, "2"), "2", 850)
    assert [(s.to, s.msg) for s in sent] == [("2", Discard("r", dropped, "1"))]
    sent = leader.deliver(PurifyReply("r", "1-2:0#0", "1-2:1#0", 800, 1000, True), "2", 1200)
    assert leader.actor.roles["r"].purifications == 1
    assert leader.deliver(PurifyReply("r", "1-2:0#0", "1-2:1#0", 800, 1000, True), "2", 1210) == []
    assert leader.actor.ignored == 1


def test_messages_for_unknown_or_finished_requests_are_ignored():
    rep = active_repeater(channels=1)
    before = rep.actor.ignored
    assert rep.deliver(SpanDone("other", 0, 0, 1, link_pair("x", "0", "1"), 500), "0", 600) == []
    # the release resets the request's slots in both memories, one message each
    sent = rep.deliver(Release("r", "done"), "0", 700)
    assert [(s.to, s.msg.slots, s.msg.generate) for s in sent] == [("1/memory:0-1", ("0-1:0",), False),
                                                                 ("1/memory:1-2", ("1-2:0",), False)]
    assert rep.actor.owner == {}
    assert rep.deliver(Release("r", "done"), "0", 710) == []
    assert rep.actor.ignored == before + 2


# -- bad requests --------------------------------------------------------------------------

@pytest.mark.parametrize("req, match", [
    (Request("r", "0", "9"), r"request 'r' dest = '9' is not allowed; allowed: a node of the graph"),
    (Request("r", "0", "0"), "a node other than the source"),
    (Request("r", "0", "2", pairs=0), r"pairs = 0 is not allowed; allowed: an int in \[1, 1000000000000\]"),
    (Request("r", "0", "2", pairs=10 ** 30), r"pairs = 10{30} is not allowed"),
    (Request("r", "0 ", "2"), r"source = '0 ' is not allowed; allowed: a node of the graph"),
    (Request("r", " ", "2"), r"source = ' ' is not allowed; allowed: a node id"),
    (Request("r", "0", "2", min_fidelity=1.5), r"min_fidelity = 1.5 is not allowed"),
    (Request("r", "0", "2", policy="greedy"), r"policy = 'greedy' is not allowed; allowed: \('asap'"),
    (Request("r", "0", "2", deadline_ps=5, start_ps=10), "0 \\(none\\) or later than start_ps"),
    (Request("r", "0", "2", cutoff_ps=-1), r"cutoff_ps = -1 is not allowed"),
    (Request("r", "0", "2", purification=Purification(target_fidelity=1.2)), r"target_fidelity = 1.2"),
    (Request("r", "0", "2", policy="nested", purification=Purification()), "purification only with policy"),
    (Request("r", "0", "2", purification=Purification()), r"channels \(with purification\) = 1 is not allowed"),
    (Request("r", "0", "2", application="teleport", bsm_visibility=1.2), r"bsm_visibility = 1.2 is not allowed"),
    (Request("r", "0", "2", application="teleport", bsm_visibility=True), r"bsm_visibility = True is not allowed"),
    (Request("r", "0", "2", bsm_visibility=0.5), r"1.0 unless the application is 'teleport'"),
])
def test_bad_requests_are_refused_before_anything_runs(req, match):
    with pytest.raises(qactors.ConfigurationError, match=match):
        quantum_network(line(3), [req], physics=PHYS)


def test_bad_graphs_and_duplicate_requests():
    g = line(3)
    g.add_node(7)
    with pytest.raises(qactors.ConfigurationError, match="a destination connected to the source"):
        quantum_network(g, [Request("r", "0", "7")], physics=PHYS)
    bad = line(3)
    bad.edges[0, 1]["length_km"] = -2
    with pytest.raises(qactors.ConfigurationError, match=r"edge \(0, 1\) length_km = -2 is not allowed"):
        quantum_network(bad, [], physics=PHYS)
    with pytest.raises(qactors.ConfigurationError, match="unique in the network"):
        quantum_network(line(3), [Request("r", "0", "2"), Request("r", "2", "0")], physics=PHYS)


def mixed_schemes() -> nx.Graph:
    """0 -(midpoint heralding)- 1 -(midpoint source)- 2 -(sender-receiver)- 3."""
    g = line(4)
    g.edges[1, 2]["physics"] = MidpointSourcePhysics(eta_arm=0.6, visibility=0.95)
    g.edges[2, 3]["physics"] = SenderReceiverPhysics(eta_link=0.3, visibility=0.9)
    return g


def test_links_of_every_scheme_in_one_path():
    result = run(mixed_schemes(), [Request("r", "0", "3", pairs=40, channels=2)], channels_per_link=2)
    src, dst = role(result, "0"), role(result, "3")
    assert src.outcome == "served: 40 pairs" and [d[2] for d in src.delivered] == [d[2] for d in dst.delivered]
    # perfect memories: coherences multiply along the path (0.8 x 0.95 x 0.9)
    assert all(d[1] == pytest.approx((1 + 0.8 * 0.95 * 0.9) / 2) for d in dst.delivered)
    assert "2-3/receiver" in result.states and "1-2/station" in result.states


@pytest.mark.ray
def test_network_runs_identically_on_two_ray_shards(ray_session):
    g = mixed_schemes()
    reqs = [Request("a", "0", "3", pairs=8, channels=2, purification=Purification(level="link", target_fidelity=0.9)),
            Request("b", "3", "1", pairs=5, policy="nested", start_ps=1 * MS),
            Request("c", "0", "2", pairs=5, policy="sequential", start_ps=2 * MS, cutoff_ps=2 * MS)]
    kw = dict(channels_per_link=4, swap_success_probability=0.5, memory=QuantumMemory(2, t2_s=0.05),
              model="attempts", until_ms=200, seed=4)
    local = run(g, reqs, **kw)
    remote = run(g, reqs, backend="ray:2", **kw)
    assert remote.digest == local.digest and remote.states == local.states
    assert [role(local, src, r).outcome for src, r in (("0", "a"), ("3", "b"), ("0", "c"))] == [
        "served: 8 pairs", "served: 5 pairs", "served: 5 pairs"]


# -- applications over requests ----------------------------------------------------------------

def test_teleportation_and_qkd_over_requests():
    """Two links of coherence 0.9, perfect memories: the delivered pair has Phi+ weight
    F = (1 + 0.81)/2 and characters (0.81, -0.81, 1) up to sign.  Checks, each within 3 sigma:
    teleportation fidelity (2F + 1)/3 (Horodecki et al. 1999, as TEL-1), BBM92 error rates
    0 in Z and (1 - 0.81)/2 in X, E91's CHSH value sqrt(2)(<ZZ> + <XX>) (see docs/qkd.md)."""
    phys = LinkPhysics("double_click", eta_arm=0.5, visibility=0.9)
    g = line(3)
    reqs = [Request("t", "0", "2", pairs=1500, application="teleport", channels=2),
            Request("q", "2", "0", pairs=3000, application="bbm92", start_ps=1, channels=1),
            Request("e", "0", "2", pairs=3000, application="e91", policy="nested", start_ps=2, channels=1)]
    result = run(g, reqs, physics=phys, channels_per_link=4, until_ms=100_000)
    f = (1 + 0.81) / 2
    tel = np.array(role(result, "2", "t").receiver.teleport_fidelities)
    assert len(tel) == 1500 and abs(tel.mean() - (2 * f + 1) / 3) < 3 * tel.std(ddof=1) / math.sqrt(len(tel))
    bbm92 = role(result, "0", "q").receiver
    assert bbm92.errors["Z"] == 0
    n, e = bbm92.sifted["X"], bbm92.errors["X"]
    assert abs(e / n - 0.095) < 3 * math.sqrt(0.095 * 0.905 / n)
    e91 = role(result, "2", "e").receiver
    var = sum((1 - ((2 * e91.chsh_agree[k] - m) / m) ** 2) / m for k, m in e91.chsh_pairs.items())
    assert abs(e91.chsh() - math.sqrt(2) * (1 + 0.81)) < 3 * math.sqrt(var)
    for node in ("0", "1", "2"):  # nothing left held, teleportation qubits included
        assert result.states[node]["owner"] == {} and result.states[node]["held"] == {}


def test_a_tree_cannot_teleport():
    with pytest.raises(qactors.ConfigurationError, match="cannot keep its qubit for the teleportation bits"):
        quantum_network(line(3), [Request("r", "0", "2", policy="nested", application="teleport")], physics=PHYS)


# -- requests that end early, follow each other, or are refused --------------------------------

def test_a_deadline_during_reservation_frees_every_memory():
    # the deadline (60 us) falls before Reserve and Confirm have crossed three 10 km hops
    g = line(4)
    reqs = [Request("r1", "0", "3", pairs=5, deadline_ps=60_000_000),
            Request("r2", "1", "2", pairs=3, start_ps=1 * MS, retries=0)]
    result = run(g, reqs, until_ms=100)
    assert role(result, "0", "r1").outcome == "deadline: 0 of 5 pairs"
    assert role(result, "1", "r2").outcome == "served: 3 pairs"
    assert_path_free(result, g)


@pytest.mark.parametrize("nodes, seed", [(2, 22), (3, 48), (3, 54), (3, 5)])
def test_requests_following_each_other_on_the_same_memories_agree_at_both_ends(nodes, seed):
    """A generation round still running when a request ends completes later; its pair belongs
    to no request, and both ends of the next request must agree on that.  (The seeds are ones
    where such a pair heralds while the next request is active at one end only.)"""
    g = line(nodes)
    dest = str(nodes - 1)
    reqs = [Request("r1", "0", dest, pairs=3, channels=2),
            Request("r2", "0", dest, pairs=3, channels=2, start_ps=2 * MS + seed * 7919, retries=50,
                    deadline_ps=400 * MS)]
    result = run(g, reqs, until_ms=500, seed=seed, channels_per_link=2)
    for rid in ("r1", "r2"):
        assert role(result, "0", rid).outcome == "served: 3 pairs"
        assert [d[2] for d in role(result, "0", rid).delivered] == [d[2] for d in role(result, dest, rid).delivered]
    assert_path_free(result, g)


def test_report_of_a_refused_request():
    g = line(4)
    reqs = [Request("r1", "0", "3", pairs=10 ** 6, deadline_ps=20 * MS),
            Request("r2", "1", "3", pairs=3, start_ps=1 * MS, retries=0)]
    result = run(g, reqs, until_ms=50)
    report = request_report(result.states, "r2")
    assert report["outcome"] == "rejected at 1: no free memory on the first link" and report["pairs"] == 0
    with pytest.raises(qactors.ConfigurationError, match="request_id = 'r9' is not allowed"):
        request_report(result.states, "r9")


def test_trees_deliver_nothing_below_min_fidelity():
    memory = QuantumMemory(2, t2_s=2e-2)
    result = run(line(5), [Request("r", "0", "4", pairs=300, policy="nested", min_fidelity=0.85)],
                 memory=memory, physics=LinkPhysics("double_click", eta_arm=0.5), until_ms=100_000)
    dst = role(result, "4")
    assert dst.below_min > 0 and len(dst.delivered) == 300
    assert min(f for _, f, _ in dst.delivered) >= 0.85


def test_a_purified_pair_keeps_the_cutoff_of_its_oldest_qubit():
    pur = Purification("dejmps", "recurrence", "link", 0.99, 2)
    rep = active_repeater(channels=2, purification=pur, cutoff_ps=1000)  # node 1 leads on link 1-2
    c = (0.6, 0.0, 0.4, 0.0)  # DEJMPS succeeds with certainty on these
    for i, t in ((0, 100), (1, 150)):
        pair = PairRecord(f"1-2:{i}#0", c, t, PairEnd("1", NOISE, t), PairEnd("2", NOISE, t))
        sent = rep.deliver(Stored(f"1-2:{i}", pair), bank(rep, f"1-2:{i}"), 600 + i)
    assert [s.msg for s in sent if isinstance(s.msg, Purify)] == [Purify("r", "1-2:0#0", "1-2:1#0", 601)]
    sent = rep.deliver(PurifyReply("r", "1-2:0#0", "1-2:1#0", 601, 800, True), "2", 1000)
    timers = [(s.delay_ps, s.msg) for s in sent if isinstance(s.msg, _Cutoff)]
    assert timers == [(100, _Cutoff("r", "1-2:0#0~p1"))]  # born at 100: cut at 1100
    sent = rep.deliver(_Cutoff("r", "1-2:0#0~p1"), "1", 1100)
    assert rep.actor.roles["r"].cutoffs == 1 and rep.actor.held == {}


def test_node_ids_that_make_two_links_share_a_name_are_refused():
    g = nx.Graph()
    g.add_edge("a-b", "c", length_km=1.0)
    g.add_edge("a", "b-c", length_km=1.0)
    with pytest.raises(qactors.ConfigurationError, match=r"link name = 'a-b-c' is not allowed"):
        quantum_network(g, [], physics=PHYS)


# -- teleportation with an imperfect Bell-state measurement -----------------------------------

@pytest.mark.parametrize("visibility", [0.0, 0.6])
def test_teleportation_through_a_partly_distinguishable_bsm(visibility):
    """Over perfect pairs (no noise, no decay) the six-input average is 2/3 + V/3: with
    probability V the photons interfere (fidelity 1), otherwise Z inputs keep fidelity 1
    and X, Y inputs get 1/2.  3-sigma bound on the mean of 3000 teleportations."""
    perfect = LinkPhysics("double_click", eta_arm=0.5)
    result = run(line(2), [Request("r", "0", "1", pairs=3000, application="teleport", bsm_visibility=visibility)],
                 physics=perfect, until_ms=10 ** 6)
    fids = np.array(result.states["1"]["roles"]["r"].receiver.teleport_fidelities)
    assert len(fids) == 3000 and set(np.round(fids, 12)) <= {0.5, 1.0}
    p_half = (1 - visibility) * 2 / 3  # a distinguishable measurement (1 - V) on an X or Y input (2/3)
    sigma = 0.5 * math.sqrt(p_half * (1 - p_half) / len(fids))
    assert abs(fids.mean() - (2 / 3 + visibility / 3)) < 3 * sigma


# -- per-node hardware -------------------------------------------------------------------------

def test_node_memories_and_swap_probabilities_override_the_network_defaults():
    slow = QuantumMemory(num_qubits=2, t2_s=0.01)
    everywhere = line(3)
    nx.set_node_attributes(everywhere, slow, "memory")
    nx.set_node_attributes(everywhere, 0.5, "swap_success_probability")
    reqs = [Request("r", "0", "2", pairs=200)]
    a = run(line(3), reqs, memory=slow, swap_success_probability=0.5, until_ms=10 ** 5)
    b = run(everywhere, reqs, until_ms=10 ** 5)
    assert a.digest == b.digest  # node attributes equal to the defaults change nothing

    def mean_fidelity(decaying):
        g = line(2)
        for v in decaying:
            g.nodes[v]["memory"] = QuantumMemory(num_qubits=2, t2_s=2e-4)
        result = run(g, [Request("r", "0", "1", pairs=400)], until_ms=10 ** 5)
        return np.mean([f for _, f, _ in role(result, "1").delivered])

    # a 10 km link stores each qubit ~49 us before the herald: a 0.2 ms T2 at one end costs about
    # half of what it costs at both (the Bell-diagonal coherence decays by the product)
    none, one, both = mean_fidelity([]), mean_fidelity([1]), mean_fidelity([0, 1])
    assert none > one + 0.05 and one > both + 0.05


@pytest.mark.parametrize("attr, value, match", [
    ("memory", 0.01, r"node '1' memory = 0.01 is not allowed; allowed: a QuantumMemory"),
    ("swap_success_probability", 0.0, r"node '1' swap_success_probability = 0.0 is not allowed"),
    ("swap_success_probability", True, r"node '1' swap_success_probability = True is not allowed"),
])
def test_bad_node_hardware_is_named(attr, value, match):
    g = line(3)
    g.nodes[1][attr] = value
    with pytest.raises(qactors.ConfigurationError, match=match):
        quantum_network(g, [Request("r", "0", "2")], physics=PHYS)


def test_exponential_backoff_lets_a_refused_request_wait_for_the_memory_to_free_up():
    """Two requests for the one memory of a link, both at t = 0: the second is refused.  With the default
    back-off (1 - 3 path round trips, ~0.1 ms here) its 3 retries are spent while the first still holds the
    link; with ``backoff_ps`` = 4 ms the waits are at least 2, 4 and 8 ms (half of 4 ms x 2^k), so it gets
    the link once the first is served, and no earlier than 2 ms."""
    from qactors.protocols.reservation import HopByHop
    requests = [Request("a", "0", "1", pairs=40), Request("b", "0", "1", pairs=5, retries=3)]
    quick = run(line(2), requests, until_ms=200)
    assert request_report(quick.states, "a")["outcome"] == "served: 40 pairs"
    assert request_report(quick.states, "b")["outcome"].startswith("rejected at 0: no free memory")
    patient = run(line(2), requests, until_ms=200, reservation=HopByHop(backoff_ps=4 * MS))
    assert request_report(patient.states, "b")["outcome"] == "served: 5 pairs"
    a_done = max(t for t, _, _ in role(patient, "1", "a").delivered)
    b = role(patient, "0", "b")
    assert b.active_from >= 2 * MS and b.active_from >= a_done and b.attempt >= 1
    with pytest.raises(qactors.ConfigurationError, match="backoff_ps"):
        run(line(2), requests, reservation=HopByHop(backoff_ps=-1))


def test_nodes_share_their_empty_tables_and_sets_until_they_write():
    """A node's rarely filled tables and its empty sets are one shared object for all nodes: reserving gives
    the node a table of its own and leaves the others' shared; a copy of the actors shares them too."""
    import pickle

    from qactors.protocols.network import _EMPTY, _NONE
    net = quantum_network(line(4), [Request("r", 0, 3, pairs=2)], physics=PHYS, allocation="reserved")
    nodes = [a for a in net.actors if isinstance(a, QNode)]
    for a in nodes:
        assert a.known is a.heard is a.routed is a.avoid is a.legs is a.paths is a.owner is _EMPTY
        assert a.roles is a.held is a.serving is _EMPTY
        assert a.using is a.offered is a.down_links is _NONE
    assert nodes[0].pending != {} and all(a.pending is _EMPTY for a in nodes[1:])
    assert len({id(a.reservation) for a in nodes}) == 1
    copies = pickle.loads(pickle.dumps(nodes))  # as a run's copy of the actors (one pickle)
    assert all(c.owner is _EMPTY for c in copies) and len({id(c.using) for c in copies}) == 1
    with pytest.raises(TypeError):
        _EMPTY["x"] = 1
    assert _EMPTY.pop("x", None) is None and _EMPTY.clear() is None  # removing nothing is allowed, as on {}
    with pytest.raises(KeyError):
        del _EMPTY["x"]
    result = qactors.run(net, until_ps=200 * MS, seed=1, collect_states=True)
    assert len(role(result, "3").delivered) == 2
    assert result.states["0"]["paths"] == {"r": ("0", "1", "2", "3")} and _EMPTY == {}
    assert_path_free(result, line(4))


def test_the_builder_keeps_one_object_per_equal_number_and_tells_apart_what_differs():
    from qactors.protocols.network import _Numbers
    same = _Numbers()
    a, b = float("0.1"), float("0.1") * 1.0 + 0.0
    assert same(a) is a and same(b) is a
    assert same(-0.0) is not same(0.0) and str(same(-0.0)) == "-0.0"
    assert type(same(1)) is int and type(same(1.0)) is float and same(True) is True
    nan = float("nan")
    assert same(nan) is nan
    big = 10 ** 12 + int("7")
    assert same(big) is same(10 ** 12 + 7) is big
    net = quantum_network(line(3), [Request("r", 0, 2, pairs=1)], physics=PHYS)
    links = list(net.actors[0]._map.links.values())
    assert links[0].p is links[1].p and links[0].latency_ps is links[1].latency_ps
    lat = [lat for nbrs in net.adjacency for lat in nbrs.values()]
    assert len({id(x) for x in lat}) == len(set(lat))


def test_a_node_finds_its_ports_by_the_names_of_slots_and_links_and_keeps_only_the_odd_ones():
    """A node keeps no slot -> link or neighbour -> link table for names that follow "<link>:<i>" and
    "<a>-<b>" (a < b); ports named otherwise are found as well, from a table of just those."""
    from qactors.protocols.network import _EMPTY
    ports = [LinkPort("m-z", "z", ("m-z:0", "m-z:1"), "m/memory:m-z", 1, "m-z/station", 100),
             LinkPort("a-m", "a", ("a-m:0",), "m/memory:a-m", 1, "a-m/station", 100),
             LinkPort("odd", "q", ("x", "odd:7", "m-z:9"), "m/memory:odd", 1, "odd/station", 100)]
    node = QNode("m", ports)
    assert node._odd_slots == {"x": "odd", "m-z:9": "odd"} and node._odd_neighbours == {"q": "odd"}
    for p in ports:
        assert node._port_to(p.neighbour) is p
        assert all(node._port_of(slot) is p for slot in p.slots)
    for unknown in ("m-z:2", "nowhere", "a-m", 3):
        assert node._port_of(unknown, None) is None
        with pytest.raises(KeyError):
            node._port_of(unknown)
    with pytest.raises(KeyError):
        node._port_to("b")
    plain = QNode("m", ports[:2])
    assert plain._odd_slots is plain._odd_neighbours is _EMPTY and "port_of" not in plain.state()
