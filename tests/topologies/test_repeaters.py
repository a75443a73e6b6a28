"""Repeater insertion: counts, segment lengths, ids, coordinates, purity."""

from __future__ import annotations

import copy
import math

import networkx as nx
import pytest

from qactors.core.errors import ConfigurationError
from qactors.topologies import RepeaterInsertion, great_circle_km, insert_repeaters, line, ring, star
from qactors.topologies.repeaters import _segments_needed


@pytest.mark.parametrize("length, max_km, segments", [
    (100.0, 50.0, 2), (100.0, 49.9, 3), (100.0, 100.0, 1), (10.0, 50.0, 1), (101.0, 25.0, 5),
    (1.1, 0.1, 11), (0.7, 0.1, 7), (0.3, 0.1, 3)])
def test_fewest_equal_segments(length, max_km, segments):
    k = _segments_needed(length, max_km)
    assert k == segments
    assert length / k <= max_km * (1 + 1e-12)
    assert k == 1 or length / (k - 1) > max_km


def test_counts_lengths_and_ids_on_a_line():
    g = line(3, length_km=[120.0, 30.0])
    result = insert_repeaters(g, 50.0)
    assert isinstance(result, RepeaterInsertion)
    new, added = result
    assert added == 2 == new.graph["repeaters_added"]
    assert nx.shortest_path(new, "n0", "n2") == ["n0", "n0~n1#1", "n0~n1#2", "n1", "n2"]
    assert [new.edges[e]["length_km"] for e in nx.utils.pairwise(nx.shortest_path(new, "n0", "n1"))] == [40.0] * 3
    assert new.edges["n1", "n2"]["length_km"] == 30.0
    assert new.nodes["n0~n1#1"]["profile"] == "repeater"
    assert new.nodes["n0~n1#1"]["repeater_of"] == ("n0", "n1")
    assert new.nodes["n0~n1#1"]["pos_km"] == pytest.approx((40.0, 0.0))
    assert new.nodes["n0~n1#2"]["pos_km"] == pytest.approx((80.0, 0.0))
    total = sum(d for _, _, d in new.edges(data="length_km"))
    assert total == pytest.approx(150.0)


def test_every_segment_is_at_most_the_maximum_and_total_length_is_kept():
    g = ring(7, length_km=83.0)
    new, added = insert_repeaters(g, 20.0)
    assert added == 7 * (5 - 1)
    assert all(d <= 20.0 for _, _, d in new.edges(data="length_km"))
    assert sum(d for _, _, d in new.edges(data="length_km")) == pytest.approx(7 * 83.0)
    assert nx.is_connected(new) and new.number_of_nodes() == 7 + added


def test_other_edge_attributes_are_kept_and_the_input_is_not_changed():
    g = star(2, length_km=60.0)
    g.edges["hub", "n0"]["channels"] = 3
    g.edges["hub", "n0"]["profile"] = "ull_fibre"
    before = copy.deepcopy(g)
    new, added = insert_repeaters(g, 25.0, profile="qrep")
    assert nx.utils.graphs_equal(g, before) and g.graph == before.graph
    assert "repeaters_added" not in g.graph
    assert added == 4
    for u, v in nx.utils.pairwise(nx.shortest_path(new, "hub", "n0")):
        assert new.edges[u, v]["channels"] == 3 and new.edges[u, v]["profile"] == "ull_fibre"
        assert new.edges[u, v]["length_km"] == 20.0
    assert {new.nodes[n]["profile"] for n in new if "#" in n} == {"qrep"}


def test_ids_count_from_the_end_that_sorts_first():
    g = nx.Graph()
    g.add_edge("zeta", "alpha", length_km=30.0)
    new, _ = insert_repeaters(g, 10.0)
    assert nx.shortest_path(new, "alpha", "zeta") == ["alpha", "alpha~zeta#1", "alpha~zeta#2", "zeta"]


def test_geographic_positions_follow_the_great_circle():
    g = nx.Graph()
    g.add_node("paris", lat=48.8566, lon=2.3522)
    g.add_node("nyc", lat=40.7128, lon=-74.0060)
    whole = great_circle_km(48.8566, 2.3522, 40.7128, -74.0060)
    g.add_edge("nyc", "paris", length_km=whole * 1.2)
    new, added = insert_repeaters(g, 1000.0)
    k = added + 1
    assert k == math.ceil(whole * 1.2 / 1000.0)
    for j in range(1, k):
        node = new.nodes[f"nyc~paris#{j}"]
        assert "pos_km" not in node
        assert great_circle_km(40.7128, -74.0060, node["lat"], node["lon"]) == pytest.approx(j / k * whole, rel=1e-9)


def test_nodes_without_coordinates_give_repeaters_without_coordinates():
    g = nx.Graph()
    g.add_edge(1, 2, length_km=9.0)
    new, added = insert_repeaters(g, 4.0)
    assert added == 2 and set(new.nodes["1~2#1"]) == {"profile", "repeater_of"}


@pytest.mark.parametrize("graph, max_km, field", [
    (line(2), 0.0, "max_segment_km"),
    (line(2), -5.0, "max_segment_km"),
    (line(2), math.inf, "max_segment_km"),
    (nx.MultiGraph([(0, 1)]), 5.0, "graph"),
    (nx.DiGraph([(0, 1)]), 5.0, "graph"),
    ({"n0": "n1"}, 5.0, "graph"),
    (nx.Graph([(0, 1)]), 5.0, "edge (0, 1) length_km"),
    (nx.Graph([(0, 1, {"length_km": -2.0})]), 5.0, "edge (0, 1) length_km"),
])
def test_bad_inputs(graph, max_km, field):
    with pytest.raises(ConfigurationError, match="allowed") as err:
        insert_repeaters(graph, max_km)
    assert err.value.field == field


def test_a_repeater_id_that_is_already_a_node_is_refused():
    g = line(2, length_km=30.0)
    g.add_edge("n0~n1#1", "n1", length_km=1.0)
    with pytest.raises(ConfigurationError, match="n0~n1#1"):
        insert_repeaters(g, 10.0)


def test_bad_profile():
    with pytest.raises(ConfigurationError) as err:
        insert_repeaters(line(2), 5.0, profile="")
    assert err.value.field == "profile"
