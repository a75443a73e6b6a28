"""Scenario files: every kind of mistake gets its own error (file, key path, value, what is allowed);
valid scenarios run from the command line, write their results and are deterministic; the shipped
scenarios and the documented example run."""

from __future__ import annotations

import csv
import doctest
import json
import math
import pickle
import re
from pathlib import Path

import pytest

import qactors.scenario
from qactors.cli import main
from qactors.scenario import Scenario, ScenarioError, run_scenario
from scenario_text import BASE, edit, only, problems, write

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "scenarios").glob("*.toml"))
# the library's scenarios are run from the CLI and checked by their own tests; here they are only validated
_LIBRARY_TESTS = "".join((ROOT / "tests" / f).read_text() for f in (
    "test_scenario_library.py", "test_scenario_experiments.py", "test_scenario_continental.py",
    "test_scenario_europe_traffic.py", "test_scenario_world_traffic.py"))
RUN_HERE = [p for p in SHIPPED if f'"{p.stem}"' not in _LIBRARY_TESTS]

def test_the_base_scenario_is_valid():
    s = Scenario.from_dict(__import__("tomllib").loads(BASE), file="base")
    assert s.graph.number_of_nodes() == 5 and len(s.requests) == 2
    assert s.graph.edges["a", "r"]["channels"] == 2
    assert s.graph.edges["a", "r"]["physics"].eta_arm == pytest.approx(0.8 * 10 ** (-0.2 * 5 / 10))
    assert s.requests[1].start_ps == 40 * 10 ** 9 and s.requests[1].purification.target_fidelity == 0.95
    assert s.output_dir == Path("results/small")
    assert s.resolved["profiles"]["nodes"]["node"]["t1_s"] == "inf"   # defaults filled in, JSON-ready


# -- one test per kind of mistake ---------------------------------------------------------------

def test_toml_syntax_error_names_line_and_column(tmp_path):
    (p,) = problems(tmp_path, edit("seed = 4", "seed = "))
    assert (p.line, p.column) == (6, 8)  # the line of "seed = "
    assert f"{p.file}:6:8: TOML syntax error: Invalid value; allowed: TOML 1.0" in str(p)


def test_unknown_key_suggests_the_closest(tmp_path):
    p = only(problems(tmp_path, edit("pairs = 20", "pairs = 20\nmin_fidelty = 0.9")), "requests[0].min_fidelty",
             0.9, "unknown key, set to 0.9 (did you mean 'min_fidelity'?)", "allowed keys: id, source, dest")
    assert "min_fidelity" in p.message
    only(problems(tmp_path, edit("[run]", "[runs]\nx = 1\n[run]")), "runs", {"x": 1}, "did you mean 'run'?")


def test_missing_required_keys(tmp_path):
    only(problems(tmp_path, edit('name = "small"', "")), "scenario.name", None, "is missing; required: a name")
    only(problems(tmp_path, edit('source = "a"\n', "")), "requests[0].source", None,
         "is missing; required: a node id")
    only(problems(tmp_path, edit('scheme = "double_click"', "")), "profiles.links.fibre.scheme", None,
         "'double_click', 'single_click', 'midpoint_source', 'sender_receiver'")


@pytest.mark.parametrize("old, new, key, value, allowed", [
    ("pairs = 20", 'pairs = "ten"', "requests[0].pairs", "ten",
     "(string) has the wrong type; allowed: an integer in [1, 1000000000000]"),
    ("pairs = 20", "pairs = 20.0", "requests[0].pairs", 20.0, "(float) has the wrong type; allowed: an integer"),
    ("seed = 4", "seed = true", "run.seed", True, "(boolean) has the wrong type; allowed: an integer in [0, "),
    ("t2_s = 1.0", "t2_s = [1.0]", "profiles.nodes.node.t2_s", [1.0], 'allowed: a finite number > 0 or "inf"'),
    ('id = "first"', "id = 1", "requests[0].id", 1, "(integer) has the wrong type; allowed: a name for the request"),
])
def test_wrong_types(tmp_path, old, new, key, value, allowed):
    only(problems(tmp_path, edit(old, new)), key, value, allowed)


@pytest.mark.parametrize("old, new, key, value, allowed", [
    ("length_km = 5.0", "length_km = -5.0", "topology.links[2].length_km", -5.0, "a finite number in (0, 1e+06]"),
    ("detection_efficiency = 0.8", "detection_efficiency = 1.2", "profiles.links.fibre.detection_efficiency", 1.2,
     "a finite number in (0, 1]"),
    ("visibility = 0.95", "visibility = -0.1", "profiles.links.fibre.visibility", -0.1, "a finite number in [0, 1]"),
    ("target_fidelity = 0.95", "target_fidelity = 1.2", "requests[1].purification.target_fidelity", 1.2,
     "a finite number in (0.5, 1]"),
    ("pairs = 20", "pairs = 20\nmin_fidelity = 1.01", "requests[0].min_fidelity", 1.01, "a finite number in [0, 1]"),
    ("duration_ms = 100", "duration_ms = 0", "run.duration_ms", 0, "a finite number > 0"),
    ("memories_per_link = 2", "memories_per_link = 0", "profiles.nodes.node.memories_per_link", 0,
     "an integer in [1, 10000]"),
    ("t2_s = 1.0", "t2_s = nan", "profiles.nodes.node.t2_s", "nan", "a finite number > 0"),
])
def test_out_of_range_values(tmp_path, old, new, key, value, allowed):
    found = problems(tmp_path, edit(old, new))
    if value == "nan":
        assert [p.key for p in found] == [key] and "nan is not allowed" in str(found[0]) and allowed in str(found[0])
        return
    only(found, key, value, allowed)


def test_values_not_in_a_list_suggest_the_closest(tmp_path):
    only(problems(tmp_path, edit("seed = 4", 'seed = 4\nlink_model = "attempt"')), "run.link_model", "attempt",
         "allowed: one of 'attempts', 'geometric' (did you mean 'attempts'?)")
    only(problems(tmp_path, edit("seed = 4", 'seed = 4\nbackend = "gpu"')), "run.backend", "gpu",
         "'local', 'ray', 'ray:K'")
    only(problems(tmp_path, edit('name = "small"', 'name = "two words"')), "scenario.name", "two words",
         "letters, digits")


