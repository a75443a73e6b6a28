"""Loaders: GML, GraphML, node-link JSON and topohub (real package if installed, else a small fake)."""

from __future__ import annotations

import json
import logging
import sys
import textwrap

import networkx as nx
import pytest

from qactors.core.errors import ConfigurationError
from qactors.protocols.link import LinkPhysics
from qactors.protocols.network import quantum_network
from qactors.topologies import (from_networkx, great_circle_km, grid, insert_repeaters, load_gml, load_graph,
                                load_graphml, load_node_link_json, load_topohub, topohub_keys)

PARIS = (48.8566, 2.3522)
LONDON = (51.5074, -0.1278)
BRUSSELS = (50.8503, 4.3517)

# Topology Zoo style: Latitude/Longitude, no lengths, a parallel link, an unnamed "internal" node with a length
ZOO_GML = f"""\
graph [
  DateObtained "2024"
  multigraph 1
  node [ id 0 label "Paris" Country "France" Latitude {PARIS[0]} Longitude {PARIS[1]} ]
  node [ id 1 label "London" Country "UK" Latitude {LONDON[0]} Longitude {LONDON[1]} ]
  node [ id 2 label "Brussels" Latitude {BRUSSELS[0]} Longitude {BRUSSELS[1]} ]
  node [ id 3 label "Internal" Internal 1 ]
  edge [ source 0 target 1 LinkLabel "a" ]
  edge [ source 0 target 1 LinkLabel "b" length_km 500.0 ]
  edge [ source 1 target 2 ]
  edge [ source 2 target 3 length_km 12.5 ]
  edge [ source 2 target 2 ]
]
"""


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def node_link(graph: nx.Graph, key: str = "edges") -> dict:
    data = nx.node_link_data(graph, edges="edges")
    if key != "edges":
        data[key] = data.pop("edges")
    return data


# -- GML -------------------------------------------------------------------------------------------

def test_gml_topology_zoo_style(tmp_path, caplog):
    path = write(tmp_path, "zoo.gml", ZOO_GML)
    with caplog.at_level(logging.INFO, logger="qactors.topologies.loaders"):
        g = load_gml(path)
    assert type(g) is nx.Graph
    assert sorted(g.nodes) == ["Brussels", "Internal", "London", "Paris"]
    assert g.nodes["Paris"]["lat"] == PARIS[0] and g.nodes["Paris"]["lon"] == PARIS[1]
    assert g.nodes["Paris"]["Country"] == "France" and g.nodes["Paris"]["profile"] == "node"
    # the parallel Paris-London links are merged into the shorter one, which was computed
    paris_london = g.edges["London", "Paris"]
    assert paris_london["length_km"] == pytest.approx(great_circle_km(*PARIS, *LONDON))
    assert paris_london["length_source"] == "great-circle" and paris_london["LinkLabel"] == "a"
    assert g.edges["Brussels", "Internal"]["length_km"] == 12.5
    assert g.edges["Brussels", "Internal"]["length_source"] == "given"
    assert g.graph["computed_lengths"] == [("London", "Paris"), ("Brussels", "London")]
    assert g.graph["merged_parallel_edges"] == 1
    assert g.graph["removed_self_loops"] == ["Brussels"]
    assert g.graph["source"] == str(path) and g.graph["DateObtained"] == "2024"
    assert all(d["profile"] == "fibre" for _, _, d in g.edges(data=True))
    assert "computed 2 of 3 link lengths" in caplog.text


def test_parallel_links_without_lengths_are_listed_once(tmp_path):
    path = write(tmp_path, "par.gml", """\
        graph [
          multigraph 1
          node [ id 0 label "a" lat 0 lon 0 ]
          node [ id 1 label "b" lat 0 lon 1 ]
          edge [ source 0 target 1 ]
          edge [ source 1 target 0 ]
        ]
        """)
    g = load_gml(path)
    assert g.graph["computed_lengths"] == [("a", "b")] and g.graph["merged_parallel_edges"] == 1


def test_gml_with_duplicate_labels_uses_ids(tmp_path):
    path = write(tmp_path, "dup.gml", """\
        graph [
          node [ id 7 label "X" lat 0 lon 0 ]
          node [ id 9 label "X" lat 0 lon 1 ]
          edge [ source 7 target 9 ]
        ]
        """)
    g = load_gml(path)
    assert sorted(g.nodes) == ["7", "9"] and g.nodes["7"]["label"] == "X"
    assert g.edges["7", "9"]["length_km"] == pytest.approx(great_circle_km(0, 0, 0, 1))


