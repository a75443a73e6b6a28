"""Photon storage: ``[[storage_requests]]``, a source's photons sent through fibre into an absorptive memory.

A node profile describes a single-photon source or a memory with the detector
after it; links are plain fibre (scheme ``"transmission"``).  Requests become
:class:`~qactors.protocols.storage.StorageRequest` records, checked by their own
constructor; the network is :func:`~qactors.protocols.storage.storage_network`.
"""

from __future__ import annotations

import math
from typing import Any

import networkx as nx

from ..core import checks
from ..core.errors import ConfigurationError
from ..core.network import Network
from ..core.time import MS
from ..hardware.detectors import Detector
from ..hardware.memory import MEMORY_DECAYS, AbsorptiveMemory
from ..protocols.storage import PHASES, StorageRequest, storage_jobs, storage_network, storage_report
from .kinds import Kind, map_error, register
from .schema import REQUIRED, Checker, Key, choice, num
from .topology import NODE_ID

__all__ = ["Storage", "STORAGE_SCHEME"]

STORAGE_SCHEME = "transmission"
"""The link scheme of a fibre that carries a source's photons to a memory."""
_SOURCE_KEYS = ("repetition_rate_mhz", "photon_probability", "photon_linewidth_ghz")
_MEMORY_KEYS = ("memory_efficiency", "memory_lifetime_ns", "memory_decay", "memory_bandwidth_ghz",
                "memory_noise_photons", "detection_efficiency", "dark_count_rate_hz", "detection_window_ns")


class Storage(Kind):
    name = "storage"
    section = "storage_requests"
    noun = "storage request"
    how = "photon storage"
    link_word = "fibre link"
    purpose = "photons stored in a memory"
    schemes = (STORAGE_SCHEME,)
    scheme_use = (f"'{STORAGE_SCHEME}' (a scenario with [[storage_requests]] sends a source's photons through "
                  f"plain fibre)")
    node_use = "a photon source or an absorptive memory"
    node_keys = {  # a single-photon source ...
        "repetition_rate_mhz": num(low=0, low_open=True, high=1e9),
        "photon_probability": num(low=0, low_open=True, high=1), "photon_linewidth_ghz": num(low=0),
        # ... or an absorptive memory and the detector after it
        "memory_efficiency": num(low=0, low_open=True, high=1),
        "memory_lifetime_ns": Key("seconds", low=0, low_open=True, text='a finite number > 0, or "inf" (no decay)'),
        "memory_decay": choice(None, MEMORY_DECAYS), "memory_bandwidth_ghz": num(low=0, low_open=True),
        "memory_noise_photons": num(low=0), "detection_efficiency": num(low=0, low_open=True, high=1),
        "dark_count_rate_hz": num(low=0), "detection_window_ns": num(low=0, low_open=True, unit_ps=1e3, unit="ns")}
    link_keys = {"scheme": choice(REQUIRED, (STORAGE_SCHEME,)),
                 "attenuation_db_per_km": num(0.2, low=0, high=1e3), "refractive_index": num(1.47, low=1, high=10),
                 "channel": choice("fibre", ("fibre",))}
    request_keys = {"id": Key("id", REQUIRED, text="a name for the storage request (a non-empty string)"),
                    "source": Key("id", REQUIRED, text=NODE_ID), "dest": Key("id", REQUIRED, text=NODE_ID),
                    "pulses": Key("int", REQUIRED, low=1, high=checks.MAX_COUNT),
                    "storage_ns": num(REQUIRED, low=0, low_open=True, unit_ps=1e3, unit="ns"),
                    "start_ms": num(0.0, low=0, unit_ps=MS, unit="ms")}
    delivery_columns = ("request", "phase", "windows", "clicks")

    def node_profile(self, ck: Checker, path: str, v: dict, given: dict) -> dict | None:
        ok = True
        for keys, needed in ((_SOURCE_KEYS, ("repetition_rate_mhz", "photon_probability")),
                             (_MEMORY_KEYS, ("memory_efficiency",))):
            present = [k for k in keys if k in given]
            for k in needed if present else ():
                if k not in given:
                    ck.add(f"{path}.{k}", None, f"is missing; required with {', '.join(present)}: "
                           f"{self.node_keys[k].allowed()}")
                    ok = False
        return {k: x for k, x in v.items() if x is not None} if ok else None

    def request(self, ck: Checker, path: str, r: dict) -> tuple | None:
        try:
            request = StorageRequest(r["id"], r["source"], r["dest"], pulses=r["pulses"],
                                     storage_ps=round(r["storage_ns"] * 1e3), start_ps=round(r["start_ms"] * MS))
        except ConfigurationError as err:
            map_error(ck, path, r, err, {"request_id": "id", "storage_ps": "storage_ns", "start_ps": "start_ms"},
                      "the storage request's check")
            return None
        return request, r

    def hardware(self, ck: Checker, g: nx.Graph, t: dict, profiles: dict, notes: list[str]) -> dict | None:
        """Sources and memories on the nodes whose profiles describe them, fibre loss on the links."""
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
        return {}

    def network(self, ck: Checker, g: nx.Graph, requests: list, args: dict, run: dict) -> Network | None:
        ok = True
        for i, r in enumerate(requests):
            for field, attr, what, keys in (("source", "brightness", "photon source", "repetition_rate_mhz and "
                                             "photon_probability"), ("dest", "memory", "memory", "memory_efficiency")):
                node = getattr(r, field)
                if attr not in g.nodes[node]:
                    ck.bad(f"storage_requests[{i}].{field}", node, f"a node whose profile sets {keys}", f"(profile "
                           f"{g.nodes[node]['profile']!r}) has no {what}")
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
            window = g.nodes[job.request.dest]["window_ps"]
            end_ms = (job.end_ps + window) / MS
            if end_ms > run["duration_ms"]:
                fits = max(0, (run["duration_ms"] * MS - job.request.start_ps - job.delay_ps - job.request.storage_ps
                               - window) // (len(PHASES) * job.period_ps))
                ck.bad(f"storage_requests[{i}].pulses", job.request.pulses, f"at most {int(fits)} for run.duration_ms"
                       f" = {run['duration_ms']:g}, or a run.duration_ms of at least {end_ms:.6g} (four phases of "
                       f"{job.request.pulses} triggers at {job.period_ps} ps each, after start_ms)",
                       "does not fit in the run")
                ok = False
        return net if ok else None

    def results(self, result: Any, requests: tuple) -> tuple[dict, list]:
        reports = {r.request_id: storage_report(result.states, r) for r in requests}
        counts = [(r.request_id, phase, reports[r.request_id]["windows"][phase], reports[r.request_id]["counts"][phase])
                  for r in requests for phase in PHASES]
        return reports, counts

    def rows(self, scenario: Any, reports: dict) -> list[tuple]:
        rows = [("storage request", "source -> memory", "storage ns", "stored", "retrieved", "internal efficiency",
                 "signal/noise")]

        def pm(x: float, sd: float, digits: int) -> str:
            return "-" if math.isnan(x) else f"{x:.{digits}f} +- {sd:.{digits}f}"

        for req in scenario.requests:
            rep = reports[req.request_id]
            rows.append((req.request_id, f"{req.source} -> {req.dest}", f"{rep['storage_ns']:g}",
                         str(rep["photons_stored"]), str(rep["photons_retrieved"]),
                         pm(rep["internal_efficiency"], rep["internal_efficiency_sd"], 4)
                         + ("" if rep["complete"] else " (incomplete)"),
                         pm(rep["signal_to_noise"], rep["signal_to_noise_sd"], 1)))
        return rows


STORAGE = register(Storage())
