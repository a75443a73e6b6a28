"""Builders: shape, annotations, lengths, connectivity, determinism per seed and argument errors."""

from __future__ import annotations

import doctest
import importlib
import math

import networkx as nx
import pytest

from qactors.core.errors import ConfigurationError
from qactors.protocols.link import LinkPhysics
from qactors.protocols.network import quantum_network
from qactors.topologies import (dumbbell, grid, insert_repeaters, line, metro, random_geometric, random_graph, ring,
                                star, waxman)

BUILT = {
    "line": lambda: line(4, length_km=12.5),
    "ring": lambda: ring(5, length_km=8.0),
    "star": lambda: star(4, length_km=3.0),
    "grid": lambda: grid(3, 4, length_km=5.0),
    "dumbbell": lambda: dumbbell(2, 3, leaf_length_km=1.5, bridge_length_km=20.0),
    "random_graph": lambda: random_graph(15, 3.0, side_km=50.0, seed=3),
    "waxman": lambda: waxman(30, alpha=0.5, beta=0.6, side_km=200.0, seed=4),
    "random_geometric": lambda: random_geometric(25, 40.0, side_km=100.0, seed=5),
    "metro": lambda: metro(20, 15.0, seed=6),
}


def assert_annotated(g: nx.Graph, node_profile: str = "node", link_profile: str = "fibre") -> None:
    assert type(g) is nx.Graph
    for node, data in g.nodes(data=True):
        assert isinstance(node, str)
        assert data["profile"] == node_profile
        x, y = data["pos_km"]
        assert type(x) is float and type(y) is float
    for u, v, data in g.edges(data=True):
        assert type(data["length_km"]) is float and math.isfinite(data["length_km"]) and data["length_km"] > 0
        assert data["profile"] == link_profile


@pytest.mark.parametrize("name", sorted(BUILT))
def test_every_builder_annotates_nodes_and_links_and_is_connected(name):
    g = BUILT[name]()
    assert_annotated(g)
    assert nx.is_connected(g)
    assert g.graph["name"].startswith(name)


def test_profiles_can_be_chosen():
    assert_annotated(line(3, node_profile="nv", link_profile="g652"), "nv", "g652")
    g = star(3, hub_profile="switch")
    assert g.nodes["hub"]["profile"] == "switch" and g.nodes["n0"]["profile"] == "node"
    g = dumbbell(1, hub_profile="router")
    assert g.nodes["left"]["profile"] == g.nodes["right"]["profile"] == "router"


def test_line():
    g = line(4, length_km=12.5)
    assert list(g.nodes) == ["n0", "n1", "n2", "n3"]
    assert [tuple(e) for e in g.edges] == [("n0", "n1"), ("n1", "n2"), ("n2", "n3")]
    assert g.nodes["n3"]["pos_km"] == (37.5, 0.0)
    g = line(3, length_km=(1, 2.5))
    assert [g.edges[e]["length_km"] for e in g.edges] == [1.0, 2.5]


def test_ring_positions_agree_with_lengths():
    g = ring(6, length_km=8.0)
    assert g.number_of_edges() == 6 and all(d == 2 for _, d in g.degree)
    for u, v, data in g.edges(data=True):
        assert math.dist(g.nodes[u]["pos_km"], g.nodes[v]["pos_km"]) == pytest.approx(data["length_km"])


def test_star_grid_dumbbell_shapes():
    g = star(5, length_km=3.0)
    assert g.degree["hub"] == 5 and g.number_of_edges() == 5
    assert all(math.dist(g.nodes[n]["pos_km"], (0, 0)) == pytest.approx(3.0) for n in g if n != "hub")
    g = grid(3, 4, length_km=5.0)
    assert g.number_of_nodes() == 12 and g.number_of_edges() == 3 * 3 + 2 * 4
    assert g.nodes["n2_3"]["pos_km"] == (15.0, 10.0)
    for u, v, data in g.edges(data=True):
        assert math.dist(g.nodes[u]["pos_km"], g.nodes[v]["pos_km"]) == pytest.approx(data["length_km"])
    g = dumbbell(2, 3, leaf_length_km=1.5, bridge_length_km=20.0)
    assert g.number_of_nodes() == 7 and g.edges["left", "right"]["length_km"] == 20.0
    assert sorted(g["left"]) == ["left0", "left1", "right"] and g.degree["right"] == 4
    assert ("left", "right") in set(nx.bridges(g))
    assert g.nodes["right0"]["pos_km"][0] > 20.0 and g.nodes["left0"]["pos_km"][0] < 0.0
    assert dumbbell(3).number_of_nodes() == 8


