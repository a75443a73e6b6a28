"""The static description of a simulation: actors, where they sit, and the links
that bound how fast a message can travel between them.

A *link* ``(a, b, latency_ps)`` says that a message between actors ``a`` and
``b`` takes at least ``latency_ps`` picoseconds (fibre propagation, a memory's
access time, processing).  A message between actors that share no link must
take at least the latency of the shortest chain of links joining them.  Every
latency is a positive integer: nothing arrives instantly, and the smallest
latency a message can cross between two partitions is the lookahead that lets
partitions run in parallel (docs/architecture.md).

A *site* groups actors that always share a process in a partitioned run (a
node, its memories and its protocol stack).
"""

from __future__ import annotations

from array import array
from heapq import heappop, heappush
from typing import Iterable

from .actor import Actor
from .errors import ConfigurationError, LatencyError

__all__ = ["Network"]


class Network:
    """Actors, their sites, and the latency-carrying links between them."""

    def __init__(self) -> None:
        self.actors: list[Actor] = []
        self.index: dict[str, int] = {}
        self.sites: list[str] = []
        self.adjacency: list[dict[int, int]] = []
        self._latencies: dict[int, int] = {}  # while building: each distinct latency's one int object (connect)
        self.spent = False  # its actors ran in place (run(..., in_place=True)): it cannot run again

    # -- building ---------------------------------------------------------------
    def add_actor(self, actor: Actor, *, site: str | None = None) -> Actor:
        """Add ``actor``; actors with the same ``site`` (default: the actor's own id)
        are always placed in the same process."""
        if not isinstance(actor, Actor):
            raise ConfigurationError(f"add_actor takes an Actor, got {type(actor).__name__}", value=actor)
        if actor.id in self.index:
            raise ConfigurationError(f"actor id {actor.id!r} is already in the network; ids must be unique",
                                     field="actor.id", value=actor.id)
        if site is not None and (type(site) is not str or not site):
            raise ConfigurationError(f"site of actor {actor.id!r} must be a non-empty string, got {site!r}",
                                     field="site", value=site)
        self.index[actor.id] = len(self.actors)
        self.actors.append(actor)
        self.sites.append(site if site is not None else actor.id)
        self.adjacency.append({})
        return actor

    def connect(self, a: str, b: str, latency_ps: int) -> None:
        """Declare a link: messages between ``a`` and ``b`` take >= ``latency_ps`` picoseconds.

        Raises:
            ConfigurationError: an actor is unknown or the link exists with another latency.
            LatencyError: ``latency_ps`` is not a positive int.
        """
        for end in (a, b):
            if end not in self.index:
                raise ConfigurationError(
                    f"link {a!r}-{b!r} names actor {end!r}, which is not in the network "
                    f"(add it with add_actor first)", field="link", value=end)
        if a == b:
            raise ConfigurationError(f"link {a!r}-{b!r} joins an actor to itself; use a timer instead",
                                     field="link", value=a)
        if type(latency_ps) is not int or latency_ps <= 0:
            raise LatencyError(
                f"link {a!r}-{b!r} has latency_ps={latency_ps!r}; allowed: an int > 0 "
                f"(every message between distinct actors takes time)", field="latency_ps", value=latency_ps)
        ia, ib = self.index[a], self.index[b]
        old = self.adjacency[ia].get(ib)
        if old is not None and old != latency_ps:
            raise ConfigurationError(
                f"link {a!r}-{b!r} already exists with latency_ps={old}; cannot redeclare it as {latency_ps}",
                field="latency_ps", value=latency_ps)
        # equal latencies as one object: a builder computes one per link, 32 bytes each past 256
        latency_ps = self._latencies.setdefault(latency_ps, latency_ps)
        self.adjacency[ia][ib] = latency_ps
        self.adjacency[ib][ia] = latency_ps

    # -- queries ----------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.actors)

    @property
    def names(self) -> list[str]:
        return [a.id for a in self.actors]

    def links(self) -> Iterable[tuple[int, int, int]]:
        """Each link once as ``(index_a, index_b, latency_ps)`` with index_a < index_b."""
        for i, nbrs in enumerate(self.adjacency):
            for j, lat in nbrs.items():
                if i < j:
                    yield i, j, lat

    def min_latency_ps(self) -> int | None:
        """The smallest link latency, or None if there are no links."""
        return min((lat for _, _, lat in self.links()), default=None)

    def check(self) -> None:
        """Validate the whole description before anything runs."""
        if not self.actors:
            raise ConfigurationError("the network has no actors; add some with add_actor()", field="actors")
        self._latencies = {}  # built (connect may start it again)
        if self.spent:
            raise ConfigurationError("this network's actors already ran in place (run(..., in_place=True)) and "
                                     "hold that run's final state; build the network again to run it again",
                                     field="in_place")