def test_undefined_profiles_are_named_where_they_are_used(tmp_path):
    only(problems(tmp_path, edit('length_km = 5.0', 'length_km = 5.0\nprofile = "fiber"')),
         "topology.links[2].profile", "fiber", "is not defined (used by 1 link: (c, d))",
         "allowed: one of the [profiles.links.NAME] tables ['fibre'] (did you mean 'fibre'?)")
    only(problems(tmp_path, edit('id = "r"', 'id = "r"\nprofile = "repeater"')), "topology.nodes[1].profile",
         "repeater", "[profiles.nodes.NAME] tables ['node']")
    only(problems(tmp_path, edit("[topology]", '[topology]\ndefault_node_profile = "nv"')),
         "topology.default_node_profile", "nv", "used by 5 nodes")


def test_unknown_nodes_in_requests(tmp_path):
    only(problems(tmp_path, edit('dest = "b"', 'dest = "B"')), "requests[0].dest", "B",
         "is not a node of the topology; allowed: a node of the topology (did you mean 'b'?)")
    only(problems(tmp_path, edit('b = "r"', 'b = "x"')), "topology.links[0].b", "x",
         "is not a node; allowed: a node declared in [[topology.nodes]]")


def test_disconnected_source_and_destination(tmp_path):
    only(problems(tmp_path, edit('dest = "b"', 'dest = "d"')), "requests[0].dest", "d",
         "is not connected to the source; allowed: a node connected to the source 'a'")


def test_all_problems_are_reported_at_once(tmp_path):
    text = edit("seed = 4", "seed = -1\nlink_model = 3")
    text = edit("visibility = 0.95", "visibility = 2", text)
    text = edit("target_fidelity = 0.95", "target_fidelity = 1.5\nlevel = \"links\"", text)
    keys = [p.key for p in problems(tmp_path, text)]
    assert keys == ["run.seed", "run.link_model", "profiles.links.fibre.visibility",
                    "requests[1].purification.target_fidelity", "requests[1].purification.level"]
    path = tmp_path / "scenario.toml"
    with pytest.raises(ScenarioError) as info:
        Scenario.from_toml(path)
    assert str(info.value).startswith(f"5 problems in scenario {path}:")
    copy = pickle.loads(pickle.dumps(info.value))  # crosses process boundaries intact
    assert copy.problems == info.value.problems and copy.field == "run.seed" and copy.value == -1


def test_fields_the_network_layer_cannot_express(tmp_path):
    only(problems(tmp_path, edit("t2_s = 1.0", "t2_s = 1.0\nstorage_fidelity = 0.99")),
         "profiles.nodes.node.storage_fidelity", 0.99, "cannot be expressed", "T1, T2 and access time only")
    only(problems(tmp_path, edit("visibility = 0.95", "visibility = 0.95\neta_arm = 0.5")),
         "profiles.links.fibre.eta_arm", 0.5, "computed for each link from its length_km")
    differing = edit('id = "r"', 'id = "r"\nprofile = "rep"').replace('scheme = "double_click"', 'scheme = '
                                                                       '"double_click"\nrefractive_index = 1.5') + (
        '\n[profiles.links.other]\nscheme = "double_click"\n')
    differing = differing.replace('b = "d"', 'b = "d"\nprofile = "other"') + (
        "\n[profiles.nodes.rep]\nt2_s = 2.0\nswap_success_probability = 0.5\nmemories_per_link = 2\n")
    only(problems(tmp_path, differing), "profiles.links.other.refractive_index", 1.47,
         "differs from profile 'fibre' (1.5)", "takes one refractive index for all links")


def test_each_node_has_its_profiles_memory_and_swap_probability(tmp_path):
    text = edit('id = "r"', 'id = "r"\nprofile = "rep"') + (
        "\n[profiles.nodes.rep]\nt2_s = 0.002\nswap_success_probability = 0.9\nmemories_per_link = 2\n")
    g = Scenario.from_toml(write(tmp_path, text)).graph
    assert g.nodes["r"]["memory"].t2_s == 0.002 and g.nodes["a"]["memory"].t2_s == 1.0
    assert g.nodes["r"]["swap_success_probability"] == 0.9 and g.nodes["b"]["swap_success_probability"] == 0.5


def test_memories_are_reserved_or_shared_with_an_access_time_from_the_node_profiles(tmp_path):
    base = Scenario.from_toml(write(tmp_path, BASE))
    assert {d["allocation"] for _, _, d in base.graph.edges(data=True)} == {"reserved"}
    assert base.graph.nodes["r"]["memory"].access_time_ps == 1_000_000  # 1 us by default
    shared = edit("memories_per_link = 2", 'memories_per_link = 2\nallocation = "shared"\naccess_time_us = 0.5')
    scenario = Scenario.from_toml(write(tmp_path, shared, "shared.toml"))
    assert {d["allocation"] for _, _, d in scenario.graph.edges(data=True)} == {"shared"}
    assert scenario.graph.nodes["r"]["memory"].access_time_ps == 500_000
    run = run_scenario(scenario.with_overrides(progress=False))
    assert run.result.states["a-r/station"]["shared"] and run.result.states["a/memory:a-r"]["allocation"] == "shared"
    assert run.result.states["a"]["owner"] == {}  # nothing reserved: both requests draw on the pools
    assert run.result.states["a"]["roles"]["first"].outcome == "served: 20 pairs"
    only(problems(tmp_path, edit("memories_per_link = 2", 'memories_per_link = 2\nallocation = "pooled"')),
         "profiles.nodes.node.allocation", "pooled", "'reserved'", "'shared'")
    mixed = edit('id = "r"', 'id = "r"\nprofile = "rep"', shared) + (
        "\n[profiles.nodes.rep]\nt2_s = 1.0\nswap_success_probability = 0.5\nmemories_per_link = 2\n")
    only(problems(tmp_path, mixed), "profiles.nodes.node.allocation", "shared", "link (a, r)",
         "the same allocation in the profiles of both ends")
    tree = shared.replace('channels = 2\n', 'channels = 2\npolicy = "nested"\n', 1).replace(
        "[requests.purification]\ntarget_fidelity = 0.95\n", "")
    found = problems(tmp_path, tree)
    assert [p.key for p in found] == ["requests[1].policy"] and "shared memories" in str(found[0])