def test_straight_links_are_as_long_as_the_distance_between_their_ends():
    for g in (random_graph(12, 4.0, side_km=30.0, seed=1), waxman(25, beta=0.8, seed=2),
              random_geometric(20, 45.0, seed=3)):
        for u, v, data in g.edges(data=True):
            assert math.dist(g.nodes[u]["pos_km"], g.nodes[v]["pos_km"]) == pytest.approx(data["length_km"])
            assert all(0.0 <= c <= 100.0 for c in g.nodes[u]["pos_km"])


@pytest.mark.parametrize("n, k", [(2, 1.0), (10, 1.8), (10, 3.0), (10, 9.0), (40, 2.5)])
def test_random_graph_has_the_asked_average_degree_and_is_connected(n, k):
    g = random_graph(n, k, seed=11)
    assert g.number_of_edges() == round(n * k / 2)
    assert g.graph["average_degree"] == pytest.approx(2 * g.number_of_edges() / n)
    assert nx.is_connected(g)


def test_random_geometric_links_exactly_the_pairs_within_the_radius():
    g = random_geometric(30, 30.0, seed=8)
    pos = nx.get_node_attributes(g, "pos_km")
    for u in g:
        for v in g:
            if u < v:
                assert g.has_edge(u, v) == (math.dist(pos[u], pos[v]) <= 30.0)


def test_waxman_link_probability_falls_with_distance():
    g = waxman(120, alpha=0.15, beta=1.0, seed=9, connected=False)
    pos = nx.get_node_attributes(g, "pos_km")
    near = far = near_links = far_links = 0
    for i, u in enumerate(g):
        for v in list(g)[i + 1:]:
            d = math.dist(pos[u], pos[v])
            if d < 20:
                near, near_links = near + 1, near_links + g.has_edge(u, v)
            elif d > 80:
                far, far_links = far + 1, far_links + g.has_edge(u, v)
    assert near_links / near > 5 * (far_links / far)


@pytest.mark.parametrize("build", [
    lambda s: random_graph(20, 3.0, seed=s), lambda s: waxman(20, beta=0.9, seed=s),
    lambda s: random_geometric(20, 40.0, seed=s), lambda s: metro(15, 10.0, seed=s)])
def test_random_builders_are_deterministic_per_seed(build):
    a, b, c = build(7), build(7), build(8)
    assert nx.utils.graphs_equal(a, b)
    assert not nx.utils.graphs_equal(a, c)


def test_connected_retries_draw_until_connected_and_can_be_switched_off():
    sparse = [waxman(12, alpha=0.3, beta=0.9, seed=s, connected=False) for s in range(10)]
    assert not all(nx.is_connected(g) for g in sparse)  # about 40 % of draws are connected
    assert all(nx.is_connected(waxman(12, alpha=0.3, beta=0.9, seed=s)) for s in range(10))
    with pytest.raises(ConfigurationError, match=r"disconnected in all 3 draws.*radius_km above about") as err:
        random_geometric(50, 1.0, seed=1, max_tries=3)
    assert err.value.field == "radius_km"
    with pytest.raises(ConfigurationError, match=r"raise alpha or beta.*connected=False"):
        waxman(30, alpha=0.01, beta=0.01, seed=1, max_tries=2)


