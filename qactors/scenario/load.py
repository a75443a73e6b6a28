"""A network under load in a scenario file: ``[traffic]`` (requests drawn from the seed), ``[[faults]]`` and
``[stress]`` (the defaults of ``qactors stress``, :mod:`qactors.stress`).

``[traffic]`` stands for a stream of entanglement requests
(:class:`~qactors.protocols.traffic.Traffic`); its request keys (``policy``,
``channels``, ``retries``, ...) are those of a ``[[requests]]`` table and
apply to every request it draws.  It may stand alone or beside
``[[requests]]``.  ``[[faults]]`` tables are the faults of
:mod:`qactors.protocols.faults`, by ``kind``.
"""

from __future__ import annotations

import math
from typing import Any

from ..core import checks
from ..core.errors import ConfigurationError
from ..core.time import MS
from ..protocols.faults import DetectorDrop, LinkCut, MemoryDegradation, NodeFailure
from ..protocols.traffic import DEMANDS, Traffic
from .schema import REQUIRED, Checker, Key, choice, good, num

__all__ = ["TRAFFIC_KEYS", "FAULT_KEYS", "STRESS_KEYS", "read_traffic", "traffic_requests", "read_faults",
           "read_stress", "parse_loads", "check_loads", "check_policies"]

_MS = dict(unit_ps=MS, unit="ms")
TRAFFIC_KEYS = {"rate_hz": num(REQUIRED, low=0, high=1e12), "duration_ms": num(low=0, **_MS),
                "start_ms": num(0.0, low=0, **_MS), "demand": choice("uniform", DEMANDS),
                "hotspots": Key("strs", []), "hotspot_share": num(0.5, low=0, high=1),
                "endpoints": Key("strs", []), "endpoint_fraction": num(1.0, low=0, low_open=True, high=1),
                "min_hops": Key("int", 1, low=1, high=checks.MAX_NODES),
                "max_hops": Key("int", 0, low=0, high=checks.MAX_NODES),
                "pairs": Key("int", 1, low=1, high=checks.MAX_COUNT),
                "pairs_max": Key("int", low=1, high=checks.MAX_COUNT),
                "min_fidelity": num(0.0, low=0, high=1), "deadline_ms": num(low=0, low_open=True, **_MS)}
# keys of a [[requests]] table that [traffic] passes to every request it draws
_TEMPLATE = ("policy", "channels", "cutoff_ms", "selection", "application", "retries", "purification")
# each kind of fault: (keys it needs besides kind and at_ms, keys it may have)
_FAULTS = {"link_cut": (("link",), ("repair_ms",)), "node_failure": (("node",), ("recover_ms",)),
           "memory_degradation": (("node", "t2_s"), ("link",)), "detector_drop": (("link", "factor"), ())}
FAULT_KEYS = {"kind": choice(REQUIRED, tuple(_FAULTS)), "link": Key("str"), "node": Key("id"),
              "at_ms": num(REQUIRED, low=0, **_MS), "repair_ms": num(low=0, low_open=True, **_MS),
              "recover_ms": num(low=0, low_open=True, **_MS), "t2_s": Key("seconds", low=0, low_open=True),
              "factor": num(low=0, low_open=True, high=1)}


def read_traffic(ck: Checker, data: dict, kind: Any, run: dict | None) -> dict | None:
    """The ``[traffic]`` table checked; ``{"traffic": Traffic (its template checked), "resolved": table}``."""
    request_keys = {k: v for k, v in kind.request_keys.items() if k in _TEMPLATE}
    t = ck.table("traffic", data, {**TRAFFIC_KEYS, **request_keys})
    if any(p.key.startswith("traffic") for p in ck.problems) or not good(*t.values()):
        return None
    template = {k: t[k] for k in request_keys}
    template.update(id="traffic", source="-", dest="--", pairs=t["pairs"], min_fidelity=t["min_fidelity"],
                    start_ms=0.0, deadline_ms=None, bsm_visibility=1.0)
    made = kind.request(ck, "traffic", {**{k: spec.default for k, spec in kind.request_keys.items()}, **template})
    if made is None:
        return None
    duration = t["duration_ms"] if t["duration_ms"] is not None else (run or {}).get("duration_ms", 0.0)
    if t["pairs_max"] is not None and t["pairs_max"] < t["pairs"]:
        ck.bad("traffic.pairs_max", t["pairs_max"], f"at least pairs = {t['pairs']}", "is out of range")
        return None
    traffic = Traffic(rate_hz=float(t["rate_hz"]), duration_ps=round(duration * MS), start_ps=round(t["start_ms"] * MS),
                      demand=t["demand"], hotspots=tuple(t["hotspots"]), hotspot_share=float(t["hotspot_share"]),
                      endpoints=tuple(t["endpoints"]), endpoint_fraction=float(t["endpoint_fraction"]),
                      min_hops=t["min_hops"], max_hops=t["max_hops"],
                      pairs=(t["pairs"], t["pairs_max"] or t["pairs"]), min_fidelity=float(t["min_fidelity"]),
                      deadline_ps=round(t["deadline_ms"] * MS) if t["deadline_ms"] else 0, template=made[0])
    return {"traffic": traffic, "resolved": {k: v for k, v in t.items() if v is not None}}


