"""The stress harness (qactors.stress, ``qactors stress``): its statistics against closed forms, memory and
link utilisation against the geometric law, the harness on a small city, and the shipped metro-stress.toml."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import networkx as nx
import pytest

import qactors
from qactors.cli import main
from qactors.protocols.faults import LinkCut
from qactors.protocols.link import LinkPhysics
from qactors.protocols.memory import memory_id, utilisation
from qactors.hardware.memory import QuantumMemory
from qactors.protocols.network import Request, quantum_network
from qactors.scenario import ScenarioError
from qactors.stress import REQUEST_COLUMNS, STRESS_FILES, Table, format_stress, jain, mean_ci, plan, saturation, stress
from qactors.stress.metrics import t_975

ROOT = Path(__file__).resolve().parents[1]
MS = 10 ** 9

# -- statistics -----------------------------------------------------------------------------------


def test_confidence_interval_is_students_t_over_the_replicas():
    # 1, 2, 3: mean 2, sample sd 1, t(0.975, 2) = 4.303 (tables), half-width 4.303 / sqrt(3)
    mean, half = mean_ci([1.0, 2.0, 3.0])
    assert mean == 2.0 and half == pytest.approx(4.303 / math.sqrt(3), rel=1e-12)
    assert mean_ci([5.0])[0] == 5.0 and math.isnan(mean_ci([5.0])[1])
    assert all(math.isnan(x) for x in mean_ci([]))
    assert mean_ci([1.0, math.nan, 3.0])[0] == 2.0  # a replica without the figure (no served request) is left out
    # beyond the table: exact quantiles 2.021 (40), 2.000 (60), 1.980 (120)
    for dof, exact in ((40, 2.021), (60, 2.000), (120, 1.980)):
        assert abs(t_975(dof) - exact) < 0.003


def test_jain_index_closed_forms():
    assert jain([0.4, 0.4, 0.4]) == pytest.approx(1.0)
    assert jain([1.0, 0.0, 0.0]) == pytest.approx(1 / 3)
    assert jain([1.0, 2.0]) == pytest.approx(9 / 10)  # (1 + 2)^2 / (2 (1 + 4))
    assert math.isnan(jain([0.0, 0.0]))


def test_saturation_is_interpolated_where_the_served_fraction_crosses_the_threshold():
    cols = ("policy", "load", "served")
    t = Table(cols, [("a", 10.0, 1.0), ("a", 20.0, 0.95), ("a", 30.0, 0.75), ("a", 40.0, 0.5),
                     ("b", 10.0, 0.8), ("b", 20.0, 0.7), ("c", 10.0, 0.99), ("c", 20.0, 0.91)])
    s = saturation(t, 0.9)
    assert s["a"]["bound"] == "between" and s["a"]["load"] == pytest.approx(20 + 10 * 0.05 / 0.2)
    assert s["b"] == {"load": 10.0, "bound": "below", "text": "< 10 (served < 0.9 already)"}
    assert s["c"]["bound"] == "above" and s["c"]["load"] == 20.0


def test_table_columns_rows_and_csv(tmp_path):
    t = Table(("x", "y"), [(1, 0.5), (2, math.nan)])
    assert t["y"][0] == 0.5 and len(t) == 2 and t.where(x=2).records() == [{"x": 2, "y": t["y"][1]}]
    with pytest.raises(KeyError, match="no column 'z'"):
        t["z"]
    with pytest.raises(ValueError, match="a row of 1 values for 2 columns"):
        Table(("x", "y"), [(1,)])
    with open(t.to_csv(tmp_path / "t.csv"), newline="") as f:
        assert list(csv.reader(f)) == [["x", "y"], ["1", "0.5"], ["2", ""]]
    assert "x" in repr(t) and "-" in repr(t)


# -- utilisation ------------------------------------------------------------------------------------

ACCESS = 100_000_000  # 100 us to write or read a qubit


def _pool(slots: int, faults=()) -> qactors.Network:
    """Link a-b with ``slots`` shared memories at each end and one request using its pairs as they come."""
    g = nx.Graph()
    g.add_edge("a", "b", length_km=10.0, channels=slots)
    return quantum_network(g, [Request("r", "a", "b", pairs=10 ** 6)], physics=LinkPhysics("double_click", eta_arm=0.2),
                           allocation="shared", faults=faults, memory=QuantumMemory(2, access_time_ps=ACCESS))


def test_memory_utilisation_is_the_time_pairs_wait_in_the_slots():
    """A one-hop request takes each pair as it is heralded: the memory tells its node (one access time), the
    node frees the slot (another), so every pair stored is held for two access times, and a slot's last pair
    may still be held at the end.  The slots generate all the time (busy fraction 1)."""
    T, slots = 20 * MS, 8
    states = qactors.run(_pool(slots), until_ps=T, seed=5).states
    for end in ("a", "b"):
        bank = states[memory_id(end, "a-b")]
        busy, held = utilisation(bank, T)
        assert busy == 1.0
        assert bank["stored"] > 20
        assert 2 * ACCESS * (bank["stored"] - slots) <= held * slots * T <= 2 * ACCESS * bank["stored"]


def test_a_cut_link_is_not_busy_while_it_is_down():
    T, cut, repair = 20 * MS, 5 * MS, 10 * MS
    states = qactors.run(_pool(4, faults=[LinkCut("a-b", cut, repair)]), until_ps=T, seed=5).states
    busy, _ = utilisation(states[memory_id("a", "a-b")], T)
    # down from the cut until the repair, each known to the memory within an attempt period (the fibre's
    # round trip to the station, 10 km x 1.47 / c)
    tau = 10.0 * 1.47 / 299792.458 * 1e12
    assert abs(busy - (1 - (repair - cut) / T)) <= tau / T
    with pytest.raises(qactors.ConfigurationError, match="until_ps"):
        utilisation(states[memory_id("a", "a-b")], 0)


# -- the harness on a small city -------------------------------------------------------------------

CITY = """
[scenario]
name = "small-city"

