"""The kinds of scenario, each a small :class:`Kind`, looked up by the section that holds its requests.

A kind declares what it reads (its ``[[section]]`` and request keys, its node
and link profile keys, its link schemes, any keys of ``[run]`` of its own) and
does what is particular to it: its checks, how it builds the network, its
report rows and its delivery rows.  Everything they share (the request loop,
the profile tables, the link schemes a topology uses) is here.

Adding a kind: a module with a :class:`Kind` subclass, and a line in
:data:`KINDS` (``qactors/scenario/__init__.py`` imports the modules).
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from ..core.errors import ConfigurationError
from ..core.network import Network
from .schema import BAD, REQUIRED, Checker, Key, choice, good, show, toml_type

__all__ = ["Kind", "KINDS", "register", "kind_of_scheme", "all_schemes", "read_profiles", "read_requests",
           "check_link_schemes", "map_error"]


class Kind:
    """One kind of scenario: what its tables hold and what it does with them (override what differs)."""

    name = ""                 # "entanglement"
    section = ""              # the array of tables of its requests: "requests"
    noun = ""                 # one of them, in a description: "request"
    how = ""                  # how it runs, in a description: "trusted relays"
    link_word = "link"        # a link of its networks, in a summary: "QKD link"
    purpose = ""              # what its requests ask for, in the error for a missing section
    schemes: tuple = ()       # link schemes its networks use
    scheme_use = ""           # what is allowed instead of a scheme of another kind
    run_keys: dict = {}       # keys of [run] only this kind reads
    request_keys: dict = {}
    node_keys: dict = {}      # keys of [profiles.nodes.NAME]
    node_use = ""             # what its node keys describe (for a key used in another kind)
    node_unsupported: dict = {}
    link_keys: dict = {}      # keys of [profiles.links.NAME] whose scheme is one of ``schemes``
    link_unsupported: dict = {}
    delivery_columns: tuple = ()

    def node_profile(self, ck: Checker, path: str, values: dict, given: dict) -> dict | None:
        """A checked node profile (None if it has a problem, recorded in ``ck``)."""
        return {k: v for k, v in values.items() if v is not None}

    def link_profile(self, ck: Checker, path: str, values: dict, given: dict) -> dict | None:
        """A checked link profile of one of this kind's schemes."""
        return {k: v for k, v in values.items() if v is not None}

    def request(self, ck: Checker, path: str, r: dict) -> tuple | None:
        """What is particular to one request table ``r`` (its keys checked, ids and ends too):
        ``(request, resolved table)``, or None if it has a problem (recorded in ``ck``)."""
        raise NotImplementedError

    def hardware(self, ck: Checker, g: nx.Graph, t: dict, profiles: dict, notes: list[str]) -> dict | None:
        """Put each node's and link's hardware on the graph; the keyword arguments of :meth:`network`."""
        raise NotImplementedError

    def network(self, ck: Checker, g: nx.Graph, requests: list, args: dict, run: dict) -> Network | None:
        raise NotImplementedError

    def results(self, result: Any, requests: tuple) -> tuple[dict, list]:
        """``(reports by request id, delivery rows)`` of a finished run."""
        raise NotImplementedError

    def csv_row(self, row: tuple) -> tuple:
        return row

    def rows(self, scenario: Any, reports: dict) -> list[tuple]:
        """The summary table: a header row, then one row per request."""
        raise NotImplementedError


KINDS: dict[str, Kind] = {}
"""The kinds of scenario, by the section of their requests (``"requests"``, ``"key_requests"``, ...)."""


def register(kind: Kind) -> Kind:
    KINDS[kind.section] = kind
    return kind


def kind_of_scheme(scheme: str) -> Kind | None:
    return next((k for k in KINDS.values() if scheme in k.schemes), None)


def all_schemes() -> tuple:
    return tuple(s for k in KINDS.values() for s in k.schemes)


def _foreign(tables: str, kind: Kind, message) -> dict[str, str]:
    """The keys of the other kinds' ``tables`` that ``kind``'s lack, each with ``message(owners)``: what is
    allowed instead."""
    keys = {key for k in KINDS.values() if k is not kind for key in getattr(k, tables)} - set(getattr(kind, tables))
    return {key: message([k for k in KINDS.values() if k is not kind and key in getattr(k, tables)])
            for key in keys}


