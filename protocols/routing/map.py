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
from heapq import heappop, heappush
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
    (a Dijkstra per source node, kept).  :meth:`shortest` searches the map itself; the networkx
    :attr:`graph` of the map (for routers that need networkx, such as Yen's k shortest paths) is
    built on first use: on the scale benchmark's grid it was about 90 bytes per actor, which a run
    routing by shortest paths never needs."""

    def __init__(self, nodes: Iterable[MapNode], links: Iterable[MapLink]):
        self.nodes = {n.name: n for n in nodes}
        self.links = {link.name: link for link in links}
        self.adj: dict[str, dict[str, MapLink]] = {v: {} for v in sorted(self.nodes)}
        for link in self.links.values():
            self.adj[link.a][link.b] = link
            self.adj[link.b][link.a] = link
        self._graph: nx.Graph | None = None
        self._order: dict[str, dict[str, MapLink]] | None = None  # neighbours in the graph's order
        self._latency: dict[str, dict[str, int]] = {}

    @property
    def graph(self) -> nx.Graph:
        """The map as a networkx graph: its nodes sorted, its links added in name order, each edge with
        ``link`` (the :class:`MapLink`), ``length_km`` and ``latency_ps``."""
        if self._graph is None:
            g = nx.Graph()
            g.add_nodes_from(sorted(self.nodes))
            for link in sorted(self.links.values()):
                g.add_edge(link.a, link.b, link=link, length_km=link.length_km, latency_ps=link.latency_ps)
            self._graph = g
        return self._graph

    def _neighbours(self) -> dict[str, dict[str, MapLink]]:
        """Each node's neighbours and the link to each, in the order of :attr:`graph`'s adjacency (which
        decides between paths of equal cost): :attr:`adj` itself when its order is that one already (a
        network built by quantum_network), else a table of its own."""
        if self._order is None:
            order: dict[str, dict[str, MapLink]] = {v: {} for v in sorted(self.nodes)}
            for link in sorted(self.links.values()):
                order[link.a][link.b] = link
                order[link.b][link.a] = link
            same = all(list(order[v].items()) == list(self.adj[v].items()) for v in order)
            self._order = self.adj if same else order
        return self._order

    def shortest(self, source: str, dest: str, cost, usable=None) -> tuple | None:
        """The path of least total ``cost(link)`` from ``source`` to ``dest`` over the links for which
        ``usable(link)`` holds (all when None), or None when there is none: the path that
        ``networkx.shortest_path`` (a bidirectional Dijkstra) finds on :attr:`graph`, by the same
        search in the same order, so with the same choice between paths of equal cost, without
        building the graph.

        Raises:
            networkx.NodeNotFound: ``source`` or ``dest`` is not on the map."""
        for end in (source, dest):
            if end not in self.nodes:
                raise nx.NodeNotFound(f"Node {end} is not on the map")
        if source == dest:
            return (source,)
        order = self._neighbours()
        done: list[dict] = [{}, {}]              # forward (from source), backward (from dest): final distances
        preds: list[dict] = [{source: None}, {dest: None}]
        seen: list[dict] = [{source: 0}, {dest: 0}]
        fringe: list[list] = [[(0, 0, source)], [(0, 1, dest)]]
        tick = 1  # one tie-break count for both heaps: first pushed, first out
        best = meet = None
        direction = 1
        while fringe[0] and fringe[1]:
            direction = 1 - direction  # the directions take turns, a stale entry popped included
            d, _, v = heappop(fringe[direction])
            mine, other = done[direction], done[1 - direction]
            if v in mine:
                continue
            mine[v] = d
            if v in other:
                forward, back = [], []
                node = meet
                while node is not None:
                    forward.append(node)
                    node = preds[0][node]
                node = preds[1][meet]
                while node is not None:
                    back.append(node)
                    node = preds[1][node]
                return tuple(reversed(forward)) + tuple(back)
            near, far = seen[direction], seen[1 - direction]
            for w, link in order[v].items():
                if usable is not None and not usable(link):
                    continue
                dw = d + cost(link)
                if w in mine or (w in near and dw >= near[w]):
                    continue
                near[w] = dw
                tick += 1
                heappush(fringe[direction], (dw, tick, w))
                preds[direction][w] = v
                if w in far:
                    total = dw + far[w]
                    if best is None or best > total:
                        best, meet = total, w
        return None

    def path_links(self, path) -> list[MapLink]:
        return [self.adj[a][b] for a, b in zip(path, path[1:])]

    def latency_ps(self, a: str, b: str) -> int:
        """Latency of the fastest fibre route from ``a`` to ``b``, ps."""
        table = self._latency.get(a)
        if table is None:
            table = self._latency[a] = self._latencies_from(a)
        return table[b]

    def _latencies_from(self, source: str) -> dict[str, int]:
        """Latency of the fastest fibre route from ``source`` to every node it reaches (Dijkstra)."""
        order = self._neighbours()
        done: dict[str, int] = {}
        seen = {source: 0}
        fringe = [(0, source)]
        while fringe:
            d, v = heappop(fringe)
            if v in done:
                continue
            done[v] = d
            for u, link in order[v].items():
                du = d + link.latency_ps
                if u not in done and (u not in seen or du < seen[u]):
                    seen[u] = du
                    heappush(fringe, (du, u))
        return done

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
        return self.map.shortest(self.request.source, self.request.dest, cost, self.usable)
