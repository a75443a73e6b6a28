"""The small scenario the scenario tests edit, and helpers to write it and read its problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from qactors.scenario import Problem, Scenario, ScenarioError

# a small valid scenario: a - r - b (10 km links) plus c - d, a separate component
BASE = """\
[scenario]
name = "small"

[run]
duration_ms = 100
seed = 4

[topology]

[[topology.nodes]]
id = "a"

[[topology.nodes]]
id = "r"

[[topology.nodes]]
id = "b"

[[topology.nodes]]
id = "c"

[[topology.nodes]]
id = "d"

[[topology.links]]
a = "a"
b = "r"
length_km = 10.0

[[topology.links]]
a = "r"
b = "b"
length_km = 10.0

[[topology.links]]
a = "c"
b = "d"
length_km = 5.0

[profiles.nodes.node]
t2_s = 1.0
swap_success_probability = 0.5
memories_per_link = 2

[profiles.links.fibre]
scheme = "double_click"
detection_efficiency = 0.8
visibility = 0.95

[[requests]]
id = "first"
source = "a"
dest = "b"
pairs = 20
application = "bbm92"

[[requests]]
id = "second"
source = "a"
dest = "b"
pairs = 5
start_ms = 40
channels = 2

[requests.purification]
target_fidelity = 0.95
"""


def write(tmp_path: Path, text: str, name: str = "scenario.toml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def problems(tmp_path: Path, text: str) -> list[Problem]:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        Scenario.from_toml(path)
    err = info.value
    assert err.problems and all(p.file == str(path) for p in err.problems)
    assert str(path) in str(err)
    return err.problems


def only(found: list[Problem], key: str, value: object, *needles: str) -> Problem:
    """The one problem at ``key``: it shows the file, the key, the value and every needle."""
    assert [p.key for p in found] == [key], [str(p) for p in found]
    p = found[0]
    text = str(p)
    assert text.startswith(f"{p.file}") and f": {key}:" in text
    assert p.value == value
    if value is not None:  # shown as in the message: tables as "a table", long values cut short
        shown = "a table" if isinstance(value, dict) else repr(value)
        assert (shown if len(shown) <= 80 else shown[:77]) in text
    for needle in needles:
        assert needle in text, text
    return p


def edit(old: str, new: str, text: str = BASE) -> str:
    assert old in text, old
    return text.replace(old, new, 1)
