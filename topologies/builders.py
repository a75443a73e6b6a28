"""Pure builders of annotated network graphs: regular shapes and random models.

Every builder returns a new undirected :class:`networkx.Graph` whose

* node ids are strings (``"n0"``, ``"n1"``, ... unless a builder says otherwise),
* nodes carry ``pos_km`` -- an ``(x, y)`` position in km on a plane -- and
  ``profile`` -- the name of the node's hardware profile (default ``"node"``),
* edges carry ``length_km`` (> 0, km) and ``profile`` (default ``"fibre"``),
* graph attribute ``name`` records the builder and its arguments.

Such a graph goes straight into :func:`qactors.protocols.network.quantum_network`.

Random models (each draws from ``numpy.random.default_rng(seed)`` only, so a
seed gives the same graph on every machine and run; every one needs an explicit
``seed``):

* :func:`random_graph` -- a connected graph with a given average degree: a
  uniformly random labelled spanning tree, drawn as a random Pruefer sequence
  (H. Pruefer, Arch. Math. Phys. 27, 742-744, 1918), plus edges drawn uniformly
  from the remaining pairs as in the G(n, m) model (P. Erdos, A. Renyi, Publ.
  Math. Debrecen 6, 290-297, 1959).  Nodes are placed uniformly in a square and
  each link is as long as the straight line between its ends.
* :func:`waxman` -- B. M. Waxman, "Routing of multipoint connections", IEEE
  J. Sel. Areas Commun. 6(9), 1617-1622 (1988): nodes uniform in a square, each
  pair joined with probability ``beta * exp(-d / (alpha * L))`` where ``d`` is
  their distance and ``L`` the largest distance between any two nodes.
* :func:`random_geometric` -- E. N. Gilbert, "Random plane networks", J. Soc.
  Indust. Appl. Math. 9(4), 533-543 (1961); M. Penrose, *Random Geometric
  Graphs* (Oxford, 2003): nodes uniform in a square, joined when at most
  ``radius_km`` apart.

The dumbbell follows the layout of ns-3's point-to-point dumbbell helper: two
hubs joined by one bridge link, each with its own leaves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Real

import networkx as nx
import numpy as np

from qactors.core.errors import ConfigurationError

from qactors.core import checks as _checks
from qactors.core.checks import fail

__all__ = ["line", "ring", "star", "grid", "dumbbell", "random_graph", "waxman", "random_geometric"]

_DEFAULT_NODE = "node"
_DEFAULT_LINK = "fibre"


def _start(name: str, node_profile: object, link_profile: object) -> tuple[nx.Graph, str, str]:
    node_profile = _checks.profile("node_profile", node_profile)
    link_profile = _checks.profile("link_profile", link_profile)
    return nx.Graph(name=name), node_profile, link_profile


def _node(g: nx.Graph, node: str, x: float, y: float, profile: str) -> None:
    g.add_node(node, pos_km=(float(x) + 0.0, float(y) + 0.0), profile=profile)


def _edge(g: nx.Graph, u: str, v: str, length_km: float, profile: str) -> None:
    g.add_edge(u, v, length_km=float(length_km), profile=profile)


def line(n: int, *, length_km: float | Sequence[float] = 10.0, node_profile: str = _DEFAULT_NODE,
         link_profile: str = _DEFAULT_LINK) -> nx.Graph:
    """A chain ``n0 - n1 - ... - n{n-1}`` laid out along the x axis.

    Args:
        n: number of nodes, >= 2.
        length_km: every link's length in km (> 0), or a sequence of ``n - 1``
            lengths, link ``i`` joining ``n{i}`` and ``n{i+1}``.
        node_profile, link_profile: hardware profile names (non-empty strings).

    Raises:
        ConfigurationError: ``n`` < 2, a length that is not a finite number > 0,
            or a sequence of the wrong size.

    >>> g = line(3, length_km=[5.0, 7.5])
    >>> [g.edges[e]["length_km"] for e in g.edges], g.nodes["n2"]["pos_km"]
    ([5.0, 7.5], (12.5, 0.0))
    """
    n = _checks.integer("n", n, low=2, high=_checks.MAX_NODES)
    if isinstance(length_km, Real) and not isinstance(length_km, bool):
        lengths = [_checks.positive_km("length_km", length_km)] * (n - 1)
    elif isinstance(length_km, Sequence) and not isinstance(length_km, str):
        if len(length_km) != n - 1:
            raise fail("length_km", length_km, f"a number > 0 (km) or a sequence of n - 1 = {n - 1} of them")
        lengths = [_checks.positive_km(f"length_km[{i}]", x) for i, x in enumerate(length_km)]
    else:
        raise fail("length_km", length_km, f"a number > 0 (km) or a sequence of n - 1 = {n - 1} of them")
    g, node_profile, link_profile = _start(f"line(n={n})", node_profile, link_profile)
    x = 0.0
    for i in range(n):
        _node(g, f"n{i}", x, 0.0, node_profile)
        if i < n - 1:
            x += lengths[i]
    for i, length in enumerate(lengths):
        _edge(g, f"n{i}", f"n{i + 1}", length, link_profile)
    return g


def ring(n: int, *, length_km: float = 10.0, node_profile: str = _DEFAULT_NODE,
         link_profile: str = _DEFAULT_LINK) -> nx.Graph:
    """A cycle of ``n`` nodes on a circle, neighbours ``length_km`` apart.

    The circle's radius makes each chord exactly ``length_km`` long, so
    ``pos_km`` agrees with the link lengths.

    Args:
        n: number of nodes, >= 3.
        length_km: every link's length, km, > 0.
        node_profile, link_profile: hardware profile names.

    Raises:
        ConfigurationError: ``n`` < 3 or a length that is not a finite number > 0.
    """
    n = _checks.integer("n", n, low=3, high=_checks.MAX_NODES)
    length = _checks.positive_km("length_km", length_km)
    g, node_profile, link_profile = _start(f"ring(n={n}, length_km={length:g})", node_profile, link_profile)
    radius = length / (2.0 * math.sin(math.pi / n))
    for i in range(n):
        angle = 2.0 * math.pi * i / n
        _node(g, f"n{i}", radius * math.cos(angle), radius * math.sin(angle), node_profile)
    for i in range(n):
        _edge(g, f"n{i}", f"n{(i + 1) % n}", length, link_profile)
    return g


def star(leaves: int, *, length_km: float = 10.0, node_profile: str = _DEFAULT_NODE,
         link_profile: str = _DEFAULT_LINK, hub_profile: str | None = None) -> nx.Graph:
    """A hub ``"hub"`` at the origin joined to ``leaves`` nodes ``n0 ...`` on a circle.

    Args:
        leaves: number of leaf nodes, >= 1.
        length_km: every spoke's length, km, > 0.
        node_profile: the leaves' hardware profile.
        link_profile: the spokes' hardware profile.
        hub_profile: the hub's hardware profile (default: ``node_profile``).

    Raises:
        ConfigurationError: ``leaves`` < 1, a bad length or profile name.
    """
    leaves = _checks.integer("leaves", leaves, low=1, high=_checks.MAX_NODES)
    length = _checks.positive_km("length_km", length_km)
    g, node_profile, link_profile = _start(f"star(leaves={leaves}, length_km={length:g})", node_profile,
                                           link_profile)
    hub = node_profile if hub_profile is None else _checks.profile("hub_profile", hub_profile)
    _node(g, "hub", 0.0, 0.0, hub)
    for i in range(leaves):
        angle = 2.0 * math.pi * i / leaves
        _node(g, f"n{i}", length * math.cos(angle), length * math.sin(angle), node_profile)
        _edge(g, "hub", f"n{i}", length, link_profile)
    return g


def grid(rows: int, cols: int, *, length_km: float = 10.0, node_profile: str = _DEFAULT_NODE,
         link_profile: str = _DEFAULT_LINK) -> nx.Graph:
    """A ``rows`` x ``cols`` square lattice; node ``n{r}_{c}`` sits at
    ``(c * length_km, r * length_km)`` and is linked to its (up to four) neighbours.

    Args:
        rows, cols: lattice size, each >= 1, with at least two nodes in all.
        length_km: every link's length, km, > 0.
        node_profile, link_profile: hardware profile names.

    Raises:
        ConfigurationError: a size < 1, a single node in all, a bad length or profile.

    >>> g = grid(2, 3)
    >>> g.number_of_nodes(), g.number_of_edges(), g.nodes["n1_2"]["pos_km"]
    (6, 7, (20.0, 10.0))
    """
    rows = _checks.integer("rows", rows, low=1, high=_checks.MAX_NODES)
    cols = _checks.integer("cols", cols, low=1, high=_checks.MAX_NODES // rows)
    if rows * cols < 2:
        raise fail("rows * cols", rows * cols, "at least 2 nodes (a 1 x 1 grid has no link)", field="cols")
    length = _checks.positive_km("length_km", length_km)
    g, node_profile, link_profile = _start(f"grid(rows={rows}, cols={cols}, length_km={length:g})",
                                           node_profile, link_profile)
    for r in range(rows):
        for c in range(cols):
            _node(g, f"n{r}_{c}", c * length, r * length, node_profile)
    for r in range(rows):
        for c in range(cols):
            if c + 1 < cols:
                _edge(g, f"n{r}_{c}", f"n{r}_{c + 1}", length, link_profile)
            if r + 1 < rows:
                _edge(g, f"n{r}_{c}", f"n{r + 1}_{c}", length, link_profile)
    return g


def dumbbell(left: int, right: int | None = None, *, leaf_length_km: float = 1.0, bridge_length_km: float = 10.0,
             node_profile: str = _DEFAULT_NODE, link_profile: str = _DEFAULT_LINK,
             hub_profile: str | None = None) -> nx.Graph:
    """Two hubs ``"left"`` and ``"right"`` joined by one bridge link; hub
    ``"left"`` serves leaves ``left0 ...``, hub ``"right"`` leaves ``right0 ...``.

    The bridge is the bottleneck every left-right request must cross.  The left
    hub sits at the origin, the right hub at ``(bridge_length_km, 0)``, and the
    leaves on half circles facing away from the bridge.

    Args:
        left: number of leaves on the left, >= 1.
        right: number on the right, >= 1 (default: ``left``).
        leaf_length_km: every leaf link's length, km, > 0.
        bridge_length_km: the bridge's length, km, > 0.
        node_profile: the leaves' hardware profile; ``hub_profile`` the hubs'
            (default: ``node_profile``); ``link_profile`` every link's.

    Raises:
        ConfigurationError: a count < 1, a bad length or profile name.
    """
    left = _checks.integer("left", left, low=1, high=_checks.MAX_NODES)
    right = left if right is None else _checks.integer("right", right, low=1, high=_checks.MAX_NODES)
    leaf = _checks.positive_km("leaf_length_km", leaf_length_km)
    bridge = _checks.positive_km("bridge_length_km", bridge_length_km)
    g, node_profile, link_profile = _start(f"dumbbell(left={left}, right={right}, leaf_length_km={leaf:g}, "
                                           f"bridge_length_km={bridge:g})", node_profile, link_profile)
    hub = node_profile if hub_profile is None else _checks.profile("hub_profile", hub_profile)
    _node(g, "left", 0.0, 0.0, hub)
    _node(g, "right", bridge, 0.0, hub)
    _edge(g, "left", "right", bridge, link_profile)
    for side, count, x0, start in (("left", left, 0.0, math.pi / 2), ("right", right, bridge, -math.pi / 2)):
        for i in range(count):
            angle = start + math.pi * (i + 1) / (count + 1)
            _node(g, f"{side}{i}", x0 + leaf * math.cos(angle), leaf * math.sin(angle), node_profile)
            _edge(g, side, f"{side}{i}", leaf, link_profile)
    return g


# -- random models -----------------------------------------------------------------------------

def _place(rng: np.random.Generator, n: int, side: float) -> np.ndarray:
    """``n`` positions uniform in [0, side]^2, shape (n, 2)."""
    return rng.uniform(0.0, side, size=(n, 2))


def _distances(pos: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Straight-line distances between ``pos[i]`` and ``pos[j]``, elementwise."""
    return np.hypot(pos[i, 0] - pos[j, 0], pos[i, 1] - pos[j, 1])