def test_scheme_specific_and_inconsistent_profile_fields(tmp_path):
    only(problems(tmp_path, edit('scheme = "double_click"', 'scheme = "single_click"')),
         "profiles.links.fibre.bright_state_population", None, "is missing; required for scheme 'single_click'")
    only(problems(tmp_path, edit("visibility = 0.95", "visibility = 0.95\nmean_photon_number = 0.1")),
         "profiles.links.fibre.mean_photon_number", 0.1, "is not used by scheme 'double_click'",
         "only with scheme 'midpoint_source'")
    only(problems(tmp_path, edit("t2_s = 1.0", "t1_s = 0.2\nt2_s = 1.0")), "profiles.nodes.node.t2_s", 1.0,
         "t2_s <= 2 * t1_s = 0.4")


def test_request_cross_checks(tmp_path):
    only(problems(tmp_path, edit("start_ms = 40", "start_ms = 40\ndeadline_ms = 10")), "requests[1].deadline_ms",
         10, "refused by the request's check", "deadline_ps = 10000000000", "later than start_ps")
    only(problems(tmp_path, edit("start_ms = 40", "start_ms = 100")), "requests[1].start_ms", 100,
         "before the end of the run (run.duration_ms = 100)")
    only(problems(tmp_path, edit('application = "bbm92"', 'policy = "nested"\napplication = "teleport"')),
         "requests[0].application", "teleport", "with policy 'nested'", "a tree restarts in step")
    only(problems(tmp_path, edit("channels = 2", "channels = 1")), "requests[1].channels", 1,
         "an int >= 2: purification needs two pairs at once")
    only(problems(tmp_path, edit("channels = 2", "channels = 3")), "requests[1].channels", 3,
         "at most 2, the memories per end of link (a, r) on its path")
    only(problems(tmp_path, edit('id = "second"', 'id = "first"')), "requests[1].id", "first",
         "is already used; allowed: an id no other request has (requests[0] has it)")


def test_topology_kinds_and_builder_params(tmp_path):
    builder = BASE.split("[topology]")[0] + '[topology]\nbuilder = "line"\nparams = { n = 3 }\n' + \
        "[profiles" + BASE.split("[profiles", 1)[1]
    builder = builder.replace('"a"', '"n0"').replace('"b"', '"n2"')
    assert Scenario.from_toml(write(tmp_path, builder)).graph.number_of_nodes() == 3
    only(problems(tmp_path, edit("params = { n = 3 }", "params = { n = 1 }", builder)), "topology.params.n", 1,
         "builder 'line' refused it: n = 1 is not allowed; allowed: an int in [2, 1000000]")
    only(problems(tmp_path, edit("params = { n = 3 }", "params = { n = 3, lenght_km = 2 }", builder)),
         "topology.params.lenght_km", 2, "did you mean 'length_km'?")
    missing = problems(tmp_path, edit('builder = "line"\nparams = { n = 3 }', 'builder = "metro"', builder))
    assert [p.key for p in missing] == ["topology.params.sites", "topology.params.area_km", "topology.params.seed"]
    assert all("is missing; required by builder 'metro'" in str(p) for p in missing)
    only(problems(tmp_path, edit('builder = "line"', 'builder = "line"\ntopohub = "backbone/europe"', builder)),
         "topology.topohub", "backbone/europe", "cannot be combined with topology.builder")
    only(problems(tmp_path, edit("[topology]", '[topology]\nbuilder = "ring"')), "topology.links", [
        {"a": "a", "b": "r", "length_km": 10.0}, {"a": "r", "b": "b", "length_km": 10.0},
        {"a": "c", "b": "d", "length_km": 5.0}], "cannot be combined with topology.builder")


def test_topology_file_is_relative_to_the_scenario(tmp_path, monkeypatch):
    import networkx as nx
    g = nx.Graph()
    g.add_edge("a", "r", length_km=10.0)
    g.add_edge("r", "b", length_km=10.0)
    g.add_edge("c", "d", length_km=5.0)
    (tmp_path / "nets").mkdir()
    nx.write_graphml(g, tmp_path / "nets" / "small.graphml")
    text = BASE.split("[topology]")[0] + '[topology]\nfile = "../nets/small.graphml"\n' + \
        "[profiles" + BASE.split("[profiles", 1)[1]
    path = write(tmp_path, text, "scenarios/s.toml")
    monkeypatch.chdir(tmp_path / "nets")  # a different working folder: the path follows the scenario file
    with pytest.raises(ScenarioError) as info:  # it leaves the scenario's folder: refused unless allowed
        Scenario.from_toml(path)
    only(info.value.problems, "topology.file", "../nets/small.graphml", "leaves the scenario's folder",
         "--allow-outside-paths")
    assert sorted(Scenario.from_toml(path, allow_outside=True).graph.nodes) == ["a", "b", "c", "d", "r"]
    g.edges["c", "d"]["channels"] = 4  # per-link memories come from the node profiles, not from the file
    nx.write_graphml(g, tmp_path / "nets" / "small.graphml")
    with pytest.raises(ScenarioError) as info:
        Scenario.from_toml(path, allow_outside=True)
    only(info.value.problems, "topology.file", "../nets/small.graphml", "sets 'channels' on 1 link (e.g. (c, d))",
         "set memories_per_link in the node profiles instead")
    write(tmp_path, text.replace("small.graphml", "missing.graphml"), "scenarios/s.toml")
    with pytest.raises(ScenarioError) as info:
        Scenario.from_toml(path, allow_outside=True)
    only(info.value.problems, "topology.file", "../nets/missing.graphml", "is not a file",
         "relative to the scenario file's folder")


