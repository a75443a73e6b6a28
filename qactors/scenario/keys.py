"""Trusted-relay QKD: ``[[key_requests]]`` carried hop by hop over decoy-state BB84 links.

Each link makes key at the rate of its :class:`~qactors.protocols.qkd.DecoyBB84`
settings over its fibre (or at a given ``key_rate_bps``); relays hold keys, not
qubits, so node profiles take no keys.  Requests become
:class:`~qactors.protocols.qkd.KeyRelayRequest` records, checked by their own
constructor; the network is :func:`~qactors.protocols.qkd.trusted_relay_network`.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from ..core import checks
from ..core.errors import ConfigurationError
from ..core.network import Network
from ..core.time import MS
from ..hardware.channels import Fibre
from ..protocols.qkd import DecoyBB84, KeyRelayRequest, decoy_link_rate_bps, key_relay_report, \
    trusted_relay_network
from .kinds import Kind, map_error, register
from .schema import REQUIRED, Checker, Key, choice, num, show
from .topology import NODE_ID

__all__ = ["Keys", "KEY_SCHEME"]

KEY_SCHEME = "decoy_bb84"
"""The link scheme of trusted-relay QKD links (prepare and measure)."""
_POSITIVE = dict(low=0, low_open=True)
_DECOY = ("mu", "nu", "p_signal", "p_decoy", "p_vacuum", "misalignment", "repetition_rate_hz", "ec_efficiency")


class Keys(Kind):
    name = "key"
    section = "key_requests"
    noun = "key request"
    how = "trusted relays"
    link_word = "QKD link"
    purpose = "trusted-relay QKD keys"
    schemes = (KEY_SCHEME,)
    scheme_use = f"'{KEY_SCHEME}' (a scenario with [[key_requests]] runs trusted-relay QKD links)"
    run_keys = {"key_tick_ms": num(1.0, low=0, low_open=True, unit_ps=MS, unit="ms")}
    node_use = "a trusted relay holds keys, not qubits"
    link_keys = {"scheme": choice(REQUIRED, (KEY_SCHEME,)), "refractive_index": num(1.47, low=1, high=10),
                 "attenuation_db_per_km": num(0.2, low=0, high=1e3),
                 "detection_efficiency": num(low=0, low_open=True, high=1),
                 "dark_count_probability": num(low=0, high=1),
                 # decoy-state BB84 settings (qactors.protocols.qkd.DecoyBB84; defaults: its GYS values)
                 "mu": num(**_POSITIVE), "nu": num(**_POSITIVE), "p_signal": num(low=0, high=1),
                 "p_decoy": num(low=0, high=1), "p_vacuum": num(low=0, high=1), "misalignment": num(low=0, high=1),
                 "repetition_rate_hz": num(low=0, low_open=True, high=1e15), "ec_efficiency": num(low=1),
                 "key_rate_bps": num(low=0, high=1e15)}
    request_keys = {"id": Key("id", REQUIRED, text="a name for the key request (a non-empty string)"),
                    "source": Key("id", REQUIRED, text=NODE_ID), "dest": Key("id", REQUIRED, text=NODE_ID),
                    "bits": Key("int", REQUIRED, low=1, high=checks.MAX_COUNT),
                    "count": Key("int", 1, low=1, high=checks.MAX_COUNT),
                    "start_ms": num(0.0, low=0, unit_ps=MS, unit="ms")}
    delivery_columns = ("request", "end", "time_ps", "bits", "key_id")

    def link_profile(self, ck: Checker, path: str, v: dict, given: dict) -> dict | None:
        """A decoy-state BB84 link profile: its DecoyBB84 settings, or a given key rate."""
        out = {k: v[k] for k in ("scheme", "refractive_index", "attenuation_db_per_km")}
        out.update({k: v[k] for k in given if k in _DECOY + ("key_rate_bps", "detection_efficiency",
                                                             "dark_count_probability")})
        if v["key_rate_bps"] is not None:
            unused = [k for k in _DECOY + ("detection_efficiency", "dark_count_probability", "attenuation_db_per_km")
                      if k in given]
            for k in unused:
                ck.add(f"{path}.{k}", given[k], f"{show(given[k])} is not used with key_rate_bps (the link's key "
                       f"rate is given, not computed); allowed: key_rate_bps or the decoy settings")
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
            ck.add(f"{path}.{key if key in self.link_keys else ''}".rstrip("."), getattr(err, "value", None),
                   f"gives invalid decoy-state settings: {err}")
            return None
        return out

    def request(self, ck: Checker, path: str, r: dict) -> tuple | None:
        try:
            request = KeyRelayRequest(r["id"], r["source"], r["dest"], bits=r["bits"],
                                      start_ps=round(r["start_ms"] * MS), count=r["count"])
        except ConfigurationError as err:
            map_error(ck, path, r, err, {"request_id": "id", "start_ps": "start_ms"}, "the key request's check")
            return None
        return request, r

    def hardware(self, ck: Checker, g: nx.Graph, t: dict, profiles: dict, notes: list[str]) -> dict | None:
        """Each edge's DecoyBB84 settings (or given key rate) and fibre loss; a note names links without key."""
        zero = []
        for u, v, d in g.edges(data=True):
            lp = profiles["links"][d["profile"]]
            if "key_rate_bps" in lp:
                d["rate_bps"] = rate = lp["key_rate_bps"]
            else:
                d["qkd"] = lp["qkd"]
                d["attenuation_db_per_km"] = lp["attenuation_db_per_km"]
                rate = decoy_link_rate_bps(Fibre(d["length_km"], attenuation_db_per_km=d["attenuation_db_per_km"]),
                                           d["qkd"])
            if rate == 0.0:
                zero.append(f"({u}, {v})")
        if zero:
            notes.append(f"{len(zero)} QKD link{'s' if len(zero) > 1 else ''} make no key (too long for their "
                         f"settings, or key_rate_bps = 0): {', '.join(zero[:5])}{' ...' if len(zero) > 5 else ''}; "
                         f"key requests routed over them never complete")
        return {}

    def network(self, ck: Checker, g: nx.Graph, requests: list, args: dict, run: dict) -> Network | None:
        try:
            net = trusted_relay_network(g, requests, tick_ps=max(1, round(run["key_tick_ms"] * MS)), **args)
            net.check()
        except ConfigurationError as err:
            ck.add("key_requests", getattr(err, "value", None), f"the trusted-relay layer refused it: {err}")
            return None
        return net

    def results(self, result: Any, requests: tuple) -> tuple[dict, list]:
        reports = {r.request_id: key_relay_report(result.states, r.request_id) for r in requests}
        delivered = [(r.request_id, r.dest, *result.states[r.dest]["delivered"][k][:2], k)
                     for r in requests for k in r.key_ids() if k in result.states[r.dest]["delivered"]]
        return reports, sorted(delivered, key=lambda row: (row[2], row[4]))

    def rows(self, scenario: Any, reports: dict) -> list[tuple]:
        rows = [("key request", "route", "hops", "keys", "bits", "rate bit/s", "weakest hop", "hop bit/s", "match")]
        for req in scenario.requests:
            rep = reports[req.request_id]
            rows.append((req.request_id, f"{req.source} -> {req.dest}", str(len(rep["path"]) - 1),
                         f"{rep['keys_delivered']}/{rep['keys_requested']}", str(rep["bits_delivered"]),
                         f"{rep['delivered_rate_bps']:.4g}", "-".join(rep["weakest_hop"]),
                         f"{rep['weakest_rate_bps']:.4g}", "yes" if rep["keys_match"] else "NO"))
        return rows


KEYS = register(Keys())