def _assemble(name: str, pos: np.ndarray, edges, lengths, node_profile: str, link_profile: str) -> nx.Graph:
    g = nx.Graph(name=name)
    for i, (x, y) in enumerate(pos):
        _node(g, f"n{i}", x, y, node_profile)
    for (i, j), length in zip(edges, lengths):
        if not length > 0.0:  # two nodes drawn at the same point: probability zero, but say so if it happens
            raise fail(f"edge (n{i}, n{j}) length_km", float(length), "a number > 0; choose another seed",
                       field="seed")
        _edge(g, f"n{i}", f"n{j}", length, link_profile)
    return g


def _tries(value: object) -> int:
    return _checks.integer("max_tries", value, low=1, high=_checks.MAX_COUNT)


def _extra_pairs(rng: np.random.Generator, n: int, linked: set, count: int) -> list[tuple[int, int]]:
    """``count`` pairs ``(i, j)``, ``i < j``, drawn uniformly without replacement from those not in ``linked``."""
    total = n * (n - 1) // 2
    if count <= 0:
        return []
    if 4 * (count + len(linked)) > total:  # dense: list the free pairs and choose among them
        spare = [(i, j) for i in range(n) for j in range(i + 1, n) if (i, j) not in linked]
        return [spare[int(s)] for s in rng.choice(len(spare), size=count, replace=False)]
    chosen: list[tuple[int, int]] = []
    taken = set(linked)
    while len(chosen) < count:  # sparse: draw pairs and skip repeats (rejection keeps the choice uniform)
        for i, j in rng.integers(0, n, size=(2 * (count - len(chosen)), 2)).tolist():
            pair = (min(i, j), max(i, j))
            if i != j and pair not in taken:
                taken.add(pair)
                chosen.append(pair)
                if len(chosen) == count:
                    break
    return chosen


