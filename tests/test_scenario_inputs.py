"""Every class of bad input is refused before anything runs, with the file, key, value and what is allowed.

One test per class the scenario format promises to handle (docs/scenario-format.md, "Limits"):
values past the 64-bit picosecond clock or the stated limits, values that round to zero, absurd
counts, more shards than cores, deep nesting, bad ids, NaN and infinity, a request to itself,
unknown keys; then a fuzz test over mutations of the shipped scenarios.
"""

from __future__ import annotations

import copy
import json
import math
import os
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scenario_text import BASE, edit, only, problems, write

from qactors.cli import main
from qactors.core import checks
from qactors.scenario import Scenario, ScenarioError

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("old, new, key, value, needle", [
    ("duration_ms = 100", "duration_ms = 1e300", "run.duration_ms", 1e300, "the 64-bit picosecond clock ends"),
    ("start_ms = 40", "start_ms = 1e300", "requests[1].start_ms", 1e300, "the 64-bit picosecond clock ends"),
    ('pairs = 20\n', 'pairs = 20\ndeadline_ms = 1e300\n', "requests[0].deadline_ms", 1e300, "picosecond clock"),
    ("length_km = 5.0", "length_km = 1e308", "topology.links[2].length_km", 1e308, "a finite number in (0, 1e+06]"),
    ("t2_s = 1.0", "t2_s = 1.0\naccess_time_us = 1e300", "profiles.nodes.node.access_time_us", 1e300,
     "picosecond clock"),
])
def test_values_past_the_clock_or_the_stated_limits(tmp_path, old, new, key, value, needle):
    only(problems(tmp_path, edit(old, new)), key, value, "is out of range", needle)


@pytest.mark.parametrize("old, new, key, value", [
    ("duration_ms = 100", "duration_ms = 1e-12", "run.duration_ms", 1e-12),
    ("t2_s = 1.0", "t2_s = 1.0\naccess_time_us = 1e-12", "profiles.nodes.node.access_time_us", 1e-12),
    ('pairs = 20\n', 'pairs = 20\ncutoff_ms = 1e-12\n', "requests[0].cutoff_ms", 1e-12),
])
def test_values_that_round_to_zero(tmp_path, old, new, key, value):
    only(problems(tmp_path, edit(old, new)), key, value, "rounds to 0 ps")


@pytest.mark.parametrize("old, new, key, value, needle", [
    ("pairs = 20", "pairs = 1000000000000000000000000000000", "requests[0].pairs", 10 ** 30,
     "an integer in [1, 1000000000000]"),
    ("memories_per_link = 2", "memories_per_link = 9223372036854775808", "profiles.nodes.node.memories_per_link",
     2 ** 63, "an integer in [1, 10000]"),
    ("[topology]\n", "[topology]\nmax_segment_km = 1e-9\n", "topology.max_segment_km", 1e-9,
     "within 1,000,000 nodes"),
])
def test_absurd_counts_are_refused_by_stated_limits(tmp_path, old, new, key, value, needle):
    only(problems(tmp_path, edit(old, new)), key, value, needle)


def test_more_shards_than_cores(tmp_path):
    cores = os.cpu_count() or 1
    only(problems(tmp_path, edit("seed = 4", f'seed = 4\nbackend = "ray:{cores + 1}"')), "run.backend",
         f"ray:{cores + 1}", "asks for more shards than there are cores", f"K at most {cores}")
    with pytest.raises(ScenarioError, match="more shards than there are cores"):
        Scenario.from_toml(write(tmp_path, BASE)).with_overrides(backend=f"ray:{cores + 1}")
    assert Scenario.from_toml(write(tmp_path, edit("seed = 4", f'seed = 4\nbackend = "ray:{cores}"'))).backend == \
        f"ray:{cores}"


def test_deep_nesting_never_raises_recursion_error(tmp_path):
    for depth in (40, 5000):  # read, then refused by depth; too deep for the TOML reader itself
        found = problems(tmp_path, BASE + f"\n[extra]\nx = {'[' * depth}{']' * depth}\n")
        assert len(found) == 1 and "nests arrays or tables" in found[0].message
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    text = BASE.split("[topology]")[0] + '[topology]\nfile = "deep.json"\n' + "[profiles" + \
        BASE.split("[profiles", 1)[1]
    found = problems(tmp_path, text)
    assert [p.key for p in found] == ["topology.file"], [str(p) for p in found]


@pytest.mark.parametrize("old, new, key, value", [
    ('id = "c"', 'id = "   "', "topology.nodes[3].id", "   "),
    ('id = "c"', 'id = "c\\u0007"', "topology.nodes[3].id", "c\u0007"),
    ('id = "c"', 'id = ""', "topology.nodes[3].id", ""),
    ('id = "first"', 'id = "fi\\nrst"', "requests[0].id", "fi\nrst"),
])
def test_blank_ids_and_ids_with_control_characters(tmp_path, old, new, key, value):
    found = problems(tmp_path, edit(old, new))
    assert found[0].key == key and found[0].value == value, [str(p) for p in found]
    assert "allowed:" in found[0].message


