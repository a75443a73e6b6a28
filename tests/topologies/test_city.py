"""The metro (city-scale) generator."""

from __future__ import annotations

import math

import networkx as nx
import pytest

from qactors.core.errors import ConfigurationError
from qactors.topologies import metro


def manhattan(a, b):
    return abs(a[0] - b[0]) + abs(a[1] - b[1])


@pytest.mark.parametrize("shape", ["square", "disc"])
def test_sites_lie_in_the_area_and_fibre_follows_the_streets(shape):
    g = metro(40, 12.0, detour=1.25, degree=2, shape=shape, seed=3)
    assert sorted(g.nodes, key=lambda s: int(s[1:])) == [f"s{i}" for i in range(40)]
    for _, pos in g.nodes(data="pos_km"):
        if shape == "square":
            assert max(abs(pos[0]), abs(pos[1])) <= 6.0
        else:
            assert math.hypot(*pos) <= 6.0
    for u, v, length in g.edges(data="length_km"):
        assert length == pytest.approx(1.25 * manhattan(g.nodes[u]["pos_km"], g.nodes[v]["pos_km"]))
        assert length >= math.dist(g.nodes[u]["pos_km"], g.nodes[v]["pos_km"])
    assert g.graph["detour"] == 1.25 and g.graph["area_km"] == 12.0 and g.graph["shape"] == shape


def test_every_site_links_to_its_nearest_neighbours_and_the_mesh_is_connected():
    for seed in range(5):
        g = metro(30, 20.0, degree=3, seed=seed)
        assert nx.is_connected(g)
        assert min(d for _, d in g.degree) >= 3
        pos = nx.get_node_attributes(g, "pos_km")
        for s in g:
            nearest = sorted((manhattan(pos[s], pos[t]), t) for t in g if t != s)[:3]
            assert all(g.has_edge(s, t) for _, t in nearest)


def test_degree_one_still_connects_every_site_through_the_spanning_tree():
    g = metro(50, 30.0, degree=1, seed=2)
    assert nx.is_connected(g)
    # nearest-neighbour links alone leave islands here; the spanning tree adds only what joins them
    nearest = nx.Graph((s, min((t for t in g if t != s), key=lambda t: (manhattan(g.nodes[s]["pos_km"],
                                                                                   g.nodes[t]["pos_km"]), t)))
                       for s in g)
    assert not nx.is_connected(nearest) and set(nearest.edges) <= {tuple(e) for e in g.edges} | {
        (b, a) for a, b in g.edges}
    assert g.number_of_edges() <= nearest.number_of_edges() + nx.number_connected_components(nearest) - 1


def test_deterministic_per_seed():
    assert nx.utils.graphs_equal(metro(25, 10.0, seed=5), metro(25, 10.0, seed=5))
    assert not nx.utils.graphs_equal(metro(25, 10.0, seed=5), metro(25, 10.0, seed=6))


def test_profiles():
    g = metro(5, 3.0, seed=1, node_profile="pop", link_profile="dark_fibre")
    assert set(nx.get_node_attributes(g, "profile").values()) == {"pop"}
    assert set(nx.get_edge_attributes(g, "profile").values()) == {"dark_fibre"}


@pytest.mark.parametrize("kwargs, field, fragment", [
    (dict(sites=1), "sites", "an int in [2, 1000000]"),
    (dict(area_km=0.0), "area_km", "> 0"),
    (dict(detour=0.9), "detour", "a finite number >= 1"),
    (dict(degree=0), "degree", "an int in [1, 9]"),
    (dict(degree=10), "degree", "an int in [1, 9]"),
    (dict(shape="hexagon"), "shape", "('square', 'disc')"),
    (dict(seed=-3), "seed", "an int >= 0"),
])
def test_bad_arguments(kwargs, field, fragment):
    args = dict(sites=10, area_km=5.0, seed=1) | kwargs
    with pytest.raises(ConfigurationError) as err:
        metro(**args)
    assert err.value.field == field and fragment in str(err.value)
