"""A validated scenario (:class:`Scenario`) and the builder that checks a file's tables into one.

The builder reads the sections every scenario has (``[scenario]``, ``[run]``,
``[topology]``, ``[profiles]``, ``[outputs]``) and hands the rest to the kind
whose section of requests the file has (:mod:`qactors.scenario.kinds`).
Nothing is built unless every table is valid, and every problem is reported.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import networkx as nx

from ..core.network import Network
from ..core.time import MS, format_ps
from . import entanglement, keys as key_kind, storage
from .kinds import KINDS, Kind, check_link_schemes, read_profiles, read_requests
from .load import read_faults, read_stress, read_traffic, traffic_requests
from .schema import BAD, REQUIRED, Checker, Key, ScenarioError, count, good, jsonable, num, read_toml, \
    toml_type
from .topology import TopologyReader, contained_path

__all__ = ["Scenario", "OUTPUT_FILES", "SECTIONS"]

OUTPUT_FILES = ("summary.json", "deliveries.csv", "run.json")
_RUN = {"duration_ms": num(REQUIRED, low=0, low_open=True, unit_ps=MS, unit="ms"),
        "seed": Key("int", 1, low=0, high=2 ** 63 - 1), "backend": Key("backend", "local"),
        "progress": Key("bool", True)}
_SCENARIO = {"name": Key("name", REQUIRED), "description": Key("str", ""), "sources": Key("strs", [])}
_OUTPUTS = {"dir": Key("str"), "files": Key("strs", list(OUTPUT_FILES), choices=OUTPUT_FILES)}


KIND_MODULES = (entanglement, key_kind, storage)
"""The registry of scenario kinds: importing a kind's module registers it (a new kind is one more entry)."""


SECTIONS = {k.name: k.section for k in KINDS.values()}
"""The kind of a scenario -> the array of tables that holds its requests."""