def test_an_edge_with_neither_length_nor_coordinates_names_file_edge_and_what_is_allowed(tmp_path):
    path = write(tmp_path, "nolen.gml", ZOO_GML.replace("length_km 12.5", ""))
    with pytest.raises(ConfigurationError) as err:
        load_gml(path)
    msg = str(err.value)
    assert str(path) in msg and "('Brussels', 'Internal')" in msg and "'Internal'" in msg
    assert "allowed: a length_km attribute on the edge, or coordinates on both ends" in msg
    assert err.value.field == "length_km" and err.value.file == str(path) and err.value.edge == ("Brussels", "Internal")


def test_malformed_gml(tmp_path):
    path = write(tmp_path, "bad.gml", "graph [ node [ id 0 ")
    with pytest.raises(ConfigurationError, match=r"bad\.gml: not a readable GML file") as err:
        load_gml(path)
    assert err.value.field == "path"


# -- GraphML ---------------------------------------------------------------------------------------

GRAPHML = """\
<?xml version="1.0" encoding="UTF-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key id="lat" for="node" attr.name="Latitude" attr.type="double"/>
  <key id="lon" for="node" attr.name="Longitude" attr.type="double"/>
  <key id="prof" for="node" attr.name="profile" attr.type="string"/>
  <key id="len" for="edge" attr.name="length_km" attr.type="double"/>
  <key id="lenm" for="edge" attr.name="length_m" attr.type="string"/>
  <graph id="G" edgedefault="directed">
    <node id="delft"><data key="lat">52.0116</data><data key="lon">4.3571</data><data key="prof">nv</data></node>
    <node id="hague"><data key="lat">52.0705</data><data key="lon">4.3007</data></node>
    <node id="leiden"><data key="lat">52.1601</data><data key="lon">4.4970</data></node>
    <edge source="delft" target="hague"><data key="len">10.2</data><data key="lenm">10200</data></edge>
    <edge source="hague" target="delft"><data key="len">10.2</data><data key="lenm">10200</data></edge>
    <edge source="hague" target="leiden"><data key="lenm">19000</data></edge>
  </graph>
</graphml>
"""


def test_graphml_directed_file_becomes_undirected_and_keeps_given_lengths(tmp_path):
    g = load_graphml(write(tmp_path, "net.graphml", GRAPHML))
    assert type(g) is nx.Graph and g.number_of_edges() == 2
    assert g.edges["delft", "hague"]["length_km"] == 10.2
    assert g.edges["hague", "leiden"]["length_source"] == "great-circle"
    assert g.nodes["delft"]["profile"] == "nv" and g.nodes["hague"]["profile"] == "node"
    assert g.graph["computed_lengths"] == [("hague", "leiden")]


def test_length_attribute_and_unit_can_be_chosen(tmp_path):
    g = load_graph(write(tmp_path, "net.xml", GRAPHML), length_attr="length_m", length_unit_km=0.001)
    assert g.edges["hague", "leiden"]["length_km"] == pytest.approx(19.0)
    assert g.edges["hague", "leiden"]["length_source"] == "given"
    assert g.graph["computed_lengths"] == []


def test_malformed_graphml(tmp_path):
    with pytest.raises(ConfigurationError, match="not a readable GraphML file"):
        load_graphml(write(tmp_path, "bad.graphml", "<graphml><graph>"))


# -- node-link JSON ----------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["edges", "links"])
def test_node_link_json_round_trip_of_a_builder(tmp_path, key):
    built = grid(2, 3, length_km=7.0)
    path = tmp_path / "grid.json"
    path.write_text(json.dumps(node_link(built, key)))
    g = load_node_link_json(path)
    assert sorted(g.nodes) == sorted(built.nodes)
    assert all(g.edges[e]["length_km"] == 7.0 for e in built.edges)
    assert g.nodes["n1_2"]["pos_km"] == (14.0, 7.0)
    net = quantum_network(g, [], physics=LinkPhysics("double_click", eta_arm=0.5))
    assert set(g.nodes) <= set(net.names)


def test_planar_coordinates_give_straight_line_lengths(tmp_path):
    data = {"nodes": [{"id": 1, "pos_km": [0, 0]}, {"id": 2, "pos_km": [3, 4]}],
            "edges": [{"source": 1, "target": 2}]}
    path = tmp_path / "planar.json"
    path.write_text(json.dumps(data))
    g = load_graph(path)
    assert list(g.nodes) == ["1", "2"]
    assert g.edges["1", "2"]["length_km"] == 5.0 and g.edges["1", "2"]["length_source"] == "planar"


