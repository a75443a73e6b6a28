"""What a node knows when it routes: the static map of the network, and the live state that reached it.

A :class:`NetworkMap` is what every node is given when the network is built,
as an operator would provision it: the nodes, the links, their lengths and
classical latencies, how many memories each link has at each end, and the
link and memory models (success probability and period of an attempt, the
fidelity of a fresh pair, the nodes' T2 and swap success).  It never changes
during a run and is not part of any actor's state.

What changes (memory occupancy, links that are down) a node knows only for
its own links, live, and for the rest from the :class:`LinkState`
advertisements other nodes sent it, which arrive after the fibre latency
between the two: stale information is part of the model.  A
:class:`RouteView` puts the two together for one routing decision.
"""

from __future__ import annotations

import math
from typing import Iterable, NamedTuple

import networkx as nx

from qactors.core.messages import Message, message

__all__ = ["NetworkMap", "MapLink", "MapNode", "LinkState", "RouteView"]


class MapLink(NamedTuple):
    """One link as the map shows it (per attempt: ``p`` success probability, ``attempt_ps`` period)."""

    name: str
    a: str
    b: str
    length_km: float
    latency_ps: int
    channels: int
    shared: bool
    p: float
    attempt_ps: int
    fidelity: float

    @property
    def generation_ps(self) -> float:
        """Expected time to herald one pair with attempts back to back: ``attempt_ps / p``."""
        return self.attempt_ps / self.p


class MapNode(NamedTuple):
    """One node as the map shows it: swap success, memory T2 (s) and position (km, or None)."""

    name: str
    swap: float
    t2_s: float
    pos_km: tuple | None


class NetworkMap:
    """The static map of a network (see the module docstring), shared by all its nodes.

    ``links``: the :class:`MapLink` of every link; ``nodes``: the :class:`MapNode` of every node.
    :meth:`latency_ps` is the classical latency of the fastest fibre route between two nodes
    (a Dijkstra per source node, kept)."""

    def __init__(self, nodes: Iterable[MapNode], links: Iterable[MapLink]):
        self.nodes = {n.name: n for n in nodes}
        self.links = {link.name: link for link in links}
        self.adj: dict[str, dict[str, MapLink]] = {v: {} for v in sorted(self.nodes)}
        for link in self.links.values():
            self.adj[link.a][link.b] = link
            self.adj[link.b][link.a] = link
        self.graph = nx.Graph()
        self.graph.add_nodes_from(sorted(self.nodes))
        for link in sorted(self.links.values()):
            self.graph.add_edge(link.a, link.b, link=link, length_km=link.length_km, latency_ps=link.latency_ps)
        self._latency: dict[str, dict[str, int]] = {}

    def path_links(self, path) -> list[MapLink]:
        return [self.adj[a][b] for a, b in zip(path, path[1:])]

    def latency_ps(self, a: str, b: str) -> int:
        """Latency of the fastest fibre route from ``a`` to ``b``, ps."""
        table = self._latency.get(a)
        if table is None:
            table = self._latency[a] = nx.single_source_dijkstra_path_length(self.graph, a, weight="latency_ps")
        return table[b]

    def offsets_ps(self, path) -> tuple[int, ...]:
        """Cumulative latency along ``path``, from its first node."""
        out = [0]
        for link in self.path_links(path):
            out.append(out[-1] + link.latency_ps)
        return tuple(out)

    def __repr__(self) -> str:
        return f"NetworkMap({len(self.nodes)} nodes, {len(self.links)} links)"


@message
class LinkState(Message):
    """A node's advertisement of its own links: ``links`` holds ``(link name, load, up)`` per link,
    ``load`` being the share of the link's memories at this node that requests hold (reserved
    memories), or the number of requests drawing on the link's pool per memory (shared ones).
    ``seq`` orders one node's advertisements; ``at_ps`` is when it was sent."""

    node: str
    seq: int
    at_ps: int
    links: tuple


class RouteView:
    """Everything a router may use for one decision at node ``node`` at time ``now``.

    ``map``: the :class:`NetworkMap`.  ``request``: the request to route (its path not set yet).
    ``load(link)`` / ``is_down(link)`` / ``age_ps(link)``: the freshest knowledge of a link (live
    for the node's own links, else from the advertisements that reached it; a link nobody has
    advertised is taken as up and idle, of unknown age).  ``avoid``: links this request should
    not use again (they rejected or failed it before, or are known to be down).  ``routed``:
    link name -> how many requests this node has routed over it that are still running."""

    def __init__(self, node: str, now: int, request, nmap: NetworkMap, known: dict, avoid: frozenset,
                 routed: dict, *, capacity: bool = True):
        self.node, self.now, self.request, self.map = node, now, request, nmap
        self.capacity = capacity  # False: links with too few memories count as usable (to say which one is short)
        self._known = known  # link name -> (load, up, as of ps)
        self.avoid = avoid
        self.routed = routed

    def load(self, link: str) -> float:
        entry = self._known.get(link)
        return entry[0] if entry is not None else 0.0

    def is_down(self, link: str) -> bool:
        entry = self._known.get(link)
        return entry is not None and not entry[1]

    def age_ps(self, link: str) -> float:
        entry = self._known.get(link)
        return self.now - entry[2] if entry is not None else math.inf

    def usable(self, link: MapLink) -> bool:
        """Not avoided, not known to be down, and with enough memories for the request (reserved links)."""
        if link.name in self.avoid or self.is_down(link.name):
            return False
        return link.shared or not self.capacity or link.channels >= self.request.channels

    def graph(self) -> nx.Graph:
        """The map's graph without the links this request cannot use (see :meth:`usable`)."""
        return nx.subgraph_view(self.map.graph, filter_edge=lambda a, b: self.usable(self.map.adj[a][b]))

    def shortest(self, cost) -> tuple | None:
        """The path of least total ``cost(link)`` over usable links, or None (no such path)."""
        try:
            path = nx.shortest_path(self.graph(), self.request.source, self.request.dest,
                                    weight=lambda a, b, d: cost(d["link"]))
        except nx.NetworkXNoPath:
            return None
        return tuple(path)