@pytest.mark.parametrize("call, field, fragment", [
    (lambda: line(1), "n", "an int in [2, 1000000]"),
    (lambda: line(2.0), "n", "an int in [2, 1000000]"),
    (lambda: line(True), "n", "an int in [2, 1000000]"),
    (lambda: line(3, length_km=0.0), "length_km", "a finite number > 0 (km)"),
    (lambda: line(3, length_km=-1), "length_km", "> 0"),
    (lambda: line(3, length_km=math.nan), "length_km", "> 0"),
    (lambda: line(3, length_km=math.inf), "length_km", "> 0"),
    (lambda: line(3, length_km=[1.0]), "length_km", "sequence of n - 1 = 2"),
    (lambda: line(3, length_km=[1.0, -2.0]), "length_km[1]", "> 0"),
    (lambda: line(3, length_km="10"), "length_km", "sequence"),
    (lambda: line(3, node_profile=""), "node_profile", "non-empty string"),
    (lambda: line(3, link_profile=3), "link_profile", "non-empty string"),
    (lambda: ring(2), "n", "an int in [3, 1000000]"),
    (lambda: line(10 ** 30), "n", "an int in [2, 1000000]"),
    (lambda: star(0), "leaves", "an int in [1, 1000000]"),
    (lambda: star(2, hub_profile=""), "hub_profile", "non-empty string"),
    (lambda: grid(1, 1), "cols", "at least 2 nodes"),
    (lambda: grid(0, 3), "rows", "an int in [1, 1000000]"),
    (lambda: dumbbell(0), "left", "an int in [1, 1000000]"),
    (lambda: dumbbell(1, 0), "right", "an int in [1, 1000000]"),
    (lambda: dumbbell(1, bridge_length_km=0), "bridge_length_km", "> 0"),
    (lambda: random_graph(10, 1.0, seed=1), "average_degree", "[1.8, 9]"),
    (lambda: random_graph(10, 9.5, seed=1), "average_degree", "[1.8, 9]"),
    (lambda: random_graph(10, 3.0, seed=-1), "seed", "an int >= 0"),
    (lambda: random_graph(10, 3.0, seed=None), "seed", "explicit seed"),
    (lambda: random_graph(10, 3.0, side_km=0, seed=1), "side_km", "> 0"),
    (lambda: waxman(10, alpha=0, seed=1), "alpha", "(0, 1]"),
    (lambda: waxman(10, beta=1.5, seed=1), "beta", "(0, 1]"),
    (lambda: waxman(10, seed=1, connected=1), "connected", "True or False"),
    (lambda: waxman(10, seed=1, max_tries=0), "max_tries", "an int in [1, 1000000000000]"),
    (lambda: random_geometric(10, -5.0, seed=1), "radius_km", "> 0"),
])
def test_bad_arguments_are_refused_with_the_field_and_what_is_allowed(call, field, fragment):
    with pytest.raises(ConfigurationError) as err:
        call()
    assert err.value.field == field
    assert fragment in str(err.value) and "allowed" in str(err.value)


def test_random_builders_need_an_explicit_seed():
    with pytest.raises(TypeError):
        waxman(10)  # seed is keyword-only and has no default


@pytest.mark.parametrize("name", sorted(BUILT))
def test_a_built_graph_goes_into_quantum_network(name):
    g = BUILT[name]()
    net = quantum_network(g, [], physics=LinkPhysics("double_click", eta_arm=0.5))
    assert set(g.nodes) <= set(net.names)


def test_a_graph_with_repeaters_goes_into_quantum_network():
    g, added = insert_repeaters(grid(2, 2, length_km=90.0), 40.0)
    assert added == 8
    net = quantum_network(g, [], physics=LinkPhysics("double_click", eta_arm=0.5))
    assert {"n0_0~n0_1#1", "n0_0~n0_1#2"} <= set(net.names)


@pytest.mark.parametrize("module", ["qactors.topologies", "qactors.topologies.builders", "qactors.topologies.geo",
                                    "qactors.topologies.city", "qactors.topologies.repeaters"])
def test_doctests(module):
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0