[run]
duration_ms = 300
seed = 3
routing = "k-shortest"
routing_params = { advert_ms = 1.0, k = 3 }   # k: only for k-shortest; the other policies run without it

[topology]
builder = "grid"
default_node_profile = "node"
default_link_profile = "fibre"

[topology.params]
rows = 3
cols = 3
length_km = 5.0

[profiles.nodes.node]
t2_s = 0.05
memories_per_link = 1

[profiles.links.fibre]
scheme = "double_click"
detection_efficiency = 0.5

[traffic]
rate_hz = 20
duration_ms = 200
pairs = 3
deadline_ms = 80
min_hops = 2

[[faults]]
kind = "link_cut"
link = "n1_1-n1_2"
at_ms = 100

[stress]
policies = ["shortest", "k-shortest"]
loads = [20, 400]
replicas = 2
"""


@pytest.fixture
def city(tmp_path) -> Path:
    path = tmp_path / "city.toml"
    path.write_text(CITY)
    return path


def test_the_plan_checks_everything_before_anything_runs(city):
    p = plan(city)
    assert p.policies == ("shortest", "k-shortest") and p.loads == (20.0, 400.0) and p.replicas == 2
    assert p.fault_times_ps == (100 * MS,) and p.fault_window_ps == 30 * MS  # a tenth of the run
    assert len(p.points) == 8
    assert plan(city, loads="10:40:4", policies=["rate-aware"]).loads == (10.0, 20.0, 30.0, 40.0)
    with pytest.raises(ScenarioError) as e:
        plan(city, policies=["shortest", "no-such"], loads="5:1:3", replicas=0, load_key="traffic.nope")
    keys = [pr.key for pr in e.value.problems]
    assert keys == ["policies (command line)", "load_key", "loads (command line)", "replicas (command line)"]
    assert "not a router" in str(e.value) and "LO:HI:N" in str(e.value)
    bad = city.with_name("bad.toml")
    bad.write_text(CITY.replace('loads = [20, 400]', 'loads = "1:2"').replace('"k-shortest"]', '"k-shortest", "x"]'))
    with pytest.raises(ScenarioError) as e:
        plan(bad)
    assert [pr.key for pr in e.value.problems] == ["stress.loads", "stress.policies[2]"]
    # a point that cannot be built is named with its policy and load
    with pytest.raises(ScenarioError) as e:
        plan(city, load_key="traffic.pairs", loads=[0, 2])
    assert e.value.problems[0].key == "traffic.pairs"
    assert e.value.problems[0].message.endswith("(with policy 'shortest', traffic.pairs = 0)")
    assert len(e.value.problems) == 2  # the same mistake at each policy; the point with 2 pairs is fine


@pytest.fixture(scope="module")
def city_result(tmp_path_factory):
    path = tmp_path_factory.mktemp("city") / "city.toml"
    path.write_text(CITY)
    return stress(path, workers="local")


def test_stress_figures_agree_with_the_raw_requests(city_result):
    r = city_result
    p = r.plan
    assert r.requests.columns == REQUEST_COLUMNS
    assert len(r.summary) == 4 and r.summary["policy"] == ["shortest", "shortest", "k-shortest", "k-shortest"]
    for row in r.summary.records():
        reps = [r.requests.where(policy=row["policy"], load=row["load"], replica=k) for k in range(p.replicas)]
        # served fraction and pairs/s recomputed from the per-request rows, then averaged over replicas
        served = [sum(t["served"]) / len(t) for t in reps]
        assert row["served"] == pytest.approx(sum(served) / len(served))
        pps = [sum(t["pairs"]) / (p.duration_ps * 1e-12) for t in reps]
        assert row["pairs_per_s"] == pytest.approx(sum(pps) / len(pps))
        assert row["served_ci"] == pytest.approx(mean_ci(served)[1], nan_ok=True)
        lat = [x for t in reps for x in t["latency_ms"] if not math.isnan(x)]
        assert 0 < row["latency_p50_ms"] <= row["latency_p99_ms"] <= max(lat) + 1e-9
        assert 0.5 < row["fidelity_mean"] <= 1 and 0 < row["jain"] <= 1
        assert 0 < row["memory_util"] <= row["link_util"] <= row["link_util_max"] <= 1
    # the replicas share seeds across policies: the same arrivals for both
    a = r.requests.where(policy="shortest", load=20.0, replica=1)
    b = r.requests.where(policy="k-shortest", load=20.0, replica=1)
    assert a["start_ms"] == b["start_ms"] and a["seed"] == b["seed"] == [p.seed + 1] * len(a)
    # more load: a smaller share served, more pairs delivered
    for policy in p.policies:
        low, high = r.summary.where(policy=policy, load=20.0), r.summary.where(policy=policy, load=400.0)
        assert high["served"][0] < low["served"][0] and high["pairs_per_s"][0] > low["pairs_per_s"][0]
    text = format_stress(r)
    assert "saturation load (traffic.rate_hz where the served fraction falls below 0.9):" in text
    assert all(f"  {policy}" in text for policy in p.policies)


@pytest.mark.ray
@pytest.mark.slow
def test_ray_tasks_give_the_same_results_as_one_process(ray_session, city_result):
    r = stress(city_result.plan, workers="ray")
    assert r.workers == "ray"
    assert repr(r.requests.rows) == repr(city_result.requests.rows)  # repr: NaN equals NaN
    assert repr(r.summary.rows) == repr(city_result.summary.rows)


def test_the_command_writes_the_table_the_requests_and_the_plots(city, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["stress", str(city), "--out", str(out), "--workers", "local", "--replicas", "1", "--no-progress"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "saturation load" in printed and "k-shortest" in printed
    assert sorted(p.name for p in out.iterdir()) == sorted(STRESS_FILES)
    doc = json.loads((out / "stress.json").read_text())
    assert doc["replicas"] == 1 and set(doc["saturation"]) == {"shortest", "k-shortest"}
    with open(out / "requests.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    pq = pytest.importorskip("pyarrow.parquet")
    table = pq.read_table(out / "requests.parquet").to_pylist()
    assert len(table) == len(rows) and [t["request"] for t in table] == [r["request"] for r in rows]
    assert [t["pairs"] for t in table] == [int(r["pairs"]) for r in rows]
    assert (out / "throughput.png").read_bytes()[:4] == b"\x89PNG"
    # an earlier run's results are never replaced silently
    assert main(args) == 2
    assert "already holds stress results" in capsys.readouterr().err
    assert main(args + ["--overwrite", "--no-plots"]) == 0
    assert not (out / "throughput.png").exists()  # not left to mix with this run's
    assert main(["stress", str(city), "--policies", "nope", "--out", str(tmp_path / "o2")]) == 2
    assert "policies (command line)" in capsys.readouterr().err and not (tmp_path / "o2").exists()


# -- the shipped scenario ---------------------------------------------------------------------------

@pytest.mark.slow
def test_metro_stress_saturates_every_policy_between_its_load_levels(tmp_path, capsys):
    """scenarios/metro-stress.toml, cut down to one replica at two rates around the saturation loads its
    header reports (600 - 700 per second): each of the three policies serves at least 90 % at the lower
    rate and less at the higher."""
    path = ROOT / "scenarios" / "metro-stress.toml"
    assert main(["stress", str(path), "--load", "100,1000", "--replicas", "1", "--workers", "local",
                 "--out", str(tmp_path), "--no-plots", "--no-progress"]) == 0
    doc = json.loads((tmp_path / "stress.json").read_text())
    assert doc["policies"] == ["shortest", "k-shortest", "congestion-aware"]
    for policy, s in doc["saturation"].items():
        assert s["bound"] == "between" and 100 < s["load"] < 1000, (policy, s)
    rows = {(r["policy"], r["load"]): r for r in doc["summary"]}
    for policy in doc["policies"]:
        assert rows[(policy, 100.0)]["served"] >= 0.9 > rows[(policy, 1000.0)]["served"]
        assert rows[(policy, 100.0)]["pps_before_fault"] > 0
    assert "saturation load" in capsys.readouterr().out
