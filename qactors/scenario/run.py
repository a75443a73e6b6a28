"""Running a scenario: :func:`run_scenario` and what it returns (:class:`ScenarioRun`)."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from ..simulation import run as _run
from .model import Scenario

__all__ = ["ScenarioRun", "run_scenario"]


@dataclasses.dataclass
class ScenarioRun:
    """What :func:`run_scenario` returns: the scenario, the run's :class:`~qactors.backends.RunResult`,
    each request's report and every delivery row (the columns of the kind's ``delivery_columns``)."""

    scenario: Scenario
    result: Any
    reports: dict[str, dict]
    deliveries: list[tuple]
    points: tuple = ()  # a sweep's runs: ((value, ScenarioRun), ...); the fields above are the first point's


def run_scenario(scenario: Scenario, *, progress: Callable[[int, int, int], None] | None = None,
                 in_place: bool = False) -> ScenarioRun:
    """Run ``scenario`` on its backend with its seed (nothing is written; see
    :func:`~qactors.scenario.outputs.write_outputs`).

    ``in_place``: run the scenario's network itself, not a copy (half the peak memory of a large
    network; the scenario cannot be run again, see :func:`qactors.run`).  ``qactors run`` does.

    A scenario with a ``[sweep]`` runs every point, each with the same seed (so that the
    points differ only by the swept value, not by their random draws)."""
    if scenario.sweep:
        points = tuple((value, _run_one(point, progress, in_place)) for value, point in scenario.sweep)
        first = points[0][1]
        return dataclasses.replace(first, scenario=scenario, points=points)
    return _run_one(scenario, progress, in_place)


def _run_one(scenario: Scenario, progress, in_place: bool) -> ScenarioRun:
    result = _run(scenario.network, until_ps=scenario.duration_ps, seed=scenario.seed, backend=scenario.backend,
                  progress=progress, in_place=in_place)
    reports, rows = scenario.spec.results(result, scenario.requests)
    return ScenarioRun(scenario, result, reports, rows)