def test_purification_across_inserted_repeaters(tmp_path):
    """Repeater ids contain '~' (a~r#1): purified pairs must still get unique names."""
    text = edit("[topology]", "[topology]\nmax_segment_km = 6.0")
    scenario = Scenario.from_toml(write(tmp_path, text))
    assert "a~r#1" in scenario.graph
    run = run_scenario(scenario)
    assert run.reports["second"]["outcome"] == "served: 5 pairs"
    assert run.reports["second"]["mean_fidelity"] >= 0.95 ** 4 - 1e-9


def test_unreadable_files(tmp_path):
    with pytest.raises(ScenarioError) as info:
        Scenario.from_toml(tmp_path / "nowhere.toml")
    assert "nowhere.toml: cannot read the scenario file" in str(info.value)
    path = tmp_path / "latin1.toml"
    path.write_bytes('[scenario]\nname = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(ScenarioError, match="not UTF-8"):
        Scenario.from_toml(path)


# -- running ----------------------------------------------------------------------------------------

def test_run_from_the_cli_writes_the_outputs(tmp_path, capsys):
    path = write(tmp_path, BASE)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"first\s+a -> b\s+2\s+served: 20 pairs\s+20", printed) and "bbm92" in printed
    assert "wrote summary.json, deliveries.csv, run.json" in printed
    summary = json.loads((out / "summary.json").read_text())
    first, second = summary["requests"]["first"], summary["requests"]["second"]
    assert first["outcome"] == "served: 20 pairs" and first["path"] == ["a", "r", "b"]
    assert first["key"]["protocol"] == "bbm92" and first["key"]["sifted_bits"] > 0 and "rate_bps" in first["key"]
    # both links purified to >= 0.95: a swap keeps at least the product of the Phi+ weights (memories barely decay)
    assert second["outcome"] == "served: 5 pairs" and second["mean_fidelity"] >= 0.9
    with open(out / "deliveries.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["request", "end", "time_ps", "fidelity", "pair_id"]
    at_b = [r for r in rows if r["request"] == "first" and r["end"] == "b"]
    at_a = {r["pair_id"] for r in rows if r["request"] == "first" and r["end"] == "a"}
    assert len(at_b) == 20 and {r["pair_id"] for r in at_b} <= at_a
    assert all(0.25 <= float(r["fidelity"]) <= 1 and int(r["time_ps"]) > 0 for r in rows)
    run = json.loads((out / "run.json").read_text())
    assert run["seed"] == 4 and run["backend"] == "local" and run["events"] > 0 and len(run["digest"]) == 64
    assert "wall_s" in run and run["scenario"]["outputs"]["dir"] == str(out)
    assert run["scenario"]["requests"][1]["purification"] == {"scheme": "dejmps", "mode": "recurrence",
                                                              "level": "link", "target_fidelity": 0.95,
                                                              "max_rounds": 3}


def test_results_are_never_overwritten_without_asking(tmp_path, capsys):
    path = write(tmp_path, BASE)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["run", str(path), "--out", str(out), "--no-progress"]) == 0
    before = (out / "run.json").read_text()
    capsys.readouterr()
    assert main(["run", str(path), "--out", str(out), "--no-progress", "--seed", "9"]) == 2
    err = capsys.readouterr().err
    assert "outputs.dir" in err and "already holds results (summary.json, deliveries.csv, run.json)" in err
    assert "--overwrite" in err and (out / "run.json").read_text() == before
    assert main(["run", str(path), "--out", str(out), "--no-progress", "--seed", "9", "--overwrite"]) == 0
    assert json.loads((out / "run.json").read_text())["seed"] == 9
    assert (out / "notes.txt").read_text() == "mine" and not list(out.glob(".*.tmp"))


def test_an_invalid_scenario_writes_nothing(tmp_path, capsys):
    path = write(tmp_path, edit("visibility = 0.95", "visibility = 1.5"))
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: profiles.links.fibre.visibility: 1.5 is out of range" in err
    assert not out.exists()


def test_command_line_overrides_are_checked(tmp_path, capsys):
    path = write(tmp_path, BASE)
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--seed", "-3"]) == 2
    assert "run.seed (command line): -3 is out of range; allowed: an integer in [0, 9223372036854775807]" in \
        capsys.readouterr().err
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--backend", "gpu"]) == 2
    assert "run.backend (command line): 'gpu' is not allowed" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_same_seed_same_digest(tmp_path):
    path = write(tmp_path, BASE)
    digests = []
    for name, seed in (("one", "4"), ("two", "4"), ("three", "5")):
        assert main(["run", str(path), "--out", str(tmp_path / name), "--no-progress", "--seed", seed]) == 0
        digests.append(json.loads((tmp_path / name / "run.json").read_text())["digest"])
    assert digests[0] == digests[1] != digests[2]
    assert (tmp_path / "one" / "deliveries.csv").read_text() == (tmp_path / "two" / "deliveries.csv").read_text()


def test_progress_bar_in_simulated_time(tmp_path, capsys):
    assert main(["run", str(write(tmp_path, BASE)), "--out", str(tmp_path / "o")]) == 0
    assert "simulating: 100% of 100 ms simulated" in capsys.readouterr().err


