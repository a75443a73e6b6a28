"""The built-in routers (see :mod:`qactors.protocols.routing.base` for the interface).

* :class:`ShortestPath` (``"shortest"``): least total fibre length, or, with
  ``by="hops"`` (:class:`FewestHops`, ``"fewest-hops"``), fewest links.
* :class:`RateAware` (``"rate-aware"``): the path whose links herald and whose
  repeaters swap most probably in one attempt each, cost ``-ln p`` per link
  and ``-ln q`` per repeater; the metric of the routing literature for
  heralded links (e.g. Shi & Qian, SIGCOMM 2020, sec. 4; Caleffi, IEEE Access
  5, 22299 (2017) uses the generation time instead).
* :class:`FidelityAware` (``"fidelity-aware"``): the highest estimated
  end-to-end fidelity among the ``candidates`` best paths by link fidelity.
* :class:`KShortest` (``"k-shortest"``): among the ``k`` shortest simple paths
  (Yen's algorithm, as networkx's ``shortest_simple_paths``), the least loaded:
  advertised occupancy plus the requests this source itself has running on
  each link, so concurrent requests spread over the alternatives.
* :class:`CongestionAware` (``"congestion-aware"``): shortest path with each
  link's cost raised by its advertised occupancy, ``base x (1 + alpha x load)``.
* :class:`GreedyGeographic` (``"greedy-geographic"``): no global path; each
  hop goes to the neighbour nearest the destination (greedy geographic
  forwarding, e.g. Karp & Kung, MobiCom 2000, without its perimeter mode).

Q-CAST (``"q-cast"``, the path of highest expected throughput of Shi & Qian,
SIGCOMM 2020) has a module of its own, :mod:`.qcast`.
"""

from __future__ import annotations

import itertools
import math

import networkx as nx

from qactors.core import checks
from qactors.core.messages import message

from .base import Router, register_router
from .map import MapLink, RouteView

__all__ = ["ShortestPath", "FewestHops", "RateAware", "FidelityAware", "KShortest", "CongestionAware",
           "GreedyGeographic", "estimated_fidelity"]

_BY = ("length", "hops")


def _base(by: str):
    return (lambda link: link.length_km) if by == "length" else (lambda link: 1.0)


def _check_by(router: Router) -> None:
    if router.by not in _BY:
        raise checks.fail(f"{type(router).__name__}.by", router.by, f"one of {_BY}", field="by")


@register_router("shortest")
@message
class ShortestPath(Router):
    """Least total ``length_km`` (``by="length"``) or fewest links (``by="hops"``) over usable links."""

    by: str = "length"

    def check_fields(self) -> None:
        _check_by(self)

    def route(self, view: RouteView) -> tuple | None:
        return view.shortest(_base(self.by))


@register_router("fewest-hops")
@message
class FewestHops(ShortestPath):
    """:class:`ShortestPath` by hop count."""

    by: str = "hops"


def _log_cost(view: RouteView):
    nodes = view.map.nodes

    def cost(link: MapLink) -> float:
        # each repeater's swap counted half by each of its two links (the ends' halves are the same for every path)
        q = math.sqrt(nodes[link.a].swap * nodes[link.b].swap)
        return -math.log(link.p) - math.log(q)
    return cost


@register_router("rate-aware")
@message
class RateAware(Router):
    """Most probable path: cost ``-ln p`` per link (``p``: its success probability per attempt) and
    ``-ln q`` per repeater (swap success), i.e. the path that most often has every link heralded and
    every swap succeed in the same attempt."""

    def route(self, view: RouteView) -> tuple | None:
        return view.shortest(_log_cost(view))


def estimated_fidelity(nmap, path) -> float:
    """An estimate of the fidelity of pairs delivered over ``path`` with swap-asap: every link's pair as
    a Werner state of its fresh fidelity (parameter ``w = (4F - 1)/3``, multiplied along the path by
    swapping), each link's two qubits dephasing for the expected generation time of the path's slowest
    link (``w`` times ``exp(-t (1/T2_a + 1/T2_b))``).  Fidelity ``(1 + 3w)/4``.  A planning figure, not
    the simulation's physics."""
    links = nmap.path_links(path)
    wait_s = max(link.generation_ps for link in links) * 1e-12
    w = 1.0
    for link in links:
        w *= max(0.0, (4.0 * link.fidelity - 1.0) / 3.0)
        rate = 1.0 / nmap.nodes[link.a].t2_s + 1.0 / nmap.nodes[link.b].t2_s
        w *= math.exp(-wait_s * rate) if rate > 0 else 1.0
    return (1.0 + 3.0 * w) / 4.0


