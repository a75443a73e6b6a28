"""Scenario files: a network, its hardware, its traffic and its run settings in one TOML file.

A scenario file (read with :mod:`tomllib`; the format is specified in
``docs/scenario-format.md``) has the sections ``[scenario]``, ``[run]``,
``[topology]``, ``[profiles.nodes.NAME]``, ``[profiles.links.NAME]``,
``[[requests]]`` and ``[outputs]``.  :meth:`Scenario.from_toml` reads and
validates all of it before anything runs: every mistake becomes a
:class:`Problem` naming the file, the key path (``requests[2].purification.
target_fidelity``), the value and what is allowed, and all of them are raised
together as one :class:`ScenarioError`.  A valid scenario maps onto
:func:`qactors.protocols.network.quantum_network`; :func:`run_scenario` runs it
and :func:`write_outputs` writes ``summary.json``, ``deliveries.csv`` and
``run.json``.

>>> from qactors.scenario import Scenario, run_scenario
>>> s = Scenario.from_dict({
...     "scenario": {"name": "two-nodes"}, "run": {"duration_ms": 50, "seed": 3},
...     "topology": {"nodes": [{"id": "a"}, {"id": "b"}], "links": [{"a": "a", "b": "b", "length_km": 10}]},
...     "profiles": {"nodes": {"node": {"t2_s": 1.0}}, "links": {"fibre": {"scheme": "double_click"}}},
...     "requests": [{"id": "r", "source": "a", "dest": "b", "pairs": 5}]})
>>> run_scenario(s).reports["r"]["outcome"]
'served: 5 pairs'
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import difflib
import hashlib
import inspect
import io
import json
import math
import os
import re
import time
import tomllib
from pathlib import Path
from typing import Any, Callable

import networkx as nx

from .core.errors import ConfigurationError
from .core.network import Network
from .core.time import MS, format_ps
from .hardware.channels import Fibre, FreeSpaceLink, SatelliteDownlink, dual_downlink
from .hardware.detectors import Detector
from .hardware.memory import MEMORY_DECAYS, AbsorptiveMemory, QuantumMemory
from .protocols.applications import APPLICATIONS
from .protocols.link import ALL_SCHEMES, MODELS, SCHEMES, LinkPhysics, MidpointSourcePhysics, SenderReceiverPhysics
from .protocols.network import POLICIES, SELECTIONS, Purification, Request, quantum_network, request_report
from .protocols.memory import ALLOCATIONS
from .protocols.qkd import DecoyBB84, KeyRelayRequest, decoy_link_rate_bps, key_relay_report, trusted_relay_network
from .protocols.storage import PHASES, StorageRequest, storage_jobs, storage_network, storage_report
from .simulation import run as _run
from .topologies import (dumbbell, grid, insert_repeaters, line, load_graph, load_topohub, metro, random_geometric,
                         random_graph, ring, star, waxman)

__all__ = ["Scenario", "ScenarioError", "Problem", "ScenarioRun", "run_scenario", "prepare_output_dir",
           "write_outputs", "format_summary", "BUILDERS", "OUTPUT_FILES"]

BUILDERS: dict[str, Callable[..., nx.Graph]] = {
    "line": line, "ring": ring, "star": star, "grid": grid, "dumbbell": dumbbell, "random": random_graph,
    "waxman": waxman, "random_geometric": random_geometric, "metro": metro}
"""``topology.builder`` name -> builder function of :mod:`qactors.topologies`."""

OUTPUT_FILES = ("summary.json", "deliveries.csv", "run.json")
_FILE_OPTIONS = ("length_attr", "length_unit_km", "xy", "min_length_km")
_TOPOHUB_OPTIONS = ("use_names", "min_length_km")
_PROFILE_PARAMS = ("node_profile", "link_profile")  # set by topology.default_*_profile, not in params
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_BACKEND = re.compile(r"(local|ray|ray-per-actor|ray:[1-9][0-9]*)\Z")


# -- errors -----------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Problem:
    """One mistake in a scenario.

    ``key`` is the key path (``requests[2].purification.target_fidelity``; array
    indices count from 0 in the order the ``[[...]]`` blocks appear), empty for
    a problem with the file itself; ``line``/``column`` are set for TOML syntax
    errors.  ``str(problem)`` is ``"FILE: KEY: MESSAGE"``."""

    file: str
    key: str
    value: Any
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class ScenarioError(ConfigurationError):
    """A scenario file is invalid; ``problems`` lists every mistake found (nothing has run).

    ``file``, ``field`` and ``value`` are those of the first problem."""

    def __init__(self, problems: list[Problem]):
        problems = list(problems)
        first = problems[0]
        head = f"{len(problems)} problem{'s' if len(problems) > 1 else ''} in scenario {first.file}"
        super().__init__("\n  ".join([head + ":"] + [str(p) for p in problems]), problems=problems,
                         file=first.file, field=first.key, value=first.value)


# -- the schema -----------------------------------------------------------------------------------

_REQUIRED = object()
_BAD = object()  # a value that failed its check: later checks that need it are skipped


@dataclasses.dataclass(frozen=True)
class _Key:
    """What one key accepts: its kind, default (``_REQUIRED`` if it must be given), range and choices."""

    kind: str  # "str", "name", "int", "number", "pair", "seconds", "bool", "strs", "backend", "table", "tables"
    default: Any = None
    low: float | None = None
    low_open: bool = False
    high: float | None = None
    high_open: bool = False
    choices: tuple = ()
    text: str = ""  # what is allowed, when the kind alone does not say it

    def allowed(self) -> str:
        if self.text:
            return self.text
        if self.choices:
            text = "one of " + ", ".join(repr(c) for c in self.choices)
            return text if self.kind != "strs" else "a list of " + text[7:]
        if self.kind in ("int", "number", "seconds", "pair"):
            what = "an integer" if self.kind == "int" else "a finite number"
            if self.low is not None and self.high is not None:
                lo, hi = "(" if self.low_open else "[", ")" if self.high_open else "]"
                text = f"{what} in {lo}{_fmt(self.low)}, {_fmt(self.high)}{hi}"
            elif self.low is not None:
                text = f"{what} {'>' if self.low_open else '>='} {_fmt(self.low)}"
            else:
                text = what
            if self.kind == "pair":
                return f"{text}, or an array of two such numbers (one per end of the link)"
            return text + (' or "inf" (no decay)' if self.kind == "seconds" else "")
        return {"str": "a string", "name": "a name of letters, digits, '.', '_' and '-' (it names the output "
                "folder)", "bool": "true or false", "strs": "a list of strings", "table": "a table",
                "tables": "an array of tables ([[...]])",
                "backend": "one of 'local', 'ray', 'ray:K' (K shards, K >= 1), 'ray-per-actor'"}[self.kind]


def _fmt(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


def _num(default=None, **kw) -> _Key:
    return _Key("number", default, **kw)


def _choice(default, choices) -> _Key:
    return _Key("str", default, choices=tuple(choices))


_TOP = {"scenario": _Key("table", _REQUIRED), "run": _Key("table", _REQUIRED), "topology": _Key("table", _REQUIRED),
        "profiles": _Key("table", _REQUIRED), "requests": _Key("tables"), "key_requests": _Key("tables"),
        "storage_requests": _Key("tables"),
        "outputs": _Key("table", {}),
        "sweep": _Key("table")}
_SCENARIO = {"name": _Key("name", _REQUIRED), "description": _Key("str", ""), "sources": _Key("strs", [])}
_RUN = {"duration_ms": _num(_REQUIRED, low=0, low_open=True), "seed": _Key("int", 1, low=0, high=2 ** 63 - 1),
        "backend": _Key("backend", "local"), "link_model": _choice("geometric", MODELS),
        "progress": _Key("bool", True), "key_tick_ms": _num(1.0, low=0, low_open=True)}
_TOPOLOGY = {"builder": _choice(None, BUILDERS), "file": _Key("str"), "topohub": _Key("str"),
             "nodes": _Key("tables"), "links": _Key("tables"), "params": _Key("table"),
             "max_segment_km": _num(low=0, low_open=True),
             "default_node_profile": _Key("str", "node", text="a profile name (a string)"),
             "default_link_profile": _Key("str", "fibre", text="a profile name (a string)"),
             "repeater_profile": _Key("str", text="a profile name (a string)")}
_KINDS = ("builder", "file", "topohub", "links")  # exactly one (nodes go with links)
_NODE_ID = "a node id (a non-empty string)"
_NODE = {"id": _Key("str", _REQUIRED, text=_NODE_ID), "profile": _Key("str", text="a profile name (a string)")}
_LINK = {"a": _Key("str", _REQUIRED, text=_NODE_ID), "b": _Key("str", _REQUIRED, text=_NODE_ID),
         "length_km": _num(_REQUIRED, low=0, low_open=True), "profile": _Key("str")}
_PROFILES = {"nodes": _Key("table", _REQUIRED), "links": _Key("table", _REQUIRED)}
_NODE_PROFILE = {"t1_s": _Key("seconds", math.inf, low=0, low_open=True),
                 "t2_s": _Key("seconds", math.inf, low=0, low_open=True),
                 "swap_success_probability": _num(1.0, low=0, low_open=True, high=1),
                 "memories_per_link": _Key("int", 1, low=1),
                 "allocation": _choice("reserved", ALLOCATIONS),
                 "access_time_us": _num(1.0, low=0, low_open=True),
                 # photon storage ([[storage_requests]]): a single-photon source ...
                 "repetition_rate_mhz": _num(low=0, low_open=True), "photon_probability": _num(low=0, low_open=True,
                                                                                              high=1),
                 "photon_linewidth_ghz": _num(low=0),
                 # ... or an absorptive memory and the detector after it
                 "memory_efficiency": _num(low=0, low_open=True, high=1),
                 "memory_lifetime_ns": _Key("seconds", low=0, low_open=True, text='a finite number > 0, or "inf" (no '
                                            'decay)'),
                 "memory_decay": _choice(None, MEMORY_DECAYS), "memory_bandwidth_ghz": _num(low=0, low_open=True),
                 "memory_noise_photons": _num(low=0), "detection_efficiency": _num(low=0, low_open=True, high=1),
                 "dark_count_rate_hz": _num(low=0), "detection_window_ns": _num(low=0, low_open=True)}
_SOURCE_KEYS = ("repetition_rate_mhz", "photon_probability", "photon_linewidth_ghz")
_MEMORY_KEYS = ("memory_efficiency", "memory_lifetime_ns", "memory_decay", "memory_bandwidth_ghz",
                "memory_noise_photons", "detection_efficiency", "dark_count_rate_hz", "detection_window_ns")
_QUBIT_KEYS = ("t1_s", "t2_s", "swap_success_probability", "memories_per_link", "allocation", "access_time_us")
SECTIONS = {"entanglement": "requests", "key": "key_requests", "storage": "storage_requests"}
"""The kind of a scenario -> the array of tables that holds its requests."""
_NOT_EXPRESSIBLE = "the network layer (quantum_network) models a memory by its T1, T2 and access time only"
_NODE_PROFILE_UNSUPPORTED = {
    "write_efficiency": _NOT_EXPRESSIBLE, "read_efficiency": _NOT_EXPRESSIBLE,
    "storage_fidelity": _NOT_EXPRESSIBLE, "access_time_ps": "set access_time_us (microseconds)",
    "dead_time_ps": _NOT_EXPRESSIBLE,
    "num_qubits": "a node has memories_per_link memories on each of its links; set memories_per_link"}
CHANNELS = ("fibre", "free_space", "satellite")
"""``channel`` of a link profile: what carries the photons (docs/scenario-format.md)."""
_POSITIVE = dict(low=0, low_open=True)
KEY_SCHEME = "decoy_bb84"
"""The link scheme of trusted-relay QKD links (prepare and measure; ``[[key_requests]]``)."""
STORAGE_SCHEME = "transmission"
"""The link scheme of a fibre that carries a source's photons to a memory (``[[storage_requests]]``)."""
_SCHEME_OF = {"entanglement": ALL_SCHEMES, "key": (KEY_SCHEME,), "storage": (STORAGE_SCHEME,)}
_TRANSMISSION_KEYS = ("scheme", "attenuation_db_per_km", "refractive_index", "channel")
_LINK_PROFILE = {"scheme": _choice(_REQUIRED, ALL_SCHEMES + (KEY_SCHEME, STORAGE_SCHEME)),
                 "detection_efficiency": _num(1.0, low=0, low_open=True, high=1),
                 "attenuation_db_per_km": _num(0.2, low=0), "visibility": _num(1.0, low=0, high=1),
                 "dark_count_probability": _num(0.0, low=0, high=1),
                 "bright_state_population": _num(low=0, low_open=True, high=1),
                 "mean_photon_number": _num(low=0, high=10), "emission_probability": _num(low=0, low_open=True, high=1),
                 "refractive_index": _num(1.47, low=1), "cycle_ns": _num(low=0), "pipelined": _Key("bool"),
                 "channel": _choice("fibre", CHANNELS),
                 # free-space and satellite optics (hardware.FreeSpaceLink, hardware.SatelliteDownlink)
                 "wavelength_nm": _num(**_POSITIVE), "tx_aperture_m": _num(**_POSITIVE),
                 "rx_aperture_m": _Key("pair", **_POSITIVE), "pointing_error_urad": _num(low=0),
                 "divergence_urad": _num(**_POSITIVE), "extinction_db_per_km": _num(low=0),
                 "altitude_km": _num(**_POSITIVE), "elevation_deg": _Key("pair", low=0, low_open=True, high=90),
                 "zenith_atmospheric_transmission": _num(low=0, high=1),
                 # spontaneous Raman noise from classical light in the same fibre (Fibre.raman_noise_mean_photons)
                 "classical_launch_power_dbm": _num(low=-100, high=40),
                 "raman_coefficient_per_km_per_nm": _num(low=0), "filter_bandwidth_nm": _num(**_POSITIVE),
                 "detection_window_ns": _num(**_POSITIVE), "quantum_wavelength_nm": _num(**_POSITIVE),
                 "counter_propagating": _Key("bool"), "noise_detection_efficiency": _num(low=0, high=1),
                 # decoy-state BB84 links (qactors.protocols.qkd.DecoyBB84; defaults: its GYS values)
                 "mu": _num(**_POSITIVE), "nu": _num(**_POSITIVE), "p_signal": _num(low=0, high=1),
                 "p_decoy": _num(low=0, high=1), "p_vacuum": _num(low=0, high=1), "misalignment": _num(low=0, high=1),
                 "repetition_rate_hz": _num(**_POSITIVE), "ec_efficiency": _num(low=1), "key_rate_bps": _num(low=0)}