@dataclasses.dataclass(frozen=True)
class Scenario:
    """A validated scenario, ready to run.

    Build one with :meth:`from_toml` (a file) or :meth:`from_dict` (the same
    tables as Python values); both raise :class:`ScenarioError` listing every
    mistake.  ``network`` is the :class:`~qactors.core.network.Network` to run;
    ``graph`` the topology after repeater insertion, with each node's and link's
    hardware; ``resolved`` the scenario with every default filled in
    (JSON-ready, written to ``run.json``); ``kind`` the kind's name
    (``"entanglement"``, ``"key"``, ``"storage"``)."""

    file: str
    name: str
    description: str
    sources: tuple[str, ...]
    duration_ps: int
    seed: int
    backend: str
    link_model: str
    progress: bool
    graph: nx.Graph
    requests: tuple
    network: Network
    output_dir: Path
    output_files: tuple[str, ...]
    resolved: dict
    notes: tuple[str, ...] = ()
    sha256: str = ""
    kind: str = "entanglement"
    sweep_key: str = ""
    settings: tuple[str, ...] = ()  # the command line's --set KEY=VALUE, applied to the file's tables
    sweep: tuple = ()  # ((value, Scenario), ...): the points of a [sweep], each a whole scenario; () without one

    @property
    def spec(self) -> Kind:
        """The :class:`~qactors.scenario.kinds.Kind` of this scenario."""
        return next(k for k in KINDS.values() if k.name == self.kind)

    @classmethod
    def from_toml(cls, path: str | os.PathLike, *, allow_outside: bool = False,
                  output_dir: str | os.PathLike | None = None, settings: tuple[str, ...] = ()) -> "Scenario":
        """Read and validate a scenario file.

        Paths in it (``topology.file``, ``outputs.dir``) are relative to the file's folder and
        may not leave it, unless ``allow_outside`` (``qactors run --allow-outside-paths``).
        ``output_dir`` (``qactors run --out``) replaces ``outputs.dir``: a path the user gave,
        relative to the current folder, allowed anywhere.  ``settings`` (``qactors run --set``) are
        ``"KEY=VALUE"`` strings applied to the file's tables before they are checked; the scenario
        keeps them (``settings``), and checkpoints and ``run.json`` record them.

        Raises:
            ScenarioError: the file cannot be read, is not valid TOML (the problem has its
                line and column), or any of its keys is wrong.
        """
        data, sha256 = read_toml(path)
        if settings:
            from .sweep import apply_settings
            apply_settings(data, settings, str(path))
        scenario = cls.from_dict(data, file=str(path), base_dir=Path(path).resolve().parent, sha256=sha256,
                                 allow_outside=allow_outside, output_dir=output_dir)
        if settings:
            scenario = dataclasses.replace(scenario, settings=tuple(str(t) for t in settings))
        return scenario

    @classmethod
    def from_dict(cls, data: dict, *, file: str = "<scenario>", base_dir: str | os.PathLike = ".",
                  sha256: str = "", allow_outside: bool = False,
                  output_dir: str | os.PathLike | None = None) -> "Scenario":
        """Validate the tables of a scenario given as Python values (as :func:`tomllib.loads` returns them).

        Raises:
            ScenarioError: listing every problem found.
        """
        if not (isinstance(data, dict) and "sweep" in data):
            return Builder(file, Path(base_dir), allow_outside, output_dir).build(data, sha256)
        from .sweep import build_sweep
        return build_sweep(data, file, Path(base_dir), sha256, allow_outside, output_dir)

    def with_overrides(self, *, seed: int | None = None, backend: str | None = None, progress: bool | None = None,
                       output_dir: str | os.PathLike | None = None) -> "Scenario":
        """A copy with run settings replaced (as ``qactors run --seed/--backend/--no-progress/--out`` do).

        Raises:
            ScenarioError: a seed or backend that the scenario file could not have held either.
        """
        ck = Checker(self.file)
        changes: dict[str, Any] = {}
        run = dict(self.resolved["run"])
        for name, value in (("seed", seed), ("backend", backend), ("progress", progress)):
            if value is not None:
                checked = ck.value(f"run.{name} (command line)", value, _RUN[name])
                if name == "backend" and checked is not BAD:
                    check_backend(ck, "run.backend (command line)", checked)
                changes[name] = run[name] = checked
        if ck.problems:
            raise ScenarioError(ck.problems)
        outputs = dict(self.resolved["outputs"])
        if output_dir is not None:
            changes["output_dir"] = Path(output_dir)
            outputs["dir"] = str(output_dir)
        if self.sweep:
            changes["sweep"] = tuple((v, point.with_overrides(seed=seed, backend=backend, progress=progress,
                                                              output_dir=output_dir)) for v, point in self.sweep)
        return dataclasses.replace(self, **changes, resolved={**self.resolved, "run": run, "outputs": outputs})

    def describe(self) -> str:
        """One line: name, size of the network, requests and run settings."""
        spec = self.spec
        how = spec.how or f"{self.link_model} link model"
        sweep = f"; sweep of {self.sweep_key} over {len(self.sweep)} values" if self.sweep else ""
        return (f"scenario {self.name!r}: {count(self.graph.number_of_nodes(), 'node')}, "
                f"{count(self.graph.number_of_edges(), 'link')}, {count(len(self.requests), spec.noun)}; "
                f"{format_ps(self.duration_ps)} on the {self.backend} backend, seed {self.seed}, {how}{sweep}")


def check_backend(ck: Checker, key: str, backend: str) -> None:
    """``ray:K``: K shards need K cores of the Ray cluster the run would use (this machine's, unless Ray is
    already connected to a cluster)."""
    if not backend.startswith("ray:"):
        return
    try:
        from ..backends.ray_backend import cluster_cpus
    except ImportError:  # pragma: no cover - ray is a dependency
        return
    cores = cluster_cpus()
    if cores is not None and int(backend[4:]) > cores:
        ck.bad(key, backend, f"'ray:K' with K at most {cores}, the CPUs of the Ray cluster the run would use (or "
               f"'local', 'ray', 'ray-per-actor')", "asks for more shards than there are cores")


