"""Entanglement between nodes: ``[[requests]]`` served by a network of repeaters with quantum memories.

Node profiles describe each node's memories (T1, T2, count per link, allocation,
access time) and its swap; link profiles are read into
:class:`~qactors.protocols.profiles.LinkProfile`, whose physics the loader puts
on each link; requests become :class:`~qactors.protocols.network.Request`
records, whose own check (:func:`~qactors.protocols.network.check_request`)
decides what a request may be.  The network is
:func:`~qactors.protocols.network.quantum_network`.
"""

from __future__ import annotations

import math
from typing import Any

import networkx as nx

from ..core import checks
from ..core.errors import ConfigurationError
from ..core.network import Network
from ..core.time import MS
from ..hardware.memory import QuantumMemory
from ..protocols.applications import APPLICATIONS
from ..protocols.link import ALL_SCHEMES, MODELS
from ..protocols.memory import ALLOCATIONS
from ..protocols.network import POLICIES, SELECTIONS, Purification, Request, check_request, legs_of, \
    quantum_network, request_report
from ..protocols.profiles import CHANNELS, NEEDED_ON, LinkProfile
from ..protocols.reservation import HopByHop
from ..protocols.routing import ROUTERS, router_named
from .kinds import Kind, map_error, register
from .schema import REQUIRED, Checker, Key, choice, num, show
from .topology import NODE_ID

__all__ = ["Entanglement"]

_POSITIVE = dict(low=0, low_open=True)
_NOT_EXPRESSIBLE = "the network layer (quantum_network) models a memory by its T1, T2 and access time only"
_COMPUTED = ("computed for each link from its length_km, detection_efficiency and attenuation_db_per_km; "
             "set those instead")
# a key -> the schemes it belongs to (keys for every entanglement scheme are not listed)
_ONLY_FOR = {"bright_state_population": ("single_click",), "mean_photon_number": ("midpoint_source",),
             "emission_probability": ("midpoint_source",)}
_OPTICS = ("wavelength_nm", "tx_aperture_m", "rx_aperture_m", "pointing_error_urad", "divergence_urad")
_ONLY_ON = {**{k: ("free_space", "satellite") for k in _OPTICS}, "extinction_db_per_km": ("free_space",),
            **{k: ("satellite",) for k in ("altitude_km", "elevation_deg", "zenith_atmospheric_transmission")},
            "attenuation_db_per_km": ("fibre",)}  # channel(s) a key belongs to
_RAMAN = ("raman_coefficient_per_km_per_nm", "filter_bandwidth_nm", "detection_window_ns", "quantum_wavelength_nm",
          "counter_propagating", "noise_detection_efficiency")
_RAMAN_NEEDED = ("filter_bandwidth_nm", "detection_window_ns")
_PURIFICATION = {"scheme": choice("dejmps", ("dejmps", "bbpssw")), "mode": choice("recurrence", ("recurrence",
                 "pumping")), "level": choice("link", ("link", "end")),
                 "target_fidelity": num(0.9, low=0.5, low_open=True, high=1), "max_rounds": Key("int", 3, low=1,
                                                                                                high=1000)}
# a field of Request -> its key in a [[requests]] table, where the names differ
_KEY_OF = {"request_id": "id", "deadline_ps": "deadline_ms", "start_ps": "start_ms", "cutoff_ps": "cutoff_ms",
           **{f: f"purification.{f}" for f in ("scheme", "mode", "level", "target_fidelity", "max_rounds")}}