class PathLatency:
    """Checks that a message between two actors with no direct link is no faster than the
    shortest chain of links joining them, at a cost that does not grow with the network.

    The check is exact, in three steps, each cheaper than the next:

    1. per pair of actors, the smallest delay already shown to be legal;
    2. landmarks (the ALT bounds of Goldberg and Harrelson): ``LANDMARKS`` actors picked far
       apart (farthest-point order), each with its latency to every actor, from one Dijkstra
       search each, made on the first query.  By the triangle inequality
       ``|d(L, a) - d(L, b)| <= d(a, b) <= d(L, a) + d(L, b)`` for every landmark ``L``: a
       delay at or above the smallest upper bound is legal without a search;
    3. otherwise an A* search from ``a`` that stops at ``b``, guided by the landmark lower
       bound (which is consistent, so the search is exact); its answer is kept.

    A request's messages between its ends and its repeaters follow the shortest path, so on a
    lattice, a chain or a tree the landmark bounds are tight or the A* search settles little
    more than the path itself: the cost per new pair follows the path, not the network.
    Latencies are symmetric; ``None`` means no chain of links joins the two.
    """

    LANDMARKS = 4

    def __init__(self, adjacency: list[dict[int, int]]):
        self.adjacency = adjacency
        self.n = len(adjacency)
        self.legal: dict[int, int] = {}          # pair key -> a delay known to be legal
        self.exact: dict[int, int | None] = {}   # pair key -> the shortest-path latency
        self.marks: list[array] | None = None    # per landmark: its latency to every actor (_FAR: none)
        self.component: array | None = None      # actor -> index of its connected component
        self.covered = -1                        # the component the landmarks lie in
        self.searches = 0                        # A* searches made
        self.settled = 0                         # actors they settled, in all

    def bound(self, a: int, b: int, delay: int) -> int | None:
        """A latency ``lat`` such that ``delay >= lat`` exactly when ``delay`` is at least the
        shortest-path latency from ``a`` to ``b`` (that latency itself when ``delay`` is below
        it); None when no chain of links joins them."""
        key = a * self.n + b if a < b else b * self.n + a
        ok = self.legal.get(key)
        if ok is not None and delay >= ok:
            return ok
        return self._check(a, b, delay, key)

    def __call__(self, a: int, b: int) -> int | None:
        """The shortest-path latency between ``a`` and ``b`` (None: not joined)."""
        if a == b:
            return 0
        key = a * self.n + b if a < b else b * self.n + a
        if key not in self.exact:
            self._check(a, b, -1, key)
        return self.exact[key]

    def _check(self, a: int, b: int, delay: int, key: int) -> int | None:
        if self.marks is None:
            self._landmarks()
        if self.component[a] != self.component[b]:
            self.exact[key] = None
            return None
        if key in self.exact:
            return self.exact[key]
        low, high = self._bounds(a, b)
        if delay >= high:
            self.legal[key] = high
            return high
        lat = low if low == high else self._astar(a, b)
        self.exact[key] = self.legal[key] = lat
        return lat

    def _bounds(self, a: int, b: int) -> tuple[int, int]:
        if self.component[a] != self.covered:
            return 0, _FAR
        low, high = 0, _FAR
        for m in self.marks:
            da, db = m[a], m[b]
            d = da - db if da > db else db - da
            if d > low:
                low = d
            if da + db < high:
                high = da + db
        return low, high

    def _astar(self, source: int, target: int) -> int:
        """Exact latency by A* with the landmark lower bound as heuristic; source and target are joined."""
        adj = self.adjacency
        marks = self.marks if self.component[target] == self.covered else []
        goal = [m[target] for m in marks]
        pairs = list(zip(marks, goal))
        best = {source: 0}
        closed = set()
        heap = [(0, 0, source)]  # (estimate, -latency so far: deeper first on ties, actor)
        while heap:
            _, neg, u = heappop(heap)
            if u == target:
                self.searches += 1
                self.settled += len(closed)
                return -neg
            if u in closed:
                continue
            closed.add(u)
            du = -neg
            for v, lat in adj[u].items():
                nd = du + lat
                if nd < best.get(v, _FAR) and v not in closed:
                    best[v] = nd
                    h = 0
                    for m, g in pairs:
                        d = m[v] - g
                        if d < 0:
                            d = -d
                        if d > h:
                            h = d
                    heappush(heap, (nd + h, -nd, v))
        raise AssertionError("A* ran out of actors between two actors of one component")

    def _landmarks(self) -> None:
        """Components, then up to LANDMARKS landmarks in the largest, farthest-point first."""
        n, adj = self.n, self.adjacency
        component = array("i" if n < 2 ** 31 else "q", [-1]) * n  # 4 bytes an actor where that holds them
        sizes = []
        for s in range(n):
            if component[s] >= 0:
                continue
            c = len(sizes)
            component[s] = c
            stack, size = [s], 0
            while stack:
                u = stack.pop()
                size += 1
                for v in adj[u]:
                    if component[v] < 0:
                        component[v] = c
                        stack.append(v)
            sizes.append(size)
        self.component = component
        self.marks = []
        if not sizes:
            return
        self.covered = max(range(len(sizes)), key=lambda c: (sizes[c], -c))
        start = component.index(self.covered)
        nearest = _dijkstra(adj, start)  # then: each actor's latency to its nearest landmark
        for i in range(min(self.LANDMARKS, sizes[self.covered])):
            reach = nearest if len(sizes) == 1 else array("q", (d if d < _FAR else -1 for d in nearest))
            far = reach.index(max(reach))  # the actor farthest from the landmarks so far (first on ties)
            if i and not reach[far]:
                break  # every actor is a landmark
            dist = _dijkstra(adj, far)
            self.marks.append(dist)
            nearest = dist if not i else array("q", map(min, nearest, dist))


_FAR = 1 << 62  # "no path": above any sum of latencies a run can hold


def _dijkstra(adjacency: list[dict[int, int]], source: int) -> array:
    """Latency from ``source`` to every actor (_FAR where none)."""
    dist = [_FAR] * len(adjacency)
    dist[source] = 0
    heap = [(0, source)]
    while heap:
        d, u = heappop(heap)
        if d > dist[u]:
            continue
        for v, lat in adjacency[u].items():
            nd = d + lat
            if nd < dist[v]:
                dist[v] = nd
                heappush(heap, (nd, v))
    return array("q", dist)