@pytest.mark.parametrize("old, new, key", [
    ("visibility = 0.95", "visibility = nan", "profiles.links.fibre.visibility"),
    ("length_km = 5.0", "length_km = inf", "topology.links[2].length_km"),
    ("duration_ms = 100", "duration_ms = inf", "run.duration_ms"),
    ("duration_ms = 100", "duration_ms = -inf", "run.duration_ms"),
    ("swap_success_probability = 0.5", "swap_success_probability = nan", "profiles.nodes.node.swap_success_probability"),
    ("target_fidelity = 0.95", "target_fidelity = nan", "requests[1].purification.target_fidelity"),
    ("start_ms = 40", "start_ms = nan", "requests[1].start_ms"),
])
def test_nan_and_infinity_anywhere(tmp_path, old, new, key):
    found = problems(tmp_path, edit(old, new))
    assert [p.key for p in found] == [key] and "is not allowed; allowed: a finite number" in found[0].message


def test_nan_in_builder_parameters(tmp_path):
    text = BASE.split("[topology]")[0] + '[topology]\nbuilder = "line"\nparams = { n = 3, length_km = nan }\n' + \
        "[profiles" + BASE.split("[profiles", 1)[1]
    found = problems(tmp_path, text.replace('"a"', '"n0"').replace('"b"', '"n2"'))
    assert [p.key for p in found] == ["topology.params.length_km"] and "nan" in found[0].message


def test_a_request_from_a_node_to_itself(tmp_path):
    only(problems(tmp_path, edit('dest = "b"\npairs = 20', 'dest = "a"\npairs = 20')), "requests[0].dest", "a",
         "is the source; allowed: a node other than the source")


def test_unknown_keys_get_a_suggestion(tmp_path):
    only(problems(tmp_path, edit("visibility = 0.95", "visiblity = 0.95")), "profiles.links.fibre.visiblity", 0.95,
         "unknown key", "did you mean 'visibility'?")
    only(problems(tmp_path, edit("seed = 4", "sed = 4")), "run.sed", 4, "did you mean 'seed'?")


def test_the_cli_exits_2_without_a_traceback(tmp_path, capsys):
    for text in (edit("duration_ms = 100", "duration_ms = 1e300"), BASE + "\nx = " + "[" * 5000 + "]" * 5000):
        path = write(tmp_path, text)
        assert main(["check", str(path)]) == 2
        assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err and str(path) in err
    assert not (tmp_path / "out").exists()


# -- fuzz: mutations of the shipped scenarios ------------------------------------------------------

# the europe backbone takes half a second to build; the others a few milliseconds
_SUBJECTS = {p.name: tomllib.loads(p.read_text()) for p in sorted((ROOT / "scenarios").glob("*.toml"))
             if p.stem != "europe-backbone"}
_ODD = st.sampled_from([math.nan, math.inf, -math.inf, 0, -1, 0.0, 1e-300, 1e300, 1e308, 10 ** 30, 10 ** 400, 2 ** 63,
                -(2 ** 63),
                "", " ", "\x00", "inf", "nan", "ray:0", "ray:99999", True, False, [], {}, [[]], [1, 2, 3],
                {"a": 1}, "../../etc/passwd", "/tmp/x"])
_ODD_VALUES = st.one_of(_ODD, _ODD, _ODD, st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                        st.text(max_size=8), st.lists(st.integers(), max_size=3))


def _paths(value, prefix=()):
    """Every key path of a table, with array indices."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield prefix + (i,)
            yield from _paths(v, prefix + (i,))


@st.composite
def _mutants(draw):
    name = draw(st.sampled_from(sorted(_SUBJECTS)))
    data = copy.deepcopy(_SUBJECTS[name])
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(data))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["set", "set", "delete", "rename"]))
        if action == "set":
            parent[path[-1]] = draw(_ODD_VALUES)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[path[-1] + draw(st.sampled_from(["s", "_x", "X"]))] = parent.pop(path[-1])
    return name, data


@settings(max_examples=500, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_mutants())
def test_fuzz_check_raises_only_the_projects_error(tmp_path_factory, mutant):
    name, data = mutant
    folder = tmp_path_factory.getbasetemp() / "fuzz"
    try:
        Scenario.from_dict(data, file=name, base_dir=ROOT / "scenarios")
    except ScenarioError as err:
        assert err.problems and all(p.file == name for p in err.problems)
        json.dumps([str(p) for p in err.problems])  # every message can be shown
    assert not folder.exists()  # checking writes nothing


def test_the_limits_are_the_documented_ones():
    text = (ROOT / "docs" / "scenario-format.md").read_text()
    for figure in (f"{checks.MAX_PS}", f"{checks.MAX_LENGTH_KM:g}", f"10^{len(str(checks.MAX_COUNT)) - 1}",
                   f"{checks.MAX_MEMORIES:,}", f"{checks.MAX_NODES:,}"):
        assert figure in text, figure
