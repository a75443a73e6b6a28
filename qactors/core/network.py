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

import heapq
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


class PathLatency:
    """Shortest-path latency between two actors, computed on demand and cached.

    Used only for messages between actors with no direct link; protocols that
    talk to neighbours never pay for it.  Latencies are symmetric.  In a network
    a few actors talk to many (the ends of a path to its repeaters and back), so
    an actor asked about ``POPULAR`` times or more gets a Dijkstra search rooted
    at it that is kept and resumed where it stopped: later queries involving it
    cost only the part of the graph not settled yet.  Other pairs get a search
    that stops at the target, and only its answer is kept.
    """

    POPULAR = 3

    def __init__(self, adjacency: list[dict[int, int]]):
        self.adjacency = adjacency
        self.cache: dict[tuple[int, int], int | None] = {}
        self.searches: dict[int, tuple[dict[int, int], list[tuple[int, int]], dict[int, int]]] = {}
        self.asked: dict[int, int] = {}

    def __call__(self, a: int, b: int) -> int | None:
        if a == b:
            return 0
        key = (a, b) if a < b else (b, a)
        if key in self.cache:
            return self.cache[key]
        asked = self.asked
        asked[a] = asked.get(a, 0) + 1
        asked[b] = asked.get(b, 0) + 1
        if a in self.searches or (b not in self.searches and asked[a] > asked[b]):
            a, b = b, a  # root at a or at the more asked-about end
        if b in self.searches or asked[b] >= self.POPULAR:
            return self._resume(b, a)
        self.cache[key] = lat = self._search({}, [(0, b)], {b: 0}, a)
        return lat

    def _resume(self, root: int, target: int) -> int | None:
        search = self.searches.get(root)
        if search is None:
            search = self.searches[root] = ({}, [(0, root)], {root: 0})  # settled, heap, tentative
        settled = search[0]
        return settled[target] if target in settled else self._search(*search, target)

    def _search(self, settled: dict[int, int], heap: list[tuple[int, int]], dist: dict[int, int],
                target: int) -> int | None:
        """Dijkstra from the heap's root until ``target`` is settled (its latency) or none is left."""
        adj = self.adjacency
        while heap:
            d, u = heapq.heappop(heap)
            if u in settled:
                continue
            settled[u] = d
            for v, lat in adj[u].items():
                nd = d + lat
                if v not in settled and nd < dist.get(v, nd + 1):
                    dist[v] = nd
                    heapq.heappush(heap, (nd, v))
            if u == target:
                return d
        return None

