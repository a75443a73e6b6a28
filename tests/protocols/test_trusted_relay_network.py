"""Trusted-relay QKD over graphs: routing, shared key pools, links used both ways, the report,
bad inputs, and the same run on two Ray shards.

Throughput bounds are derived, not picked.  A request of ``B`` bits queued at once at the
source leaves hop ``i`` at the first tick at which that hop's pool has produced ``B`` bits
(``ready_ps``), or when its last key arrives there if later; it then needs the fibre delays
of the remaining hops.  So the last key arrives at exactly
``max_i (ready_i(B) + sum of the delays of hops i..end)``, which lies in
``[B / r, B / r + tick + D)`` with ``r`` the weakest pool's rate and ``D`` the path's
one-way delay: the delivered rate is below ``r`` and above ``r / (1 + r (tick + D) / B)``.
"""

from __future__ import annotations

import math

import networkx as nx
import pytest

import qactors
from qactors.core.errors import ConfigurationError
from qactors.core.time import MS, S
from qactors.hardware.channels import Fibre
from qactors.protocols.qkd import (GYS, KeyDelivered, KeyForward, KeyLink, KeyRelayNode, KeyRelayRequest,
                                   KeyRelayRoute, _Tick, decoy_link_rate_bps, key_relay_report, trusted_relay_chain,
                                   trusted_relay_network)
from qactors.testing import ActorProbe


def ready_ps(rate_bps: float, bits: int, tick_ps: int) -> int:
    """The first tick at which a pool growing at ``rate_bps`` holds ``bits`` bits (KeyPool.grow's rounding)."""
    k = max(1, math.ceil(bits * S / (rate_bps * tick_ps)) - 2)
    while math.floor(rate_bps * (k * tick_ps) / S) < bits:
        k += 1
    return k * tick_ps


def last_delivery_ps(report: dict, delays_ps: list[int], bits: int, tick_ps: int) -> int:
    """When the last key of a request that has every pool on its path to itself reaches the destination."""
    return max(ready_ps(r, bits, tick_ps) + sum(delays_ps[i:]) for i, r in enumerate(report["hop_rates_bps"]))


def rate_floor(rate_bps: float, bits: int, tick_ps: int, delay_ps: int) -> float:
    """The least delivered rate: ``bits`` over ``bits / rate + tick + path delay``."""
    return bits / (bits / rate_bps + (tick_ps + delay_ps) / S)


def delay(length_km: float) -> int:
    return Fibre(length_km).delay_ps


def graph(edges) -> nx.Graph:
    g = nx.Graph()
    for a, b, attrs in edges:
        g.add_edge(a, b, **attrs)
    return g


def run(g, requests, *, until_ps, tick_ps=MS, seed=1, backend="local", routing=None):
    net = trusted_relay_network(g, requests, tick_ps=tick_ps, routing=routing)
    return qactors.run(net, until_ps=until_ps, seed=seed, backend=backend)


# =====================================================================================================
# A line of unequal hops
# =====================================================================================================
def test_line_of_unequal_hops_delivers_at_the_weakest_hop_rate():
    """Six nodes, hops of 15-40 km, decoy-state GYS links except one with a given rate: 60 keys of 128
    bits queued at once arrive at the weakest hop's rate, to within the derived bound, at the exact
    predicted time, with the same key at both ends."""
    lengths = [15, 40, 25, 30, 10]
    nodes = [f"N{i}" for i in range(6)]
    edges = [(a, b, {"length_km": x, "qkd": GYS}) for a, b, x in zip(nodes, nodes[1:], lengths)]
    edges[3][2].pop("qkd")
    edges[3][2]["rate_bps"] = 900.0
    request = KeyRelayRequest("bj-sh", "N0", "N5", bits=128, count=60)
    tick = 5 * MS
    weakest = decoy_link_rate_bps(Fibre(40, attenuation_db_per_km=0.21))
    total_bits = 60 * 128
    bound_ps = math.ceil((total_bits / weakest) * S) + tick + sum(map(delay, lengths))  # the latest it may end
    confirmation_ps = sum(map(delay, lengths))
    result = run(graph(edges), [request], until_ps=bound_ps + confirmation_ps + 1, tick_ps=tick)
    report = key_relay_report(result.states, request)

    assert report["path"] == tuple(nodes) and report["hop_lengths_km"] == tuple(map(float, lengths))
    assert report["hop_rates_bps"] == report["link_rates_bps"]  # one direction only: every link at full rate
    assert report["hop_rates_bps"][3] == 900.0
    assert report["weakest_hop"] == ("N1", "N2") and report["weakest_rate_bps"] == pytest.approx(weakest)
    assert report["complete"] and report["keys_match"] and report["bits_delivered"] == total_bits
    assert report["keys_issued"] == report["keys_confirmed"] == 60
    assert report["first_issued_ps"] == 0 and report["span_ps"] == report["last_delivered_ps"] < bound_ps
    assert report["last_delivered_ps"] == last_delivery_ps(report, [delay(x) for x in lengths], total_bits, tick)
    floor = rate_floor(weakest, total_bits, tick, sum(map(delay, lengths)))
    assert floor <= report["delivered_rate_bps"] < weakest
    assert 1 - floor / weakest < 0.03  # the bound is "within a few percent" for this request
    delivered = result.states["N5"]["delivered"]
    assert len({key for _, _, key in delivered.values()}) == 60  # fresh keys, not one pad repeated
    assert all(result.states[n]["ignored"] == 0 and not result.states[n]["waiting"] for n in nodes)