@pytest.mark.parametrize("xy, length", [("km", 5.0), ("lonlat", great_circle_km(4, 3, 0, 0))])
def test_x_y_are_used_only_when_the_caller_says_what_they_are(tmp_path, xy, length):
    data = {"nodes": [{"id": "a", "x": 0, "y": 0}, {"id": "b", "x": 3, "y": 4}],
            "links": [{"source": "a", "target": "b"}]}
    path = tmp_path / "xy.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigurationError, match="pass xy='lonlat' or xy='km'"):
        load_graph(path)
    g = load_graph(path, xy=xy)
    assert g.edges["a", "b"]["length_km"] == pytest.approx(length)


def test_zero_lengths_are_refused_unless_a_minimum_is_given(tmp_path):
    data = {"nodes": [{"id": "a", "lat": 1, "lon": 1}, {"id": "b", "lat": 1, "lon": 1}, {"id": "c"}],
            "edges": [{"source": "a", "target": "b"}, {"source": "b", "target": "c", "length_km": 0}]}
    path = tmp_path / "zero.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigurationError, match=r"edge \('a', 'b'\) length_km = 0.0 .*min_length_km"):
        load_node_link_json(path)
    g = load_node_link_json(path, min_length_km=0.01)
    assert g.edges["a", "b"]["length_km"] == g.edges["b", "c"]["length_km"] == 0.01
    assert g.graph["raised_lengths"] == [("a", "b"), ("b", "c")]


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"nodes": 3}', '{"nodes": [{"id": 1}], "edges": [{"x": 1}]}'])
def test_malformed_node_link_json(tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ConfigurationError, match=r"bad\.json: not a readable node-link JSON file") as err:
        load_graph(path)
    assert err.value.file == str(path)


# -- errors shared by every format -----------------------------------------------------------------

def loaded(tmp_path, nodes, edges, **options):
    path = tmp_path / "case.json"
    path.write_text(json.dumps({"nodes": nodes, "edges": edges}))
    return lambda: load_graph(path, **options)


TWO = [{"id": "a", "lat": 0, "lon": 0}, {"id": "b", "lat": 0, "lon": 1}]


@pytest.mark.parametrize("nodes, edges, options, field, fragment", [
    (TWO, [{"source": "a", "target": "b", "length_km": -1}], {}, "length_km", "a finite number >= 0 (km)"),
    (TWO, [{"source": "a", "target": "b", "length_km": "far"}], {}, "length_km", "'far'"),
    ([{"id": "a", "lat": 95, "lon": 0}, TWO[1]], [{"source": "a", "target": "b"}], {}, "lat", "[-90, 90]"),
    ([{"id": "a", "Latitude": 5}, TWO[1]], [{"source": "a", "target": "b"}], {}, "Latitude",
     "latitude and longitude together"),
    ([{"id": "a", "lat": 0, "longitude": "east"}, TWO[1]], [{"source": "a", "target": "b"}], {}, "longitude",
     "[-180, 180]"),
    ([{"id": "a", "pos_km": [1, 2, 3]}, TWO[1]], [{"source": "a", "target": "b"}], {}, "pos_km", "a pair (x, y)"),
    ([{"id": "a", "lat": 0, "lon": 0, "profile": ""}, TWO[1]], [{"source": "a", "target": "b"}], {}, "profile",
     "non-empty string"),
    ([{"id": 1, "lat": 0, "lon": 0}, {"id": "1", "lat": 0, "lon": 1}], [{"source": 1, "target": "1"}], {}, "id",
     "ids that differ as strings"),
    ([{"id": "a", "pos_km": [0, 0]}, {"id": "b", "lat": 0, "lon": 1}], [{"source": "a", "target": "b"}], {},
     "length_km", "of different kinds"),
    (TWO, [{"source": "a", "target": "b"}], {"xy": "yes"}, "xy", "one of (None, 'lonlat', 'km')"),
    (TWO, [{"source": "a", "target": "b"}], {"length_unit_km": 0}, "length_unit_km", "> 0"),
    (TWO, [{"source": "a", "target": "b"}], {"length_attr": ""}, "length_attr", "non-empty string"),
    (TWO, [{"source": "a", "target": "b"}], {"min_length_km": -1.0}, "min_length_km", "> 0"),
    (TWO, [{"source": "a", "target": "b"}], {"link_profile": None}, "link_profile", "non-empty string"),
])
def test_each_kind_of_mistake_gets_its_own_error(tmp_path, nodes, edges, options, field, fragment):
    with pytest.raises(ConfigurationError) as err:
        loaded(tmp_path, nodes, edges, **options)()
    assert err.value.field == field
    assert fragment in str(err.value) and "allowed" in str(err.value)


