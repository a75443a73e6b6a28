"""Running a scenario under increasing load with each of several routing policies.

:func:`plan` checks everything first (the file, its ``[stress]`` table, the options, and every
(policy, load) point built as a whole scenario), so that nothing starts unless all of it can
run; :func:`stress` then runs every (policy, load, replica) as a task of its own (as Ray tasks,
one process each, or here one after another) and gathers the figures of :mod:`.metrics`.

Replica ``r`` runs with seed ``run.seed + r`` at every policy and load: the policies meet the
same random draws (common random numbers), so their differences are the policies' own, and the
results do not depend on how the tasks were spread.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Sequence

from ..core.time import MS
from ..protocols.memory import utilisation
from ..protocols.routing import ROUTERS
from ..scenario import Scenario, ScenarioError, run_scenario
from ..scenario.load import STRESS_KEYS, check_loads, check_policies
from ..scenario.schema import Checker, Problem, good, read_toml
from ..scenario.sweep import value_at, with_value
from .metrics import FAULT_METRICS, REPLICA_METRICS, jain, mean_ci, percentile
from .table import Table

__all__ = ["StressPlan", "StressResult", "plan", "stress", "run_point", "WORKERS", "DEFAULT_POLICIES",
           "REQUEST_COLUMNS"]

WORKERS = ("auto", "ray", "local")
DEFAULT_POLICIES = ("shortest", "k-shortest", "congestion-aware")
"""The policies compared when neither the command line nor ``[stress].policies`` names any."""

REQUEST_COLUMNS = ("policy", "load", "replica", "seed", "request", "source", "dest", "hops", "start_ms",
                   "pairs_asked", "pairs", "served", "latency_ms", "mean_fidelity", "legs", "outcome")
"""The columns of the raw per-request results."""


@dataclasses.dataclass(frozen=True)
class StressPlan:
    """Everything a stress run needs, checked: the scenario's tables (``data``), the policies, the
    key whose value is the load (``load_key``) and its ``loads``, the replicas, the served-fraction
    ``threshold`` that defines saturation, and the window around faults (``fault_window_ps``)."""

    file: str
    base_dir: Path
    data: dict
    name: str
    policies: tuple[str, ...]
    load_key: str
    loads: tuple[float, ...]
    replicas: int
    threshold: float
    seed: int
    duration_ps: int
    fault_times_ps: tuple[int, ...]
    fault_window_ps: int
    allow_outside: bool = False

    @property
    def points(self) -> list[tuple[str, float, int]]:
        """Every run: (policy, load, replica)."""
        return [(p, load, r) for p in self.policies for load in self.loads for r in range(self.replicas)]

    def describe(self) -> str:
        loads = ", ".join(f"{v:g}" for v in self.loads)
        return (f"{len(self.policies)} policies ({', '.join(self.policies)}) x {len(self.loads)} loads of "
                f"{self.load_key} ({loads}) x {self.replicas} replicas = {len(self.points)} runs; saturation: "
                f"served fraction below {self.threshold:g}")


def _point_data(data: dict, policy: str, load_key: str, load: float, seed: int) -> dict:
    """The scenario's tables with the policy, the load and the seed set; ``run.routing_params`` keeps only the
    parameters this policy has (``advert_ms`` is every router's).  A whole-number load of a key the file
    gives as an integer (``traffic.pairs``) is set as an integer."""
    current = value_at(data, load_key)
    whole = isinstance(current, int) and not isinstance(current, bool) and float(load).is_integer()
    out = with_value(data, load_key, int(load) if whole else load)
    out.pop("stress", None)
    run = out["run"] = dict(out["run"])
    run["routing"], run["seed"], run["backend"], run["progress"] = policy, seed, "local", False
    params = run.get("routing_params")
    if isinstance(params, dict):
        fields = set(ROUTERS[policy]._qactors_fields) | {"advert_ms"}
        run["routing_params"] = {k: v for k, v in params.items() if k in fields}
    return out


def plan(scenario: str | os.PathLike, *, policies: Sequence[str] | None = None, loads: Sequence[float] | str | None = None,
         load_key: str | None = None, replicas: int | None = None, threshold: float | None = None,
         seed: int | None = None, fault_window_ms: float | None = None, allow_outside: bool = False) -> StressPlan:
    """Check a stress run of the scenario file ``scenario``: the arguments override its ``[stress]`` table.

    Raises:
        ScenarioError: every problem found, in the file, its ``[stress]`` table or the arguments (named as
            ``(command line)``), or in a (policy, load) point built as a whole scenario.
    """
    data, _ = read_toml(scenario)
    file, base = str(scenario), Path(scenario).resolve().parent
    base_scenario = Scenario.from_dict(data, file=file, base_dir=base, allow_outside=allow_outside)
    ck = Checker(file)
    if base_scenario.sweep:
        ck.add("sweep", None, "a stress run is a sweep of its own (of the load, per policy); leave [sweep] out")
    if base_scenario.kind != "entanglement":
        ck.add("requests", None, f"a stress run needs an entanglement scenario ([[requests]] or [traffic]), not "
               f"a {base_scenario.kind} one")
    table = base_scenario.resolved.get("stress", {})
    cli = " (command line)"  # the arguments are checked as the keys of [stress] are, each named so

    def given(name: str, value, default):
        return default if value is None else ck.value(name + cli, value, STRESS_KEYS[name])
    policies = given("policies", list(policies) if policies is not None else None,
                     table.get("policies") or list(DEFAULT_POLICIES))
    if good(policies):
        check_policies(ck, lambda i: "policies" + cli, policies)
        if not policies:
            ck.bad("policies" + cli, policies, "one or more router names", "is empty")
    load_key = load_key if load_key is not None else table.get("load_key", "traffic.rate_hz")
    current = value_at(data, load_key)
    if isinstance(current, bool) or not isinstance(current, (int, float)):
        ck.bad("load_key", load_key, "the key path of a number this file sets (such as traffic.rate_hz)",
               "is not a number in the file" if current is not None else "is not in the file")
    if loads is not None:
        levels = check_loads(ck, "loads" + cli, loads if isinstance(loads, str) else list(loads))
    else:
        levels = tuple(table.get("loads") or ())
        if not levels:
            ck.add("loads", None, 'is missing; required: --load LO:HI:N (or [stress] loads = "LO:HI:N" or a list)')
    replicas = given("replicas", replicas, table.get("replicas", 3))
    threshold = given("threshold", threshold, table.get("threshold", 0.9))
    window_ms = given("fault_window_ms", fault_window_ms, table.get("fault_window_ms"))
    duration_ps = base_scenario.duration_ps
    window_ps = round(window_ms * MS) if good(window_ms) and window_ms is not None else max(1, duration_ps // 10)
    seed = base_scenario.seed if seed is None else seed
    if isinstance(seed, bool) or not isinstance(seed, int) or \
            not 0 <= seed <= 2 ** 63 - 1 - (replicas if good(replicas) else 1):
        ck.bad("seed" + cli, seed, "an integer in [0, 2**63 - 1 - replicas]", "is out of range")
    if ck.problems:
        raise ScenarioError(ck.problems)
    problems: list[Problem] = []
    for policy in policies:
        for load in levels:
            try:
                Scenario.from_dict(_point_data(data, policy, load_key, load, seed), file=file, base_dir=base,
                                   allow_outside=allow_outside)
            except ScenarioError as err:
                for p in err.problems:
                    problems.append(dataclasses.replace(
                        p, message=f"{p.message} (with policy {policy!r}, {load_key} = {load:g})"))
    if problems:
        raise ScenarioError(problems)
    faults = tuple(sorted(round(f["at_ms"] * MS) for f in base_scenario.resolved.get("faults", ())))
    return StressPlan(file=file, base_dir=base, data=data, name=base_scenario.name, policies=tuple(policies),
                      load_key=load_key, loads=levels, replicas=replicas, threshold=float(threshold), seed=seed,
                      duration_ps=duration_ps, fault_times_ps=faults, fault_window_ps=window_ps,
                      allow_outside=allow_outside)


# -- one run ---------------------------------------------------------------------------------------

def run_point(task: tuple) -> tuple[dict, list[tuple]]:
    """One (policy, load, replica) of a plan: ``(figures, per-request rows)``.  A module-level function of
    plain arguments, so that a Ray worker can run it: ``task`` is ``(plan, policy, load, replica)``."""
    p, policy, load, replica = task
    seed = p.seed + replica
    scenario = Scenario.from_dict(_point_data(p.data, policy, p.load_key, load, seed), file=p.file,
                                  base_dir=p.base_dir, allow_outside=p.allow_outside)
    run = run_scenario(scenario)
    return _measure(p, run, policy, load, replica, seed)


def _measure(p: StressPlan, run: Any, policy: str, load: float, replica: int, seed: int) -> tuple[dict, list]:
    scenario, states = run.scenario, run.result.states
    T = scenario.duration_ps
    arrivals: dict[str, list[int]] = defaultdict(list)  # request -> delivery times at its destination
    fidelities: list[float] = []
    dest = {r.request_id: r.dest for r in scenario.requests}
    for rid, end, t, fidelity, _ in run.deliveries:
        if end == dest[rid]:
            arrivals[rid].append(t)
            fidelities.append(fidelity)
    rows, latencies = [], []
    asked: dict[tuple, int] = defaultdict(int)
    got: dict[tuple, int] = defaultdict(int)
    failed_over = served_count = 0
    for r in scenario.requests:
        rep = run.reports[r.request_id]
        served = rep["outcome"].startswith("served")
        latency = (max(arrivals[r.request_id]) - r.start_ps) / MS if served and arrivals[r.request_id] else math.nan
        if served:
            latencies.append(latency)
            served_count += 1
        legs = len(rep["paths"]) if "paths" in rep else (1 if rep["path"] else 0)
        failed_over += served and legs > 1
        ends = (r.source, r.dest)
        asked[ends] += r.pairs
        got[ends] += rep["pairs"]
        rows.append((policy, load, replica, seed, r.request_id, r.source, r.dest, max(0, len(rep["path"]) - 1),
                     r.start_ps / MS, r.pairs, rep["pairs"], served, latency, rep["mean_fidelity"], legs,
                     rep["outcome"]))
    n = len(scenario.requests)
    by_link: dict[str, list[float]] = defaultdict(list)  # link -> busy fraction of each of its memories
    held: list[tuple[int, float]] = []                   # per memory: (slots, held fraction)
    for aid, st in states.items():
        if "/memory:" in aid and isinstance(st, dict) and "busy_ps" in st:
            busy, hold = utilisation(st, T)
            by_link[st["link"]].append(busy)
            held.append((len(st["sides"]), hold))
    link_util = [sum(v) / len(v) for v in by_link.values()]
    slots = sum(s for s, _ in held)
    figures = {"requests": n, "served": served_count / n if n else math.nan,
               "pairs_per_s": len(fidelities) / (T * 1e-12),
               "latency_p50_ms": percentile(latencies, 50), "latency_p90_ms": percentile(latencies, 90),
               "latency_p99_ms": percentile(latencies, 99),
               "fidelity_mean": sum(fidelities) / len(fidelities) if fidelities else math.nan,
               "fidelity_p10": percentile(fidelities, 10), "fidelity_p50": percentile(fidelities, 50),
               "fidelity_p90": percentile(fidelities, 90),
               "jain": jain([got[e] / asked[e] for e in asked]) if asked else math.nan,
               "memory_util": sum(s * h for s, h in held) / slots if slots else math.nan,
               "link_util": sum(link_util) / len(link_util) if link_util else math.nan,
               "link_util_max": max(link_util) if link_util else math.nan,
               "latencies_ms": latencies, "events": run.result.events}
    if p.fault_times_ps:
        times = sorted(t for ts in arrivals.values() for t in ts)
        w = p.fault_window_ps

        def rate(lo: int, hi: int) -> float:
            lo, hi = max(0, lo), min(T, hi)
            if hi <= lo:
                return math.nan
            return sum(1 for t in times if lo <= t < hi) / ((hi - lo) * 1e-12)
        windows = [[rate(t - w, t), rate(t, t + w), rate(t + w, t + 2 * w)] for t in p.fault_times_ps]
        for j, key in enumerate(FAULT_METRICS[:3]):
            figures[key] = mean_ci(win[j] for win in windows)[0]
        figures["failed_over"] = float(failed_over)
    return figures, rows


# -- many runs -------------------------------------------------------------------------------------

@dataclasses.dataclass
class StressResult:
    """What :func:`stress` returns.

    ``summary``: a :class:`~qactors.stress.table.Table` with a row per (policy, load): the mean over
    replicas of each figure of :data:`~qactors.stress.metrics.REPLICA_METRICS` (and the fault
    figures if the scenario has faults) and the half-width of its 95 % confidence interval
    (``<figure>_ci``).  ``requests``: every request of every run (:data:`REQUEST_COLUMNS`).
    ``saturation``: per policy, the load at which the served fraction falls below the threshold.
    ``runs``: each run's figures, by (policy, load, replica)."""

    plan: StressPlan
    runs: dict
    summary: Table
    requests: Table
    saturation: dict
    workers: str = "local"

    def latencies(self, policy: str, load: float) -> list[float]:
        """The latencies (ms) of every served request of the replicas at (policy, load)."""
        return sorted(x for r in range(self.plan.replicas) for x in self.runs[(policy, load, r)]["latencies_ms"])


def _workers(workers: str, runs: int) -> str:
    if workers not in WORKERS:
        raise ScenarioError([Problem("<stress>", "workers", workers, f"one of {WORKERS}")])
    if workers == "auto":
        import importlib.util
        return "ray" if runs > 1 and importlib.util.find_spec("ray") is not None else "local"
    return workers


def stress(scenario: str | os.PathLike | StressPlan, *, workers: str = "auto",
           progress: Callable[[int, int, tuple], None] | None = None, num_cpus: int | None = None,
           **options) -> StressResult:
    """Run a stress test: every policy at every load, ``replicas`` seeds each.

    ``scenario``: a scenario file (``options`` are those of :func:`plan`) or a :class:`StressPlan`.
    ``workers``: ``"ray"`` (each run a Ray task in a process of its own; Ray is started with
    ``num_cpus`` if it is not running), ``"local"`` (one after another in this process) or
    ``"auto"`` (Ray when it can be imported).  The results are the same whichever runs them.
    ``progress(done, total, (policy, load, replica))`` is called as each run finishes.

    Raises:
        ScenarioError: as :func:`plan` (nothing has run).
    """
    p = scenario if isinstance(scenario, StressPlan) else plan(scenario, **options)
    points = p.points
    how = _workers(workers, len(points))
    tasks = [(p, *point) for point in points]
    done = [0]

    def finished(i: int, _result) -> None:
        done[0] += 1
        if progress is not None:
            progress(done[0], len(tasks), points[i])
    if how == "ray":
        from ..backends.ray_tasks import run_tasks
        results = run_tasks(run_point, tasks, on_done=finished, num_cpus=num_cpus)
    else:
        results = []
        for i, task in enumerate(tasks):
            results.append(run_point(task))
            finished(i, results[-1])
    runs = {point: figures for point, (figures, _) in zip(points, results)}
    rows = [row for _, request_rows in results for row in request_rows]
    summary = _summarise(p, runs)
    return StressResult(plan=p, runs=runs, summary=summary, requests=Table(REQUEST_COLUMNS, rows),
                        saturation=saturation(summary, p.threshold), workers=how)


def _summarise(p: StressPlan, runs: dict) -> Table:
    metrics = REPLICA_METRICS + (FAULT_METRICS if p.fault_times_ps else ())
    columns = ["policy", "load", "replicas", "requests"]
    for m in metrics:
        columns += [m, f"{m}_ci"]
    rows = []
    for policy in p.policies:
        for load in p.loads:
            reps = [runs[(policy, load, r)] for r in range(p.replicas)]
            row: list = [policy, load, p.replicas, mean_ci(f["requests"] for f in reps)[0]]
            for m in metrics:
                row.extend(mean_ci(f[m] for f in reps))
            rows.append(row)
    return Table(columns, rows)


def saturation(summary: Table, threshold: float) -> dict:
    """Per policy: ``{"load": L or None, "bound": ..., "text": ...}``.  ``bound`` is ``"between"`` (the
    served fraction crosses ``threshold`` between two load levels; ``load`` is the linear interpolation
    between them), ``"below"`` (already under it at the lowest load: ``load`` is that level, an upper
    bound) or ``"above"`` (never under it: ``load`` is the highest level, a lower bound)."""
    out = {}
    for policy in dict.fromkeys(summary["policy"]):
        part = summary.where(policy=policy)
        levels = list(zip(part["load"], part["served"]))
        crossing = next((i for i, (_, f) in enumerate(levels) if f < threshold), None)
        if crossing is None:
            load = levels[-1][0]
            out[policy] = {"load": load, "bound": "above", "text": f"> {load:g} (served >= {threshold:g} at every load)"}
        elif crossing == 0:
            load = levels[0][0]
            out[policy] = {"load": load, "bound": "below", "text": f"< {load:g} (served < {threshold:g} already)"}
        else:
            (l0, f0), (l1, f1) = levels[crossing - 1], levels[crossing]
            load = l0 + (f0 - threshold) * (l1 - l0) / (f0 - f1)
            out[policy] = {"load": load, "bound": "between", "text": f"{load:.4g} (between {l0:g} and {l1:g})"}
    return out