def test_a_line_gives_the_same_keys_at_the_same_times_as_trusted_relay_chain():
    """trusted_relay_chain is the line special case (it builds one request per chain request): one request
    of 100 keys gives key for key what 100 one-key requests give (same key streams, same times, same
    confirmations), since both queue on the same pools in order."""
    lengths, rates = [20, 30, 25], [4000, 1000, 2500]
    chain = qactors.run(trusted_relay_chain(lengths, rates_bps=rates, requests=[(0, 128)] * 100), until_ps=3 * S,
                        seed=9)
    g = graph((f"N{i}", f"N{i + 1}", {"length_km": x, "rate_bps": r}) for i, (x, r) in enumerate(zip(lengths, rates)))
    net = run(g, [KeyRelayRequest("N0", "N0", "N3", 128, count=100)], until_ps=3 * S, seed=9)
    def as_chain(keys: dict) -> dict:  # key j of the one request is the chain's request j ("N0.j#0")
        return {f"N0.{k.split('#')[1]}#0": v for k, v in keys.items()}
    assert as_chain(net.states["N3"]["delivered"]) == chain.states["N3"]["delivered"]
    assert len(chain.states["N3"]["delivered"])
    for field in ("issued", "confirmed"):
        assert as_chain(net.states["N0"][field]) == chain.states["N0"][field]


# =====================================================================================================
# A mesh with a shared link
# =====================================================================================================
def mesh() -> nx.Graph:
    """A and B reach C; C-D is the weak shared link; D reaches E and F.  A-D is a longer direct link that
    the shortest path by length does not take."""
    fast = 3000.0
    return graph([("A", "C", {"length_km": 10, "rate_bps": fast}), ("B", "C", {"length_km": 10, "rate_bps": fast}),
                  ("C", "D", {"length_km": 20, "rate_bps": 1000.0}), ("D", "E", {"length_km": 10, "rate_bps": fast}),
                  ("D", "F", {"length_km": 10, "rate_bps": fast}), ("A", "D", {"length_km": 45, "rate_bps": 5e4})])


def test_two_requests_share_a_link_without_using_its_key_twice():
    tick = 5 * MS
    requests = [KeyRelayRequest("r1", "A", "E", bits=128, count=40),
                KeyRelayRequest("r2", "B", "F", bits=128, count=40)]
    total_bits = 2 * 40 * 128
    path_delay = delay(10) + delay(20) + delay(10)
    until = math.ceil(total_bits / 1000 * S) + tick + path_delay + 1
    result = run(mesh(), requests, until_ps=until, tick_ps=tick)
    r1, r2 = (key_relay_report(result.states, r) for r in requests)

    assert r1["path"] == ("A", "C", "D", "E") and r2["path"] == ("B", "C", "D", "F")  # least km, not the A-D link
    assert r1["weakest_hop"] == r2["weakest_hop"] == ("C", "D") and r1["weakest_rate_bps"] == 1000.0
    assert r1["complete"] and r2["complete"] and r1["keys_match"] and r2["keys_match"]
    # every bit of the shared pool pads one key: both ends used exactly the first 2 x 40 x 128 bits, once each
    sender, receiver = result.states["C"]["pools"]["C-D"], result.states["D"]["pools"]["C-D"]
    assert sender.next_offset == receiver.start == total_bits and receiver.used == {}
    assert "D-C" not in result.states["C"]["pools"] and "A-D" not in result.states["A"]["pools"]
    # over the common window the two requests' rates add up to at most the shared link's rate ...
    end = max(r1["last_delivered_ps"], r2["last_delivered_ps"])
    combined = (r1["bits_delivered"] + r2["bits_delivered"]) / (end / S)
    assert rate_floor(1000.0, total_bits, tick, path_delay) <= combined < 1000.0  # ... and saturate it
    # at no time have more key bits crossed C-D than it had produced (deliveries lag the crossing)
    times = sorted(t for n in "EF" for t, _, _ in result.states[n]["delivered"].values())
    assert all(128 * (i + 1) <= math.floor(1000.0 * t / S) for i, t in enumerate(times))
    # first come, first served: the keys take turns rather than one request waiting for the other
    assert abs(r1["last_delivered_ps"] - r2["last_delivered_ps"]) < 0.1 * end
    keys = [k for n in "EF" for _, _, k in result.states[n]["delivered"].values()]
    assert len(set(keys)) == len(keys)
    assert all(s["ignored"] == 0 for s in result.states.values())


