"""Cutting a network into shards so that cut links are long and shards balanced.

The window of a conservative parallel run is the smallest latency of any link
whose two ends sit in different shards (the lookahead).  The partitioner
therefore:

1. merges actors that share a site, and then every link shorter than a
   threshold ``tau``, picking the largest ``tau`` for which no merged cluster
   holds more than ``(1 + slack) * N / K`` actors (binary search over the
   distinct link latencies; merging grows monotonically with ``tau``);
2. grows the shards one at a time, breadth-first from a peripheral cluster
   of what is still unassigned, each until it holds its share of the
   remaining actors, so that neighbours stay together.

Every cut link is then at least ``tau`` long, and on chains, rings and grids
the cut is a narrow band.  Pure Python, O((N + E) log E); no Ray.
"""

from __future__ import annotations

import dataclasses
import heapq
from collections import deque

from ..core.errors import ConfigurationError
from ..core.network import Network

__all__ = ["Partition", "partition", "per_actor_partition", "finish_partition", "shard_lookahead"]

BALANCE_SLACK = 0.1


@dataclasses.dataclass(frozen=True)
class Partition:
    """``shard_of[i]`` is the shard of actor ``i``; ``lookahead_ps`` the smallest cut
    latency (None: no link is cut, windows are unbounded)."""

    shards: int
    shard_of: tuple[int, ...]
    lookahead_ps: int | None
    cut_links: int

    def members(self, shard: int) -> list[int]:
        return [i for i, s in enumerate(self.shard_of) if s == shard]


class _UnionFind:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        p = self.parent
        while p[x] != x:
            p[x] = p[p[x]]
            x = p[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            if ra < rb:
                ra, rb = rb, ra
            self.parent[ra] = rb  # the smaller index is the root: deterministic


def _clusters(network: Network, tau: float) -> _UnionFind:
    uf = _UnionFind(len(network))
    first: dict[str, int] = {}
    for i, site in enumerate(network.sites):
        j = first.setdefault(site, i)
        if j != i:
            uf.union(i, j)
    for i, j, lat in network.links():
        if lat < tau:
            uf.union(i, j)
    return uf


def _largest(uf: _UnionFind, n: int, weights=None) -> float:
    sizes: dict[int, float] = {}
    for i in range(n):
        r = uf.find(i)
        sizes[r] = sizes.get(r, 0) + (1 if weights is None else weights[i])
    return max(sizes.values())


def finish_partition(network: Network, shards: int, shard_of: list[int]) -> Partition:
    """A Partition for a given assignment, with its lookahead and cut computed from the links."""
    cut = [lat for i, j, lat in network.links() if shard_of[i] != shard_of[j]]
    return Partition(shards, tuple(shard_of), min(cut) if cut else None, len(cut))


def partition(network: Network, shards: int, weights=None) -> Partition:
    """Assign each actor of ``network`` to one of ``shards`` shards (see module doc).

    ``weights``: the work of each actor (``RayBackend(balance="events")`` counts each actor's events
    over a stretch of the run); shards then balance that instead of their actor counts."""
    if type(shards) is not int or shards < 1:
        raise ConfigurationError(f"shards must be an int >= 1, got {shards!r}", field="shards", value=shards)
    n = len(network)
    if shards == 1:
        return finish_partition(network, 1, [0] * n)
    if weights is not None:
        weights = [float(w) for w in weights]
        if len(weights) != n or any(not w >= 0 for w in weights):
            raise ConfigurationError(f"weights must give a number >= 0 for each of the {n} actors",
                                     field="weights")
    total = n if weights is None else sum(weights)
    latencies = sorted({lat for _, _, lat in network.links()})
    candidates = latencies + [float("inf")]
    cap = max(total / shards, (1 + BALANCE_SLACK) * total / shards)
    if weights is None:
        cap = max(-(-n // shards), int((1 + BALANCE_SLACK) * n / shards))
    cap = max(cap, _largest(_clusters(network, 0), n, weights))  # a site is never split
    lo, hi = 0, len(candidates) - 1  # candidates[lo] is always feasible: nothing but sites merged
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _largest(_clusters(network, candidates[mid]), n, weights) <= cap:
            lo = mid
        else:
            hi = mid - 1
    uf = _clusters(network, candidates[lo])

    roots = sorted({uf.find(i) for i in range(n)})
    weight = {r: 0.0 for r in roots}
    for i in range(n):
        weight[uf.find(i)] += 1 if weights is None else weights[i]
    nbrs: dict[int, set[int]] = {r: set() for r in roots}
    for i, j, _ in network.links():
        ri, rj = uf.find(i), uf.find(j)
        if ri != rj:
            nbrs[ri].add(rj)
            nbrs[rj].add(ri)

    def bfs(start: int, allowed: set[int]) -> list[int]:
        order, queue, seen = [], deque([start]), {start}
        while queue:
            u = queue.popleft()
            order.append(u)
            for v in sorted(nbrs[u]):
                if v in allowed and v not in seen:
                    seen.add(v)
                    queue.append(v)
        return order

    # Grow one shard at a time, breadth-first from a peripheral cluster of what
    # is still unassigned, until it holds its share of the remaining actors.
    shard_of_root: dict[int, int] = {}
    free = set(roots)
    left = total
    for s in range(shards):
        if not free:
            break
        target = left / (shards - s)
        taken = 0
        while free and (s == shards - 1 or taken < target):
            seed_root = min(free)
            start = bfs(seed_root, free)[-1]  # far end of this component: peripheral
            for r in bfs(start, free):
                w = weight[r]
                if s < shards - 1 and taken > 0 and taken + w / 2 > target:
                    break
                shard_of_root[r] = s
                free.discard(r)
                taken += w
            else:
                continue  # component used up; keep filling from the next one
            break
        left -= taken
    return finish_partition(network, shards, [shard_of_root[uf.find(i)] for i in range(n)])


def shard_lookahead(network: Network, plan: Partition) -> list[dict[int, int]]:
    """``la[a][b]``: the lowest latency of any path from an actor of shard ``a`` to an actor of
    shard ``b`` (``b`` absent: none joins them), the lookahead of the channel ``a -> b``.

    A message between two actors is never faster than the shortest path of links between
    them (the kernel checks every send), and such a path crosses from shard to shard by cut
    links only, so its latency is at least the shortest path from ``a`` to ``b`` in the graph
    of shards whose edges weigh the shortest cut link between them.  Under a direct link
    between two shards this can be shorter than their own shortest cut link, when a detour
    through a third shard is faster."""
    k = plan.shards
    shard_of = plan.shard_of
    edge: list[dict[int, int]] = [{} for _ in range(k)]
    for i, nbrs in enumerate(network.adjacency):
        a = shard_of[i]
        for j, lat in nbrs.items():
            b = shard_of[j]
            if a != b and lat < edge[a].get(b, lat + 1):
                edge[a][b] = lat
    out = []
    for a in range(k):  # Dijkstra from each shard over the (small) shard graph
        dist = {a: 0}
        heap = [(0, a)]
        while heap:
            d, u = heapq.heappop(heap)
            if d > dist[u]:
                continue
            for v, w in edge[u].items():
                if d + w < dist.get(v, d + w + 1):
                    dist[v] = d + w
                    heapq.heappush(heap, (d + w, v))
        del dist[a]
        out.append(dist)
    return out


def per_actor_partition(network: Network) -> Partition:
    """One shard per actor: the literal deployment.  Sites are ignored."""
    return finish_partition(network, len(network), list(range(len(network))))

