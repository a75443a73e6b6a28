"""Traffic: streams of requests drawn from a seed, for networks under load.

A :class:`Traffic` record describes the offered load; :meth:`Traffic.requests`
draws the requests it stands for on a graph, the same ones for the same seed
on every machine and backend (they are drawn before the run, as an arrival
process that does not depend on what the network does):

* arrivals: a Poisson process of ``rate_hz`` over ``[start_ps, start_ps +
  duration_ps)``, plus ``bursts`` of ``count`` requests at once at given times;
* who talks to whom (``demand``): ``"uniform"`` (every ordered pair of
  endpoints alike), ``"gravity"`` (a pair in proportion to the product of its
  ends' ``weight`` node attribute, 1 where missing), or ``"hotspot"``
  (``hotspot_share`` of the requests have one end among ``hotspots``);
* which nodes are endpoints: all, or ``endpoints``, or a random
  ``endpoint_fraction`` of them (as the NIST random-topology study takes 20 %);
  pairs are kept only if their fewest-hops distance is within ``min_hops`` ..
  ``max_hops`` (0: no upper bound);
* each request: ``pairs`` (an int, or ``(lo, hi)`` drawn uniformly), ``min_fidelity``,
  a ``deadline_ps`` after its arrival (0: none), and the other fields of the
  :class:`~qactors.protocols.requests.Request` ``template``.
"""

from __future__ import annotations

import dataclasses
import hashlib

import networkx as nx
import numpy as np

from qactors.core import checks
from qactors.core.messages import replace

from .requests import Request

__all__ = ["Traffic", "DEMANDS"]

DEMANDS = ("uniform", "gravity", "hotspot")