class Entanglement(Kind):
    name = "entanglement"
    section = "requests"
    noun = "request"
    purpose = "entanglement between nodes"
    schemes = tuple(ALL_SCHEMES)
    scheme_use = (f"one of {', '.join(repr(x) for x in ALL_SCHEMES)} (a scenario with [[requests]] runs "
                  f"entanglement links; 'decoy_bb84' links serve [[key_requests]], 'transmission' links "
                  f"[[storage_requests]])")
    run_keys = {"link_model": choice("geometric", MODELS), "routing": choice("shortest", sorted(ROUTERS)),
                "routing_params": Key("table", {}),
                "backoff_ms": num(0.0, low=0, unit_ps=MS, unit="ms")}
    node_use = "a node's qubit memories and swap"
    node_keys = {"t1_s": Key("seconds", math.inf, low=0, low_open=True),
                 "t2_s": Key("seconds", math.inf, low=0, low_open=True),
                 "swap_success_probability": num(1.0, low=0, low_open=True, high=1),
                 "memories_per_link": Key("int", 1, low=1, high=checks.MAX_MEMORIES),
                 "allocation": choice("reserved", ALLOCATIONS),
                 "access_time_us": num(1.0, low=0, low_open=True, unit_ps=1e6, unit="us")}
    node_unsupported = {
        "write_efficiency": _NOT_EXPRESSIBLE, "read_efficiency": _NOT_EXPRESSIBLE,
        "storage_fidelity": _NOT_EXPRESSIBLE, "access_time_ps": "set access_time_us (microseconds)",
        "dead_time_ps": _NOT_EXPRESSIBLE,
        "num_qubits": "a node has memories_per_link memories on each of its links; set memories_per_link"}
    link_keys = {"scheme": choice(REQUIRED, ALL_SCHEMES),
                 "detection_efficiency": num(1.0, low=0, low_open=True, high=1),
                 "attenuation_db_per_km": num(0.2, low=0, high=1e3), "visibility": num(1.0, low=0, high=1),
                 "dark_count_probability": num(0.0, low=0, high=1),
                 "bright_state_population": num(low=0, low_open=True, high=1),
                 "mean_photon_number": num(low=0, high=10), "emission_probability": num(low=0, low_open=True, high=1),
                 "refractive_index": num(1.47, low=1, high=10), "cycle_ns": num(low=0, high=1e15),
                 "pipelined": Key("bool"), "channel": choice("fibre", CHANNELS),
                 # free-space and satellite optics (hardware.FreeSpaceLink, hardware.SatelliteDownlink)
                 "wavelength_nm": num(**_POSITIVE), "tx_aperture_m": num(**_POSITIVE),
                 "rx_aperture_m": Key("pair", **_POSITIVE), "pointing_error_urad": num(low=0),
                 "divergence_urad": num(**_POSITIVE), "extinction_db_per_km": num(low=0),
                 "altitude_km": num(low=0, low_open=True, high=checks.MAX_LENGTH_KM),
                 "elevation_deg": Key("pair", low=0, low_open=True, high=90),
                 "zenith_atmospheric_transmission": num(low=0, high=1),
                 # spontaneous Raman noise from classical light in the same fibre (Fibre.raman_noise_mean_photons)
                 "classical_launch_power_dbm": num(low=-100, high=40),
                 "raman_coefficient_per_km_per_nm": num(low=0), "filter_bandwidth_nm": num(**_POSITIVE),
                 "detection_window_ns": num(**_POSITIVE), "quantum_wavelength_nm": num(**_POSITIVE),
                 "counter_propagating": Key("bool"), "noise_detection_efficiency": num(low=0, high=1)}
    link_unsupported = {"eta_arm": _COMPUTED, "eta_link": _COMPUTED,
                        "length_km": "lengths belong to the topology's links, not to a profile",
                        "channels": "set memories_per_link in the node profiles"}
    request_keys = {"id": Key("id", REQUIRED, text="a name for the request (a non-empty string)"),
                    "source": Key("id", REQUIRED, text=NODE_ID), "dest": Key("id", REQUIRED, text=NODE_ID),
                    "pairs": Key("int", 1, low=1, high=checks.MAX_COUNT), "min_fidelity": num(0.0, low=0, high=1),
                    "start_ms": num(0.0, low=0, unit_ps=MS, unit="ms"),
                    "deadline_ms": num(low=0, low_open=True, unit_ps=MS, unit="ms"),
                    "policy": choice("asap", POLICIES), "channels": Key("int", 1, low=1, high=checks.MAX_MEMORIES),
                    "cutoff_ms": num(low=0, low_open=True, unit_ps=MS, unit="ms"),
                    "selection": choice("oldest", SELECTIONS), "application": choice("record", APPLICATIONS),
                    "retries": Key("int", 3, low=0, high=checks.MAX_COUNT),
                    "bsm_visibility": num(1.0, low=0, high=1), "purification": Key("table")}
    delivery_columns = ("request", "end", "time_ps", "fidelity", "pair_id")

    # -- profiles -------------------------------------------------------------------------------------
    def node_profile(self, ck: Checker, path: str, v: dict, given: dict) -> dict | None:
        try:
            QuantumMemory(num_qubits=1, t1_s=v["t1_s"], t2_s=v["t2_s"])
        except ConfigurationError as err:
            ck.add(f"{path}.t2_s", v["t2_s"], f"{show(v['t2_s'])} is not allowed with t1_s = {show(v['t1_s'])}: {err}")
            return None
        return dict(v)

    def link_profile(self, ck: Checker, path: str, v: dict, given: dict) -> dict | None:
        scheme, channel = v["scheme"], v["channel"]
        n_before = len(ck.problems)
        for key, schemes in _ONLY_FOR.items():
            if key in given and scheme not in schemes:
                ck.add(f"{path}.{key}", given[key], f"{show(given[key])} is not used by scheme {scheme!r}; "
                       f"allowed: only with scheme {' or '.join(repr(s) for s in schemes)}")
        for key, channels in _ONLY_ON.items():
            if key in given and channel not in channels:
                ck.add(f"{path}.{key}", given[key], f"{show(given[key])} is not used on channel {channel!r}; "
                       f"allowed: only with channel {' or '.join(repr(c) for c in channels)}")
        for key in NEEDED_ON.get(channel, ()):
            if v[key] is None:
                ck.add(f"{path}.{key}", None, f"is missing; required on channel {channel!r}: "
                       f"{self.link_keys[key].allowed()}")
        if channel == "free_space" and isinstance(v["rx_aperture_m"], list):
            ck.bad(f"{path}.rx_aperture_m", v["rx_aperture_m"], "one number on channel 'free_space' (one "
                   "receiving telescope)")
        if channel == "satellite" and scheme != "midpoint_source":
            ck.bad(f"{path}.channel", channel, "'satellite' only with scheme 'midpoint_source' (a pair source on "
                   "the satellite sends one photon down to each end); 'fibre' or 'free_space' with scheme "
                   f"{scheme!r}", f"cannot be used with scheme {scheme!r}")
        if v["cycle_ns"] is not None and 0 < v["cycle_ns"] < 0.001:
            ck.bad(f"{path}.cycle_ns", v["cycle_ns"], "0, or at least 0.001 (1 ps, the clock's resolution)",
                   "is out of range")
        if v["pipelined"] and not v["cycle_ns"]:
            ck.bad(f"{path}.pipelined", True, "true only with cycle_ns > 0 (pipelined attempts come one cycle "
                   "apart), or false", "needs a cycle")
        if v["classical_launch_power_dbm"] is None:
            for key in _RAMAN:
                if key in given:
                    ck.add(f"{path}.{key}", given[key], f"{show(given[key])} is not used without "
                           f"classical_launch_power_dbm; allowed: only with classical_launch_power_dbm (Raman noise "
                           f"from classical light in the fibre)")
        else:
            if channel != "fibre":
                ck.bad(f"{path}.classical_launch_power_dbm", v["classical_launch_power_dbm"], "only with channel "
                       "'fibre' (Raman scattering of classical light sharing the fibre)",
                       f"cannot be used on channel {channel!r}")
            for key in _RAMAN_NEEDED:
                if v[key] is None:
                    ck.add(f"{path}.{key}", None, f"is missing; required with classical_launch_power_dbm: "
                           f"{self.link_keys[key].allowed()}")
        if scheme == "single_click" and v["bright_state_population"] is None:
            ck.add(f"{path}.bright_state_population", None, "is missing; required for scheme 'single_click': "
                   f"{self.link_keys['bright_state_population'].allowed()}")
        if scheme == "midpoint_source" and (v["mean_photon_number"] or 0) > 0 and v["emission_probability"] not in (
                None, 1.0):
            ck.add(f"{path}.emission_probability", v["emission_probability"],
                   f"{v['emission_probability']!r} cannot be combined with mean_photon_number > 0 (an SPDC source's "
                   f"pair statistics follow from its mean photon number); allowed: leave it out, or set "
                   f"mean_photon_number = 0 (single-pair source)")
        return {k: x for k, x in v.items() if x is not None} if len(ck.problems) == n_before else None

    # -- requests -------------------------------------------------------------------------------------
    def request(self, ck: Checker, path: str, r: dict) -> tuple | None:
        pur = None
        if isinstance(r["purification"], dict):
            pur = ck.table(f"{path}.purification", r["purification"], _PURIFICATION)
            if any(p.key.startswith(f"{path}.purification") for p in ck.problems):
                return None
        request = Request(
            r["id"], r["source"], r["dest"], pairs=r["pairs"], min_fidelity=r["min_fidelity"],
            deadline_ps=round(r["deadline_ms"] * MS) if r["deadline_ms"] else 0, start_ps=round(r["start_ms"] * MS),
            policy=r["policy"], channels=r["channels"], cutoff_ps=round(r["cutoff_ms"] * MS) if r["cutoff_ms"] else 0,
            selection=r["selection"], purification=Purification(**pur) if pur is not None else None,
            application=r["application"], retries=r["retries"], bsm_visibility=r["bsm_visibility"])
        try:
            check_request(request)
        except ConfigurationError as err:
            map_error(ck, path, r, err, _KEY_OF, "the request's check")
            return None
        table = {**{k: v for k, v in r.items() if v is not None and k != "purification"},
                 **({"purification": pur} if pur is not None else {})}
        return request, table

    # -- the network ----------------------------------------------------------------------------------
    def hardware(self, ck: Checker, g: nx.Graph, t: dict, profiles: dict, notes: list[str]) -> dict | None:
        nodes = profiles["nodes"]
        links: dict[str, LinkProfile] = {}  # the profiles the links use (all of this kind's schemes)
        memories = {v: nodes[d["profile"]]["memories_per_link"] for v, d in g.nodes(data=True)}
        for v, d in g.nodes(data=True):  # each node's own memories and Bell-state measurement
            node = nodes[d["profile"]]
            d["memory"] = QuantumMemory(num_qubits=max(1, memories[v]), t1_s=node["t1_s"], t2_s=node["t2_s"],
                                        access_time_ps=max(1, round(node["access_time_us"] * 1e6)))
            d["swap_success_probability"] = node["swap_success_probability"]
        for u, v, d in g.edges(data=True):
            try:
                if d["profile"] not in links:
                    links[d["profile"]] = LinkProfile(**profiles["links"][d["profile"]])
                d["physics"] = links[d["profile"]].physics(d["length_km"])
            except ConfigurationError as err:
                ck.add(f"profiles.links.{d['profile']}", getattr(err, "value", None), f"gives an invalid link "
                       f"({u}, {v}) of {d['length_km']:g} km: {err}")
                return None
            d["channels"] = min(memories[u], memories[v])
            ends = {g.nodes[x]["profile"]: nodes[g.nodes[x]["profile"]]["allocation"] for x in (u, v)}
            if len(set(ends.values())) > 1:
                shared = next(name for name, a in ends.items() if a == "shared")
                ck.add(f"profiles.nodes.{shared}.allocation", "shared", f"'shared' on link ({u}, {v}), whose other "
                       f"end's profile has reserved memories; allowed: the same allocation in the profiles of both "
                       f"ends of every link (a link's slots are shared by both of its memories or by neither)")
                return None
            d["allocation"] = next(iter(ends.values()))
        return {}

    def network(self, ck: Checker, g: nx.Graph, requests: list, args: dict, run: dict) -> Network | None:
        first = next(iter(g.edges(data=True)))
        router = self.router(ck, run)
        if router is None:
            return None
        try:
            backoff = HopByHop(backoff_ps=round(run["backoff_ms"] * MS)) if run["backoff_ms"] else None
            net = quantum_network(g, requests, physics=first[2]["physics"], model=run["link_model"], router=router,
                                  reservation=backoff, **args)
            net.check()
        except ConfigurationError as err:
            text = str(err)
            index = next((i for i, r in enumerate(requests) if text.startswith(f"request {r.request_id!r}")), None)
            field = getattr(err, "field", None)
            key = (f"requests[{index}].{_KEY_OF.get(field, field)}" if index is not None and field else
                   "requests" if text.startswith("request") else
                   text.split(" ")[0] if text.startswith("faults[") else "topology")
            ck.add(key, getattr(err, "value", None), f"the network layer refused it: {text}")
            return None
        return net

    @staticmethod
    def router(ck: Checker, run: dict) -> Any:
        """The router ``run.routing`` names, with ``run.routing_params`` (``advert_ms`` for its ``advert_ps``)."""
        given = dict(run.get("routing_params") or {})
        name = run.get("routing", "shortest")
        if "advert_ps" in given:
            ck.bad("run.routing_params.advert_ps", given["advert_ps"], "advert_ms (milliseconds)", "is not a key here")
            return None
        params = dict(given)
        if "advert_ms" in params:
            try:
                params["advert_ps"] = checks.to_ps("run.routing_params.advert_ms", params.pop("advert_ms"), MS,
                                                   zero=True, unit="ms")
            except ConfigurationError as err:
                ck.add("run.routing_params.advert_ms", given["advert_ms"], str(err))
                return None
        try:
            return router_named(name, **params)
        except ConfigurationError as err:
            field = getattr(err, "field", None) or ""
            ck.add(f"run.routing_params.{'advert_ms' if field == 'advert_ps' else field}",
                   getattr(err, "value", None), str(err))
            return None

    # -- results --------------------------------------------------------------------------------------
    def results(self, result: Any, requests: tuple) -> tuple[dict, list]:
        reports = {r.request_id: request_report(result.states, r.request_id) for r in requests}
        rows = []
        for r in requests:
            for end in (r.source, r.dest):
                roles = result.states[end].get("roles", {})
                for rid in legs_of(roles, r.request_id):  # the request, then the legs it was rerouted over
                    for t, fidelity, pair_id in roles[rid].delivered:
                        rows.append((r.request_id, end, t, fidelity, pair_id))
        return reports, rows

    def csv_row(self, row: tuple) -> tuple:
        return row[:3] + (repr(row[3]),) + row[4:]  # a fidelity as its repr, so it reads back exactly

    def rows(self, scenario: Any, reports: dict) -> list[tuple]:
        rows = [("request", "route", "hops", "outcome", "pairs", "rate/s", "mean F", "application")]
        for req in scenario.requests:
            rep = reports[req.request_id]
            rows.append((req.request_id, f"{req.source} -> {req.dest}", str(max(0, len(rep["path"]) - 1)),
                         rep["outcome"], str(rep["pairs"]), f"{rep['rate_hz']:.4g}",
                         "-" if math.isnan(rep["mean_fidelity"]) else f"{rep['mean_fidelity']:.4f}",
                         _application(req.application, rep)))
        return rows


def _application(application: str, rep: dict) -> str:
    """What the application made of the pairs: a teleportation's fidelity, a key's QBER and rate, E91's S."""
    parts = []
    if "teleport_fidelity" in rep:
        parts.append(f"teleport F {rep['teleport_fidelity']:.4f}")
    key = rep.get("key")
    if key is not None:
        if key.protocol == "e91":
            parts.append("CHSH S -" if math.isnan(key.chsh) else f"CHSH S {key.chsh:.3f}")
        qber = key.qber
        parts.append(f"QBER {'-' if math.isnan(qber) else f'{qber:.4f}'}, key {key.rate_bps:.4g} bit/s")
    if not parts:
        return application if application != "record" else "-"
    return f"{application}: " + ", ".join(parts)


ENTANGLEMENT = register(Entanglement())
