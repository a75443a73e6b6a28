"""Q-CAST: routing by the expected number of end-to-end pairs of a path (Shi & Qian, SIGCOMM 2020).

Shi and Qian, "Concurrent Entanglement Routing for Quantum Networks: Model
and Designs", ACM SIGCOMM 2020, rate a path of width ``W`` (``W`` channels on
every hop, each hop ``k`` heralding each of its channels with probability
``p_k`` per time slot) and ``h`` hops by its **EXT**, the expected number of
end-to-end pairs it yields in one slot: the narrowest hop decides how many
pairs can be swapped through, and every repeater's swap succeeds with
probability ``q``.  With ``Q_k(i) = C(W, i) p_k^i (1 - p_k)^(W - i)`` the
chance that exactly ``i`` channels of hop ``k`` herald, the distribution of
the narrowest of the first ``k`` hops is

    P_1(i) = Q_1(i)
    P_k(i) = P_{k-1}(i) sum_{l >= i} Q_k(l) + Q_k(i) sum_{l > i} P_{k-1}(l)

and ``EXT = q^(h-1) sum_{i=1..W} i P_h(i)`` (here with each repeater's own
swap probability in place of ``q^(h-1)``).  :func:`width_distribution`,
:func:`estimated_ext` and :func:`path_ext` compute it.

:class:`QCast` (``"q-cast"``) chooses a request's path the way the paper's
controller does for one S-D pair: for each width from the request's
``channels`` down to ``min_width``, an extended Dijkstra search over the
links with at least that many channels free keeps, at every node, the
highest-EXT path found to it (a label-setting search: EXT never grows
along a path, so the node taken next from the queue is the one of highest
EXT), and the first width with a path gives the answer.

How it differs from the paper, which assumes a central controller working in
synchronous time slots:

* **Per source, not central.**  The router runs at the request's source
  with what that node knows (:class:`~qactors.protocols.routing.map.RouteView`):
  the static map, its own links live, the other links' load as the latest
  :class:`~qactors.protocols.routing.map.LinkState` advertisements told it
  (every ``advert_ps``, 1 ms by default, each after the fibre latency), and
  its own running requests.  There is no joint allocation over all S-D pairs
  of a slot (the paper's greedy loop that takes the best path of any pair
  first): concurrent sources that decide before hearing of each other may
  pick overlapping paths, and the hop-by-hop reservation settles the clash
  (the loser retries after a back-off, routed again with newer news).
* **Free channels are estimated.**  A reserved link has ``channels`` minus
  the memories its advertised (or live) occupancy says are held, or minus
  ``channels`` per request this source itself runs over it, whichever is
  more; a shared link lends all its memories to every request, so it counts
  as wholly free.  Memories here belong to a link at each end, so the
  paper's per-node qubit budget (``2 w`` at a repeater) is the per-link one.
* **The width is the request's.**  A request reserves its ``channels`` on
  every link of its path; the router only chooses the path.  A narrower
  width (down to ``min_width``) is tried only when no path has all the
  request's channels free in the router's view: the path it returns is the
  best one that view thinks nearly free, a bet on news that is stale (the
  reservation rejects it if the link is still busy, and the source retries).
* **Continuous time, no recovery paths.**  Links here retry every attempt
  and keep their pairs in memory, so a hop that failed in one attempt is not
  lost for the request as in a slot of the paper; the paper's recovery paths
  (detours for segments of one to ``k`` hops, its second phase) have nothing
  to repair and are not reserved.  A path that fails for good (a cut link, a
  node down) is rerouted by the source if ``reroute`` is set, as for every
  router.

The EXT is computed with each link's success probability *per attempt*
(``MapLink.p``), the paper's ``p`` per slot, whatever the attempt period.
"""

from __future__ import annotations

import heapq
import math
from typing import Sequence

from qactors.core import checks
from qactors.core.messages import message

from .base import Router, register_router
from .map import MapLink, NetworkMap, RouteView

__all__ = ["QCast", "width_distribution", "estimated_ext", "path_ext", "free_width"]


def _hop(p: float, width: int) -> list[float]:
    """``Q(i)``, ``i = 0..width``: the chance that exactly ``i`` of ``width`` channels herald."""
    return [math.comb(width, i) * p ** i * (1.0 - p) ** (width - i) for i in range(width + 1)]


def _narrowest(prev: Sequence[float], p: float, width: int) -> list[float]:
    """The distribution of the narrowest hop after one more hop of success probability ``p``."""
    q = _hop(p, width)
    out = [0.0] * (width + 1)
    prev_above = 0.0  # sum over l > i of prev(l)
    hop_at_least = 0.0  # sum over l >= i of q(l)
    for i in range(width, -1, -1):
        hop_at_least += q[i]
        out[i] = prev[i] * hop_at_least + q[i] * prev_above
        prev_above += prev[i]
    return out


def _mean(dist: Sequence[float]) -> float:
    return sum(i * x for i, x in enumerate(dist))