def test_a_routing_function_replaces_the_shortest_path():
    request = KeyRelayRequest("r", "A", "E", bits=64, count=3)
    result = run(mesh(), [request], until_ps=200 * MS, routing=lambda g, s, d: [s, "D", d])
    report = key_relay_report(result.states, "r")
    assert report["path"] == ("A", "D", "E") and report["complete"] and report["keys_match"]


# =====================================================================================================
# Opposite directions
# =====================================================================================================
def test_requests_in_opposite_directions_each_get_half_of_a_link_used_both_ways():
    """X-Y-Z with a fast X-Y and a slower Y-Z, a request each way: every link is used both ways, so each
    direction has its own pool at half the link's rate; both requests get half the weakest link."""
    tick = MS
    g = graph([("X", "Y", {"length_km": 10, "rate_bps": 2000.0}), ("Y", "Z", {"length_km": 15, "rate_bps": 1200.0})])
    there, back = KeyRelayRequest("there", "X", "Z", 128, count=20), KeyRelayRequest("back", "Z", "X", 128, count=20)
    bits = 20 * 128
    path = [delay(10), delay(15)]
    result = run(g, [there, back], until_ps=math.ceil(bits / 600 * S) + tick + sum(path) + 1, tick_ps=tick)
    a, b = key_relay_report(result.states, there), key_relay_report(result.states, back)
    assert a["hop_rates_bps"] == (1000.0, 600.0) and b["hop_rates_bps"] == (600.0, 1000.0)
    assert a["link_rates_bps"] == (2000.0, 1200.0) and a["weakest_rate_bps"] == b["weakest_rate_bps"] == 600.0
    for report, delays in ((a, path), (b, path[::-1])):
        assert report["complete"] and report["keys_match"]
        assert report["last_delivered_ps"] == last_delivery_ps(report, delays, bits, tick)
        assert rate_floor(600.0, bits, tick, sum(path)) <= report["delivered_rate_bps"] < 600.0
    y = result.states["Y"]["pools"]
    assert sorted(y) == ["X-Y", "Y-X", "Y-Z", "Z-Y"] and y["Y-Z"].rate_bps == y["Z-Y"].rate_bps == 600.0
    assert y["Y-Z"].next_offset == result.states["Z"]["pools"]["Y-Z"].start == bits  # each way its own bits


