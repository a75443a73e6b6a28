"""Q-CAST routing (protocols/routing/qcast.py): its EXT metric against closed forms, its choices on small
graphs whose answer is known, its parameters, and its throughput against greedy fewest-hops routing on
100-node Waxman networks."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

import qactors
from qactors.core.errors import ConfigurationError
from qactors.protocols.link import SenderReceiverPhysics
from qactors.protocols.network import Request, quantum_network, request_report
from qactors.protocols.routing import (FewestHops, QCast, RouteView, estimated_ext, path_ext, router_named,
                                       width_distribution)
from qactors.topologies import waxman

MS = 10 ** 9
SLOT_PS = MS  # one attempt per link per millisecond: the paper's time slot


def sr(p: float) -> SenderReceiverPhysics:
    """A link that heralds with probability ``p`` per attempt, one attempt per slot."""
    return SenderReceiverPhysics(eta_link=p, cycle_ps=SLOT_PS)


def graph(edges) -> nx.Graph:
    g = nx.Graph()
    for a, b, km, p, *channels in edges:
        g.add_edge(a, b, length_km=km, physics=sr(p), **({"channels": channels[0]} if channels else {}))
    return g


# -- the metric ------------------------------------------------------------------------------------

def test_at_width_one_the_ext_is_the_product_of_the_link_and_swap_probabilities():
    ps = (0.9, 0.7, 0.5)
    assert estimated_ext(ps, 1, 0.8) == pytest.approx(0.8 ** 2 * 0.9 * 0.7 * 0.5, rel=1e-12)
    assert estimated_ext(ps, 1, (0.8, 0.6)) == pytest.approx(0.8 * 0.6 * 0.9 * 0.7 * 0.5, rel=1e-12)
    assert estimated_ext((0.3,), 4) == pytest.approx(4 * 0.3, rel=1e-12)  # one hop: W p, no swap


def test_a_two_hop_path_of_width_two_worked_by_hand():
    # hop 1 (p = 0.5): 0, 1, 2 channels up with 0.25, 0.5, 0.25; hop 2 (p = 0.8): 0.04, 0.32, 0.64.
    # both hops up twice: 0.25 x 0.64 = 0.16; the narrower exactly once: 0.5 x (0.32 + 0.64) + 0.32 x 0.25 = 0.56
    assert width_distribution((0.5, 0.8), 2) == pytest.approx((0.28, 0.56, 0.16), abs=1e-12)
    # EXT = q (1 x 0.56 + 2 x 0.16) = 0.9 x 0.88
    assert estimated_ext((0.5, 0.8), 2, 0.9) == pytest.approx(0.792, rel=1e-12)


def test_the_ext_is_the_expected_narrowest_hop_for_any_width():
    rng = np.random.default_rng(3)
    for _ in range(20):
        width, hops = int(rng.integers(1, 8)), int(rng.integers(1, 7))
        ps = rng.uniform(0.05, 0.95, size=hops)
        # E[min_k X_k] = sum_{i >= 1} prod_k P(X_k >= i), X_k ~ Binomial(width, p_k)
        tail = [[sum(math.comb(width, j) * p ** j * (1 - p) ** (width - j) for j in range(i, width + 1)) for p in ps]
                for i in range(1, width + 1)]
        expected = sum(math.prod(t) for t in tail)
        assert estimated_ext(ps, width) == pytest.approx(expected, rel=1e-10)
        assert sum(width_distribution(ps, width)) == pytest.approx(1.0, abs=1e-12)


def test_bad_arguments_of_the_metric_name_their_field():
    for args, field in ((((0.5,), 0), "width"), (((), 1), "ps"), (((1.5,), 1), "ps"),
                        (((0.5, 0.5), 1, (0.9, 0.9)), "swap"), (((0.5, 0.5), 1, 2.0), "swap")):
        with pytest.raises(ConfigurationError) as info:
            estimated_ext(*args)
        assert info.value.field == field, (args, info.value)


def _map(g, request: Request, **kw):
    kw.setdefault("swap_success_probability", 0.9)
    net = quantum_network(g, [request], physics=sr(0.5), router=QCast(), **kw)
    return net.actors[0]._map


def test_the_map_ext_of_a_path_takes_its_links_and_repeaters():
    g = graph([("a", "b", 5.0, 0.5), ("b", "c", 5.0, 0.8)])
    nmap = _map(g, Request("r", "a", "c"))
    assert path_ext(nmap, ("a", "b", "c"), 2) == pytest.approx(0.792, rel=1e-12)


# -- choices on small graphs -------------------------------------------------------------------------

def _path(g, router, q: float = 0.9, channels: int = 1) -> list:
    res = qactors.run(quantum_network(g, [Request("r", "a", "b", pairs=3, channels=channels)], physics=sr(0.5),
                                      router=router, swap_success_probability=q), until_ps=200 * MS, seed=1,
                      collect_states=True)
    return request_report(res.states, "r")["path"]


def test_q_cast_takes_two_good_links_over_one_poor_one_unless_swapping_costs_more():
    g = graph([("a", "b", 30.0, 0.3), ("a", "c", 10.0, 0.8), ("c", "b", 10.0, 0.8)])
    # width 1: 0.3 direct against 0.8 x 0.8 x q over c, i.e. 0.576 with q = 0.9 and 0.256 with q = 0.4
    assert _path(g, QCast(), q=0.9) == ["a", "c", "b"]
    assert _path(g, QCast(), q=0.4) == ["a", "b"]
    assert _path(g, FewestHops(), q=0.9) == ["a", "b"]


def test_the_width_changes_the_choice():
    # a direct link of p = 0.25 against two of p = 0.5, q = 0.9.  One channel: 0.25 against 0.9 x 0.25 = 0.225;
    # two: 2 x 0.25 = 0.5 against 0.9 x (0.75 x 0.75 + 0.25 x 0.25) = 0.5625 (two channels through a hop
    # fail together less often than one)
    g = graph([("a", "b", 20.0, 0.25, 2), ("a", "c", 10.0, 0.5, 2), ("c", "b", 10.0, 0.5, 2)])
    assert _path(g, QCast(), channels=1) == ["a", "b"]
    assert _path(g, QCast(), channels=2) == ["a", "c", "b"]


def test_q_cast_routes_around_what_its_view_shows_busy_and_falls_back_to_narrower_widths():
    g = graph([("s", "x", 10.0, 0.9, 2), ("x", "d", 10.0, 0.9, 2), ("s", "y", 10.0, 0.6, 2),
               ("y", "d", 10.0, 0.6, 2)])
    request = Request("r", "s", "d", channels=2)
    nmap = _map(g, request)

    def route(known=None, avoid=(), routed=None, router=QCast()):
        return router.route(RouteView("s", 0, request, nmap, known or {}, frozenset(avoid), routed or {}))

    assert route() == ("s", "x", "d")
    half = (0.5, True, 0)  # one of the link's two memories held
    assert route({"d-x": half}) == ("s", "y", "d")
    assert route(routed={"s-x": 1}) == ("s", "y", "d")  # this source's own request holds both memories
    assert route(avoid={"s-x"}) == ("s", "y", "d")
    # no path with two free: the best one with one, unless the router never goes narrower
    busy = {"d-x": half, "d-y": half}
    assert route(busy) == ("s", "x", "d")
    assert route(busy, router=QCast(min_width=2)) is None
    assert route({"d-x": (1.0, True, 0), "d-y": half}) == ("s", "y", "d")
    assert route({"d-x": (0.0, False, 0)}) == ("s", "y", "d")  # known to be down


def test_a_request_wider_than_a_link_on_every_path_is_refused_naming_the_link():
    g = graph([("a", "b", 10.0, 0.8, 2), ("b", "c", 10.0, 0.8, 4)])
    with pytest.raises(ConfigurationError, match=r"at most 2, the memories per end of link \(a, b\)") as info:
        quantum_network(g, [Request("r", "a", "c", channels=3)], physics=sr(0.5), router=QCast())
    assert info.value.field == "channels"


def test_q_cast_by_name_with_its_parameters_and_bad_ones(tmp_path):
    assert router_named("q-cast") == QCast()
    assert QCast().advert_ps == 1_000_000_000
    assert router_named("q-cast", min_width=2, advert_ps=0) == QCast(min_width=2, advert_ps=0)
    with pytest.raises(ConfigurationError, match="QCast.min_width") as info:
        router_named("q-cast", min_width=0)
    assert info.value.field == "min_width"
    with pytest.raises(ConfigurationError, match="'min_width'") as info:
        router_named("q-cast", width=2)
    assert info.value.field == "width"
    from scenario_text import edit, only, problems, write

    from qactors.scenario import Scenario
    routed = edit("seed = 4", 'seed = 4\nrouting = "q-cast"\nrouting_params = { min_width = 2, advert_ms = 0.5 }')
    scenario = Scenario.from_toml(write(tmp_path, routed, "routed.toml"))
    node = next(a for a in scenario.network.actors if a.id == "a")
    assert node.router == QCast(min_width=2, advert_ps=500_000_000)
    only(problems(tmp_path, edit("seed = 4", 'seed = 4\nrouting = "q-cast"\nrouting_params = { min_width = 0 }')),
         "run.routing_params.min_width", 0, "an int in [1, 10000]")


# -- throughput on Waxman networks ---------------------------------------------------------------------

TOPOLOGIES = range(8)
COUNTS = (1, 5, 10)
SLOTS = 100


def _alpha(lengths, mean_p: float = 0.6) -> float:
    """The attenuation ``alpha`` (1/km) that makes the links' mean ``exp(-alpha L)`` equal ``mean_p``."""
    lo, hi = 0.0, 10.0
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if np.mean(np.exp(-mid * lengths)) > mean_p else (lo, mid)
    return (lo + hi) / 2