def test_check_exit_codes(tmp_path, capsys):
    good = write(tmp_path, BASE, "good.toml")
    assert main(["check", str(good)]) == 0
    assert f"{good}: valid; scenario 'small': 5 nodes, 3 links, 2 requests" in capsys.readouterr().out
    bad = write(tmp_path, edit('dest = "b"', 'dest = "B"'), "bad.toml")
    assert main(["check", str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and f"{bad}: requests[0].dest: 'B' is not a node" in captured.err
    assert main(["check", str(tmp_path / "missing.toml")]) == 2
    assert not (tmp_path / "results").exists()


def test_every_shipped_scenario_is_valid_and_cites_its_sources():
    assert len(RUN_HERE) >= 2 and len(SHIPPED) > len(RUN_HERE)
    for path in SHIPPED:
        scenario = Scenario.from_toml(path)
        assert scenario.sources and scenario.name == path.stem, path


@pytest.mark.parametrize("path", RUN_HERE, ids=[p.stem for p in RUN_HERE])
def test_shipped_scenarios_run(path, tmp_path, capsys):
    assert main(["run", str(path), "--out", str(tmp_path / path.stem), "--no-progress"]) == 0
    summary = json.loads((tmp_path / path.stem / "summary.json").read_text())
    if "key_requests" in summary:
        assert summary["key_requests"] and all(r["complete"] for r in summary["key_requests"].values())
    else:
        reports = [summary["requests"]] if "sweep" not in summary else [p["requests"] for p in
                                                                         summary["sweep"]["points"]]
        assert all(r and all(x["outcome"].startswith("served") for x in r.values()) for r in reports)
    scenario = Scenario.from_toml(path)
    assert scenario.sources and scenario.name == path.stem


def test_shipped_scenarios_are_the_promised_networks():
    metro_demo = Scenario.from_toml(ROOT / "scenarios" / "metro-demo.toml")
    assert metro_demo.graph.number_of_nodes() == 12 and len(metro_demo.requests) == 3
    chain = Scenario.from_toml(ROOT / "scenarios" / "chain-nested.toml")
    assert chain.graph.number_of_edges() == 8 and chain.requests[0].policy == "nested"
    assert chain.notes == ("7 repeaters inserted (max_segment_km = 10)",)


def test_the_documented_example_runs(tmp_path):
    doc = (ROOT / "docs" / "scenario-format.md").read_text()
    block = re.findall(r"```toml\n(.*?)```", doc, flags=re.S)[0]  # the complete example (the others are parts)
    scenario = Scenario.from_toml(write(tmp_path, block)).with_overrides(output_dir=tmp_path / "o")
    run = run_scenario(scenario)
    assert {r: rep["outcome"] for r, rep in run.reports.items()} == {
        "teleport": "served: 100 pairs", "key": "served: 5 pairs", "purified": "served: 20 pairs"}
    assert run.reports["purified"]["mean_fidelity"] >= 0.9


def test_module_doctest():
    result = doctest.testmod(qactors.scenario)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.ray
def test_a_scenario_gives_the_same_digest_on_ray(ray_session, tmp_path):
    path = write(tmp_path, BASE)
    for name, backend in (("local", "local"), ("ray", "ray:2")):
        assert main(["run", str(path), "--out", str(tmp_path / name), "--no-progress", "--backend", backend]) == 0
    local, ray = (json.loads((tmp_path / n / "run.json").read_text()) for n in ("local", "ray"))
    assert local["digest"] == ray["digest"] and ray["ran_on"] == "ray" and ray["shards"] == 2


# -- channels, Raman noise, BSM visibility, sweeps and key requests ----------------------------

FREE_SPACE = 'channel = "free_space"\nwavelength_nm = 785.0\ntx_aperture_m = 0.05\nrx_aperture_m = 0.1'


def test_free_space_and_satellite_channels(tmp_path):
    s = Scenario.from_toml(write(tmp_path, edit("visibility = 0.95", f"visibility = 0.95\n{FREE_SPACE}")))
    from qactors.hardware.channels import FreeSpaceLink
    eta = FreeSpaceLink(5e3, 785.0, 0.05, 0.1).transmissivity  # a 10 km link: each photon crosses 5 km of air
    assert s.graph.edges["a", "r"]["physics"].eta_arm == pytest.approx(0.8 * eta, rel=1e-12)
    found = problems(tmp_path, edit("visibility = 0.95", 'visibility = 0.95\nchannel = "free_space"'))
    assert [p.key for p in found] == [f"profiles.links.fibre.{k}" for k in ("wavelength_nm", "tx_aperture_m",
                                                                           "rx_aperture_m")]
    assert all("is missing; required on channel 'free_space'" in str(p) for p in found)
    # keys of one channel on another, and loss given twice
    found = problems(tmp_path, edit("visibility = 0.95", f"visibility = 0.95\n{FREE_SPACE}\naltitude_km = 500"
                                    "\nattenuation_db_per_km = 0.2"))
    assert sorted(p.key for p in found) == ["profiles.links.fibre.altitude_km",
                                            "profiles.links.fibre.attenuation_db_per_km"]
    assert all("is not used on channel 'free_space'" in str(p) for p in found)
    satellite = ('channel = "satellite"\naltitude_km = 500\nelevation_deg = [30, 45]\nwavelength_nm = 810\n'
                 'tx_aperture_m = 0.3\nrx_aperture_m = [1.2, 1.8]')
    only(problems(tmp_path, edit("visibility = 0.95", f"visibility = 0.95\n{satellite}")),
         "profiles.links.fibre.channel", "satellite", "cannot be used with scheme 'double_click'",
         "only with scheme 'midpoint_source'")
    only(problems(tmp_path, edit('scheme = "double_click"', 'scheme = "midpoint_source"').replace(
        "visibility = 0.95", "visibility = 0.95\n" + satellite.replace("[30, 45]", "[30, 45, 60]"))),
        "profiles.links.fibre.elevation_deg", [30, 45, 60], "has 3 entries", "an array of two such numbers")
    only(problems(tmp_path, edit('scheme = "double_click"', 'scheme = "midpoint_source"').replace(
        "visibility = 0.95", "visibility = 0.95\n" + satellite.replace("[30, 45]", "[30, 95]"))),
        "profiles.links.fibre.elevation_deg[1]", 95, "is out of range", "(0, 90]")
    ok = Scenario.from_toml(write(tmp_path, edit('scheme = "double_click"', 'scheme = "midpoint_source"').replace(
        "visibility = 0.95", "visibility = 0.95\n" + satellite)))
    from qactors.hardware.channels import SatelliteDownlink
    down = [SatelliteDownlink(500, e, 810, 0.3, r).transmissivity for e, r in ((30, 1.2), (45, 1.8))]
    assert ok.graph.edges["a", "r"]["physics"].eta_arm == pytest.approx(0.8 * math.sqrt(down[0] * down[1]))


def test_raman_noise_keys(tmp_path):
    raman = "classical_launch_power_dbm = 10.0\nfilter_bandwidth_nm = 0.1\ndetection_window_ns = 1.0"
    noisy = Scenario.from_toml(write(tmp_path, edit("visibility = 0.95", f"visibility = 0.95\n{raman}")))
    from qactors.hardware.channels import Fibre
    n = Fibre(5.0).raman_noise_mean_photons(10.0, 0.1, 1e-9)  # 10 dBm = 10 mW over each 5 km arm
    assert noisy.graph.edges["a", "r"]["physics"].dark_count_probability == pytest.approx(1 - math.exp(-n))
    only(problems(tmp_path, edit("visibility = 0.95", "visibility = 0.95\nclassical_launch_power_dbm = 10.0\n"
                                 "filter_bandwidth_nm = 0.1")),
         "profiles.links.fibre.detection_window_ns", None, "required with classical_launch_power_dbm")
    only(problems(tmp_path, edit("visibility = 0.95", "visibility = 0.95\nfilter_bandwidth_nm = 0.1")),
         "profiles.links.fibre.filter_bandwidth_nm", 0.1, "not used without classical_launch_power_dbm")
    only(problems(tmp_path, edit("visibility = 0.95", f"visibility = 0.95\n{raman}\n{FREE_SPACE}")),
         "profiles.links.fibre.classical_launch_power_dbm", 10.0, "cannot be used on channel 'free_space'")


def test_bsm_visibility_only_for_teleportation(tmp_path):
    only(problems(tmp_path, edit('application = "bbm92"', 'application = "bbm92"\nbsm_visibility = 0.7')),
         "requests[0].bsm_visibility", 0.7, "only teleportation makes a Bell-state measurement")
    s = Scenario.from_toml(write(tmp_path, edit('application = "bbm92"', 'application = "teleport"\n'
                                                'bsm_visibility = 0.7')))
    assert s.requests[0].bsm_visibility == 0.7


def test_sweeps(tmp_path):
    sweep = '\n[sweep]\nkey = "profiles.links.fibre.visibility"\nvalues = [0.8, 0.9, 1.0]\n'
    s = Scenario.from_toml(write(tmp_path, BASE + sweep))
    assert [v for v, _ in s.sweep] == [0.8, 0.9, 1.0]
    assert [p.graph.edges["a", "r"]["physics"].visibility for _, p in s.sweep] == [0.8, 0.9, 1.0]
    assert "sweep of profiles.links.fibre.visibility over 3 values" in s.describe()
    only(problems(tmp_path, BASE + sweep.replace("1.0]", "1.5]")), "profiles.links.fibre.visibility", 1.5,
         "is out of range", "(at sweep point profiles.links.fibre.visibility = 1.5, sweep.values[2])")
    only(problems(tmp_path, BASE + sweep.replace("links.fibre", "links.fiber")), "sweep.key",
         "profiles.links.fiber.visibility", "does not name a place in this file")
    only(problems(tmp_path, BASE + sweep.replace("[0.8, 0.9, 1.0]", "[0.8, 0.8]")), "sweep.values", [0.8, 0.8],
         "repeats a value")
    only(problems(tmp_path, BASE + sweep.replace("[0.8, 0.9, 1.0]", '["high"]')), "sweep.values", ["high"],
         "a non-empty array of numbers")
    only(problems(tmp_path, BASE + sweep.replace("profiles.links.fibre.visibility", "run.seed")), "sweep.key",
         "run.seed", "cannot be swept")
    # a sweep over an array element, run from the CLI: one summary with a point per value
    sweep = '\n[sweep]\nkey = "requests[0].pairs"\nvalues = [3, 6]\n'
    path = write(tmp_path, BASE + sweep)
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--no-progress", "--seed", "9"]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [p["requests"]["first"]["pairs"] for p in summary["sweep"]["points"]] == [3, 6]
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["seed"] == 9 and len(run["points"]) == 2
    header = (tmp_path / "out" / "deliveries.csv").read_text().splitlines()[0]
    assert header == "sweep_value,request,end,time_ps,fidelity,pair_id"


KEYS = BASE.split("[profiles.nodes.node]")[0].replace("duration_ms = 100", "duration_ms = 3000") + """\
[profiles.nodes.node]

[profiles.links.fibre]
scheme = "decoy_bb84"

[[key_requests]]
id = "k"
source = "a"
dest = "b"
bits = 64
count = 3
"""


def test_key_requests(tmp_path):
    s = Scenario.from_toml(write(tmp_path, KEYS))
    assert s.kind == "key" and "1 key request" in s.describe()
    path = write(tmp_path, KEYS, "keys.toml")
    assert main(["run", str(path), "--out", str(tmp_path / "keys"), "--no-progress"]) == 0
    summary = json.loads((tmp_path / "keys" / "summary.json").read_text())
    report = summary["key_requests"]["k"]
    assert report["complete"] and report["keys_match"] and report["path"] == ["a", "r", "b"]
    rows = (tmp_path / "keys" / "deliveries.csv").read_text().splitlines()
    assert rows[0] == "request,end,time_ps,bits,key_id" and len(rows) == 4
    only(problems(tmp_path, KEYS + '\n[[requests]]\nid = "e"\nsource = "a"\ndest = "b"\n'), "requests", None,
         "both are given; required: exactly one of [[requests]]")
    only(problems(tmp_path, KEYS.replace('scheme = "decoy_bb84"', 'scheme = "double_click"')),
         "profiles.links.fibre.scheme", "double_click", "allowed: 'decoy_bb84'")
    only(problems(tmp_path, edit('scheme = "double_click"', 'scheme = "decoy_bb84"').replace(
        "visibility = 0.95\n", "")), "profiles.links.fibre.scheme", "decoy_bb84",
        "a scenario with [[requests]] runs entanglement links")
    only(problems(tmp_path, KEYS.replace('scheme = "decoy_bb84"', 'scheme = "decoy_bb84"\nkey_rate_bps = 100\n'
                                         'mu = 0.5')), "profiles.links.fibre.mu", 0.5, "not used with key_rate_bps")
    only(problems(tmp_path, KEYS.replace('scheme = "decoy_bb84"', 'scheme = "decoy_bb84"\nmu = 0.01')),
         "profiles.links.fibre.nu", 0.05, "gives invalid decoy-state settings")
    only(problems(tmp_path, KEYS.replace('scheme = "decoy_bb84"', 'scheme = "decoy_bb84"\nvisibility = 0.9')),
         "profiles.links.fibre.visibility", 0.9, "is not used by scheme 'decoy_bb84'")
    only(problems(tmp_path, KEYS.replace("bits = 64", "bits = 0")), "key_requests[0].bits", 0, "is out of range")
    only(problems(tmp_path, KEYS.replace('dest = "b"', 'dest = "d"')), "key_requests[0].dest", "d",
         "is not connected to the source")


def test_keys_that_would_be_ignored_are_refused(tmp_path):
    only(problems(tmp_path, edit("seed = 4", "seed = 4\nkey_tick_ms = 5")), "run.key_tick_ms", 5,
         "is not used here", "only in a scenario with [[key_requests]]")
    only(problems(tmp_path, KEYS.replace("duration_ms = 3000", 'duration_ms = 3000\nlink_model = "attempts"')),
         "run.link_model", "attempts", "only in a scenario with [[requests]]")
    only(problems(tmp_path, KEYS.replace('scheme = "decoy_bb84"', 'scheme = "decoy_bb84"\nkey_rate_bps = 100\n'
                                         'attenuation_db_per_km = 0.2')),
         "profiles.links.fibre.attenuation_db_per_km", 0.2, "not used with key_rate_bps")
    only(problems(tmp_path, edit("visibility = 0.95", "visibility = 0.95\ncycle_ns = 0.0001")),
         "profiles.links.fibre.cycle_ns", 0.0001, "at least 0.001 (1 ps")
    satellite = ('channel = "satellite"\naltitude_km = 500\nelevation_deg = 40\nwavelength_nm = 810\n'
                 'tx_aperture_m = 0.3\nrx_aperture_m = 1.0')
    cut = edit('scheme = "double_click"', 'scheme = "midpoint_source"').replace(
        "visibility = 0.95", "visibility = 0.95\n" + satellite).replace("[topology]\n", "[topology]\nmax_segment_km = 4\n")
    only(problems(tmp_path, cut), "topology.max_segment_km", 4, "a satellite link is not a fibre")
    # a link too long to make key is named in a note, not silently left to stall
    far = Scenario.from_toml(write(tmp_path, KEYS.replace("length_km = 10.0", "length_km = 400.0", 1)))
    assert any("make no key" in note and "(a, r)" in note for note in far.notes)


def test_sweep_mistakes_are_reported_once(tmp_path):
    sweep = '\n[sweep]\nkey = "profiles.links.fibre.visibility"\nvalues = [0.8, 0.9]\n'
    found = problems(tmp_path, edit("pairs = 20", "pairs = 0") + sweep)
    assert [p.key for p in found] == ["requests[0].pairs"] and "sweep point" not in str(found[0])
    only(problems(tmp_path, BASE + sweep.replace("profiles.links.fibre.visibility", "profiles.links.fibre.scheme")),
         "sweep.key", "profiles.links.fibre.scheme", "does not name a number", "'double_click', a string")


STORAGE = """\
[scenario]
name = "storage"

[run]
duration_ms = 20
progress = false

[topology]
default_link_profile = "lab"

[[topology.nodes]]
id = "dot"
profile = "source"

[[topology.nodes]]
id = "mem"
profile = "memory"

[[topology.links]]
a = "dot"
b = "mem"
length_km = 1.0

[profiles.nodes.source]
repetition_rate_mhz = 100.0
photon_probability = 0.05

[profiles.nodes.memory]
memory_efficiency = 0.5
memory_lifetime_ns = 2.0
detection_window_ns = 2.0

[profiles.links.lab]
scheme = "transmission"

[[storage_requests]]
id = "s"
source = "dot"
dest = "mem"
pulses = 400000
storage_ns = 1.0
"""


def test_storage_requests_run_from_the_cli(tmp_path, capsys):
    s = Scenario.from_toml(write(tmp_path, STORAGE))
    assert s.kind == "storage" and "1 storage request" in s.describe() and "photon storage" in s.describe()
    memory = s.graph.nodes["mem"]["memory"]
    assert (memory.decay, memory.bandwidth_ghz, memory.noise_photons) == ("exponential", math.inf, 0.0)
    assert s.graph.nodes["mem"]["window_ps"] == 2000 and s.graph.nodes["dot"]["repetition_rate_hz"] == 1e8
    path = write(tmp_path, STORAGE, "storage.toml")
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 0
    assert "internal efficiency" in capsys.readouterr().out
    report = json.loads((tmp_path / "out" / "summary.json").read_text())["storage_requests"]["s"]
    want = 0.5 * math.exp(-0.5)  # exponential decay over half the lifetime
    assert report["complete"] and abs(report["internal_efficiency"] - want) <= 4 * report["internal_efficiency_sd"]
    rows = (tmp_path / "out" / "deliveries.csv").read_text().splitlines()
    assert rows[0] == "request,phase,windows,clicks" and rows[1].startswith("s,input,400000,") and len(rows) == 5


@pytest.mark.parametrize("old, new, key, value, needle", [
    ("photon_probability = 0.05", "photon_probability = 0.05\nt1_s = 1.0", "profiles.nodes.source.t1_s", 1.0,
     "only in a scenario with [[requests]] (a node's qubit memories and swap); this scenario's node profiles take "
     "repetition_rate_mhz"),
    ("photon_probability = 0.05", "photon_linewidth_ghz = 0.5", "profiles.nodes.source.photon_probability", None,
     "is missing; required with repetition_rate_mhz, photon_linewidth_ghz"),
    ("memory_efficiency = 0.5\n", "", "profiles.nodes.memory.memory_efficiency", None, "is missing"),
    ('scheme = "transmission"', 'scheme = "transmission"\nvisibility = 0.9', "profiles.links.lab.visibility", 0.9,
     "is not used by scheme 'transmission'"),
    ('scheme = "transmission"', 'scheme = "double_click"', "profiles.links.lab.scheme", "double_click",
     "a scenario with [[storage_requests]] sends a source's photons through plain fibre"),
    ("storage_ns = 1.0", "storage_ns = 10.0", "storage_requests[0].storage_ns", 10000,
     "less than the source's trigger period, 10000 ps"),
    ("storage_ns = 1.0", "storage_ns = 0.0001", "storage_requests[0].storage_ns", 0.0001, "rounds to 0 ps"),
    ("pulses = 400000", "pulses = 600000", "storage_requests[0].pulses", 600000,
     "at most 499877 for run.duration_ms = 20, or a run.duration_ms of at least 24.0049"),
    ('source = "dot"', 'source = "mem"\n', "storage_requests[0].dest", "mem", "a node other than the source"),
    ("progress = false", 'progress = false\nlink_model = "attempts"', "run.link_model", "attempts",
     "only in a scenario with [[requests]]"),
    ("memory_decay", "", "profiles.nodes.memory.memory_decay", "linear", "one of 'exponential', 'gaussian'"),
])
def test_storage_scenario_mistakes(tmp_path, old, new, key, value, needle):
    text = STORAGE if old != "memory_decay" else edit("memory_efficiency = 0.5", 'memory_efficiency = 0.5\n'
                                                      'memory_decay = "linear"', STORAGE)
    only(problems(tmp_path, edit(old, new, text) if old != "memory_decay" else text), key, value, needle)


def test_storage_roles_and_keys_in_other_scenarios(tmp_path):
    swapped = edit('source = "dot"\ndest = "mem"', 'source = "mem"\ndest = "dot"', STORAGE)
    found = problems(tmp_path, swapped)
    assert [p.key for p in found] == ["storage_requests[0].source", "storage_requests[0].dest"]
    assert "(profile 'memory') has no photon source" in found[0].message
    assert "a node whose profile sets memory_efficiency" in found[1].message
    only(problems(tmp_path, edit("t2_s = 1.0", "t2_s = 1.0\nmemory_efficiency = 0.5")),
         "profiles.nodes.node.memory_efficiency", 0.5, "only in a scenario with [[storage_requests]]")
    three = KEYS + '\n[[requests]]\nid = "e"\nsource = "a"\ndest = "b"\n' + STORAGE[STORAGE.index("[[storage_"):]
    only(problems(tmp_path, three), "requests", None, "requests, key_requests, storage_requests are all given")


def test_the_router_is_chosen_by_name_with_its_parameters_and_bad_ones_are_named(tmp_path):
    from qactors.protocols.routing import KShortest
    routed = edit("seed = 4", 'seed = 4\nrouting = "k-shortest"\nrouting_params = { k = 3, advert_ms = 0.5 }')
    scenario = Scenario.from_toml(write(tmp_path, routed, "routed.toml"))
    node = next(a for a in scenario.network.actors if a.id == "a")
    assert node.router == KShortest(k=3, advert_ps=500_000_000)
    assert scenario.resolved["run"]["routing"] == "k-shortest"
    only(problems(tmp_path, edit("seed = 4", 'seed = 4\nrouting = "teleporting"')), "run.routing", "teleporting",
         "'rate-aware'")
    only(problems(tmp_path, edit("seed = 4", 'seed = 4\nrouting = "k-shortest"\nrouting_params = { width = 2 }')),
         "run.routing_params.width", "width", "'k'")
    only(problems(tmp_path, edit("seed = 4", 'seed = 4\nrouting = "k-shortest"\nrouting_params = { k = 0 }')),
         "run.routing_params.k", 0, "an int in [1, 1000]")
    only(problems(tmp_path, edit("seed = 4", 'seed = 4\nrouting_params = { advert_ms = -1 }')),
         "run.routing_params.advert_ms", -1, ">= 0")


def test_traffic_and_faults_sections_draw_requests_and_cut_links(tmp_path):
    loaded = BASE.split("[[requests]]")[0] + (
        '\n[traffic]\nrate_hz = 200\npairs = 2\nretries = 10\nchannels = 1\n'
        '\n[[faults]]\nkind = "link_cut"\nlink = "a-r"\nat_ms = 50\nrepair_ms = 70\n')
    scenario = Scenario.from_toml(write(tmp_path, loaded, "loaded.toml"))
    assert scenario.requests and all(r.request_id.startswith("t") and r.pairs == 2 for r in scenario.requests)
    assert {(r.source, r.dest) for r in scenario.requests} <= {("a", "r"), ("r", "a"), ("a", "b"), ("b", "a"),
                                                               ("r", "b"), ("b", "r"), ("c", "d"), ("d", "c")}
    again = Scenario.from_toml(write(tmp_path, loaded, "again.toml"))
    assert again.requests == scenario.requests  # drawn from run.seed
    station = next(a for a in scenario.network.actors if a.id == "a-r/station")
    assert station.faults[0].at_ps == 50 * 10 ** 9
    assert scenario.resolved["traffic"]["rate_hz"] == 200
    run = run_scenario(scenario.with_overrides(progress=False))
    assert sum(rep["pairs"] for rep in run.reports.values()) > 0
    only(problems(tmp_path, loaded.replace("rate_hz = 200", "rate_hz = -1")), "traffic.rate_hz", -1, "[0, 1e+12]")
    only(problems(tmp_path, loaded.replace('link = "a-r"', 'link = "r-a"')), "faults[0].link", "r-a",
         "a link of the network")
    only(problems(tmp_path, loaded.replace('at_ms = 50', 'at_ms = 50\nfactor = 0.5')), "faults[0].factor", 0.5,
         "only the keys kind, link, at_ms, repair_ms")
    only(problems(tmp_path, loaded.replace("pairs = 2", "pairs = 2\nmin_hops = 9")), "traffic.min_hops", (9, 0),
         "bounds some pair")
    swept = Scenario.from_toml(write(tmp_path, loaded + '\n[sweep]\nkey = "traffic.rate_hz"\nvalues = [50, 400]\n',
                                     "swept.toml"))
    counts = [len(point.requests) for _, point in swept.sweep]
    assert counts[1] > 3 * counts[0]  # the load is swept: eight times the rate, many more requests