# =====================================================================================================
# The node, message by message
# =====================================================================================================
def test_node_ignores_forwards_and_confirmations_that_do_not_fit_a_route():
    request = KeyRelayRequest("r", "A", "C", bits=8, count=2)
    route = KeyRelayRoute(request, ("A", "B", "C"), (10.0, 10.0), (1e5, 1e5), (1e5, 1e5), (10, 10))
    b = ActorProbe(KeyRelayNode("B", incoming=[KeyLink("A-B", "A", 1e5, 10)], outgoing=[KeyLink("B-C", "C", 1e5, 10)],
                                routes=[route]), peers=["A", "C"])
    [tick] = b.start()
    assert tick.msg == _Tick(1)
    b.deliver(_Tick(1), "B", MS)
    for bad in (KeyForward("r#2", "A-B", 0, 8, b"\x00"),      # key index beyond the request's count
                KeyForward("r#01", "A-B", 0, 8, b"\x00"),     # not the canonical key name
                KeyForward("q#0", "A-B", 0, 8, b"\x00"),      # unknown request
                KeyForward("r#0", "C-B", 0, 8, b"\x00"),      # not the request's incoming pool
                KeyForward("r#0", "A-B", 0, 16, b"\x00\x00"),  # not the request's key length
                KeyForward("r#0", "A-B", 0, 8, b"")):          # cipher of the wrong length
        assert b.deliver(bad, "A", MS + 1) == []
    assert b.actor.ignored == 6
    [out] = b.deliver(KeyForward("r#0", "A-B", 0, 8, b"\x5a"), "A", MS + 2)
    assert (out.to, out.delay_ps, out.msg.link, out.msg.offset) == ("C", 10, "B-C", 0)
    assert b.deliver(KeyForward("r#0", "A-B", 8, 8, b"\x5a"), "A", MS + 3) == [] and b.actor.ignored == 7  # replay
    c = ActorProbe(KeyRelayNode("C", incoming=[KeyLink("B-C", "B", 1e5, 10)], routes=[route]), peers=["A", "B"])
    c.start()
    c.deliver(_Tick(1), "C", MS)
    [ack] = c.deliver(out.msg, "B", MS + 12)
    assert (ack.to, ack.delay_ps, ack.msg) == ("A", 20, KeyDelivered("r#0", 8))
    a = ActorProbe(KeyRelayNode("A", outgoing=[KeyLink("A-B", "B", 1e5, 10)], routes=[route]), peers=["B", "C"])
    a.start()
    assert a.deliver(ack.msg, "C", MS + 32) == [] and a.actor.ignored == 1  # A never issued r#0 in this probe
    with pytest.raises(ConfigurationError, match="no outgoing pool with 'C'"):
        KeyRelayNode("B", incoming=[KeyLink("A-B", "A", 1e5, 10)], routes=[route])


# =====================================================================================================
# Bad inputs
# =====================================================================================================
def ab(**attrs) -> nx.Graph:
    g = nx.Graph()
    g.add_edge("A", "B", **{"length_km": 10, "rate_bps": 100.0, **attrs})
    g.add_node("Q")
    return g


def req(rid="r", source="A", dest="B", **kw):
    return KeyRelayRequest(rid, source, dest, **{"bits": 8, **kw})


def rm(key):
    def drop(g):
        del g.edges["A", "B"][key]
        return g
    return drop


BAD_NETWORKS = {
    "unknown source": (ab(), [req(source="Z")], r"request 'r' source = 'Z' is not allowed; allowed: a node of the"),
    "unknown dest": (ab(), [req(dest="Z")], r"request 'r' dest = 'Z' is not allowed; allowed: a node of the graph"),
    "disconnected ends": (ab(), [req(dest="Q")], r"request 'r' dest = 'Q' is not allowed; allowed: a node connected"),
    "duplicate request ids": (ab(), [req(), req(source="B", dest="A")],
                              r"requests\[1\]\.request_id = 'r' is not allowed; allowed: an id no other request has"),
    "not a request": (ab(), [("A", "B", 8)], r"requests\[0\] = \('A', 'B', 8\) is not allowed; allowed: a "
                                             r"KeyRelayRequest"),
    "neither rate nor qkd": (rm("rate_bps")(ab()), [], r"edge \(A, B\) has neither rate_bps nor qkd; allowed: exactly"),
    "both rate and qkd": (ab(qkd=GYS), [], r"edge \(A, B\) has both rate_bps and qkd"),
    "negative rate": (ab(rate_bps=-1), [], r"edge \(A, B\) rate_bps = -1 is not allowed; allowed: a finite number"),
    "NaN rate": (ab(rate_bps=math.nan), [], r"edge \(A, B\) rate_bps = nan is not allowed"),
    "infinite rate": (ab(rate_bps=math.inf), [], r"edge \(A, B\) rate_bps = inf is not allowed"),
    "negative length": (ab(length_km=-3), [], r"edge \(A, B\) length_km = -3 is not allowed; allowed: a finite "
                                              r"number > 0"),
    "zero length": (ab(length_km=0), [], r"edge \(A, B\) length_km = 0 is not allowed"),
    "NaN length": (ab(length_km=math.nan), [], r"edge \(A, B\) length_km = nan is not allowed"),
    "missing length": (rm("length_km")(ab()), [], r"edge \(A, B\) length_km = None is not allowed"),
    "qkd not DecoyBB84": (rm("rate_bps")(ab(qkd="GYS")), [], r"edge \(A, B\) qkd = 'GYS' is not allowed; allowed: a "
                                                            r"DecoyBB84"),
    "negative attenuation": (rm("rate_bps")(ab(qkd=GYS, attenuation_db_per_km=-0.2)), [],
                             r"edge \(A, B\) attenuation_db_per_km = -0.2 is not allowed"),
    "directed graph": (nx.DiGraph(ab()), [], r"graph = DiGraph is not allowed; allowed: an undirected"),
    "ids equal as strings": (nx.Graph([(1, "1", {"length_km": 1, "rate_bps": 1.0})]), [],
                             r"graph nodes 1 and '1' are not allowed together; allowed: node ids that stay distinct"),
    "self-loop": (nx.Graph([("A", "A", {"length_km": 1, "rate_bps": 1.0})]), [],
                  r"edge \(A, A\) is not allowed; allowed: edges between two different nodes"),
}