def test_file_errors(tmp_path):
    with pytest.raises(ConfigurationError, match="no such file") as err:
        load_graph(tmp_path / "missing.gml")
    assert err.value.field == "path"
    with pytest.raises(ConfigurationError, match=r"suffix '\.csv' is not allowed; allowed: one of"):
        load_graph(write(tmp_path, "net.csv", "a,b\n"))
    with pytest.raises(ConfigurationError, match="a file path"):
        load_graph(42)


def test_from_networkx_annotates_an_in_memory_graph():
    g = nx.Graph()
    g.add_node(0, pos_km=(0.0, 0.0))
    g.add_node(1, pos_km=(6.0, 8.0), profile="repeater")
    g.add_edge(0, 1)
    out = from_networkx(g, node_profile="trapped_ion")
    assert out.edges["0", "1"]["length_km"] == 10.0
    assert out.nodes["0"]["profile"] == "trapped_ion" and out.nodes["1"]["profile"] == "repeater"
    assert out.graph["source"] == "<graph>" and 0 in g  # input unchanged
    with pytest.raises(ConfigurationError, match="a networkx graph"):
        from_networkx([(0, 1)])


def test_a_loaded_network_with_repeaters_goes_into_quantum_network(tmp_path):
    g = load_gml(write(tmp_path, "zoo.gml", ZOO_GML))
    g, added = insert_repeaters(g, 100.0)
    assert added > 0
    net = quantum_network(g, [], physics=LinkPhysics("double_click", eta_arm=0.5))
    assert set(g.nodes) <= set(net.names)


# -- topohub ---------------------------------------------------------------------------------------

FAKE_INIT = '''
import importlib.resources, json

def get(key, use_names=False):
    try:
        topo = json.load((importlib.resources.files(__name__) / f"data/{key}.json").open())
    except OSError as err:
        raise KeyError(key) from err
    if use_names:
        names = [n["name"] for n in topo["nodes"]]
        if len(set(names)) != len(names):
            raise RuntimeError("Duplicate node name")
        ids = {n["id"]: n["name"] for n in topo["nodes"]}
        for n in topo["nodes"]:
            n["id"] = ids[n["id"]]
        for e in topo["edges"]:
            e["source"], e["target"] = ids[e["source"]], ids[e["target"]]
    return topo
'''


def fake_topology(nodes, edges, demands=None):
    return {"directed": False, "multigraph": False, "graph": {"name": "x", "demands": demands or {}, "stats": {}},
            "nodes": nodes, "edges": edges}


@pytest.fixture
def fake_topohub(tmp_path, monkeypatch):
    pkg = tmp_path / "fake" / "topohub"
    (pkg / "data" / "sndlib").mkdir(parents=True)
    (pkg / "data" / "gabriel" / "5").mkdir(parents=True)
    (pkg / "data" / "topozoo").mkdir(parents=True)
    (pkg / "__init__.py").write_text(FAKE_INIT)
    (pkg / "data" / "sndlib" / "tiny.json").write_text(json.dumps(fake_topology(
        [{"id": 0, "name": "Paris", "pos": [PARIS[1], PARIS[0]]}, {"id": 1, "name": "London", "pos": [LONDON[1], LONDON[0]]},
         {"id": 2, "name": "Brussels", "pos": [BRUSSELS[1], BRUSSELS[0]]}],
        [{"source": 0, "target": 1, "dist": 344.0, "ecmp_fwd": {"uni": 0.5}},
         {"source": 1, "target": 2, "dist": 321.0}],
        demands={0: {1: 2.0}})))
    (pkg / "data" / "gabriel" / "5" / "0.json").write_text(json.dumps(fake_topology(
        [{"id": 0, "name": "R0", "pos": [0.0, 0.0]}, {"id": 1, "name": "R1", "pos": [30.0, 40.0]}],
        [{"source": 0, "target": 1, "dist": 50.0}])))
    (pkg / "data" / "topozoo" / "Twin.json").write_text(json.dumps(fake_topology(
        [{"id": "0", "name": "A", "pos": [5.0, 50.0]}, {"id": "1", "name": "A", "pos": [5.0, 50.0]}],
        [{"source": "0", "target": "1", "dist": 0.0}])))
    (pkg / "data" / "sndlib" / "drawn.json").write_text(json.dumps(fake_topology(
        [{"id": 0, "pos": [283.0, 248.0]}, {"id": 1, "pos": [339.0, 151.0]}],
        [{"source": 0, "target": 1, "dist": 11728.14}])))
    monkeypatch.delitem(sys.modules, "topohub", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path / "fake"))
    yield pkg
    sys.modules.pop("topohub", None)