_DECOY = ("mu", "nu", "p_signal", "p_decoy", "p_vacuum", "misalignment", "repetition_rate_hz", "ec_efficiency")
_ENTANGLING = tuple(ALL_SCHEMES)
_ONLY_FOR = {"bright_state_population": ("single_click",), "mean_photon_number": ("midpoint_source",),
             "emission_probability": ("midpoint_source",),
             **{k: (KEY_SCHEME,) for k in _DECOY + ("key_rate_bps",)},
             **{k: _ENTANGLING for k in ("visibility", "cycle_ns", "pipelined", "channel", "classical_launch_power_dbm")}}
_OPTICS = ("wavelength_nm", "tx_aperture_m", "rx_aperture_m", "pointing_error_urad", "divergence_urad")
_ONLY_ON = {**{k: ("free_space", "satellite") for k in _OPTICS}, "extinction_db_per_km": ("free_space",),
            **{k: ("satellite",) for k in ("altitude_km", "elevation_deg", "zenith_atmospheric_transmission")},
            "attenuation_db_per_km": ("fibre",)}  # channel(s) a key belongs to
_NEEDED_ON = {"free_space": ("wavelength_nm", "tx_aperture_m", "rx_aperture_m"),
              "satellite": ("altitude_km", "elevation_deg", "wavelength_nm", "tx_aperture_m", "rx_aperture_m")}
_RAMAN = ("raman_coefficient_per_km_per_nm", "filter_bandwidth_nm", "detection_window_ns", "quantum_wavelength_nm",
          "counter_propagating", "noise_detection_efficiency")
_RAMAN_NEEDED = ("filter_bandwidth_nm", "detection_window_ns")
_COMPUTED = ("computed for each link from its length_km, detection_efficiency and attenuation_db_per_km; "
             "set those instead")
_LINK_PROFILE_UNSUPPORTED = {"eta_arm": _COMPUTED, "eta_link": _COMPUTED,
                             "length_km": "lengths belong to the topology's links, not to a profile",
                             "channels": "set memories_per_link in the node profiles"}
_REQUEST = {"id": _Key("str", _REQUIRED, text="a name for the request (a non-empty string)"),
            "source": _Key("str", _REQUIRED, text=_NODE_ID), "dest": _Key("str", _REQUIRED, text=_NODE_ID),
            "pairs": _Key("int", 1, low=1), "min_fidelity": _num(0.0, low=0, high=1),
            "start_ms": _num(0.0, low=0), "deadline_ms": _num(low=0, low_open=True),
            "policy": _choice("asap", POLICIES), "channels": _Key("int", 1, low=1),
            "cutoff_ms": _num(low=0, low_open=True), "selection": _choice("oldest", SELECTIONS),
            "application": _choice("record", APPLICATIONS), "retries": _Key("int", 3, low=0),
            "bsm_visibility": _num(1.0, low=0, high=1), "purification": _Key("table")}
_KEY_REQUEST = {"id": _Key("str", _REQUIRED, text="a name for the key request (a non-empty string)"),
                "source": _Key("str", _REQUIRED, text=_NODE_ID), "dest": _Key("str", _REQUIRED, text=_NODE_ID),
                "bits": _Key("int", _REQUIRED, low=1), "count": _Key("int", 1, low=1), "start_ms": _num(0.0, low=0)}
_STORAGE_REQUEST = {"id": _Key("str", _REQUIRED, text="a name for the storage request (a non-empty string)"),
                    "source": _Key("str", _REQUIRED, text=_NODE_ID), "dest": _Key("str", _REQUIRED, text=_NODE_ID),
                    "pulses": _Key("int", _REQUIRED, low=1), "storage_ns": _num(_REQUIRED, low=0, low_open=True),
                    "start_ms": _num(0.0, low=0)}
_PURIFICATION = {"scheme": _choice("dejmps", ("dejmps", "bbpssw")), "mode": _choice("recurrence", ("recurrence",
                 "pumping")), "level": _choice("link", ("link", "end")),
                 "target_fidelity": _num(0.9, low=0.5, low_open=True, high=1), "max_rounds": _Key("int", 3, low=1)}
_OUTPUTS = {"dir": _Key("str"), "files": _Key("strs", list(OUTPUT_FILES), choices=OUTPUT_FILES)}


def _toml_type(value: object) -> str:
    for t, name in ((bool, "boolean"), (int, "integer"), (float, "float"), (str, "string"), (list, "array"),
                    (dict, "table")):
        if isinstance(value, t):
            return name
    return type(value).__name__


def _show(value: object) -> str:
    if isinstance(value, dict):
        return "a table"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _closest(word: str, options) -> str:
    """`` (did you mean 'x'?)`` for the option most like ``word`` (letter case ignored), if any is close."""
    by_folded = {}
    for o in map(str, options):
        by_folded.setdefault(o.casefold(), o)
    match = difflib.get_close_matches(str(word).casefold(), list(by_folded), n=1, cutoff=0.6)
    return f" (did you mean {by_folded[match[0]]!r}?)" if match else ""