@pytest.mark.parametrize("case", sorted(BAD_NETWORKS))
def test_bad_networks_are_refused_with_the_field_value_and_what_is_allowed(case):
    g, requests, pattern = BAD_NETWORKS[case]
    with pytest.raises(ConfigurationError, match=pattern):
        trusted_relay_network(g, requests)


@pytest.mark.parametrize("kw, pattern", [
    ({"bits": 1.5}, r"KeyRelayRequest\('r'\)\.bits = 1\.5 is not allowed; allowed: an int >= 1"),
    ({"bits": True}, r"\.bits = True is not allowed; allowed: an int >= 1"),
    ({"bits": "8"}, r"\.bits = '8' is not allowed"),
    ({"bits": 0}, r"\.bits = 0 is not allowed"),
    ({"count": 0}, r"\.count = 0 is not allowed; allowed: an int >= 1"),
    ({"start_ps": -1}, r"\.start_ps = -1 is not allowed; allowed: an int >= 0"),
    ({"dest": "A"}, r"KeyRelayRequest\('r'\)\.dest = 'A' is not allowed; allowed: a node other than the source"),
    ({"source": ""}, r"KeyRelayRequest\.source = '' is not allowed; allowed: a non-empty string"),
    ({"rid": 7}, r"KeyRelayRequest\.request_id = 7 is not allowed"),
])
def test_bad_requests_are_refused(kw, pattern):
    with pytest.raises(ConfigurationError, match=pattern):
        req(**kw)


def test_other_bad_settings_are_refused():
    with pytest.raises(ConfigurationError, match="tick_ps = 0 is not allowed"):
        trusted_relay_network(ab(), [], tick_ps=0)
    with pytest.raises(ConfigurationError, match="refractive_index = 0.5 is not allowed"):
        trusted_relay_network(ab(), [], refractive_index=0.5)
    with pytest.raises(ConfigurationError, match=r"request 'r' route = \['A', 'Q', 'B'\] is not allowed; allowed: a "
                                                 r"simple path of graph edges from 'A' to 'B'"):
        trusted_relay_network(ab(), [req()], routing=lambda g, s, d: [s, "Q", d])
    clash = graph([("a-b", "c", {"length_km": 1, "rate_bps": 1.0}), ("a", "b-c", {"length_km": 1, "rate_bps": 1.0})])
    with pytest.raises(ConfigurationError, match="pool name 'a-b-c' is not allowed"):
        trusted_relay_network(clash, [])
    with pytest.raises(ConfigurationError, match="request = 'nope' is not allowed"):
        key_relay_report({"A": {"routes": {}}}, "nope")


# =====================================================================================================
# Ray
# =====================================================================================================
@pytest.mark.ray
def test_local_and_two_ray_shards_agree(ray_session):
    """A four-node ring with requests both ways over its links: same digest and states on two Ray shards."""
    g = graph([("A", "B", {"length_km": 20, "rate_bps": 3000.0}), ("B", "C", {"length_km": 30, "qkd": GYS}),
               ("C", "D", {"length_km": 25, "rate_bps": 2000.0}), ("D", "A", {"length_km": 40, "rate_bps": 1500.0})])
    requests = [KeyRelayRequest("ac", "A", "C", 64, count=6), KeyRelayRequest("ca", "C", "A", 64, count=4),
                KeyRelayRequest("bd", "B", "D", 32, start_ps=50 * MS, count=5)]
    local = run(g, requests, until_ps=400 * MS, seed=3)
    remote = run(g, requests, until_ps=400 * MS, seed=3, backend="ray:2")
    assert local.events >= 100 and any(key_relay_report(local.states, r)["keys_delivered"] for r in requests)
    assert remote.digest == local.digest and remote.states == local.states