def test_topohub_missing_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "topohub", None)  # makes `import topohub` raise ImportError
    with pytest.raises(ImportError, match="pip install topohub"):
        load_topohub("backbone/europe")
    with pytest.raises(ImportError, match="pip install topohub"):
        topohub_keys()


def test_fake_topohub_geographic(fake_topohub):
    g = load_topohub("sndlib/tiny")
    assert sorted(g.nodes) == ["0", "1", "2"] and g.nodes["0"]["name"] == "Paris"
    assert (g.nodes["0"]["lat"], g.nodes["0"]["lon"]) == PARIS
    assert g.edges["0", "1"]["length_km"] == 344.0 and g.edges["0", "1"]["length_source"] == "given"
    assert g.edges["0", "1"]["ecmp_fwd"] == {"uni": 0.5}
    assert g.graph["demands"] == {"0": {"1": 2.0}} and g.graph["topohub_key"] == "sndlib/tiny"
    assert g.graph["source"] == "topohub:sndlib/tiny" and g.graph["computed_lengths"] == []
    named = load_topohub("sndlib/tiny", use_names=True, node_profile="nv", link_profile="g652")
    assert named.edges["London", "Paris"]["length_km"] == 344.0
    assert named.nodes["Paris"]["profile"] == "nv" and named.edges["London", "Paris"]["profile"] == "g652"


def test_fake_topohub_planar_gabriel_and_co_located_nodes(fake_topohub):
    g = load_topohub("gabriel/5/0")
    assert g.nodes["1"]["pos_km"] == (30.0, 40.0) and "lat" not in g.nodes["1"]
    twin = load_topohub("topozoo/Twin")
    assert twin.edges["0", "1"]["length_km"] == 0.005 and twin.graph["raised_lengths"] == [("0", "1")]
    with pytest.raises(ConfigurationError, match="min_length_km"):
        load_topohub("topozoo/Twin", min_length_km=None)
    with pytest.raises(ConfigurationError, match="use_names = True is not allowed") as err:
        load_topohub("topozoo/Twin", use_names=True)
    assert err.value.field == "use_names"


def test_fake_topohub_refuses_drawing_coordinates(fake_topohub):
    with pytest.raises(ConfigurationError, match=r"pos = \[283.0, 248.0\] is not \(longitude, latitude\)") as err:
        load_topohub("sndlib/drawn")
    assert err.value.field == "key" and err.value.value == "sndlib/drawn"


def test_fake_topohub_keys_and_unknown_key(fake_topohub):
    assert topohub_keys() == ["gabriel/5/0", "sndlib/drawn", "sndlib/tiny", "topozoo/Twin"]
    assert topohub_keys("sndlib") == ["sndlib/drawn", "sndlib/tiny"]
    with pytest.raises(ConfigurationError, match=r"close matches: \['sndlib/tiny'") as err:
        load_topohub("sndlib/tinny")
    assert err.value.field == "key"
    for bad in ("", 3):
        with pytest.raises(ConfigurationError, match="group/name"):
            load_topohub(bad)


def test_real_topohub_backbone_with_repeaters():
    pytest.importorskip("topohub")
    if not any(k == "backbone/europe" for k in topohub_keys("backbone")):
        pytest.skip("this topohub has no backbone/europe")
    g = load_topohub("backbone/europe")
    assert g.number_of_nodes() > 100 and all(d["length_km"] > 0 for _, _, d in g.edges(data=True))
    assert all(-90 <= d["lat"] <= 90 for _, d in g.nodes(data=True) if "lat" in d)
    # topohub's lengths are great-circle distances; its coordinates are rounded to 0.01 degree (about 1 km)
    for u, v, d in list(g.edges(data=True))[:200]:
        a, b = g.nodes[u], g.nodes[v]
        assert d["length_km"] == pytest.approx(great_circle_km(a["lat"], a["lon"], b["lat"], b["lon"]), rel=0.01, abs=2.0)
    new, added = insert_repeaters(g, 50.0)
    assert added > 0 and max(d for _, _, d in new.edges(data="length_km")) <= 50.0
    polska = load_topohub("sndlib/polska", use_names=True)
    assert polska.edges["Gdansk", "Warsaw"]["length_km"] == 273.93