class _Checker:
    """Collects problems while it checks tables against their keys."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def add(self, key: str, value: object, message: str) -> None:
        self.problems.append(Problem(self.file, key, value, message))

    def bad(self, key: str, value: object, allowed: str, why: str = "is not allowed") -> None:
        self.add(key, value, f"{_show(value)} {why}; allowed: {allowed}")

    def value(self, path: str, value: object, spec: _Key) -> object:
        """``value`` checked against ``spec`` (ints become floats for numbers, "inf" becomes math.inf)."""
        kind = spec.kind
        ok = True
        if kind in ("str", "name", "backend"):
            ok = isinstance(value, str) and value != ""
            if ok and spec.choices and value not in spec.choices:
                self.bad(path, value, spec.allowed() + _closest(value, spec.choices))
                return _BAD
            ok = ok and (kind != "name" or bool(_NAME.match(value))) and (
                kind != "backend" or bool(_BACKEND.match(value)))
        elif kind == "bool":
            ok = isinstance(value, bool)
        elif kind == "strs":
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
            if ok and spec.choices:
                wrong = [v for v in value if v not in spec.choices]
                if wrong:
                    self.bad(path, wrong[0], spec.allowed() + _closest(wrong[0], spec.choices))
                    return _BAD
        elif kind == "table":
            ok = isinstance(value, dict)
        elif kind == "tables":
            ok = isinstance(value, list) and all(isinstance(v, dict) for v in value)
        elif kind == "pair" and isinstance(value, list):
            if len(value) != 2:
                self.bad(path, value, spec.allowed(), f"has {len(value)} entries")
                return _BAD
            pair = [self.value(f"{path}[{i}]", v, dataclasses.replace(spec, kind="number")) for i, v in
                    enumerate(value)]
            return _BAD if not _good(*pair) else pair
        elif kind in ("int", "number", "seconds", "pair"):
            if kind == "seconds" and (value == "inf" or (isinstance(value, float) and value == math.inf)):
                return math.inf
            if isinstance(value, bool) or not isinstance(value, (int, float) if kind != "int" else int):
                ok = False
            elif not math.isfinite(value):
                self.bad(path, value, spec.allowed())
                return _BAD
            else:
                lo_ok = spec.low is None or (value > spec.low if spec.low_open else value >= spec.low)
                hi_ok = spec.high is None or (value < spec.high if spec.high_open else value <= spec.high)
                if not (lo_ok and hi_ok):
                    self.bad(path, value, spec.allowed(), "is out of range")
                    return _BAD
                return value if kind == "int" else float(value)
        if not ok:
            wrong_type = kind in ("int", "number", "pair", "seconds", "bool", "table", "tables", "strs") or not isinstance(
                value, str)
            why = f"({_toml_type(value)}) has the wrong type" if wrong_type else "is not allowed"
            self.bad(path, value, spec.allowed(), why)
            return _BAD
        return value

    def table(self, path: str, data: dict, keys: dict[str, _Key],
              unsupported: dict[str, str] | None = None) -> dict:
        """Every key of ``data`` checked: unknown and missing keys reported, defaults filled in."""
        out: dict[str, Any] = {}
        unsupported = unsupported or {}
        for key, value in data.items():
            where = f"{path}.{key}" if path else key
            if key in unsupported:
                self.add(where, value, f"{_show(value)} cannot be expressed: {unsupported[key]}; allowed keys: "
                         f"{', '.join(keys)}")
            elif key not in keys:
                self.add(where, value, f"unknown key, set to {_show(value)}{_closest(key, keys)}; allowed keys: "
                         f"{', '.join(keys)}")
            else:
                out[key] = self.value(where, value, keys[key])
        for key, spec in keys.items():
            if key not in data:
                if spec.default is _REQUIRED:
                    where = f"{path}.{key}" if path else key
                    self.add(where, None, f"is missing; required: {spec.allowed()}")
                    out[key] = _BAD
                else:
                    out[key] = spec.default
        return out


def _good(*values) -> bool:
    return all(v is not _BAD for v in values)


# -- the scenario ------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Scenario:
    """A validated scenario, ready to run.

    Build one with :meth:`from_toml` (a file) or :meth:`from_dict` (the same
    tables as Python values); both raise :class:`ScenarioError` listing every
    mistake.  ``network`` is the :class:`~qactors.core.network.Network` of
    :func:`~qactors.protocols.network.quantum_network`; ``graph`` the
    topology after repeater insertion, each edge with its ``physics`` and
    ``channels``; ``resolved`` the scenario with every default filled in
    (JSON-ready, written to ``run.json``)."""

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
    requests: tuple[Request, ...]
    network: Network
    output_dir: Path
    output_files: tuple[str, ...]
    resolved: dict
    notes: tuple[str, ...] = ()
    sha256: str = ""
    kind: str = "entanglement"  # "key": [[key_requests]] (KeyRelayRequests); "storage": [[storage_requests]]
    sweep_key: str = ""
    sweep: tuple = ()  # ((value, Scenario), ...): the points of a [sweep], each a whole scenario; () without one

    @classmethod
    def from_toml(cls, path: str | os.PathLike) -> "Scenario":
        """Read and validate a scenario file; relative paths in it (``topology.file``) are
        relative to the file's folder.

        Raises:
            ScenarioError: the file cannot be read, is not valid TOML (the problem has its
                line and column), or any of its keys is wrong.
        """
        file = str(path)
        try:
            raw = Path(path).read_bytes()
        except OSError as err:
            raise ScenarioError([Problem(file, "", file, f"cannot read the scenario file ({err.strerror or err}); "
                                 f"allowed: the path of a readable TOML file")]) from None
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as err:
            raise ScenarioError([Problem(file, "", None, f"not UTF-8 text ({err.reason} at byte {err.start}); "
                                 f"allowed: a UTF-8 TOML file")]) from None
        except tomllib.TOMLDecodeError as err:
            text = str(err)
            at = re.search(r"\(at line (\d+), column (\d+)\)", text)
            line, column = (int(at.group(1)), int(at.group(2))) if at else (None, None)
            message = text[:at.start()].strip() if at else text
            raise ScenarioError([Problem(file, "", None, f"TOML syntax error: {message}; allowed: TOML 1.0 "
                                 f"(https://toml.io)", line, column)]) from None
        return cls.from_dict(data, file=file, base_dir=Path(path).resolve().parent,
                             sha256=hashlib.sha256(raw).hexdigest())

    @classmethod
    def from_dict(cls, data: dict, *, file: str = "<scenario>", base_dir: str | os.PathLike = ".",
                  sha256: str = "") -> "Scenario":
        """Validate the tables of a scenario given as Python values (as :func:`tomllib.loads` returns them).

        Raises:
            ScenarioError: listing every problem found.
        """
        if not (isinstance(data, dict) and "sweep" in data):
            return _Builder(file, Path(base_dir)).build(data, sha256)
        return _build_sweep(data, file, Path(base_dir), sha256)

    def with_overrides(self, *, seed: int | None = None, backend: str | None = None, progress: bool | None = None,
                       output_dir: str | os.PathLike | None = None) -> "Scenario":
        """A copy with run settings replaced (as ``qactors run --seed/--backend/--no-progress/--out`` do).

        Raises:
            ScenarioError: a seed or backend that the scenario file could not have held either.
        """
        ck = _Checker(self.file)
        changes: dict[str, Any] = {}
        run = dict(self.resolved["run"])
        for name, value in (("seed", seed), ("backend", backend), ("progress", progress)):
            if value is not None:
                checked = ck.value(f"run.{name} (command line)", value, _RUN[name])
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
        what = SECTIONS[self.kind][:-1].replace("_", " ")
        how = {"key": "trusted relays", "storage": "photon storage"}.get(self.kind, f"{self.link_model} link model")
        sweep = f"; sweep of {self.sweep_key} over {len(self.sweep)} values" if self.sweep else ""
        return (f"scenario {self.name!r}: {_count(self.graph.number_of_nodes(), 'node')}, "
                f"{_count(self.graph.number_of_edges(), 'link')}, {_count(len(self.requests), what)}; "
                f"{format_ps(self.duration_ps)} on the {self.backend} backend, seed {self.seed}, {how}{sweep}")


_SWEEP = {"key": _Key("str", _REQUIRED, text="the key path of a number in this file, such as "
                       "'profiles.links.NAME.visibility' or 'requests[0].bsm_visibility'"),
          "values": _Key("tables", _REQUIRED, text="a non-empty array of numbers")}
_SEGMENT = re.compile(r"([A-Za-z0-9_.-]+?)((?:\[\d+\])*)\Z")


def _sweep_point(data: dict, key: str, value: float) -> dict:
    """A deep copy of ``data`` with the value at key path ``key`` set (its parent must exist)."""
    out = copy.deepcopy(data)
    out.pop("sweep", None)
    parts = _split_key(key)
    node: Any = out
    for part in parts[:-1]:
        node = node[part]
    if not isinstance(node, dict) or not isinstance(parts[-1], str):
        raise KeyError(key)
    node[parts[-1]] = value
    return out


def _current(data: dict, key: str) -> object:
    """The file's value at key path ``key``, or None if the file does not set it."""
    node: Any = data
    for part in _split_key(key):
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _split_key(key: str) -> list:
    """``'requests[0].bsm_visibility'`` -> ``['requests', 0, 'bsm_visibility']``; profile names may hold
    dots only where the file's own tables do, so each dotted part is one table key."""
    parts: list = []
    for word in key.split("."):
        m = _SEGMENT.match(word)
        if not m:
            raise KeyError(key)
        parts.append(m.group(1))
        parts.extend(int(i) for i in re.findall(r"\[(\d+)\]", m.group(2)))
    return parts


def _build_sweep(data: dict, file: str, base_dir: Path, sha256: str) -> "Scenario":
    """A scenario with a ``[sweep]``: every point is checked as a whole scenario; the first is returned,
    carrying all of them in ``sweep``."""
    ck = _Checker(file)
    sweep = data["sweep"]
    if not isinstance(sweep, dict):
        ck.bad("sweep", sweep, "a table [sweep] with key and values", f"({_toml_type(sweep)}) has the wrong type")
        raise ScenarioError(ck.problems)
    given = {k: v for k, v in sweep.items() if k != "values"}
    spec = ck.table("sweep", given, {"key": _SWEEP["key"], "values": _Key("tables", None)})
    values = sweep.get("values")
    if "values" not in sweep:
        ck.add("sweep.values", None, f"is missing; required: {_SWEEP['values'].allowed()}")
    elif not (isinstance(values, list) and values and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values)):
        ck.bad("sweep.values", values, _SWEEP["values"].allowed(), "is not allowed")
    elif len(set(values)) != len(values):
        ck.bad("sweep.values", values, "different values (each point is run once)", "repeats a value")
    key = spec["key"]
    if _good(key):
        try:
            _sweep_point(data, key, 0.0)
        except (KeyError, IndexError, TypeError):
            ck.bad("sweep.key", key, _SWEEP["key"].allowed() + " whose table or array exists in the file",
                   "does not name a place in this file")
        else:
            current = _current(data, key)
            if current is not None and (isinstance(current, bool) or not isinstance(current, (int, float))):
                what = "a table" if isinstance(current, dict) else f"{_show(current)}, a {_toml_type(current)}"
                ck.bad("sweep.key", key, _SWEEP["key"].allowed() + f" (it names {what})", "does not name a number")
            elif key.split(".")[0] in ("scenario", "outputs", "sweep") or key in ("run.seed", "run.backend"):
                ck.bad("sweep.key", key, "a key of [run] (but seed or backend), [topology], [profiles] or "
                       "[[requests]]", "cannot be swept")
    if ck.problems:
        raise ScenarioError(ck.problems)
    points, problems = [], {}
    for i, value in enumerate(values):
        try:
            point = _Builder(file, base_dir).build(_sweep_point(data, key, value), sha256)
        except ScenarioError as err:
            for p in err.problems:  # a mistake every point makes is reported once
                problems.setdefault((p.key, p.message), []).append((i, value, p))
            continue
        points.append((value, point))
    if problems:
        raise ScenarioError([
            p if len(at) == len(values) and len(values) > 1 else dataclasses.replace(
                p, message=f"{p.message} (at sweep point {key} = {value!r}, sweep.values[{i}])")
            for at in problems.values() for i, value, p in (at[:1] if len(at) == len(values) else at)])
    first = points[0][1]
    resolved = {**first.resolved, "sweep": {"key": key, "values": list(values)}}
    return dataclasses.replace(first, sweep_key=key, sweep=tuple(points), resolved=resolved)


