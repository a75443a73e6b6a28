"""Running a scenario: :func:`run_scenario` and what it returns (:class:`ScenarioRun`)."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from pathlib import Path

from ..backends.checkpoint import CheckpointPlan
from ..simulation import resume as _resume
from ..simulation import run as _run
from .model import Scenario
from .schema import Problem, ScenarioError
from .stream import STREAM_DIR, DeliveryStream

__all__ = ["ScenarioRun", "run_scenario", "resume_scenario"]


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
                 in_place: bool = False, checkpoint_every_ps: int | None = None,
                 checkpoint_keep: int = 2) -> ScenarioRun:
    """Run ``scenario`` on its backend with its seed (nothing is written; see
    :func:`~qactors.scenario.outputs.write_outputs`).

    ``in_place``: run the scenario's network itself, not a copy (half the peak memory of a large
    network; the scenario cannot be run again, see :func:`qactors.run`).  ``qactors run`` does.

    ``checkpoint_every_ps``: write the run's whole state every so much simulated time into
    ``<output folder>/checkpoints`` (the newest ``checkpoint_keep``), each recording the scenario
    file and its SHA-256, so that :func:`resume_scenario` (``qactors resume``) can go on from it,
    and stream the deliveries so far into ``<output folder>/stream`` (:mod:`.stream`).

    A scenario with a ``[sweep]`` runs every point, each with the same seed (so that the
    points differ only by the swept value, not by their random draws)."""
    plan = None
    if checkpoint_every_ps is not None:
        if scenario.sweep:
            raise ScenarioError([Problem(scenario.file, "--checkpoint-every", checkpoint_every_ps,
                                         "checkpoints are written for one run, and a [sweep] is several: "
                                         "run each point as a scenario of its own to checkpoint it")])
        plan = _plan(scenario, checkpoint_every_ps, checkpoint_keep)
    if scenario.sweep:
        points = tuple((value, _run_one(point, progress, in_place)) for value, point in scenario.sweep)
        first = points[0][1]
        return dataclasses.replace(first, scenario=scenario, points=points)
    return _run_one(scenario, progress, in_place, plan)


def _run_one(scenario: Scenario, progress, in_place: bool, plan=None) -> ScenarioRun:
    result = _run(scenario.network, until_ps=scenario.duration_ps, seed=scenario.seed, backend=scenario.backend,
                  progress=progress, in_place=in_place, checkpoints=plan)
    return _reported(scenario, result)


def _reported(scenario: Scenario, result) -> ScenarioRun:
    reports, rows = scenario.spec.results(result, scenario.requests)
    return ScenarioRun(scenario, result, reports, rows)


def _plan(scenario: Scenario, every_ps: int, keep: int) -> CheckpointPlan:
    """Checkpoints in ``<output folder>/checkpoints``, each with the delivery rows so far streamed to
    ``<output folder>/stream`` (:mod:`qactors.scenario.stream`)."""
    out = Path(scenario.output_dir)
    plan = CheckpointPlan(out / "checkpoints", every_ps, keep=keep,
                          meta={**scenario_meta(scenario), "checkpoint_every_ps": every_ps, "checkpoint_keep": keep})
    plan.prepare()  # before the stream's folder: a folder that cannot be written is named as such
    return dataclasses.replace(plan, on_write=DeliveryStream(scenario, out / STREAM_DIR))


def scenario_meta(scenario: Scenario) -> dict:
    """What a checkpoint records of the scenario it belongs to, to rebuild it on resume."""
    return {"scenario": str(Path(scenario.file).resolve()), "sha256": scenario.sha256, "seed": scenario.seed,
            "backend": scenario.backend, "output_dir": str(Path(scenario.output_dir).resolve()),
            "allow_outside": getattr(scenario, "allow_outside", False), "settings": list(scenario.settings)}


def resume_scenario(where, *, backend: str | None = None, progress=None, change=None,
                    output_dir=None, checkpoint_every_ps: int | None = None, checkpoint_keep: int = 2,
                    allow_outside: bool = False) -> ScenarioRun:
    """Go on from the newest checkpoint in ``where`` (a run's output folder, its ``checkpoints``
    folder, or a checkpoint file) to the end of the run, and report it as :func:`run_scenario`
    would have: same results, digest included, as the uninterrupted run.

    The scenario file the checkpoint names is read again and must be unchanged (same SHA-256).
    ``change(actors_by_id)`` makes it a fork (see :func:`qactors.fork`); ``output_dir`` puts
    the results (and further checkpoints) elsewhere; a fork should.  Checkpoints (and the stream of
    deliveries) go on at the run's own interval unless ``checkpoint_every_ps`` gives another.
    """
    from ..backends.checkpoint import latest_checkpoint, read_checkpoint
    path = Path(where)
    path = latest_checkpoint(path) if path.is_dir() else path
    ckpt = read_checkpoint(path)
    meta = ckpt.meta
    if "scenario" not in meta:
        raise ScenarioError([Problem(str(path), "", str(path), "this checkpoint names no scenario file; resume "
                                     "it with qactors.resume() (only qactors run --checkpoint-every writes "
                                     "checkpoints qactors resume can report)")])
    scenario = Scenario.from_toml(meta["scenario"], allow_outside=allow_outside or meta.get("allow_outside", False),
                                  output_dir=output_dir if output_dir is not None else meta["output_dir"],
                                  settings=tuple(meta.get("settings", ())))
    if scenario.sha256 != meta["sha256"]:
        raise ScenarioError([Problem(meta["scenario"], "", meta["scenario"], f"has changed since checkpoint "
                                     f"{path.name} was written (SHA-256 {meta['sha256'][:12]}... then, "
                                     f"{scenario.sha256[:12]}... now); resume needs the file as it was")])
    scenario = scenario.with_overrides(seed=meta["seed"], backend=backend or meta["backend"])
    if output_dir is not None:  # elsewhere than the run's own folder: never over other results
        from .outputs import prepare_output_dir
        prepare_output_dir(scenario, overwrite=False)
    plan = None
    every = checkpoint_every_ps if checkpoint_every_ps is not None else meta.get("checkpoint_every_ps")
    if every is not None:  # go on writing checkpoints (and streaming deliveries) as the run did
        keep = checkpoint_keep if checkpoint_every_ps is not None else meta.get("checkpoint_keep", checkpoint_keep)
        plan = _plan(scenario, every, keep)
    result = _resume(ckpt, backend=scenario.backend, progress=progress, checkpoints=plan, change=change)
    return _reported(scenario, result)
