"""Traffic generators: reproducible from the seed, Poisson counts, demand matrices, hop bounds, bursts."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

import qactors
from qactors.core.errors import ConfigurationError
from qactors.protocols.link import LinkPhysics
from qactors.protocols.network import Request, quantum_network, request_report
from qactors.protocols.traffic import Traffic

MS = 10 ** 9
S = 10 ** 12


def grid() -> nx.Graph:
    g = nx.convert_node_labels_to_integers(nx.grid_2d_graph(4, 4))
    nx.set_edge_attributes(g, 5.0, "length_km")
    return g


def test_the_same_seed_gives_the_same_requests_and_another_seed_others():
    t = Traffic(rate_hz=200.0, duration_ps=S // 10, pairs=(1, 5), deadline_ps=50 * MS)
    a, b, c = t.requests(grid(), 1), t.requests(grid(), 1), t.requests(grid(), 2)
    assert a == b and a != c
    assert all(r.deadline_ps == r.start_ps + 50 * MS and 1 <= r.pairs <= 5 for r in a)
    assert [r.start_ps for r in a] == sorted(r.start_ps for r in a)


def test_arrivals_are_poisson_with_the_given_rate():
    # 300 seeds of a mean-20 count: the sample mean is within 4 standard errors of 20, the variance near 20
    t = Traffic(rate_hz=100.0, duration_ps=S // 5)
    counts = np.array([len(t.requests(grid(), seed)) for seed in range(300)])
    assert abs(counts.mean() - 20.0) < 4 * math.sqrt(20.0 / 300)
    assert 0.7 * 20 < counts.var(ddof=1) < 1.3 * 20
    gaps = np.diff([r.start_ps for r in Traffic(rate_hz=1000.0, duration_ps=S).requests(grid(), 3)]) / S
    assert abs(gaps.mean() - 1e-3) < 4 * 1e-3 / math.sqrt(len(gaps))  # exponential gaps, mean 1 / rate


def test_hop_bounds_gravity_and_hotspots_shape_who_talks_to_whom():
    g = grid()
    hops = dict(nx.all_pairs_shortest_path_length(g))
    reqs = Traffic(rate_hz=2000.0, duration_ps=S, min_hops=2, max_hops=3).requests(g, 5)
    assert reqs and all(2 <= hops[int(r.source)][int(r.dest)] <= 3 for r in reqs)
    nx.set_node_attributes(g, 1.0, "weight")
    g.nodes[0]["weight"] = 9.0  # pairs with node 0 are 9x as likely as any other pair
    reqs = Traffic(rate_hz=5000.0, duration_ps=S, demand="gravity").requests(g, 6)
    with0 = sum(1 for r in reqs if "0" in (r.source, r.dest)) / len(reqs)
    expected = (2 * 15 * 9) / (2 * 15 * 9 + 15 * 14)  # ordered pairs: 30 with node 0 (weight 9), 210 without
    assert abs(with0 - expected) < 4 * math.sqrt(expected * (1 - expected) / len(reqs))
    reqs = Traffic(rate_hz=5000.0, duration_ps=S, demand="hotspot", hotspots=(5,), hotspot_share=0.6).requests(g, 7)
    share = sum(1 for r in reqs if "5" in (r.source, r.dest)) / len(reqs)
    assert abs(share - 0.6) < 4 * math.sqrt(0.24 / len(reqs))


def test_endpoint_fraction_bursts_and_the_template():
    t = Traffic(rate_hz=0.0, duration_ps=0, endpoint_fraction=0.25, bursts=((10 * MS, 7), (3 * MS, 2)),
                template=Request("x", "-", "-", channels=2, policy="nested", retries=9))
    reqs = t.requests(grid(), 1)
    assert [r.start_ps for r in reqs] == [3 * MS] * 2 + [10 * MS] * 7
    assert len({r.source for r in reqs} | {r.dest for r in reqs}) <= 4  # a quarter of 16 nodes
    assert {(r.channels, r.policy, r.retries) for r in reqs} == {(2, "nested", 9)}
    assert [r.request_id for r in reqs] == [f"t{i}" for i in range(9)]


def test_traffic_runs_on_a_network():
    g = grid()
    reqs = Traffic(rate_hz=100.0, duration_ps=100 * MS, pairs=3, template=Request("x", "-", "-", retries=20)
                   ).requests(g, 2)
    net = quantum_network(g, reqs, physics=LinkPhysics("double_click", eta_arm=0.6), channels_per_link=2)
    res = qactors.run(net, until_ps=2000 * MS, seed=2, collect_states=True)
    outcomes = [request_report(res.states, r.request_id)["outcome"] for r in reqs]
    assert sum(o.startswith("served") for o in outcomes) >= 0.8 * len(reqs)


@pytest.mark.parametrize("bad, needle", [
    (dict(demand="flat"), "Traffic.demand"), (dict(demand="hotspot"), "Traffic.hotspots"),
    (dict(hotspots=(99,), demand="hotspot"), "a node of the graph"), (dict(min_hops=3, max_hops=2), "max_hops"),
    (dict(pairs=(5, 2)), "Traffic.pairs"), (dict(rate_hz=-1.0), "rate_hz"), (dict(bursts=((5, 0),)), "count"),
    (dict(min_hops=50), "bounds some pair"), (dict(prefix="a~"), "prefix")])
def test_bad_traffic_is_refused_naming_the_field(bad, needle):
    with pytest.raises(ConfigurationError, match=needle):
        Traffic(**{"rate_hz": 10.0, "duration_ps": MS, **bad}).requests(grid(), 1)
