"""Scenario files: a network, its hardware, its traffic and its run settings in one TOML file.

A scenario file (read with :mod:`tomllib`; the format is specified in
``docs/scenario-format.md``) has the sections ``[scenario]``, ``[run]``,
``[topology]``, ``[profiles.nodes.NAME]``, ``[profiles.links.NAME]``, one array
of request tables and ``[outputs]``.  The array names the kind of scenario:
``[[requests]]`` (entanglement, :mod:`~qactors.scenario.entanglement`),
``[[key_requests]]`` (trusted-relay QKD, :mod:`~qactors.scenario.keys`) or
``[[storage_requests]]`` (photon storage, :mod:`~qactors.scenario.storage`);
each kind is a :class:`~qactors.scenario.kinds.Kind`.

:meth:`Scenario.from_toml` reads and validates all of it before anything runs:
every mistake becomes a :class:`Problem` naming the file, the key path
(``requests[2].purification.target_fidelity``), the value and what is allowed,
and all of them are raised together as one :class:`ScenarioError`.
:func:`run_scenario` runs a valid scenario and :func:`write_outputs` writes
``summary.json``, ``deliveries.csv`` and ``run.json``.

>>> from qactors.scenario import Scenario, run_scenario
>>> s = Scenario.from_dict({
...     "scenario": {"name": "two-nodes"}, "run": {"duration_ms": 50, "seed": 3},
...     "topology": {"nodes": [{"id": "a"}, {"id": "b"}], "links": [{"a": "a", "b": "b", "length_km": 10}]},
...     "profiles": {"nodes": {"node": {"t2_s": 1.0}}, "links": {"fibre": {"scheme": "double_click"}}},
...     "requests": [{"id": "r", "source": "a", "dest": "b", "pairs": 5}]})
>>> run_scenario(s).reports["r"]["outcome"]
'served: 5 pairs'
"""

from .kinds import KINDS, Kind
from .model import OUTPUT_FILES, SECTIONS, Scenario
from .outputs import format_summary, prepare_output_dir, render_outputs, write_outputs
from .run import ScenarioRun, run_scenario
from .schema import Problem, ScenarioError
from .topology import BUILDERS

__all__ = ["Scenario", "ScenarioError", "Problem", "ScenarioRun", "run_scenario", "prepare_output_dir",
           "write_outputs", "render_outputs", "format_summary", "BUILDERS", "OUTPUT_FILES", "SECTIONS", "KINDS",
           "Kind"]