def _paper_network(seed: int) -> tuple[nx.Graph, list]:
    """The paper's default setting on a Waxman graph: 100 nodes on 100 km x 100 km, average degree
    about 6, 3-7 channels per link, link success ``exp(-alpha L)`` per slot with ``alpha`` set for a
    mean of 0.6; and 10 random S-D pairs."""
    g = waxman(100, alpha=0.12, beta=0.65, seed=seed)
    lengths = np.array([d["length_km"] for *_, d in g.edges(data=True)])
    alpha = _alpha(lengths)
    rng = np.random.default_rng(1000 + seed)
    for _, _, d in g.edges(data=True):
        d["physics"] = sr(math.exp(-alpha * d["length_km"]))
        d["channels"] = int(rng.integers(3, 8))
    nodes = sorted(g.nodes)
    pick = np.random.default_rng(50 + seed)
    pairs = [tuple(nodes[i] for i in pick.choice(len(nodes), 2, replace=False)) for _ in range(max(COUNTS))]
    return g, pairs


def _delivered(g, pairs, router) -> int:
    """Pairs delivered in ``SLOTS`` slots to S-D pairs that all start at once, each wanting more than it
    can get, with 3 channels and swaps of q = 0.9."""
    requests = [Request(f"r{i}", s, d, pairs=10 ** 6, channels=3, retries=10 ** 6) for i, (s, d) in enumerate(pairs)]
    net = quantum_network(g, requests, physics=sr(0.5), router=router, swap_success_probability=0.9)
    res = qactors.run(net, until_ps=SLOTS * SLOT_PS, seed=1, collect_states=True)
    return sum(request_report(res.states, r.request_id)["pairs"] for r in requests)