def _simple_paths(view: RouteView, cost, limit: int) -> list[tuple]:
    g = view.graph()
    try:
        gen = nx.shortest_simple_paths(g, view.request.source, view.request.dest,
                                       weight=lambda a, b, d: cost(d["link"]))
        return [tuple(p) for p in itertools.islice(gen, limit)]
    except nx.NetworkXNoPath:
        return []


@register_router("fidelity-aware")
@message
class FidelityAware(Router):
    """The path of highest :func:`estimated_fidelity` among the ``candidates`` paths of least
    ``-ln w`` (link Werner parameters); ties go to the shorter path."""

    candidates: int = 4

    def check_fields(self) -> None:
        checks.integer(f"{type(self).__name__}.candidates", self.candidates, low=1, high=1000, field="candidates")

    def route(self, view: RouteView) -> tuple | None:
        def cost(link: MapLink) -> float:
            return -math.log(max(1e-12, (4.0 * link.fidelity - 1.0) / 3.0))
        paths = _simple_paths(view, cost, self.candidates)
        if not paths:
            return None
        return max(paths, key=lambda p: (estimated_fidelity(view.map, p), -len(p)))


def _path_load(view: RouteView, path: tuple) -> float:
    """The busiest link of ``path``: advertised load plus this source's own running requests' share."""
    channels = view.request.channels
    return max(view.load(link.name) + view.routed.get(link.name, 0) * channels / link.channels
               for link in view.map.path_links(path))


@register_router("k-shortest")
@message
class KShortest(Router):
    """Of the ``k`` shortest simple paths (by ``by``), the one whose busiest link is least loaded
    (advertised occupancy plus this source's running requests); ties go to the shorter."""

    k: int = 2
    by: str = "length"
    advert_ps: int = 1_000_000_000

    def check_fields(self) -> None:
        checks.integer(f"{type(self).__name__}.k", self.k, low=1, high=1000, field="k")
        _check_by(self)

    def route(self, view: RouteView) -> tuple | None:
        paths = _simple_paths(view, _base(self.by), self.k)
        if not paths:
            return None
        return min(enumerate(paths), key=lambda ip: (_path_load(view, ip[1]), ip[0]))[1]


@register_router("congestion-aware")
@message
class CongestionAware(Router):
    """Shortest path (by ``by``) with each link's cost ``base x (1 + alpha x load)``, ``load`` as
    advertised (the source's own links: live)."""

    alpha: float = 4.0
    by: str = "length"
    advert_ps: int = 1_000_000_000

    def check_fields(self) -> None:
        checks.real(f"{type(self).__name__}.alpha", self.alpha, low=0.0, high=1e6, field="alpha")
        _check_by(self)

    def route(self, view: RouteView) -> tuple | None:
        base, alpha = _base(self.by), self.alpha
        return view.shortest(lambda link: base(link) * (1.0 + alpha * view.load(link.name)))


@register_router("greedy-geographic")
@message
class GreedyGeographic(Router):
    """Distributed greedy forwarding: every node of the path hands the request to its neighbour nearest
    (straight line, ``pos_km``) to the destination, over a usable link, never revisiting a node; a
    node with no neighbour nearer than itself still takes its nearest unvisited one (so a dead end
    is left rather than looped in).  Each step needs only the node's own links and the positions of
    its neighbours and of the destination, never a global path: the source computes the same
    sequence of local decisions the nodes would make from the same static information.  None if
    the walk reaches a node with no unvisited usable neighbour, or after ``max_hops`` steps."""

    max_hops: int = 64

    def check_fields(self) -> None:
        checks.integer(f"{type(self).__name__}.max_hops", self.max_hops, low=1, high=checks.MAX_NODES,
                       field="max_hops")

    def route(self, view: RouteView) -> tuple | None:
        nodes, adj = view.map.nodes, view.map.adj
        dest = view.request.dest
        target = nodes[dest].pos_km
        if target is None or any(n.pos_km is None for n in nodes.values()):
            raise checks.fail("GreedyGeographic", "a node without pos_km", "a topology whose nodes all have "
                              "positions (pos_km), as the builders and topohub loaders give", field="routing")
        path, seen = [view.request.source], {view.request.source}
        while path[-1] != dest and len(path) <= self.max_hops:
            options = [(math.dist(nodes[w].pos_km, target), w) for w, link in sorted(adj[path[-1]].items())
                       if w not in seen and view.usable(link)]
            if not options:
                return None
            nxt = min(options)[1]
            path.append(nxt)
            seen.add(nxt)
        return tuple(path) if path[-1] == dest else None