class Builder:
    """Checks a scenario's tables and builds what they describe, collecting every problem."""

    def __init__(self, file: str, base_dir: Path, allow_outside: bool = False,
                 output_dir: str | os.PathLike | None = None):
        self.ck = Checker(file)
        self.output_dir = output_dir
        self.base_dir = base_dir
        self.allow_outside = allow_outside
        self.notes: list[str] = []

    def build(self, data: dict, sha256: str) -> Scenario:
        ck = self.ck
        sections = {k.section: k for k in KINDS.values()}
        if not isinstance(data, dict):
            ck.bad("", data, "a table of the sections [scenario], [run], [topology], [profiles], [[requests]], "
                   "[outputs]", f"({toml_type(data)}) has the wrong type")
            raise ScenarioError(ck.problems)
        top = ck.table("", data, {"scenario": Key("table", REQUIRED), "run": Key("table", REQUIRED),
                                  "topology": Key("table", REQUIRED), "profiles": Key("table", REQUIRED),
                                  **{s: Key("tables") for s in sections}, "outputs": Key("table", {}),
                                  "sweep": Key("table"), "traffic": Key("table"), "faults": Key("tables"),
                                  "stress": Key("table")})
        get = (lambda name: top[name] if isinstance(top[name], dict) else {})
        given = [sections[s] for s in sections if s in data]
        loaded = "traffic" in data or "faults" in data  # a network under load: entanglement requests
        if loaded and not given:
            given = [sections["requests"]]
        # with several kinds of request given (a mistake, reported below) the profiles are read as for the
        # first, and no network is built
        kind = given[0] if given else sections["requests"]
        scenario = ck.table("scenario", get("scenario"), _SCENARIO) if top["scenario"] is not BAD else None
        run = self._run(get("run"), kind) if top["run"] is not BAD else None
        reader = TopologyReader(ck, self.base_dir, self.notes, self.allow_outside)
        topo = reader.read(get("topology")) if top["topology"] is not BAD else None
        profiles = read_profiles(ck, get("profiles"), kind) if top["profiles"] is not BAD else None
        if len(given) != 1:
            what = (f"{', '.join(k.section for k in given)} are all given" if len(given) > 2
                    else "both are given" if given else "is missing")
            options = [f"[[{k.section}]] ({k.purpose})" for k in sections.values()]
            ck.add("requests", None, f"{what}; required: exactly one of {', '.join(options[:-1])} or {options[-1]}")
            requests = None
        elif top[kind.section] is BAD:
            requests = None
        elif kind.section not in data:  # [traffic] alone
            requests = {"requests": [], "resolved": []}
        else:
            requests = read_requests(ck, kind, top[kind.section], run)
        if loaded and kind is not sections["requests"]:
            ck.add("traffic" if "traffic" in data else "faults", None, f"is only for a scenario with [[requests]] "
                   f"(entanglement), not with [[{kind.section}]]")
        traffic = faults = None
        if "traffic" in data and top["traffic"] is not BAD and kind is sections["requests"]:
            traffic = read_traffic(ck, top["traffic"], kind, run)
        elif kind.section not in data and "traffic" not in data and loaded:
            ck.add("requests", None, "is missing; required: [[requests]] or [traffic] (faults need requests)")
        if "faults" in data and top["faults"] is not BAD and kind is sections["requests"]:
            faults = read_faults(ck, top["faults"])
        stress = read_stress(ck, top["stress"]) if isinstance(top["stress"], dict) else None
        outputs = ck.table("outputs", get("outputs"), _OUTPUTS) if top["outputs"] is not BAD else None
        graph = reader.graph(topo) if topo is not None else None
        if graph is not None and traffic is not None and requests is not None and run is not None and good(run["seed"]):
            drawn = traffic_requests(ck, traffic["traffic"], graph, run["seed"],
                                     {r.request_id for r in requests["requests"]})
            requests = {**requests, "requests": requests["requests"] + drawn} if drawn is not None else None
        network = None
        if graph is not None and profiles is not None and len(given) == 1:
            args = self._hardware(reader, graph, topo, profiles, kind)
            if args is not None and faults:
                args = {**args, "faults": faults}
            if requests is not None and args is not None and self._routes(reader, graph, requests["requests"], kind) \
                    and not ck.problems:
                network = kind.network(ck, graph, requests["requests"], args, run)
        out_dir = Path(self.output_dir) if self.output_dir is not None else None
        if out_dir is None and outputs is not None and good(outputs["dir"]) and outputs["dir"] is not None:
            out_dir = contained_path(ck, "outputs.dir", outputs["dir"], self.base_dir, self.allow_outside)
        if ck.problems or network is None:
            if not ck.problems:  # pragma: no cover - every path to here records a problem
                ck.add("", None, "invalid scenario")
            raise ScenarioError(ck.problems)
        name = scenario["name"]
        out_dir = out_dir if out_dir is not None else Path("results") / name
        tables = {"scenario": scenario, "run": run, "topology": topo["resolved"], "profiles": profiles["resolved"],
                  kind.section: requests["resolved"], "outputs": {"dir": str(out_dir), "files": list(outputs["files"])}}
        if traffic is not None:
            tables["traffic"] = traffic["resolved"]
        if faults:
            tables["faults"] = [dict(t) for t in top["faults"]]
        if stress is not None:
            tables["stress"] = {k: v for k, v in stress.items() if v is not None}
        resolved = jsonable(tables)
        return Scenario(file=ck.file, name=name, description=scenario["description"],
                        sources=tuple(scenario["sources"]), duration_ps=round(run["duration_ms"] * MS),
                        seed=run["seed"], backend=run["backend"], link_model=run.get("link_model", "geometric"),
                        progress=run["progress"], graph=graph, requests=tuple(requests["requests"]), network=network,
                        output_dir=out_dir, output_files=tuple(dict.fromkeys(outputs["files"])), resolved=resolved,
                        notes=tuple(self.notes), sha256=sha256, kind=kind.name)

    def _run(self, data: dict, kind: Kind) -> dict | None:
        ck = self.ck
        owned = {key: k for k in KINDS.values() for key in k.run_keys}
        keys = {**_RUN, **{key: spec for k in KINDS.values() for key, spec in k.run_keys.items()}}
        run = ck.table("run", data, keys)
        for key, owner in owned.items():
            if key in data and owner is not kind:
                ck.bad(f"run.{key}", data[key], f"only in a scenario with [[{owner.section}]] (leave it out)",
                       "is not used here")
            if owner is not kind:
                run.pop(key, None)
        if good(run["backend"]):
            check_backend(ck, "run.backend", run["backend"])
        return run

    def _hardware(self, reader: TopologyReader, g: nx.Graph, t: dict, profiles: dict, kind: Kind) -> dict | None:
        ck = self.ck
        if g.number_of_edges() == 0:
            ck.add(f"topology.{t['kind']}", None, "gives a network without links; required: at least one link")
            return None
        if not reader.check_profiles(g, t, profiles):
            return None
        used = check_link_schemes(ck, g, profiles, kind)
        if t["max_segment_km"] is not None:
            for name in used:
                if profiles["links"][name].get("channel") == "satellite":
                    ck.bad("topology.max_segment_km", t["max_segment_km"], "no max_segment_km when a link is on "
                           f"channel 'satellite' (profile {name!r}): a satellite link is not a fibre to cut into "
                           "repeater segments", "cannot be used here")
        if any(p.key.startswith("profiles") for p in ck.problems):
            return None
        args = kind.hardware(ck, g, t, profiles, self.notes)
        if args is None:
            return None
        return {"refractive_index": profiles["links"][used[0]]["refractive_index"], **args}

    def _routes(self, reader: TopologyReader, g: nx.Graph, requests: list, kind: Kind) -> bool:
        """Every request's ends are connected nodes of the topology."""
        ok = True
        for i, r in enumerate(requests):
            ok = reader.endpoints(g, f"{kind.section}[{i}]", r.source, r.dest) and ok
        return ok