class _Builder:
    """Checks a scenario's tables and builds what they describe, collecting every problem."""

    def __init__(self, file: str, base_dir: Path):
        self.ck = _Checker(file)
        self.base_dir = base_dir
        self.notes: list[str] = []
        self.kind = "entanglement"  # set by build() before the profiles are read

    def build(self, data: dict, sha256: str) -> Scenario:
        ck = self.ck
        if not isinstance(data, dict):
            ck.bad("", data, "a table of the sections [scenario], [run], [topology], [profiles], [[requests]], "
                   "[outputs]", f"({_toml_type(data)}) has the wrong type")
            raise ScenarioError(ck.problems)
        top = ck.table("", data, _TOP)
        get = (lambda name: top[name] if isinstance(top[name], dict) else {})
        scenario = ck.table("scenario", get("scenario"), _SCENARIO) if top["scenario"] is not _BAD else None
        run = ck.table("run", get("run"), _RUN) if top["run"] is not _BAD else None
        topo = self._topology(get("topology")) if top["topology"] is not _BAD else None
        given_sections = [k for k, section in SECTIONS.items() if section in data]
        # with several kinds of request given (a mistake, reported below) the profiles are read as
        # for entanglement or keys, and no network is built
        kind = self.kind = (given_sections[0] if len(given_sections) == 1 else
                            next((k for k in ("key", "entanglement") if k in given_sections), "entanglement"))
        profiles = self._profiles(get("profiles")) if top["profiles"] is not _BAD else None
        given_run = get("run")
        for key, wanted in (("key_tick_ms", "key"), ("link_model", "entanglement")):
            if key in given_run and kind != wanted:
                ck.bad(f"run.{key}", given_run[key], f"only in a scenario with [[{SECTIONS[wanted]}]] (leave it "
                       f"out)", "is not used here")
        section = SECTIONS[kind]
        if len(given_sections) != 1:
            given = (f"{', '.join(SECTIONS[k] for k in given_sections)} are all given" if len(given_sections) > 2
                     else "both are given" if given_sections else "is missing")
            ck.add("requests", None, f"{given}; required: exactly one of [[requests]] (entanglement "
                   f"between nodes), [[key_requests]] (trusted-relay QKD keys) or [[storage_requests]] (photons "
                   f"stored in a memory)")
            requests = None
        elif top[section] is _BAD:
            requests = None
        else:
            requests = {"entanglement": self._requests, "key": self._key_requests,
                        "storage": self._storage_requests}[kind](top[section], run)
        outputs = ck.table("outputs", get("outputs"), _OUTPUTS) if top["outputs"] is not _BAD else None
        graph = self._graph(topo) if topo is not None else None
        network = checked = None
        if graph is not None and profiles is not None and len(given_sections) == 1:
            network_args = self._hardware(graph, topo, profiles, kind)
            if requests is not None and network_args is not None:
                checked = self._routes(graph, requests, kind)
                if checked is not None and not ck.problems:
                    network = (self._key_network(graph, checked, network_args, run["key_tick_ms"]) if kind == "key"
                               else self._storage_network(graph, checked, network_args, run) if kind == "storage"
                               else self._network(graph, checked, network_args, run["link_model"]))
        if ck.problems or network is None:
            if not ck.problems:  # pragma: no cover - every path to here records a problem
                ck.add("", None, "invalid scenario")
            raise ScenarioError(ck.problems)
        name = scenario["name"]
        out_dir = Path(outputs["dir"]) if outputs["dir"] is not None else Path("results") / name
        resolved = _jsonable({"scenario": scenario, "run": run, "topology": topo["resolved"],
                              "profiles": profiles["resolved"],
                              section: requests["resolved"],
                              "outputs": {"dir": str(out_dir), "files": list(outputs["files"])}})
        return Scenario(file=ck.file, name=name, description=scenario["description"],
                        sources=tuple(scenario["sources"]), duration_ps=round(run["duration_ms"] * MS),
                        seed=run["seed"], backend=run["backend"], link_model=run["link_model"],
                        progress=run["progress"], graph=graph, requests=tuple(checked), network=network,
                        output_dir=out_dir, output_files=tuple(dict.fromkeys(outputs["files"])), resolved=resolved,
                        notes=tuple(self.notes), sha256=sha256, kind=kind)

    # -- topology ------------------------------------------------------------------------------------
    def _topology(self, data: dict) -> dict | None:
        ck = self.ck
        t = ck.table("topology", data, _TOPOLOGY)
        given = [k for k in _KINDS if data.get(k) is not None]
        if "nodes" in data and "links" not in data:
            ck.add("topology.links", None, "is missing; required with topology.nodes: an array of tables "
                   "[[topology.links]] with a, b, length_km")
            return None
        if not given:
            ck.add("topology", None, "has no network; required: exactly one of topology.builder, topology.file, "
                   "topology.topohub, or [[topology.links]] (with optional [[topology.nodes]])")
            return None
        if len(given) > 1:
            for k in given[1:]:
                ck.add(f"topology.{k}", data[k], f"{_show(data[k])} cannot be combined with topology.{given[0]}; "
                       f"allowed: exactly one of builder, file, topohub, links")
            return None
        kind = given[0]
        if kind == "links" and "params" in data:
            ck.bad("topology.params", data["params"], "params only with topology.builder, topology.file or "
                   "topology.topohub", "is not used by an explicit [[topology.links]] network")
        if not _good(*t.values()):
            return None
        t["kind"] = kind
        if t["repeater_profile"] is None:
            t["repeater_profile"] = t["default_node_profile"]
        params = dict(t["params"] or {})
        if kind == "builder":
            fn = BUILDERS[t["builder"]]
            sig = inspect.signature(fn).parameters
            allowed = [p for p in sig if p not in _PROFILE_PARAMS]
            required = [p for p, s in sig.items() if s.default is inspect.Parameter.empty]
            self._params(params, allowed, required, f"builder {t['builder']!r} ({fn.__name__})")
        elif kind in ("file", "topohub"):
            options = _FILE_OPTIONS if kind == "file" else _TOPOHUB_OPTIONS
            self._params(params, options, (), "the file loader" if kind == "file" else "load_topohub")
        resolved = {k: v for k, v in data.items() if k not in ("nodes", "links")}
        resolved.update({k: t[k] for k in ("default_node_profile", "default_link_profile", "repeater_profile")})
        if kind == "links":
            t["node_list"] = self._explicit_nodes(data.get("nodes"))
            t["link_list"] = self._explicit_links(data["links"], t["node_list"], t["default_link_profile"])
            if t["node_list"] is None or t["link_list"] is None:
                return None
            resolved["nodes"] = [{"id": n, "profile": p or t["default_node_profile"]}
                                 for n, p in t["node_list"].items()]
            resolved["links"] = [dict(zip(("a", "b", "length_km", "profile"), link)) for link in t["link_list"]]
        t["params"] = params
        t["resolved"] = resolved
        return None if any(p.key.startswith("topology") for p in ck.problems) else t

    def _params(self, params: dict, allowed, required, what: str) -> None:
        for key, value in params.items():
            if key in _PROFILE_PARAMS:
                self.ck.add(f"topology.params.{key}", value, f"{_show(value)} is not allowed here: profiles are "
                            f"set by topology.default_{key}; allowed keys for {what}: {', '.join(allowed)}")
            elif key not in allowed:
                self.ck.add(f"topology.params.{key}", value, f"unknown key, set to {_show(value)}"
                            f"{_closest(key, allowed)}; allowed keys for {what}: {', '.join(allowed)}")
        for key in required:
            if key not in params:
                self.ck.add(f"topology.params.{key}", None, f"is missing; required by {what}")

    def _explicit_nodes(self, nodes: list | None) -> dict | None:
        if nodes is None:
            return {}
        out: dict[str, str] = {}
        for i, data in enumerate(nodes):
            n = self.ck.table(f"topology.nodes[{i}]", data, _NODE)
            if not _good(n["id"], n["profile"]):
                continue
            if n["id"] in out:
                self.ck.bad(f"topology.nodes[{i}].id", n["id"], "an id no other node has", "is already the id of "
                            "another node")
                continue
            out[n["id"]] = n["profile"]  # None: the default, applied when the graph is built
        return out

    def _explicit_links(self, links: list, nodes: dict | None, default: str) -> list | None:
        if nodes is None:
            return None
        declared = bool(nodes)
        out, seen = [], {}
        for i, data in enumerate(links):
            link = self.ck.table(f"topology.links[{i}]", data, _LINK)
            if not _good(*link.values()):
                continue
            a, b = link["a"], link["b"]
            bad = False
            for end in ("a", "b"):
                if declared and link[end] not in nodes:
                    self.ck.bad(f"topology.links[{i}].{end}", link[end], "a node declared in [[topology.nodes]]"
                                + _closest(link[end], nodes), "is not a node")
                    bad = True
            if a == b:
                self.ck.bad(f"topology.links[{i}].b", b, "a node other than a", "is the same node as a")
                bad = True
            pair = frozenset((a, b))
            if pair in seen:
                self.ck.bad(f"topology.links[{i}]", f"{a} - {b}", f"one link per pair of nodes (topology.links"
                            f"[{seen[pair]}] already joins them)", "is a second link")
                bad = True
            seen.setdefault(pair, i)
            if not bad:
                out.append((a, b, link["length_km"], link["profile"] or default, link["profile"] is not None))
        if not declared:
            for a, b, *_ in out:
                nodes.setdefault(a, None)
                nodes.setdefault(b, None)
        return out

    def _graph(self, t: dict) -> nx.Graph | None:
        ck = self.ck
        node_p, link_p = t["default_node_profile"], t["default_link_profile"]
        kind = t["kind"]
        try:
            if kind == "builder":
                g = BUILDERS[t["builder"]](**t["params"], node_profile=node_p, link_profile=link_p)
            elif kind == "file":
                path = self.base_dir / t["file"]
                if not path.is_file():
                    ck.bad("topology.file", t["file"], f"the path of a graph file, relative to the scenario file's "
                           f"folder ({path} does not exist)", "is not a file")
                    return None
                g = load_graph(path, **t["params"], node_profile=node_p, link_profile=link_p)
            elif kind == "topohub":
                g = load_topohub(t["topohub"], **t["params"], node_profile=node_p, link_profile=link_p)
            else:
                g = nx.Graph(name=f"{ck.file} [[topology.links]]")
                for node, profile in t["node_list"].items():
                    g.add_node(node, profile=profile or node_p)
                for a, b, length, profile, _ in t["link_list"]:
                    g.add_edge(a, b, length_km=length, profile=profile)
        except ImportError as err:
            ck.bad(f"topology.{kind}", t[kind], "a topology the installed packages can load", f"cannot be loaded "
                   f"({err})")
            return None
        except (ConfigurationError, TypeError) as err:
            field = getattr(err, "field", None)
            key = f"topology.params.{field}" if field in t["params"] else f"topology.{kind}"
            ck.add(key, getattr(err, "value", None), f"{kind} {t[kind]!r} refused it: {err}")
            return None
        except (KeyError, ValueError, OSError) as err:
            ck.bad(f"topology.{kind}", t[kind], "a topology the loader can read", f"cannot be loaded ({err!r})")
            return None
        if t["max_segment_km"] is not None:
            try:
                g, added = insert_repeaters(g, t["max_segment_km"], profile=t["repeater_profile"])
            except ConfigurationError as err:
                ck.add("topology.max_segment_km", t["max_segment_km"], f"repeater insertion refused it: {err}")
                return None
            self.notes.append(f"{added} repeater{'s' if added != 1 else ''} inserted (max_segment_km = "
                              f"{t['max_segment_km']:g})")
        if kind in ("file", "topohub"):
            for attr, instead in (("channels", "memories_per_link in the node profiles"),
                                  ("physics", "the link profiles")):
                edges = [(u, v) for u, v, d in g.edges(data=True) if attr in d]
                if edges:
                    ck.add(f"topology.{kind}", t[kind], f"{_show(t[kind])} sets {attr!r} on {len(edges)} "
                           f"link{'s' * (len(edges) > 1)} (e.g. ({edges[0][0]}, {edges[0][1]})), which a scenario "
                           f"does not read; allowed: a graph without it: set {instead} instead")
                    return None
        for attr in ("computed_lengths", "raised_lengths"):
            if g.graph.get(attr):
                self.notes.append(f"{len(g.graph[attr])} link lengths {attr.split('_')[0]} by the loader")
        return g

    # -- hardware ------------------------------------------------------------------------------------
    def _profiles(self, data: dict) -> dict | None:
        ck = self.ck
        p = ck.table("profiles", data, _PROFILES)
        out: dict[str, dict] = {"nodes": {}, "links": {}}
        for kind, keys, unsupported in (("nodes", _NODE_PROFILE, _NODE_PROFILE_UNSUPPORTED),
                                        ("links", _LINK_PROFILE, _LINK_PROFILE_UNSUPPORTED)):
            if p[kind] is _BAD:
                continue
            for name, table in p[kind].items():
                path = f"profiles.{kind}.{name}"
                if not isinstance(table, dict):
                    ck.bad(path, table, f"a table [{path}] of the profile's keys", f"({_toml_type(table)}) has "
                           f"the wrong type")
                    continue
                values = ck.table(path, table, keys, unsupported)
                if _good(*values.values()):
                    out[kind][name] = (self._node_profile if kind == "nodes" else self._link_profile)(path, values,
                                                                                                      table)
        if any(p.key.startswith("profiles") for p in ck.problems):
            return None
        out["resolved"] = {k: {n: dict(v) for n, v in out[k].items() if v is not None} for k in ("nodes", "links")}
        return out

    def _node_profile(self, path: str, v: dict, given: dict) -> dict | None:
        storage, ok = self.kind == "storage", True
        refused, allowed = ((_QUBIT_KEYS, f"in a scenario with [[storage_requests]], only a photon source's keys "
                                          f"({', '.join(_SOURCE_KEYS)}) and a memory's ({', '.join(_MEMORY_KEYS)})")
                            if storage else (_SOURCE_KEYS + _MEMORY_KEYS, "only in a scenario with "
                                             "[[storage_requests]] (a photon source or an absorptive memory)"))
        for key in given:
            if key in refused:
                self.ck.add(f"{path}.{key}", given[key], f"{_show(given[key])} is not used here; allowed: {allowed}")
                ok = False
        for keys, needed in ((_SOURCE_KEYS, ("repetition_rate_mhz", "photon_probability")),
                             (_MEMORY_KEYS, ("memory_efficiency",))):
            present = [k for k in keys if k in given]
            for k in needed if storage and present else ():
                if k not in given:
                    self.ck.add(f"{path}.{k}", None, f"is missing; required with {', '.join(present)}: "
                                f"{_NODE_PROFILE[k].allowed()}")
                    ok = False
        if storage:
            return {k: x for k, x in v.items() if x is not None and k not in _QUBIT_KEYS} if ok else None
        if not ok:
            return None
        v = {k: x for k, x in v.items() if k not in _SOURCE_KEYS + _MEMORY_KEYS}
        try:
            QuantumMemory(num_qubits=1, t1_s=v["t1_s"], t2_s=v["t2_s"])
        except ConfigurationError as err:
            self.ck.add(f"{path}.t2_s", v["t2_s"], f"{_show(v['t2_s'])} is not allowed with t1_s = "
                        f"{_show(v['t1_s'])}: {err}")
            return None
        return v

    def _link_profile(self, path: str, v: dict, given: dict) -> dict | None:
        scheme = v["scheme"]
        ok = True
        if scheme == STORAGE_SCHEME:
            for key in given:
                if key not in _TRANSMISSION_KEYS:
                    self.ck.add(f"{path}.{key}", given[key], f"{_show(given[key])} is not used by scheme "
                                f"{STORAGE_SCHEME!r} (a plain fibre carrying a source's photons to a memory); "
                                f"allowed: {', '.join(_TRANSMISSION_KEYS[1:])}")
                    ok = False
            if v["channel"] != "fibre":
                self.ck.bad(f"{path}.channel", v["channel"], f"'fibre' with scheme {STORAGE_SCHEME!r}",
                            "cannot be used here")
                ok = False
            return {k: v[k] for k in _TRANSMISSION_KEYS} if ok else None
        for key, schemes in _ONLY_FOR.items():
            if key in given and scheme not in schemes:
                self.ck.add(f"{path}.{key}", given[key], f"{_show(given[key])} is not used by scheme {scheme!r}; "
                            f"allowed: only with scheme {' or '.join(repr(s) for s in schemes)}")
                ok = False
        channel = v["channel"]
        for key, channels in _ONLY_ON.items():
            if key in given and channel not in channels:
                self.ck.add(f"{path}.{key}", given[key], f"{_show(given[key])} is not used on channel {channel!r}; "
                            f"allowed: only with channel {' or '.join(repr(c) for c in channels)}")
                ok = False
        for key in _NEEDED_ON.get(channel, ()):
            if v[key] is None:
                self.ck.add(f"{path}.{key}", None, f"is missing; required on channel {channel!r}: "
                            f"{_LINK_PROFILE[key].allowed()}")
                ok = False
        if channel == "free_space" and isinstance(v["rx_aperture_m"], list):
            self.ck.bad(f"{path}.rx_aperture_m", v["rx_aperture_m"], "one number on channel 'free_space' (one "
                        "receiving telescope)")
            ok = False
        if channel == "satellite" and scheme != "midpoint_source":
            self.ck.bad(f"{path}.channel", channel, "'satellite' only with scheme 'midpoint_source' (a pair source "
                        "on the satellite sends one photon down to each end); 'fibre' or 'free_space' with "
                        f"scheme {scheme!r}", f"cannot be used with scheme {scheme!r}")
            ok = False
        if v["cycle_ns"] is not None and 0 < v["cycle_ns"] < 0.001:
            self.ck.bad(f"{path}.cycle_ns", v["cycle_ns"], "0, or at least 0.001 (1 ps, the clock's resolution)",
                        "is out of range")
            ok = False
        if v["pipelined"] and not v["cycle_ns"]:
            self.ck.bad(f"{path}.pipelined", True, "true only with cycle_ns > 0 (pipelined attempts come one "
                        "cycle apart), or false", "needs a cycle")
            ok = False
        if v["classical_launch_power_dbm"] is None:
            for key in _RAMAN:
                if key in given:
                    self.ck.add(f"{path}.{key}", given[key], f"{_show(given[key])} is not used without "
                                f"classical_launch_power_dbm; allowed: only with classical_launch_power_dbm (Raman "
                                f"noise from classical light in the fibre)")
                    ok = False
        else:
            if channel != "fibre":
                self.ck.bad(f"{path}.classical_launch_power_dbm", v["classical_launch_power_dbm"], "only with "
                            "channel 'fibre' (Raman scattering of classical light sharing the fibre)",
                            f"cannot be used on channel {channel!r}")
                ok = False
            for key in _RAMAN_NEEDED:
                if v[key] is None:
                    self.ck.add(f"{path}.{key}", None, f"is missing; required with classical_launch_power_dbm: "
                                f"{_LINK_PROFILE[key].allowed()}")
                    ok = False
        if scheme == KEY_SCHEME and ok:
            return self._decoy_profile(path, v, given)
        if scheme == "single_click" and v["bright_state_population"] is None:
            self.ck.add(f"{path}.bright_state_population", None, "is missing; required for scheme 'single_click': "
                        f"{_LINK_PROFILE['bright_state_population'].allowed()}")
            ok = False
        if scheme == "midpoint_source" and (v["mean_photon_number"] or 0) > 0 and v["emission_probability"] not in (
                None, 1.0):
            self.ck.add(f"{path}.emission_probability", v["emission_probability"],
                        f"{v['emission_probability']!r} cannot be combined with mean_photon_number > 0 (an SPDC "
                        f"source's pair statistics follow from its mean photon number); allowed: leave it out, or "
                        f"set mean_photon_number = 0 (single-pair source)")
            ok = False
        return {k: x for k, x in v.items() if x is not None} if ok else None

    def _decoy_profile(self, path: str, v: dict, given: dict) -> dict | None:
        """A decoy-state BB84 link profile: its DecoyBB84 settings, or a given key rate."""
        out = {k: v[k] for k in ("scheme", "refractive_index", "attenuation_db_per_km")}
        out.update({k: v[k] for k in given if k in _DECOY + ("key_rate_bps", "detection_efficiency",
                                                             "dark_count_probability")})
        if v["key_rate_bps"] is not None:
            unused = [k for k in _DECOY + ("detection_efficiency", "dark_count_probability", "attenuation_db_per_km")
                      if k in given]
            for k in unused:
                self.ck.add(f"{path}.{k}", given[k], f"{_show(given[k])} is not used with key_rate_bps (the link's "
                            f"key rate is given, not computed); allowed: key_rate_bps or the decoy settings")
            return None if unused else out
        settings = {k: v[k] for k in _DECOY if v[k] is not None}
        for key, field in (("detection_efficiency", "detector_efficiency"),
                           ("dark_count_probability", "dark_count_probability")):
            if key in given:
                settings[field] = v[key]
        try:
            out["qkd"] = DecoyBB84(**settings)
        except ConfigurationError as err:
            field = str(getattr(err, "field", "")).removeprefix("DecoyBB84.")
            key = {"detector_efficiency": "detection_efficiency"}.get(field, field)
            self.ck.add(f"{path}.{key if key in _LINK_PROFILE else ''}".rstrip("."), getattr(err, "value", None),
                        f"gives invalid decoy-state settings: {err}")
            return None
        return out

    def _hardware(self, g: nx.Graph, t: dict, profiles: dict, mode: str = "entanglement") -> dict | None:
        """Resolve every node's and link's profile; put ``physics`` and ``channels`` on the edges."""
        ck = self.ck
        if g.number_of_edges() == 0:
            ck.add(f"topology.{t['kind']}", None, "gives a network without links; required: at least one link")
            return None
        missing = False
        for kind, items, defined in (("nodes", list(g.nodes(data=True)), profiles["nodes"]),
                                     ("links", [((u, v), d) for u, v, d in g.edges(data=True)], profiles["links"])):
            users: dict[str, list] = {}
            for item, data in items:
                users.setdefault(data.get("profile"), []).append(item)
            for name, members in users.items():
                if name in defined:
                    continue
                missing = True
                example = ", ".join(m if isinstance(m, str) else f"({m[0]}, {m[1]})" for m in members[:3]) + (
                    " ..." if len(members) > 3 else "")
                ck.add(self._profile_source(kind, name, t), name, f"{_show(name)} is not defined (used by "
                       f"{len(members)} {kind[:-1]}{'s' if len(members) > 1 else ''}: {example}); allowed: one of "
                       f"the [profiles.{kind}.NAME] tables {sorted(defined)}{_closest(str(name), defined)}")
        if missing:
            return None
        used_links = sorted({d["profile"] for *_, d in g.edges(data=True)})
        if t["max_segment_km"] is not None:
            for name in used_links:
                if profiles["links"][name].get("channel") == "satellite":
                    ck.bad("topology.max_segment_km", t["max_segment_km"], "no max_segment_km when a link is on "
                           f"channel 'satellite' (profile {name!r}): a satellite link is not a fibre to cut into "
                           "repeater segments", "cannot be used here")
        for name in used_links:
            scheme = profiles["links"][name]["scheme"]
            if scheme not in _SCHEME_OF[mode]:
                want = {"key": f"'{KEY_SCHEME}' (a scenario with [[key_requests]] runs trusted-relay QKD links)",
                        "storage": f"'{STORAGE_SCHEME}' (a scenario with [[storage_requests]] sends a source's "
                                   f"photons through plain fibre)",
                        "entanglement": f"one of {', '.join(repr(x) for x in ALL_SCHEMES)} (a scenario with "
                                        f"[[requests]] runs entanglement links; '{KEY_SCHEME}' links serve "
                                        f"[[key_requests]], '{STORAGE_SCHEME}' links [[storage_requests]])"}[mode]
                ck.bad(f"profiles.links.{name}.scheme", scheme, want, "cannot be used here")
        first = used_links[0]
        index = profiles["links"][first]["refractive_index"]
        for other in used_links[1:]:
            if profiles["links"][other]["refractive_index"] != index:
                ck.add(f"profiles.links.{other}.refractive_index", profiles["links"][other]["refractive_index"],
                       f"{_show(profiles['links'][other]['refractive_index'])} differs from profile {first!r} "
                       f"({_show(index)}); the network layer (quantum_network) takes one refractive index for all "
                       f"links; allowed: the same refractive_index in every link profile the topology uses "
                       f"({', '.join(used_links)})")
        if mode == "key":
            return self._key_hardware(g, profiles, index)
        if mode == "storage":
            return self._storage_hardware(g, profiles, index)
        if any(p.key.startswith("profiles") for p in ck.problems):
            return None
        memories = {v: profiles["nodes"][d["profile"]]["memories_per_link"] for v, d in g.nodes(data=True)}
        for v, d in g.nodes(data=True):  # each node's own memories and Bell-state measurement
            node = profiles["nodes"][d["profile"]]
            d["memory"] = QuantumMemory(num_qubits=max(1, memories[v]), t1_s=node["t1_s"], t2_s=node["t2_s"],
                                        access_time_ps=max(1, round(node["access_time_us"] * 1e6)))
            d["swap_success_probability"] = node["swap_success_probability"]
        for u, v, d in g.edges(data=True):
            lp = profiles["links"][d["profile"]]
            try:
                d["physics"] = _link_physics(lp, d["length_km"])
            except ConfigurationError as err:
                ck.add(f"profiles.links.{d['profile']}", getattr(err, "value", None), f"gives an invalid link "
                       f"({u}, {v}) of {d['length_km']:g} km: {err}")
                return None
            d["channels"] = min(memories[u], memories[v])
            ends = {g.nodes[x]["profile"]: profiles["nodes"][g.nodes[x]["profile"]]["allocation"] for x in (u, v)}
            if len(set(ends.values())) > 1:
                shared = next(name for name, a in ends.items() if a == "shared")
                ck.add(f"profiles.nodes.{shared}.allocation", "shared", f"'shared' on link ({u}, {v}), whose other "
                       f"end's profile has reserved memories; allowed: the same allocation in the profiles of both "
                       f"ends of every link (a link's slots are shared by both of its memories or by neither)")
                return None
            d["allocation"] = next(iter(ends.values()))
        return {"refractive_index": index}

    def _key_hardware(self, g: nx.Graph, profiles: dict, index: float) -> dict | None:
        """Trusted-relay QKD: each edge's DecoyBB84 settings (or given key rate) and fibre loss."""
        if any(p.key.startswith("profiles") for p in self.ck.problems):
            return None
        zero = []
        for u, v, d in g.edges(data=True):
            lp = profiles["links"][d["profile"]]
            rate = None
            if "key_rate_bps" in lp:
                d["rate_bps"] = lp["key_rate_bps"]
            else:
                d["qkd"] = lp["qkd"]
                d["attenuation_db_per_km"] = lp["attenuation_db_per_km"]
                rate = decoy_link_rate_bps(Fibre(d["length_km"], attenuation_db_per_km=d["attenuation_db_per_km"]),
                                           d["qkd"])
            if (d["rate_bps"] if rate is None else rate) == 0.0:
                zero.append(f"({u}, {v})")
        if zero:
            self.notes.append(f"{len(zero)} QKD link{'s' if len(zero) > 1 else ''} make no key (too long for "
                              f"their settings, or key_rate_bps = 0): {', '.join(zero[:5])}"
                              f"{' ...' if len(zero) > 5 else ''}; key requests routed over them never complete")
        return {"refractive_index": index}

    def _storage_hardware(self, g: nx.Graph, profiles: dict, index: float) -> dict | None:
        """Photon storage: sources and memories on the nodes whose profiles describe them, fibre loss on links."""
        if any(p.key.startswith("profiles") for p in self.ck.problems):
            return None
        for _, d in g.nodes(data=True):
            p = profiles["nodes"][d["profile"]]
            if "photon_probability" in p:
                d.update(brightness=p["photon_probability"], repetition_rate_hz=p["repetition_rate_mhz"] * 1e6,
                         linewidth_ghz=p.get("photon_linewidth_ghz", 0.0))
            if "memory_efficiency" in p:
                d["memory"] = AbsorptiveMemory(p["memory_efficiency"], lifetime_s=p.get("memory_lifetime_ns", math.inf)
                                               * 1e-9, decay=p.get("memory_decay", "exponential"),
                                               bandwidth_ghz=p.get("memory_bandwidth_ghz", math.inf),
                                               noise_photons=p.get("memory_noise_photons", 0.0))
                d["detector"] = Detector(efficiency=p.get("detection_efficiency", 1.0),
                                         dark_count_rate_hz=p.get("dark_count_rate_hz", 0.0))
                d["window_ps"] = max(1, round(p.get("detection_window_ns", 1.0) * 1e3))
        for _, _, d in g.edges(data=True):
            d["attenuation_db_per_km"] = profiles["links"][d["profile"]]["attenuation_db_per_km"]
        return {"refractive_index": index}

    @staticmethod
    def _profile_source(kind: str, name: str, t: dict) -> str:
        """The key that gave nodes or links the profile ``name``."""
        if kind == "links":
            if t["kind"] == "links":
                return next((f"topology.links[{i}].profile" for i, link in enumerate(t["link_list"])
                             if link[3] == name and link[4]), "topology.default_link_profile")
            return "topology.default_link_profile" if name == t["default_link_profile"] else f"topology.{t['kind']}"
        if t["kind"] == "links":
            ids = list(t["node_list"])
            for i, node in enumerate(ids):
                if t["node_list"][node] == name:
                    return f"topology.nodes[{i}].profile"
        if t["params"].get("hub_profile") == name:
            return "topology.params.hub_profile"
        if t["max_segment_km"] is not None and name == t["repeater_profile"] != t["default_node_profile"]:
            return "topology.repeater_profile"
        if name == t["default_node_profile"] or t["kind"] in ("builder", "links"):
            return "topology.default_node_profile"
        return f"topology.{t['kind']}"

    # -- requests ------------------------------------------------------------------------------------
    def _request_tables(self, section: str, tables: list, run: dict | None, keys: dict, build) -> dict | None:
        """The loop every kind of request shares: each table's keys, then :meth:`_request_basics`, then
        ``build(path, r)``, which checks what is particular to the kind and returns a function making
        ``(request, resolved table)``; it is called only if the table had no problem."""
        ck = self.ck
        if not tables:
            ck.add(section, tables, f"is empty; required: at least one [[{section}]] table")
            return None
        duration = run["duration_ms"] if run is not None else _BAD
        out, resolved, ids = [], [], {}
        for i, data in enumerate(tables):
            path = f"{section}[{i}]"
            r = ck.table(path, data, keys)
            n_before = len(ck.problems)
            self._request_basics(section, i, r, ids, duration)
            make = build(path, r)
            if make is not None and len(ck.problems) == n_before and _good(*r.values()):
                request, table = make()
                out.append(request)
                resolved.append(table)
        if any(p.key.startswith(section) for p in ck.problems):
            return None
        return {"requests": out, "resolved": resolved}

    def _requests(self, tables: list, run: dict | None) -> dict | None:
        return self._request_tables("requests", tables, run, _REQUEST, self._entanglement_request)

    def _entanglement_request(self, path: str, r: dict) -> Callable[[], tuple] | None:
        ck = self.ck
        pur = None
        if isinstance(r["purification"], dict):
            pur = ck.table(f"{path}.purification", r["purification"], _PURIFICATION)
        if _good(r["start_ms"], r["deadline_ms"]) and r["deadline_ms"] is not None \
                and r["deadline_ms"] <= r["start_ms"]:
            ck.bad(f"{path}.deadline_ms", r["deadline_ms"], f"a time after start_ms = {r['start_ms']:g}",
                   "is out of range")
        if _good(r["policy"], r["application"]) and r["policy"] != "asap" \
                and r["application"] in ("teleport", "mixed"):
            ck.bad(f"{path}.application", r["application"], f"'record', 'bbm92' or 'e91' with policy "
                   f"{r['policy']!r} (a swap tree restarts in step, so the receiver cannot keep its qubit for "
                   f"the teleportation bits), or policy 'asap'", f"cannot be used with policy {r['policy']!r}")
        if _good(r["bsm_visibility"], r["application"]) and r["bsm_visibility"] != 1.0 \
                and r["application"] not in ("teleport", "mixed"):
            ck.bad(f"{path}.bsm_visibility", r["bsm_visibility"], "1.0 (the default) unless application is "
                   "'teleport' or 'mixed': only teleportation makes a Bell-state measurement on a photon")
        if pur is not None and _good(r["policy"]) and r["policy"] != "asap":
            ck.bad(f"{path}.policy", r["policy"], "'asap' when the request purifies (a tree's in-step restarts "
                   "would discard the pairs a purification keeps)", "cannot purify")
        if pur is not None and _good(r["channels"]) and r["channels"] < 2:
            ck.bad(f"{path}.channels", r["channels"], "an integer >= 2 when the request purifies (it needs "
                   "two pairs at once)", "is too few")
        if pur is not None and not _good(*pur.values()):
            return None
        return lambda: (Request(
            r["id"], r["source"], r["dest"], pairs=r["pairs"], min_fidelity=r["min_fidelity"],
            deadline_ps=round(r["deadline_ms"] * MS) if r["deadline_ms"] else 0, start_ps=round(r["start_ms"] * MS),
            policy=r["policy"], channels=r["channels"], cutoff_ps=round(r["cutoff_ms"] * MS) if r["cutoff_ms"] else 0,
            selection=r["selection"], purification=Purification(**pur) if pur is not None else None,
            application=r["application"], retries=r["retries"], bsm_visibility=r["bsm_visibility"]),
            {**{k: v for k, v in r.items() if v is not None and k != "purification"},
             **({"purification": pur} if pur is not None else {})})

    def _request_basics(self, section: str, i: int, r: dict, ids: dict, duration) -> None:
        """Checks every kind of request needs: a unique id, two different ends, a start inside the run."""
        ck, path = self.ck, f"{section}[{i}]"
        if _good(r["id"]):
            if r["id"] in ids:
                ck.bad(f"{path}.id", r["id"], f"an id no other {section[:-1].replace('_', ' ')} has "
                       f"({section}[{ids[r['id']]}] has it)", "is already used")
            ids.setdefault(r["id"], i)
        if _good(r["source"], r["dest"]) and r["source"] == r["dest"]:
            ck.bad(f"{path}.dest", r["dest"], "a node other than the source", "is the source")
        if _good(r["start_ms"], duration) and r["start_ms"] >= duration:
            ck.bad(f"{path}.start_ms", r["start_ms"], f"a time before the end of the run (run.duration_ms = "
                   f"{duration:g})", "is out of range")

    def _key_requests(self, tables: list, run: dict | None) -> dict | None:
        return self._request_tables("key_requests", tables, run, _KEY_REQUEST, lambda path, r: lambda: (
            KeyRelayRequest(r["id"], r["source"], r["dest"], bits=r["bits"], start_ps=round(r["start_ms"] * MS),
                            count=r["count"]), r))

    def _storage_requests(self, tables: list, run: dict | None) -> dict | None:
        return self._request_tables("storage_requests", tables, run, _STORAGE_REQUEST, self._storage_request)

    def _storage_request(self, path: str, r: dict) -> Callable[[], tuple] | None:
        if _good(r["storage_ns"]) and r["storage_ns"] < 0.001:
            self.ck.bad(f"{path}.storage_ns", r["storage_ns"], "at least 0.001 (1 ps, the clock's resolution)",
                        "is out of range")
        return lambda: (StorageRequest(r["id"], r["source"], r["dest"], pulses=r["pulses"],
                                       storage_ps=round(r["storage_ns"] * 1e3), start_ps=round(r["start_ms"] * MS)), r)

    def _storage_network(self, g: nx.Graph, requests: list, args: dict, run: dict) -> Network | None:
        ck, ok = self.ck, True
        for i, r in enumerate(requests):
            for field, attr, what, keys in (("source", "brightness", "a photon source", "repetition_rate_mhz and "
                                             "photon_probability"), ("dest", "memory", "a memory", "memory_efficiency")):
                node = getattr(r, field)
                if attr not in g.nodes[node]:
                    ck.bad(f"storage_requests[{i}].{field}", node, f"a node whose profile sets {keys}", f"(profile "
                           f"{g.nodes[node]['profile']!r}) has no {what[2:] if what.startswith('a ') else what}")
                    ok = False
        if not ok:
            return None
        try:
            jobs = storage_jobs(g, requests, **args)
            net = storage_network(g, requests, **args)
            net.check()
        except ConfigurationError as err:
            index = next((i for i, r in enumerate(requests) if str(err).startswith(f"request {r.request_id!r}")), None)
            field = {"storage_ps": "storage_ns"}.get(str(getattr(err, "field", "")), getattr(err, "field", None))
            key = f"storage_requests[{index}].{field}" if index is not None and field else "storage_requests"
            ck.add(key, getattr(err, "value", None), f"the photon-storage layer refused it: {err}")
            return None
        for i, job in enumerate(jobs):
            end_ms = (job.end_ps + g.nodes[job.request.dest]["window_ps"]) / MS
            if end_ms > run["duration_ms"]:
                fits = max(0, (run["duration_ms"] * MS - job.request.start_ps - job.delay_ps - job.request.storage_ps
                               - g.nodes[job.request.dest]["window_ps"]) // (len(PHASES) * job.period_ps))
                ck.bad(f"storage_requests[{i}].pulses", job.request.pulses, f"at most {int(fits)} for run.duration_ms"
                       f" = {run['duration_ms']:g}, or a run.duration_ms of at least {end_ms:.6g} (four phases of "
                       f"{job.request.pulses} triggers at {job.period_ps} ps each, after start_ms)",
                       "does not fit in the run")
                ok = False
        return net if ok else None

    def _key_network(self, g: nx.Graph, requests: list, args: dict, tick_ms: float) -> Network | None:
        try:
            net = trusted_relay_network(g, requests, tick_ps=max(1, round(tick_ms * MS)), **args)
            net.check()
        except ConfigurationError as err:
            self.ck.add("key_requests", getattr(err, "value", None), f"the trusted-relay layer refused it: {err}")
            return None
        return net

    def _routes(self, g: nx.Graph, requests: dict, kind: str = "entanglement") -> list | None:
        """Unknown nodes, disconnected pairs and too few memories on the route, for every request."""
        ck = self.ck
        ok = True
        section = SECTIONS[kind]
        for i, r in enumerate(requests["requests"]):
            path = f"{section}[{i}]"
            unknown = False
            for field in ("source", "dest"):
                node = getattr(r, field)
                if node not in g:
                    ck.bad(f"{path}.{field}", node, f"a node of the topology{_closest(node, g.nodes)}",
                           "is not a node of the topology")
                    unknown = True
            if unknown:
                ok = False
                continue
            try:
                route = nx.shortest_path(g, r.source, r.dest, weight="length_km")
            except nx.NetworkXNoPath:
                ck.bad(f"{path}.dest", r.dest, f"a node connected to the source {r.source!r} (they are in different "
                       f"components of the topology)", "is not connected to the source")
                ok = False
                continue
            for a, b in zip(route, route[1:]) if kind == "entanglement" else ():
                have = g.edges[a, b]["channels"]
                if have < r.channels and g.edges[a, b].get("allocation", "reserved") == "reserved":
                    ck.bad(f"{path}.channels", r.channels, f"at most {have}: the memories per link of link "
                           f"({a}, {b}) on the request's route (the smaller memories_per_link of its two nodes' "
                           f"profiles)", "is too many")
                    ok = False
                    break
        return requests["requests"] if ok else None

    def _network(self, g: nx.Graph, requests: list, args: dict, model: str) -> Network | None:
        first = next(iter(g.edges(data=True)))
        try:
            net = quantum_network(g, requests, physics=first[2]["physics"], model=model, **args)
            net.check()
        except ConfigurationError as err:
            text = str(err)
            index = next((i for i, r in enumerate(requests) if text.startswith(f"request {r.request_id!r}")), None)
            key = f"requests[{index}].{err.field}" if index is not None and getattr(err, "field", None) else \
                "requests" if text.startswith("request") else "topology"
            self.ck.add(key, getattr(err, "value", None), f"the network layer refused it: {text}")
            return None
        return net




def _link_physics(p: dict, length_km: float):
    """The per-attempt physics of a link of ``length_km`` with link profile ``p`` (a checked table).

    ``eta_link`` is the probability that a photon crosses the whole link and is detected,
    ``eta_arm`` that of one node's photon reaching the midpoint (half the link); see
    docs/scenario-format.md for each channel."""
    eff = p["detection_efficiency"]
    dark = p["dark_count_probability"]
    scheme, channel = p["scheme"], p.get("channel", "fibre")
    whole = scheme == "sender_receiver"
    km = length_km if whole else length_km / 2.0
    if channel == "satellite":
        ends = [SatelliteDownlink(p["altitude_km"], elevation, p["wavelength_nm"], p["tx_aperture_m"], aperture,
                                  **_optional(p, SATELLITE_OPTIONAL))
                for elevation, aperture in zip(_two(p["elevation_deg"]), _two(p["rx_aperture_m"]))]
        eta = math.sqrt(dual_downlink(*ends).transmissivity)  # the geometric mean of the two downlinks
    elif channel == "free_space":
        eta = FreeSpaceLink(km * 1e3, p["wavelength_nm"], p["tx_aperture_m"], p["rx_aperture_m"],
                            **_optional(p, FREE_SPACE_OPTIONAL)).transmissivity
    else:
        fibre = Fibre(km, attenuation_db_per_km=p["attenuation_db_per_km"],
                      raman_coefficient_per_km_per_nm=p.get("raman_coefficient_per_km_per_nm", 3e-9))
        eta = fibre.transmissivity
        if p.get("classical_launch_power_dbm") is not None:
            noise = fibre.raman_noise_mean_photons(
                10.0 ** (p["classical_launch_power_dbm"] / 10.0), p["filter_bandwidth_nm"],
                p["detection_window_ns"] * 1e-9, counter_propagating=p.get("counter_propagating", False),
                quantum_wavelength_nm=p.get("quantum_wavelength_nm", 1550.0))
            # a Raman photon in the window clicks with the noise detection efficiency (filter and detector)
            dark = 1.0 - (1.0 - dark) * math.exp(-p.get("noise_detection_efficiency", 1.0) * noise)
    noise = {"visibility": p["visibility"], "dark_count_probability": dark,
             "cycle_ps": round(p.get("cycle_ns", 0.0) * 1e3), "pipelined": p.get("pipelined", False)}
    if whole:
        return SenderReceiverPhysics(eta_link=eff * eta, **noise)
    if scheme in SCHEMES:
        return LinkPhysics(scheme, eta_arm=eff * eta, bright_state_population=p.get("bright_state_population", 0.0),
                           **noise)
    return MidpointSourcePhysics(eta_arm=eff * eta, emission_probability=p.get("emission_probability", 1.0),
                                 mean_photon_number=p.get("mean_photon_number", 0.0), **noise)


FREE_SPACE_OPTIONAL = ("extinction_db_per_km", "pointing_error_urad", "divergence_urad")
SATELLITE_OPTIONAL = ("zenith_atmospheric_transmission", "pointing_error_urad", "divergence_urad")


def _optional(p: dict, keys) -> dict:
    return {k: p[k] for k in keys if p.get(k) is not None}


def _two(x) -> list:
    return list(x) if isinstance(x, list) else [x, x]


# -- running and results --------------------------------------------------------------------------

@dataclasses.dataclass
class ScenarioRun:
    """What :func:`run_scenario` returns: the scenario, the run's :class:`~qactors.backends.RunResult`,
    each request's :func:`~qactors.protocols.network.request_report` and every delivery."""

    scenario: Scenario
    result: Any
    reports: dict[str, dict]
    deliveries: list[tuple]  # (request, end node, time ps, fidelity on arrival, pair id); keys: bits, key id;
    # storage: (request, phase, windows, clicks)
    points: tuple = ()  # a sweep's runs: ((value, ScenarioRun), ...); the fields above are the first point's


def run_scenario(scenario: Scenario, *, progress: Callable[[int, int, int], None] | None = None) -> ScenarioRun:
    """Run ``scenario`` on its backend with its seed (nothing is written; see :func:`write_outputs`).

    A scenario with a ``[sweep]`` runs every point, each with the same seed (so that the
    points differ only by the swept value, not by their random draws)."""
    if scenario.sweep:
        points = tuple((value, _run_one(point, progress)) for value, point in scenario.sweep)
        first = points[0][1]
        return dataclasses.replace(first, scenario=scenario, points=points)
    return _run_one(scenario, progress)


def _run_one(scenario: Scenario, progress) -> ScenarioRun:
    result = _run(scenario.network, until_ps=scenario.duration_ps, seed=scenario.seed, backend=scenario.backend,
                  progress=progress)
    if scenario.kind == "storage":
        reports = {r.request_id: storage_report(result.states, r) for r in scenario.requests}
        counts = [(r.request_id, phase, reports[r.request_id]["windows"][phase], reports[r.request_id]["counts"][phase])
                  for r in scenario.requests for phase in PHASES]
        return ScenarioRun(scenario, result, reports, counts)
    if scenario.kind == "key":
        reports = {r.request_id: key_relay_report(result.states, r.request_id) for r in scenario.requests}
        delivered = [(r.request_id, r.dest, *result.states[r.dest]["delivered"][k][:2], k)
                     for r in scenario.requests for k in r.key_ids() if k in result.states[r.dest]["delivered"]]
        return ScenarioRun(scenario, result, reports, sorted(delivered, key=lambda row: (row[2], row[4])))
    reports = {r.request_id: request_report(result.states, r.request_id) for r in scenario.requests}
    rows = []
    for r in scenario.requests:
        for end in (r.source, r.dest):
            role = result.states[end].get("roles", {}).get(r.request_id)
            for t, fidelity, pair_id in (role.delivered if role is not None else ()):
                rows.append((r.request_id, end, t, fidelity, pair_id))
    return ScenarioRun(scenario, result, reports, rows)


def prepare_output_dir(scenario: Scenario, *, overwrite: bool = False) -> Path:
    """Check, before a run, that its results can be written to ``scenario.output_dir``.

    Existing results are never replaced silently: if any of the files the scenario writes
    already exists there, this raises unless ``overwrite`` is true (other files in the folder
    are never touched).  Nothing is created here.

    Raises:
        ScenarioError: the folder is a file, or holds results and ``overwrite`` is false.
    """
    out = scenario.output_dir
    problem = None
    if out.exists() and not out.is_dir():
        problem = f"{str(out)!r} is a file; allowed: a folder (new or existing)"
    elif out.is_dir():
        existing = [f for f in scenario.output_files if (out / f).exists()]
        if existing and not overwrite:
            problem = (f"{str(out)!r} already holds results ({', '.join(existing)}); allowed: a folder without "
                       f"them: choose another with --out (or outputs.dir), or pass --overwrite to replace them")
    if problem:
        raise ScenarioError([Problem(scenario.file, "outputs.dir", str(out), problem)])
    return out


def write_outputs(run: ScenarioRun, *, overwrite: bool = False) -> list[Path]:
    """Write the run's results into its scenario's output folder (see :func:`prepare_output_dir`).

    ``summary.json``: each request's report (a key rate as a table); ``deliveries.csv``:
    one row per pair delivered at each end; ``run.json``: seed, backend, events, digest, wall
    time and the resolved scenario.  Each file is written to a temporary name and renamed,
    so a reader never sees half a file.  Returns the paths written."""
    s = run.scenario
    out = prepare_output_dir(s, overwrite=overwrite)
    out.mkdir(parents=True, exist_ok=True)
    r = run.result
    texts = {}
    points = run.points or ((None, run),)
    if "summary.json" in s.output_files:
        summary: dict[str, Any] = {"scenario": s.name, "simulated_ms": s.duration_ps / MS, "seed": s.seed}
        if run.points:
            label = SECTIONS[s.kind]
            summary["sweep"] = {"key": s.sweep_key, "points": [{"value": v, "simulated_ms": p.scenario.duration_ps / MS,
                                                                label: p.reports} for v, p in run.points]}
        else:
            summary[SECTIONS[s.kind]] = run.reports
        texts["summary.json"] = json.dumps(_jsonable(summary), indent=2)
    if "deliveries.csv" in s.output_files:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        sweep_column = ("sweep_value",) if run.points else ()
        writer.writerow(sweep_column + {"entanglement": ("request", "end", "time_ps", "fidelity", "pair_id"),
                                        "key": ("request", "end", "time_ps", "bits", "key_id"),
                                        "storage": ("request", "phase", "windows", "clicks")}[s.kind])
        for value, p in points:
            first = (repr(value),) if run.points else ()
            for row in p.deliveries:  # a fidelity is written as its repr, so it reads back exactly
                writer.writerow(first + (row[:3] + (repr(row[3]),) + row[4:] if s.kind == "entanglement" else row))
        texts["deliveries.csv"] = buf.getvalue()
    if "run.json" in s.output_files:
        from . import __version__
        texts["run.json"] = json.dumps(_jsonable({
            "qactors": __version__, "scenario_file": str(Path(s.file).resolve()) if s.sha256 else s.file,
            "scenario_sha256": s.sha256, "seed": s.seed, "backend": s.backend, "ran_on": r.backend,
            "shards": r.shards, "until_ps": r.until_ps, "events": r.events, "digest": r.digest,
            "wall_s": round(r.wall_s, 6), "windows": r.windows,
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "topology": {"nodes": s.graph.number_of_nodes(), "links": s.graph.number_of_edges(),
                         "notes": list(s.notes)},
            "scenario": s.resolved,
            **({"points": [{"value": v, "digest": p.result.digest, "events": p.result.events,
                            "wall_s": round(p.result.wall_s, 6)} for v, p in run.points]} if run.points else {})}),
            indent=2)
    written = []
    for name, text in texts.items():
        tmp = out / f".{name}.tmp"
        tmp.write_text(text + ("" if text.endswith("\n") else "\n"))
        os.replace(tmp, out / name)
        written.append(out / name)
    return written


def format_summary(run: ScenarioRun) -> str:
    """A short table, one row per request: route, outcome, pairs, rate, fidelity, application figures
    (for a sweep, one such table per point)."""
    if run.points:
        return "\n".join([f"{run.scenario.name}: sweep of {run.scenario.sweep_key} over {len(run.points)} values"] + [
            f"[{run.scenario.sweep_key} = {v!r}] " + format_summary(p) for v, p in run.points])
    s, r = run.scenario, run.result
    link, rows = {"key": ("QKD link", _key_rows), "storage": ("fibre link", _storage_rows)}.get(
        s.kind, ("link", _entanglement_rows))
    head = (f"{s.name}: {_count(s.graph.number_of_nodes(), 'node')}, {_count(s.graph.number_of_edges(), link)}; "
            f"{format_ps(s.duration_ps)} simulated on the {r.backend} backend ({_count(r.shards, 'shard')}), "
            f"seed {s.seed}, {r.events:,} events in {r.wall_s:.2f} s")
    table = rows(s, run.reports)
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = [head] + [f"  {'  '.join(c.ljust(w) for c, w in zip(row, widths)).rstrip()}" for row in table]
    return "\n".join(lines + [f"  digest {r.digest}"] + [f"  note: {n}" for n in s.notes])


def _entanglement_rows(s: Scenario, reports: dict) -> list[tuple]:
    rows = [("request", "route", "hops", "outcome", "pairs", "rate/s", "mean F", "teleport F", "key bit/s")]
    for req in s.requests:
        rep = reports[req.request_id]
        key = rep.get("key")
        rows.append((req.request_id, f"{req.source} -> {req.dest}", str(max(0, len(rep["path"]) - 1)),
                     rep["outcome"], str(rep["pairs"]), f"{rep['rate_hz']:.4g}",
                     "-" if math.isnan(rep["mean_fidelity"]) else f"{rep['mean_fidelity']:.4f}",
                     f"{rep['teleport_fidelity']:.4f}" if "teleport_fidelity" in rep else "-",
                     f"{key.rate_bps:.4g} ({key.protocol})" if key is not None else "-"))
    return rows


def _key_rows(s: Scenario, reports: dict) -> list[tuple]:
    rows = [("key request", "route", "hops", "keys", "bits", "rate bit/s", "weakest hop", "hop bit/s", "match")]
    for req in s.requests:
        rep = reports[req.request_id]
        rows.append((req.request_id, f"{req.source} -> {req.dest}", str(len(rep["path"]) - 1),
                     f"{rep['keys_delivered']}/{rep['keys_requested']}", str(rep["bits_delivered"]),
                     f"{rep['delivered_rate_bps']:.4g}", "-".join(rep["weakest_hop"]),
                     f"{rep['weakest_rate_bps']:.4g}", "yes" if rep["keys_match"] else "NO"))
    return rows


def _storage_rows(s: Scenario, reports: dict) -> list[tuple]:
    rows = [("storage request", "source -> memory", "storage ns", "stored", "retrieved", "internal efficiency",
             "signal/noise")]

    def pm(x: float, sd: float, digits: int) -> str:
        return "-" if math.isnan(x) else f"{x:.{digits}f} +- {sd:.{digits}f}"

    for req in s.requests:
        rep = reports[req.request_id]
        rows.append((req.request_id, f"{req.source} -> {req.dest}", f"{rep['storage_ns']:g}",
                     str(rep["photons_stored"]), str(rep["photons_retrieved"]),
                     pm(rep["internal_efficiency"], rep["internal_efficiency_sd"], 4)
                     + ("" if rep["complete"] else " (incomplete)"),
                     pm(rep["signal_to_noise"], rep["signal_to_noise_sd"], 1)))
    return rows


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'s' if n != 1 else ''}"


def _jsonable(x: Any) -> Any:
    """Plain JSON values: NaN becomes null, infinities "inf"/"-inf", dataclasses (KeyRate) tables
    with their derived figures, tuples lists."""
    if isinstance(x, float):
        return None if math.isnan(x) else ("inf" if x > 0 else "-inf") if math.isinf(x) else x
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if hasattr(x, "as_dict"):  # KeyRate: fields and derived figures
        return _jsonable(x.as_dict())
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return _jsonable(dataclasses.asdict(x))
    if isinstance(x, Path):
        return str(x)
    return x