def random_graph(n: int, average_degree: float, *, side_km: float = 100.0, seed: int,
                 node_profile: str = _DEFAULT_NODE, link_profile: str = _DEFAULT_LINK) -> nx.Graph:
    """A connected random graph with ``m = round(n * average_degree / 2)`` links.

    A uniformly random spanning tree (from a random Pruefer sequence) keeps it
    connected; the other ``m - (n - 1)`` links are drawn uniformly without
    replacement from the pairs not yet linked.  Nodes are placed uniformly in a
    square of side ``side_km`` and each link is the straight line between its
    ends.  Graph attribute ``average_degree`` holds the realised ``2 m / n``.

    Args:
        n: number of nodes, >= 2.
        average_degree: mean number of links per node, in ``[2 (n - 1) / n, n - 1]``
            (a tree at the low end, the complete graph at the high end).
        side_km: side of the square, km, > 0.
        seed: int >= 0; the same seed gives the same graph.
        node_profile, link_profile: hardware profile names.

    Raises:
        ConfigurationError: any argument out of range.
    """
    n = _checks.integer("n", n, low=2, high=_checks.MAX_NODES)
    low, high = 2.0 * (n - 1) / n, float(n - 1)
    k = _checks.real("average_degree", average_degree, low=0.0, low_open=True)
    m = round(n * k / 2.0)
    if not (n - 1 <= m <= n * (n - 1) // 2):
        raise fail("average_degree", average_degree,
                   f"a number in [{low:g}, {high:g}] for n = {n} (a connected graph needs n - 1 links, "
                   f"a simple graph has at most n (n - 1) / 2)")
    side = _checks.positive_km("side_km", side_km)
    rng = np.random.default_rng(_checks.seed(seed))
    node_profile = _checks.profile("node_profile", node_profile)
    link_profile = _checks.profile("link_profile", link_profile)
    pos = _place(rng, n, side)
    if n == 2:
        tree = [(0, 1)]
    else:
        tree = [tuple(sorted(e)) for e in nx.from_prufer_sequence(rng.integers(0, n, size=n - 2).tolist()).edges]
    edges = sorted(tree + _extra_pairs(rng, n, set(tree), m - len(tree)))
    ends = np.array(edges).T
    g = _assemble(f"random_graph(n={n}, average_degree={k:g}, side_km={side:g}, seed={seed})", pos, edges,
                  _distances(pos, ends[0], ends[1]), node_profile, link_profile)
    g.graph["average_degree"] = 2.0 * m / n
    return g


def _flag(where: str, value: object) -> None:
    if not isinstance(value, bool):
        raise fail(where, value, "True or False")


def _retry(name: str, draw, tries: int, advice: str, field: str, value: float) -> nx.Graph:
    """The first connected graph ``draw()`` gives in ``tries`` draws."""
    for _ in range(tries):
        g = draw()
        if nx.is_connected(g):
            return g
    raise ConfigurationError(f"{name} was disconnected in all {tries} draws (max_tries); allowed: parameters "
                             f"that give a connected graph ({advice}), more max_tries, or connected=False",
                             field=field, value=value)


def waxman(n: int, *, alpha: float = 0.4, beta: float = 0.4, side_km: float = 100.0, seed: int,
           connected: bool = True, max_tries: int = 100, node_profile: str = _DEFAULT_NODE,
           link_profile: str = _DEFAULT_LINK) -> nx.Graph:
    """A Waxman random graph (Waxman 1988) on a square of side ``side_km``.

    Nodes are placed uniformly; each pair at distance ``d`` is linked with
    probability ``beta * exp(-d / (alpha * L))``, ``L`` being the largest
    distance between two nodes.  Larger ``beta`` means more links overall,
    larger ``alpha`` relatively more long ones.  Links are straight lines.
    Waxman graphs are sparse for small ``n``: with the defaults only about a
    quarter of 20-node draws are connected, so small graphs want ``beta``
    near 1 (or ``connected=False``).

    Args:
        n: number of nodes, >= 2.
        alpha: distance scale relative to ``L``, in (0, 1].
        beta: link probability at distance 0, in (0, 1].
        side_km: side of the square, km, > 0.
        seed: int >= 0; the same seed gives the same graph.
        connected: if True, draw again (from the same random stream) until the
            graph is connected, at most ``max_tries`` times.
        max_tries: int >= 1.
        node_profile, link_profile: hardware profile names.

    Raises:
        ConfigurationError: an argument out of range, or no connected graph in
            ``max_tries`` draws.
    """
    n = _checks.integer("n", n, low=2, high=_checks.MAX_NODES)
    alpha = _checks.real("alpha", alpha, low=0.0, low_open=True, high=1.0)
    beta = _checks.real("beta", beta, low=0.0, low_open=True, high=1.0)
    side, rng, tries, profiles = _plane_args(side_km, seed, max_tries, connected, node_profile, link_profile)
    name = f"waxman(n={n}, alpha={alpha:g}, beta={beta:g}, side_km={side:g}, seed={seed})"
    draw = _plane_draw(name, n, side, rng, lambda d: rng.random(d.size) < beta * np.exp(-d / (alpha * d.max())),
                       profiles)
    return _retry(name, draw, tries, "raise alpha or beta", "alpha", alpha) if connected else draw()


def _plane_args(side_km, seed, max_tries, connected, node_profile, link_profile) -> tuple:
    """The arguments every random plane graph checks: side, generator, tries and profiles."""
    side = _checks.positive_km("side_km", side_km)
    rng = np.random.default_rng(_checks.seed(seed))
    tries = _tries(max_tries)
    profiles = (_checks.profile("node_profile", node_profile), _checks.profile("link_profile", link_profile))
    _flag("connected", connected)
    return side, rng, tries, profiles


def _plane_draw(name: str, n: int, side: float, rng: np.random.Generator, keep, profiles: tuple):
    """A function drawing ``n`` uniform nodes on the square and linking the pairs ``keep(distances)`` selects."""
    iu, ju = np.triu_indices(n, 1)

    def draw() -> nx.Graph:
        pos = _place(rng, n, side)
        d = _distances(pos, iu, ju)
        mask = keep(d)
        edges = list(zip(iu[mask].tolist(), ju[mask].tolist()))
        return _assemble(name, pos, edges, d[mask], *profiles)

    return draw


def random_geometric(n: int, radius_km: float, *, side_km: float = 100.0, seed: int, connected: bool = True,
                     max_tries: int = 100, node_profile: str = _DEFAULT_NODE,
                     link_profile: str = _DEFAULT_LINK) -> nx.Graph:
    """A random geometric graph (Gilbert 1961): ``n`` nodes uniform in a square
    of side ``side_km``, linked when at most ``radius_km`` apart; links are straight.

    For large ``n`` the graph is connected with high probability once
    ``radius_km`` exceeds about ``side_km * sqrt(ln n / (pi n))`` (Penrose 2003).

    Args:
        n: number of nodes, >= 2.
        radius_km: connection radius, km, > 0.
        side_km: side of the square, km, > 0.
        seed: int >= 0; the same seed gives the same graph.
        connected: if True, draw again (same random stream) until connected, at
            most ``max_tries`` times.
        max_tries: int >= 1.
        node_profile, link_profile: hardware profile names.

    Raises:
        ConfigurationError: an argument out of range, or no connected graph in
            ``max_tries`` draws.
    """
    n = _checks.integer("n", n, low=2, high=_checks.MAX_NODES)
    radius = _checks.positive_km("radius_km", radius_km)
    side, rng, tries, profiles = _plane_args(side_km, seed, max_tries, connected, node_profile, link_profile)
    name = f"random_geometric(n={n}, radius_km={radius:g}, side_km={side:g}, seed={seed})"
    draw = _plane_draw(name, n, side, rng, lambda d: d <= radius, profiles)

    threshold = side * math.sqrt(math.log(n) / (math.pi * n))
    return _retry(name, draw, tries, f"radius_km above about {threshold:.3g} km for n = {n} on a {side:g} km square",
                  "radius_km", radius) if connected else draw()
