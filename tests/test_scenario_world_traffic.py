"""The largest parallel-backend workload, ``scenarios/world-traffic.toml`` (issue 14).

topohub's world backbone (``backbone/world``: 3815 sites, 5189 links, submarine cables included)
with a repeater every <= 50 km, ``europe-traffic.toml``'s hardware and kind of traffic between its
cities, every heralding attempt simulated.  The file reproduces no published figure; what is
checked here:

* the header says what the file is and quotes the counts; its hardware, link model and traffic
  settings are europe-traffic's (three traffic values changed, as the header says);
* it builds the network topohub ships (read with ``topohub.get`` here, not through qactors'
  loader): every site, and ``sum over links of ceil(L / 50) - 1`` repeaters, submarine cables
  included; its requests join topohub's cities, 20 - 140 segments apart;
* the first 20 simulated ms: the requests that arrived are under way on valid routes (segments
  of <= 50 km, at least 20 of them), none served yet and none given more than it asked;
* local and ray:2 give the same digest and events on that stretch.

The whole file takes about two minutes on one core (its header has the measured figures); the
network alone takes ~16 s to build and ~1 GB, so the tests that build it are marked slow and
share one build.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import networkx as nx
import pytest
import topohub  # in the `test` extra: this test always runs

import qactors
from qactors.protocols.network import request_report
from qactors.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
FILE = ROOT / "scenarios" / "world-traffic.toml"
EUROPE = ROOT / "scenarios" / "europe-traffic.toml"
STRETCH_PS = 20 * 10**9  # 20 ms simulated: the first requests reserve their paths (~0.25 ms a segment)


def tables(path: Path = FILE) -> dict:
    with open(path, "rb") as f:
        return tomllib.load(f)


def world() -> tuple[list[dict], list[dict]]:
    data = topohub.get("backbone/world")
    return data["nodes"], data["edges"]


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return Scenario.from_toml(FILE)


@pytest.fixture(scope="module")
def stretch(scenario):
    """The first STRETCH_PS of the file on the local backend, with the actors' states."""
    return qactors.run(scenario.network, until_ps=STRETCH_PS, seed=scenario.seed, collect_states=True)


def test_the_header_says_what_the_file_is_and_it_is_europe_traffic_on_the_world():
    t, europe = tables(), tables(EUROPE)
    header = FILE.read_text().split("\n[", 1)[0]
    assert all(line.startswith("#") or not line.strip() for line in header.splitlines())
    for word in ("secondary", "ASSUMED", "derived", "Decision", "MEASURED", "_nosc", "submarine"):
        assert word in header, word
    assert "parallel" in header and "reproduces no published figure" in header
    nodes, edges = world()
    repeaters = sum(math.ceil(e["dist"] / 50) - 1 for e in edges)
    for figure in (len(nodes), len(edges), repeaters, len(nodes) + repeaters, len(edges) + repeaters, 1246):
        assert str(figure) in header, figure

    assert t["topology"] == {**europe["topology"], "topohub": "backbone/world"}
    assert t["profiles"] == europe["profiles"]
    assert t["run"] == europe["run"]
    changed = {"rate_hz", "max_hops", "endpoints"}
    assert {k: v for k, v in t["traffic"].items() if k not in changed} == \
        {k: v for k, v in europe["traffic"].items() if k not in changed}
    assert t["traffic"]["max_hops"] == 140 and t["scenario"]["name"] == "world-traffic"
    cities = {str(n["id"]) for n in nodes if n["type"] == "City"}
    assert len(cities) == 1246 and sorted(t["traffic"]["endpoints"], key=int) == sorted(cities, key=int)
    assert not any(p.name.startswith("world") for p in
                   (Path(topohub.__file__).parent / "data" / "backbone").glob("*_nosc.json"))  # why the header decides


@pytest.mark.slow
def test_it_builds_topohubs_world_with_a_repeater_every_50_km_and_traffic_between_cities(scenario):
    nodes, edges = world()
    g = scenario.graph
    # derived here from topohub's own lengths: k = ceil(L / 50) segments per link, k - 1 repeaters
    repeaters = sum(math.ceil(e["dist"] / 50) - 1 for e in edges)
    sea = sum(math.ceil(e["dist"] / 50) - 1 for e in edges if e["type"] == "seacable")
    assert (len(nodes), len(edges), repeaters, sea) == (3815, 5189, 26190, 17444)
    assert g.number_of_nodes() == len(nodes) + repeaters == 30005
    assert g.number_of_edges() == len(edges) + repeaters == 31379
    inserted = [n for n in g if "~" in n]
    assert len(inserted) == repeaters == g.graph["repeaters_added"]
    assert set(g) - set(inserted) == {str(n["id"]) for n in nodes}
    assert all(g.nodes[n]["profile"] == "repeater" for n in inserted)
    assert max(km for _, _, km in g.edges(data="length_km")) <= 50
    assert nx.is_connected(g) and scenario.link_model == "attempts"

    cities = {str(n["id"]) for n in nodes if n["type"] == "City"}
    traffic = tables()["traffic"]
    requests = scenario.requests
    assert 30 <= len(requests) <= 75  # a Poisson draw of mean 1250/s x 40 ms
    assert [r.request_id for r in requests[:3]] == ["t0", "t1", "t2"]
    for r in requests:
        assert r.source in cities and r.dest in cities and r.source != r.dest
        assert r.start_ps < traffic["duration_ms"] * 1e9 and r.pairs == 1 and r.channels == 2
        assert r.deadline_ps == r.start_ps + round(traffic["deadline_ms"] * 1e9) <= scenario.duration_ps
        assert 20 <= nx.shortest_path_length(g, r.source, r.dest) <= 140  # fewest segments


@pytest.mark.slow
def test_the_first_20_ms_reserve_valid_long_haul_routes(scenario, stretch):
    g = scenario.graph
    arrived = [r for r in scenario.requests if r.start_ps < STRETCH_PS]
    assert arrived and stretch.events > 1_000
    routed = 0
    for req in arrived:
        report = request_report(stretch.states, req.request_id)
        assert report["pairs"] == 0  # none delivers so soon: reserving 20+ segments alone takes ~5 ms or more
        assert report["outcome"] == "running" or report["outcome"].startswith("rejected"), report["outcome"]
        path = report["path"]
        if path:
            routed += 1
            assert path[0] == req.source and path[-1] == req.dest and len(path) - 1 >= 20
            assert all(g.edges[u, v]["length_km"] <= 50 for u, v in zip(path, path[1:]))
    assert routed >= 1


@pytest.mark.slow
@pytest.mark.ray
def test_local_and_ray2_give_the_same_digest(ray_session, scenario, stretch):
    ray2 = qactors.run(scenario.network, until_ps=STRETCH_PS, seed=scenario.seed, backend="ray:2",
                       collect_states=False)
    assert ray2.shards == 2 and ray2.windows > 1 and ray2.stats["cross_shard_messages"] > 0
    assert (ray2.events, ray2.digest) == (stretch.events, stretch.digest)