def read_profiles(ck: Checker, data: dict, kind: Kind) -> dict | None:
    """``[profiles.nodes.*]`` read as ``kind`` reads them; each ``[profiles.links.*]`` as the kind of its scheme."""
    p = ck.table("profiles", data, {"nodes": Key("table", REQUIRED), "links": Key("table", REQUIRED)})
    out: dict[str, dict] = {"nodes": {}, "links": {}}
    node_foreign = _foreign("node_keys", kind, lambda owners: (
        f"is not used here; allowed: only in a scenario with {' or '.join(f'[[{o.section}]] ({o.node_use})' for o in owners)}"
        f"; this scenario's node profiles take {', '.join(kind.node_keys) or 'no keys'}"))
    scheme_key = choice(REQUIRED, all_schemes())
    for group in ("nodes", "links"):
        if p[group] is BAD:
            continue
        for name, table in p[group].items():
            path = f"profiles.{group}.{name}"
            if not isinstance(table, dict):
                ck.bad(path, table, f"a table [{path}] of the profile's keys", f"({toml_type(table)}) has the wrong "
                       f"type")
                continue
            if group == "nodes":
                values = ck.table(path, table, kind.node_keys, kind.node_unsupported, node_foreign)
                if good(*values.values()):
                    out["nodes"][name] = kind.node_profile(ck, path, values, table)
                continue
            if "scheme" not in table:
                ck.add(f"{path}.scheme", None, f"is missing; required: {scheme_key.allowed()}")
                continue
            scheme = ck.value(f"{path}.scheme", table["scheme"], scheme_key)
            if scheme is BAD:
                continue
            owner = kind_of_scheme(scheme)
            foreign = _foreign("link_keys", owner, lambda owners: (
                f"is not used by scheme {scheme!r}; allowed: only with scheme "
                f"{' or '.join(repr(s) for o in owners for s in o.schemes)}"))
            values = ck.table(path, table, owner.link_keys, owner.link_unsupported, foreign)
            if good(*values.values()):
                out["links"][name] = owner.link_profile(ck, path, values, table)
    if any(q.key.startswith("profiles") for q in ck.problems):
        return None
    out["resolved"] = {k: {n: dict(v) for n, v in out[k].items() if v is not None} for k in ("nodes", "links")}
    return out


def check_link_schemes(ck: Checker, g: nx.Graph, profiles: dict, kind: Kind) -> list[str]:
    """The link profiles the topology uses (sorted), each of a scheme ``kind`` runs, with one refractive index."""
    used = sorted({d["profile"] for *_, d in g.edges(data=True)})
    for name in used:
        scheme = profiles["links"][name]["scheme"]
        if scheme not in kind.schemes:
            ck.bad(f"profiles.links.{name}.scheme", scheme, kind.scheme_use, "cannot be used here")
    first = used[0]
    index = profiles["links"][first]["refractive_index"]
    for other in used[1:]:
        value = profiles["links"][other]["refractive_index"]
        if value != index:
            ck.add(f"profiles.links.{other}.refractive_index", value,
                   f"{show(value)} differs from profile {first!r} ({show(index)}); the network layer "
                   f"(quantum_network) takes one refractive index for all links; allowed: the same refractive_index "
                   f"in every link profile the topology uses ({', '.join(used)})")
    return used


def read_requests(ck: Checker, kind: Kind, tables: list, run: dict | None) -> dict | None:
    """Every request table of ``kind``: its keys, a unique id, two different ends, a start inside the run,
    then what :meth:`Kind.request` checks."""
    section = kind.section
    if not tables:
        ck.add(section, tables, f"is empty; required: at least one [[{section}]] table")
        return None
    duration = run["duration_ms"] if run is not None else BAD
    out, resolved, ids = [], [], {}
    for i, data in enumerate(tables):
        path = f"{section}[{i}]"
        r = ck.table(path, data, kind.request_keys)
        n_before = len(ck.problems)
        if good(r["id"]):
            if r["id"] in ids:
                ck.bad(f"{path}.id", r["id"], f"an id no other {section[:-1].replace('_', ' ')} has "
                       f"({section}[{ids[r['id']]}] has it)", "is already used")
            ids.setdefault(r["id"], i)
        if good(r["source"], r["dest"]) and r["source"] == r["dest"]:
            ck.bad(f"{path}.dest", r["dest"], "a node other than the source", "is the source")
        if good(r["start_ms"], duration) and r["start_ms"] >= duration:
            ck.bad(f"{path}.start_ms", r["start_ms"], f"a time before the end of the run (run.duration_ms = "
                   f"{duration:g})", "is out of range")
        if len(ck.problems) > n_before or not good(*r.values()):
            continue
        made = kind.request(ck, path, r)
        if made is not None:
            request, table = made
            out.append(request)
            resolved.append(table)
    if any(p.key.startswith(section) for p in ck.problems):
        return None
    return {"requests": out, "resolved": resolved}


def map_error(ck: Checker, path: str, r: dict, err: ConfigurationError, keys: dict[str, str], layer: str) -> None:
    """Record ``err``, raised by the request's own check, at the TOML key of the field it names
    (``keys`` maps a field of the request to its key, where the names differ)."""
    field = str(getattr(err, "field", "") or "")
    key = keys.get(field, field)
    if key.split(".")[0] not in r:
        ck.add(path, None, f"is refused by {layer}: {err}")
        return
    value: Any = r
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    ck.add(f"{path}.{key}", value, f"{show(value)} is refused by {layer}: {err}")