@pytest.mark.slow
def test_q_cast_delivers_more_than_greedy_fewest_hops_as_the_s_d_pairs_grow():
    """The paper's evaluation of throughput against the number of S-D pairs in one time slot (its default
    network: 100 nodes, degree 6, mean p 0.6, q 0.9) shows Q-CAST ahead of Greedy (fewest hops) at every
    count, and further ahead the more pairs share the network: a run of the authors' code gives 1.15,
    1.26 and 1.52 times Greedy's throughput at 1, 5 and 10 pairs.

    Here, on 8 Waxman graphs of that setting (100 slots of 1 ms, every request 3 channels wide, all
    starting together and never satisfied), Q-CAST delivers 1.09, 1.20 and 1.18 times what fewest-hops
    routing does (per slot, mean over the graphs: 1.39 / 5.85 / 11.16 against 1.27 / 4.90 / 9.46; the
    spread between graphs is 0.3-1.5 per slot), and more on every graph once there are 5 pairs.  The
    advantage grows from one pair, where it is the metric alone (EXT against hop count; on half the
    graphs both pick the same path), to several, where Q-CAST also avoids links its view shows busy;
    it does not keep growing as in the paper: a request rejected here retries and greedy routing then
    avoids the link that rejected it, pairs wait in memory instead of being lost at the end of a slot,
    and memories belong to links, not to a node's shared budget, so contention costs greedy less.

    Asserted, with margins below what was measured: at 5 and 10 pairs Q-CAST delivers more on at
    least 7 of the 8 graphs (a sign test: 7 or 8 wins of 8 by chance has probability 9/256) and at
    least 1.10 times as much in all; the ratio at 10 pairs is not below the one at 1 pair, nor more
    than 0.05 below the one at 5 pairs (about the standard error of a ratio over 8 graphs)."""
    totals = {count: {"greedy": [], "q-cast": []} for count in COUNTS}
    degrees = []
    for seed in TOPOLOGIES:
        g, pairs = _paper_network(seed)
        degrees.append(2 * g.number_of_edges() / g.number_of_nodes())
        p = [d["physics"].eta_link for *_, d in g.edges(data=True)]
        assert np.mean(p) == pytest.approx(0.6, abs=1e-6)
        for count in COUNTS:
            totals[count]["greedy"].append(_delivered(g, pairs[:count], FewestHops()))
            totals[count]["q-cast"].append(_delivered(g, pairs[:count], QCast()))
    assert 5.0 <= np.mean(degrees) <= 7.0, degrees
    ratio = {count: sum(t["q-cast"]) / sum(t["greedy"]) for count, t in totals.items()}
    for count in (5, 10):
        q, greedy = totals[count]["q-cast"], totals[count]["greedy"]
        assert sum(a > b for a, b in zip(q, greedy)) >= 7, totals
        assert ratio[count] >= 1.10, (ratio, totals)
    assert ratio[1] >= 1.0, (ratio, totals)
    assert ratio[10] >= ratio[1], (ratio, totals)
    assert ratio[10] >= ratio[5] - 0.05, (ratio, totals)
