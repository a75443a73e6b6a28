"""The parallel backend's workload, ``scenarios/europe-traffic.toml`` (issue 14).

topohub's European backbone with a repeater every <= 50 km (the network of
``europe-backbone.toml``, tested in ``test_scenario_continental.py``), loaded with long-haul
requests between its cities drawn by ``[traffic]``, every heralding attempt simulated.  The file
reproduces no published figure; what is checked here:

* it is valid, and it is the backbone of ``europe-backbone.toml`` with its hardware copied (one
  value changed, the memories per link, as the header says) and its traffic between topohub's
  cities (read from topohub itself, not through qactors' loader), at least 20 segments apart;
* a shortened run (the first 90 ms, arrivals in the first 5 ms: 11 requests) serves requests, each
  with one pair above fidelity 1/2 and within the bound the route's segments allow; the others are
  still running, refused for lack of memory, or past their deadline, and none got more than it
  asked;
* local and ray:2 give the same digest and events on the first 40 ms of that run.

The whole file takes about 90 s on one core; ``benchmarks/parallel.py`` runs it on both backends.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import networkx as nx
import pytest
import topohub  # in the `test` extra: this test always runs

import qactors
from qactors.scenario import Scenario, run_scenario

ROOT = Path(__file__).resolve().parents[1]
FILE = ROOT / "scenarios" / "europe-traffic.toml"
BACKBONE = ROOT / "scenarios" / "europe-backbone.toml"


def tables(path: Path = FILE) -> dict:
    with open(path, "rb") as f:
        return tomllib.load(f)


def shortened(duration_ms: float, arrivals_ms: float) -> Scenario:
    """The file with its run cut to ``duration_ms`` and its arrivals to the first ``arrivals_ms``."""
    data = tables()
    data["run"]["duration_ms"] = duration_ms
    data["run"]["progress"] = False
    data["traffic"]["duration_ms"] = arrivals_ms
    return Scenario.from_dict(data, file=str(FILE), base_dir=FILE.parent)


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return Scenario.from_toml(FILE)


def test_the_file_is_the_backbone_with_its_hardware_and_traffic_between_cities(scenario):
    t, backbone = tables(), tables(BACKBONE)
    assert t["topology"] == backbone["topology"]
    assert t["profiles"]["links"] == backbone["profiles"]["links"]
    for name, profile in t["profiles"]["nodes"].items():
        assert profile == {**backbone["profiles"]["nodes"][name], "memories_per_link": 16}, name
    # the backbone's sources, but for nested swapping (every request here swaps asap)
    assert {x for x in backbone["scenario"]["sources"] if "nested" not in x} <= set(t["scenario"]["sources"])
    assert {r.policy for r in scenario.requests} == {"asap"}
    g = scenario.graph
    assert (g.number_of_nodes(), g.number_of_edges()) == (3718, 4153)
    assert scenario.link_model == "attempts" and scenario.name == "europe-traffic"

    cities = {str(n["id"]) for n in topohub.get("backbone/europe")["nodes"] if n["type"] == "City"}
    assert len(cities) == 375 and set(t["traffic"]["endpoints"]) == cities
    requests = scenario.requests
    assert 60 <= len(requests) <= 100  # a Poisson draw of mean 2000/s x 40 ms
    traffic = t["traffic"]
    for r in requests:
        assert r.source in cities and r.dest in cities and r.source != r.dest
        assert r.start_ps < traffic["duration_ms"] * 1e9 and r.pairs == traffic["pairs"]
        assert r.deadline_ps == r.start_ps + round(traffic["deadline_ms"] * 1e9) <= scenario.duration_ps
        assert r.channels == traffic["channels"] and r.retries == traffic["retries"]
        assert nx.shortest_path_length(g, r.source, r.dest) >= traffic["min_hops"] == 20  # segments


def test_the_header_says_where_every_value_comes_from_and_what_the_file_is():
    text = FILE.read_text()
    header = text.split("\n[", 1)[0]
    assert all(line.startswith("#") or not line.strip() for line in header.splitlines())
    for word in ("confirmed", "secondary", "ASSUMED", "derived", "Decision", "MEASURED"):
        assert word in header, word
    assert "parallel" in header and "reproduces no published figure" in header
    for figure in ("3718", "4153", "2866", "375"):
        assert figure in header, figure
    assert tables()["scenario"]["sources"]


@pytest.mark.slow
def test_a_shortened_run_serves_long_haul_requests_above_one_half():
    s = shortened(90.0, 5.0)
    g = s.graph
    run = run_scenario(s)
    served = 0
    for req in s.requests:
        report = run.reports[req.request_id]
        outcome, path = report["outcome"], report["path"]
        assert report["pairs"] <= req.pairs
        if path:
            assert path[0] == req.source and path[-1] == req.dest and len(path) - 1 >= 20  # long-haul
            assert all(g.edges[u, v]["length_km"] <= 50 for u, v in zip(path, path[1:]))
        if outcome.startswith("served"):
            served += 1
            assert report["pairs"] == req.pairs == 1
            # above 1/2, and below what the route's segments allow without memory decay
            v = tables()["profiles"]["links"]["backbone"]["visibility"]
            assert 0.5 < report["mean_fidelity"] <= (1 + v ** (len(path) - 1)) / 2
        else:
            assert outcome == "running" or outcome.startswith(("rejected", "deadline")), outcome
    assert served >= 3, {r: run.reports[r.request_id]["outcome"] for r in s.requests}
    fidelities = [row[3] for row in run.deliveries]
    assert fidelities and min(fidelities) > 0.5


@pytest.mark.slow
@pytest.mark.ray
def test_local_and_ray2_give_the_same_digest(ray_session):
    s = shortened(40.0, 5.0)
    local = qactors.run(s.network, until_ps=s.duration_ps, seed=s.seed, collect_states=False)
    ray2 = qactors.run(s.network, until_ps=s.duration_ps, seed=s.seed, backend="ray:2", collect_states=False)
    assert ray2.shards == 2 and ray2.windows > 1 and ray2.stats["cross_shard_messages"] > 0
    assert (ray2.events, ray2.digest) == (local.events, local.digest)
    assert local.events > 50_000  # the paths reserved, attempts under way