@dataclasses.dataclass(frozen=True)
class Traffic:
    rate_hz: float
    duration_ps: int
    start_ps: int = 0
    demand: str = "uniform"
    hotspots: tuple = ()
    hotspot_share: float = 0.5
    endpoints: tuple = ()
    endpoint_fraction: float = 1.0
    min_hops: int = 1
    max_hops: int = 0
    pairs: object = 1
    min_fidelity: float = 0.0
    deadline_ps: int = 0
    bursts: tuple = ()  # ((at_ps, count), ...)
    template: Request = Request("template", "-", "-")
    prefix: str = "t"

    def check(self, graph: nx.Graph) -> "Traffic":
        """This record, if every field is allowed on ``graph`` (else ConfigurationError naming it)."""
        checks.real("Traffic.rate_hz", self.rate_hz, low=0.0, high=1e12, field="rate_hz")
        checks.integer("Traffic.duration_ps", self.duration_ps, low=0, high=checks.MAX_PS, field="duration_ps")
        checks.integer("Traffic.start_ps", self.start_ps, low=0, high=checks.MAX_PS, field="start_ps")
        if self.demand not in DEMANDS:
            raise checks.fail("Traffic.demand", self.demand, f"one of {DEMANDS}", field="demand")
        nodes = {str(v) for v in graph.nodes}
        for field in ("hotspots", "endpoints"):
            for v in getattr(self, field):
                if str(v) not in nodes:
                    raise checks.fail(f"Traffic.{field}", v, "a node of the graph", field=field)
        if self.demand == "hotspot" and not self.hotspots:
            raise checks.fail("Traffic.hotspots", self.hotspots, "at least one node with demand 'hotspot'",
                              field="hotspots")
        checks.probability("Traffic.hotspot_share", self.hotspot_share, field="hotspot_share")
        checks.real("Traffic.endpoint_fraction", self.endpoint_fraction, low=0.0, low_open=True, high=1.0,
                    field="endpoint_fraction")
        checks.integer("Traffic.min_hops", self.min_hops, low=1, high=checks.MAX_NODES, field="min_hops")
        checks.integer("Traffic.max_hops", self.max_hops, low=0, high=checks.MAX_NODES, field="max_hops")
        if self.max_hops and self.max_hops < self.min_hops:
            raise checks.fail("Traffic.max_hops", self.max_hops, f"0 (no bound) or >= min_hops = {self.min_hops}",
                              field="max_hops")
        lo, hi = self._pair_range()
        checks.integer("Traffic.pairs", lo, low=1, high=checks.MAX_COUNT, field="pairs")
        checks.integer("Traffic.pairs", hi, low=lo, high=checks.MAX_COUNT, field="pairs")
        checks.probability("Traffic.min_fidelity", self.min_fidelity, field="min_fidelity")
        checks.integer("Traffic.deadline_ps", self.deadline_ps, low=0, high=checks.MAX_PS, field="deadline_ps")
        for burst in self.bursts:
            if not (isinstance(burst, tuple) and len(burst) == 2):
                raise checks.fail("Traffic.bursts", burst, "(at_ps, count) pairs", field="bursts")
            checks.integer("Traffic.bursts at_ps", burst[0], low=0, high=checks.MAX_PS, field="bursts")
            checks.integer("Traffic.bursts count", burst[1], low=1, high=checks.MAX_COUNT, field="bursts")
        if "~" in self.prefix or not self.prefix:
            raise checks.fail("Traffic.prefix", self.prefix, "a non-empty id prefix without '~'", field="prefix")
        return self

    def _pair_range(self) -> tuple:
        return tuple(self.pairs) if isinstance(self.pairs, (tuple, list)) else (self.pairs, self.pairs)

    def candidates(self, graph: nx.Graph, rng: np.random.Generator) -> tuple[list, np.ndarray]:
        """The (source, dest) pairs requests may join, and the probability of each."""
        nodes = sorted(str(v) for v in graph.nodes)
        g = nx.relabel_nodes(graph, {v: str(v) for v in graph.nodes})
        ends = sorted(str(v) for v in self.endpoints) or nodes
        if self.endpoint_fraction < 1.0:
            k = max(2, round(self.endpoint_fraction * len(ends)))
            ends = sorted(rng.choice(ends, size=min(k, len(ends)), replace=False).tolist())
        pairs, weights = [], []
        hot = {str(v) for v in self.hotspots}
        for s in ends:
            hops = nx.single_source_shortest_path_length(g, s, cutoff=self.max_hops or None)
            for d in ends:
                h = hops.get(d)
                if d == s or h is None or h < self.min_hops:
                    continue
                if self.demand == "gravity":
                    w = float(g.nodes[s].get("weight", 1.0)) * float(g.nodes[d].get("weight", 1.0))
                else:
                    w = 1.0
                pairs.append((s, d))
                weights.append(w)
        if not pairs:
            raise checks.fail("Traffic.min_hops/max_hops", (self.min_hops, self.max_hops),
                              "bounds some pair of endpoints meets", field="min_hops")
        p = np.asarray(weights)
        if self.demand == "hotspot":
            is_hot = np.array([s in hot or d in hot for s, d in pairs])
            if is_hot.all() or not is_hot.any():
                p = np.ones(len(pairs))
            else:
                p = np.where(is_hot, self.hotspot_share / is_hot.sum(), (1 - self.hotspot_share) / (~is_hot).sum())
        return pairs, p / p.sum()

    def requests(self, graph: nx.Graph, seed: int) -> list[Request]:
        """The requests this traffic stands for on ``graph`` with ``seed``, in order of arrival."""
        self.check(graph)
        key = int.from_bytes(hashlib.blake2b(b"traffic" + self.prefix.encode(), digest_size=8).digest(), "little")
        rng = np.random.default_rng(np.random.SeedSequence([checks.seed(seed), key]))
        pairs, p = self.candidates(graph, rng)
        times: list[int] = []
        if self.rate_hz > 0 and self.duration_ps > 0:
            expected = self.rate_hz * self.duration_ps * 1e-12
            count = int(rng.poisson(expected))
            times = [self.start_ps + int(x) for x in rng.uniform(0, self.duration_ps, size=count)]
        for at, count in self.bursts:
            times.extend([at] * count)
        times.sort()
        lo, hi = self._pair_range()
        out = []
        for i, t in enumerate(times):
            s, d = pairs[int(rng.choice(len(pairs), p=p))]
            n = int(rng.integers(lo, hi + 1))
            out.append(replace(self.template, request_id=f"{self.prefix}{i}", source=s, dest=d, pairs=n, start_ps=t,
                               min_fidelity=self.min_fidelity,
                               deadline_ps=t + self.deadline_ps if self.deadline_ps else 0))
        return out