def width_distribution(ps: Sequence[float], width: int) -> tuple[float, ...]:
    """``P_h(i)`` for ``i = 0..width``: the chance that the narrowest of the path's hops (success
    probabilities ``ps``, one per hop) heralds exactly ``i`` of its ``width`` channels in one attempt.

    Raises:
        ConfigurationError: ``width`` not an int >= 1, no hop, or a probability outside [0, 1].
    """
    width = checks.integer("width_distribution width", width, low=1, high=checks.MAX_MEMORIES, field="width")
    if len(ps) < 1:
        raise checks.fail("width_distribution ps", tuple(ps), "one success probability per hop, at least one",
                          field="ps")
    dist = [0.0] * width + [1.0]  # no hop yet: all width channels "through"
    for p in ps:
        dist = _narrowest(dist, checks.probability("width_distribution p", p, field="ps"), width)
    return tuple(dist)


def estimated_ext(ps: Sequence[float], width: int, swap: float | Sequence[float] = 1.0) -> float:
    """The EXT of a path: the expected number of end-to-end pairs of one attempt on every channel of a
    path of ``width`` channels per hop, hops heralding with probabilities ``ps``, and every repeater
    swapping with probability ``swap`` (one number for all, or one per repeater, ``len(ps) - 1`` of
    them).  ``swap^(h-1) x sum_i i P_h(i)`` (see the module docstring).

    Raises:
        ConfigurationError: a bad width or probability, or as many swap probabilities as there are not
            repeaters.
    """
    dist = width_distribution(ps, width)
    if isinstance(swap, (int, float)) and not isinstance(swap, bool):
        factor = checks.probability("estimated_ext swap", swap, field="swap") ** (len(ps) - 1)
    else:
        swaps = tuple(swap)
        if len(swaps) != len(ps) - 1:
            raise checks.fail("estimated_ext swap", swaps, f"one number, or one per repeater ({len(ps) - 1})",
                              field="swap")
        factor = math.prod(checks.probability("estimated_ext swap", s, field="swap") for s in swaps)
    return factor * _mean(dist)


def path_ext(nmap: NetworkMap, path: Sequence[str], width: int) -> float:
    """:func:`estimated_ext` of ``path`` on the map: its links' ``p`` per attempt, its repeaters' ``swap``."""
    links = nmap.path_links(path)
    return estimated_ext([link.p for link in links], width, [nmap.nodes[v].swap for v in path[1:-1]])


def free_width(view: RouteView, link: MapLink) -> int:
    """How many of ``link``'s memories (per end) the view takes as free: all of a shared link's; of a
    reserved one's, ``channels`` less the more of what its occupancy says is held
    (``load x channels``) and ``channels`` per request the viewing source runs over it."""
    if link.shared:
        return link.channels
    held = round(view.load(link.name) * link.channels)
    own = view.routed.get(link.name, 0) * view.request.channels
    return max(0, link.channels - max(held, own))


def _search(view: RouteView, width: int, free: dict) -> tuple[float, tuple] | None:
    """The extended Dijkstra at one width: the path of highest EXT (as the label-setting search finds
    it) over usable links with at least ``width`` channels free, and its EXT; None if there is none."""
    source, dest = view.request.source, view.request.dest
    nodes, adj = view.map.nodes, view.map.adj
    best = {source: float(width)}
    # (-EXT, hops, path, narrowest-hop distribution, product of the repeaters' swaps so far)
    queue = [(-float(width), 0, (source,), [0.0] * width + [1.0], 1.0)]
    done: set[str] = set()
    while queue:
        neg, hops, path, dist, swaps = heapq.heappop(queue)
        u = path[-1]
        if u in done:
            continue
        done.add(u)
        if u == dest:
            return -neg, path
        through = swaps * (nodes[u].swap if u != source else 1.0)
        for v, link in adj[u].items():
            if v in done or free.get(link.name, 0) < width:
                continue
            step = _narrowest(dist, link.p, width)
            ext = through * _mean(step)
            if ext > best.get(v, -1.0):
                best[v] = ext
                heapq.heappush(queue, (-ext, hops + 1, path + (v,), step, through))
    return None


@register_router("q-cast")
@message
class QCast(Router):
    """Q-CAST's path selection (see the module docstring): the path of highest :func:`estimated_ext` over
    links with the request's ``channels`` free in the source's view; if there is none, the same at each
    narrower width down to ``min_width`` (1: any path with a free channel; a ``min_width`` at or above
    the request's ``channels`` never falls back, and no path means the request retries later).  Ties go
    to the path with fewer hops.  Advertisements every ``advert_ps`` (default 1 ms) tell it the load of
    other nodes' links."""

    min_width: int = 1
    advert_ps: int = 1_000_000_000

    def check_fields(self) -> None:
        checks.integer(f"{type(self).__name__}.min_width", self.min_width, low=1, high=checks.MAX_MEMORIES,
                       field="min_width")

    def route(self, view: RouteView) -> tuple | None:
        channels = view.request.channels
        free = {name: free_width(view, link) for name, link in view.map.links.items() if view.usable(link)}
        for width in range(channels, min(self.min_width, channels) - 1, -1):
            found = _search(view, width, free)
            if found is not None:
                return found[1]
        return None
