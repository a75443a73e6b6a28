"""Repeater insertion: split long links into equal segments joined by repeater nodes.

A link of length ``L`` longer than ``max_segment_km`` becomes
``k = ceil(L / max_segment_km)`` segments of length ``L / k`` -- the fewest
equal segments none of which is longer than the maximum -- with ``k - 1`` new
repeater nodes between them.  This is the placement assumed by the usual
analyses of repeater chains with equally spaced nodes (e.g. H.-J. Briegel,
W. Duer, J. I. Cirac, P. Zoller, PRL 81, 5932, 1998; N. Sangouard et al.,
Rev. Mod. Phys. 83, 33, 2011).

Repeater ``j`` (1-based, counted from the end ``a`` that sorts first as a
string) of link ``(a, b)`` has id ``f"{a}~{b}#{j}"``, profile ``"repeater"``
(or as given), ``repeater_of = (a, b)``, and a position ``j / k`` of the way
from ``a`` to ``b``: linear in ``pos_km`` when both ends have one, along the
great circle for ``lat`` / ``lon`` (see :mod:`qactors.topologies.geo`).  The
link's fibre may not follow that straight line or arc; only the segment
lengths are exact.  Every segment keeps the other attributes of the link it
replaces.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import networkx as nx

from qactors.core import checks as _checks
from qactors.core.checks import fail
from .geo import interpolate_great_circle

__all__ = ["RepeaterInsertion", "insert_repeaters"]


class RepeaterInsertion(NamedTuple):
    """What :func:`insert_repeaters` returns; unpacks as ``graph, added``."""

    graph: nx.Graph
    """The new graph (the input is left unchanged)."""
    added: int
    """How many repeater nodes were inserted."""


def _segments_needed(length_km: float, max_segment_km: float) -> int:
    """The fewest equal segments of ``length_km`` none longer than ``max_segment_km``."""
    k = max(1, math.ceil(length_km / max_segment_km))
    while k > 1 and length_km / (k - 1) <= max_segment_km:  # ceil of a rounded quotient can overshoot
        k -= 1
    return k


def _position(data_a: dict, data_b: dict, fraction: float) -> dict:
    out = {}
    pa, pb = data_a.get("pos_km"), data_b.get("pos_km")
    if pa is not None and pb is not None:
        out["pos_km"] = tuple(float(x + fraction * (y - x)) for x, y in zip(pa, pb))
    if all(k in d for d in (data_a, data_b) for k in ("lat", "lon")):
        out["lat"], out["lon"] = interpolate_great_circle(data_a["lat"], data_a["lon"], data_b["lat"],
                                                          data_b["lon"], fraction)
    return out


def insert_repeaters(graph: nx.Graph, max_segment_km: float, *, profile: str = "repeater") -> RepeaterInsertion:
    """A copy of ``graph`` in which no link is longer than ``max_segment_km``.

    Args:
        graph: an undirected :class:`networkx.Graph` whose every edge has
            ``length_km`` > 0 (a multigraph or directed graph is refused).
        max_segment_km: longest allowed segment, km, > 0.
        profile: hardware profile of the new repeater nodes.

    Returns:
        ``RepeaterInsertion(graph, added)``; ``graph.graph["repeaters_added"]``
        also holds ``added``.

    Raises:
        ConfigurationError: a bad argument, an edge without a valid
            ``length_km``, or a repeater id that is already a node.

    >>> from qactors.topologies import line
    >>> g, added = insert_repeaters(line(2, length_km=100.0), 30.0)
    >>> added, sorted(g.nodes), g.edges["n0", "n0~n1#1"]["length_km"]
    (3, ['n0', 'n0~n1#1', 'n0~n1#2', 'n0~n1#3', 'n1'], 25.0)
    """
    if not isinstance(graph, nx.Graph) or graph.is_multigraph() or graph.is_directed():
        raise fail("graph", type(graph).__name__, "an undirected networkx.Graph (not a multigraph or digraph)")
    max_km = _checks.positive_km("max_segment_km", max_segment_km)
    profile = _checks.profile("profile", profile)
    needed = sum(_segments_needed(_checks.positive_km(f"edge ({u}, {v}) length_km", d.get("length_km")), max_km) - 1
                 for u, v, d in graph.edges(data=True))
    if graph.number_of_nodes() + needed > _checks.MAX_NODES:
        raise fail("max_segment_km", max_segment_km, f"a segment length that keeps the network within "
                   f"{_checks.MAX_NODES:,} nodes (this one would insert {needed:,} repeaters)")
    out = graph.copy()
    added = 0
    for u, v, data in sorted(graph.edges(data=True), key=lambda e: tuple(sorted((str(e[0]), str(e[1]))))):
        a, b = (u, v) if str(u) <= str(v) else (v, u)
        length = data.get("length_km")
        _checks.positive_km(f"edge ({a}, {b}) length_km", length)
        k = _segments_needed(float(length), max_km)
        if k == 1:
            continue
        out.remove_edge(a, b)
        segment = float(length) / k
        chain = [a]
        for j in range(1, k):
            node = f"{a}~{b}#{j}"
            if node in out:
                raise fail("repeater id", node, "an id that is not yet a node of the graph", field="graph")
            out.add_node(node, profile=profile, repeater_of=(str(a), str(b)),
                         **_position(graph.nodes[a], graph.nodes[b], j / k))
            chain.append(node)
        chain.append(b)
        for x, y in zip(chain, chain[1:]):
            out.add_edge(x, y, **{**data, "length_km": segment})
        added += k - 1
    out.graph["repeaters_added"] = added
    return RepeaterInsertion(out, added)