def traffic_requests(ck: Checker, traffic: Traffic, graph: Any, seed: int, taken: set) -> list | None:
    """The requests ``traffic`` draws on ``graph`` with ``seed``, or None (a problem recorded)."""
    try:
        requests = traffic.requests(graph, seed)
    except ConfigurationError as err:
        field = str(getattr(err, "field", "") or "")
        ck.add(f"traffic.{field}" if field else "traffic", getattr(err, "value", None), str(err))
        return None
    clash = sorted(taken & {r.request_id for r in requests})
    if clash:
        ck.bad("requests", clash[0], f"ids other than those [traffic] gives its requests ({traffic.prefix}0, "
               f"{traffic.prefix}1, ...)", "is taken")
        return None
    return requests


def read_faults(ck: Checker, tables: list) -> list | None:
    """The ``[[faults]]`` tables as fault records (each kind's keys only), or None (problems recorded)."""
    out = []
    for i, data in enumerate(tables):
        where = f"faults[{i}]"
        f = ck.table(where, data, FAULT_KEYS)
        if not good(f["kind"]):
            continue
        needed, optional = _FAULTS[f["kind"]]
        allowed = ("kind", *needed[:1], "at_ms", *needed[1:], *optional)
        for key in sorted(k for k in data if k not in allowed and k in FAULT_KEYS):
            ck.bad(f"{where}.{key}", data[key], f"only the keys {', '.join(allowed)} for kind {f['kind']!r}",
                   "is not used here")
        for key in needed:
            if f[key] is None:
                ck.add(f"{where}.{key}", None, f"is missing; required for kind {f['kind']!r}")
        if any(p.key.startswith(where) for p in ck.problems):
            continue
        at = round(f["at_ms"] * MS)
        end = (lambda k: round(f[k] * MS) if f[k] is not None else 0)
        if f["kind"] == "link_cut":
            out.append(LinkCut(f["link"], at, end("repair_ms")))
        elif f["kind"] == "node_failure":
            out.append(NodeFailure(f["node"], at, end("recover_ms")))
        elif f["kind"] == "memory_degradation":
            out.append(MemoryDegradation(f["node"], at, float(f["t2_s"]), f["link"] or ""))
        else:
            out.append(DetectorDrop(f["link"], at, float(f["factor"])))
    if any(p.key.startswith("faults") for p in ck.problems):
        return None
    return out


STRESS_KEYS = {"policies": Key("strs", []), "load_key": Key("str", "traffic.rate_hz"),
               "replicas": Key("int", 3, low=1, high=1000), "threshold": num(0.9, low=0, low_open=True, high=1),
               "fault_window_ms": num(low=0, low_open=True, **_MS)}
"""The keys of ``[stress]`` besides ``loads`` (a list of numbers or ``"LO:HI:N"``)."""

_LOADS = ('a non-empty list of numbers >= 0, or "LO:HI:N" (N >= 2 evenly spaced values from LO to HI, '
          '0 <= LO < HI), or "V1,V2,..."')


def parse_loads(value: object) -> tuple[float, ...] | None:
    """Load levels from a list of numbers, ``"LO:HI:N"`` or ``"V1,V2,..."``; None if ``value`` is none of
    these (the allowed forms are :data:`_LOADS`)."""
    if isinstance(value, str):
        text = value.strip()
        try:
            if ":" in text:
                lo, hi, n = text.split(":")
                lo_v, hi_v, n_v = float(lo), float(hi), int(n)
                if not (0 <= lo_v < hi_v and math.isfinite(hi_v) and 2 <= n_v <= 1000):
                    return None
                return tuple(lo_v + (hi_v - lo_v) * i / (n_v - 1) for i in range(n_v))
            value = [float(v) for v in text.split(",")]
        except ValueError:
            return None
    if not (isinstance(value, list) and value and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0 for v in value)):
        return None
    if len(set(value)) != len(value) or len(value) > 1000:
        return None
    return tuple(sorted(float(v) for v in value))


def check_loads(ck: Checker, key: str, value: object) -> tuple[float, ...] | None:
    """:func:`parse_loads`, recording a problem at ``key`` if ``value`` is none of the allowed forms."""
    levels = parse_loads(value)
    if levels is None:
        ck.bad(key, value, _LOADS, "is not allowed")
    return levels


def check_policies(ck: Checker, key, names) -> None:
    """Every name one of the routers' (:data:`~qactors.protocols.routing.ROUTERS`), none twice;
    ``key(i)`` is the key path of the i-th."""
    from ..protocols.routing import ROUTERS
    for i, name in enumerate(names):
        if name not in ROUTERS:
            ck.bad(key(i), name, f"one of {sorted(ROUTERS)}", "is not a router")
        elif name in names[:i]:
            ck.bad(key(i), name, "each router once", "is given twice")


def read_stress(ck: Checker, data: dict) -> dict | None:
    """The ``[stress]`` table checked: ``policies`` (names of routers), ``load_key``, ``loads``, ``replicas``,
    ``threshold``, ``fault_window_ms``; None if it has problems (recorded)."""
    given = {k: v for k, v in data.items() if k != "loads"}
    t = ck.table("stress", given, {**STRESS_KEYS, "loads": Key("str")})
    t["loads"] = check_loads(ck, "stress.loads", data["loads"]) if "loads" in data else ()
    if good(t["policies"]):
        check_policies(ck, lambda i: f"stress.policies[{i}]", t["policies"])
    if any(p.key.startswith("stress") for p in ck.problems):
        return None
    return t
