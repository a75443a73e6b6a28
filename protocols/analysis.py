"""Reference statistics of repeater chains: delivery times and memory decay, exact and sampled.

Everything here is numerical (a distribution computed to a stated truncation,
or a linear system solved), paired with a vectorised Monte Carlo sampler of
the same abstract process, so that simulations can be tested against both.

Time unit ``T``: the duration of one heralded attempt on an elementary link
(all links equally long).  Every attempt succeeds independently with
probability ``p``, so an elementary link needs ``K ~ Geometric(p)`` attempts,
``K = 1, 2, ...``.  Swaps succeed with probability ``a``.  The classical
latency between two path nodes ``i`` and ``j`` is ``|i - j|`` T.

Four models:

* **Two segments, no latency** (REP-1): the closed form of the mean
  ``E[T] = (3 - 2p) / (a p (2 - p))`` of Shchukin, Schmidt, van Loock,
  PRA 100, 032322 (2019) [arXiv:1710.06214], the distribution by the recursion
  ``f_T = a f_M + (1 - a) f_M * f_T`` and a sampler.
* **Swap trees with synchronised restarts** (:class:`SwapTree`,
  :func:`tree_delivery_statistics`): nested doubling, sequential or any other
  binary tree of swaps, a failed swap restarting its whole subtree, with the
  classical delays of qactors' protocols and memory depolarisation.  With
  ``latency=False`` it is the model of Brand, Coopmans, Elkouss, IEEE JSAC 38,
  619 (2020) [arXiv:1912.07688]: waiting time
  ``T_{k+1} = sum_{j <= J} max(T_k^(j), T_k'^(j))``, ``J ~ Geometric(a)``,
  and Werner parameter ``w_A w_B exp(-|T_A - T_B| / T_coh)`` after each swap
  (here ``1 / T_coh = 2 g``), computed by the same kind of exact pmf
  recursion.
* **Swap-asap, deterministic swaps, first delivery, with latency**
  (:func:`swap_asap_first_delivery_pmf`): a product formula over the links.
* **Swap-asap with probabilistic swaps, no latency**
  (:func:`swap_asap_markov_waiting_time`): the Markov chain of Shchukin et al.
  over which spans exist, solved as a linear system.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from qactors.core.errors import ConfigurationError

__all__ = [
    "two_segment_mean_delivery_time", "two_segment_delivery_pmf", "pmf_mean_sd",
    "sample_two_segment_delivery_times",
    "SwapTree", "nested_tree", "sequential_tree", "DeliveryStatistics", "tree_delivery_statistics",
    "sample_tree_delivery",
    "swap_asap_first_delivery_pmf", "sample_swap_asap_first_delivery",
    "swap_asap_markov_waiting_time", "sample_swap_asap_markov_waiting_times",
]

_MAX_HORIZON = 1 << 24  # attempts; a distribution needing more would take minutes and gigabytes
_MAX_MARKOV_SEGMENTS = 10  # 2^n states, 3^n link outcomes to enumerate
# series products up to this many terms are summed directly (exact zeros, relative accuracy even in
# the far tail, about 0.03 s at 16384 x 16384); longer ones by FFT (absolute accuracy ~1e-16)
_DIRECT_PRODUCT = 1 << 28


def _check(p: float, a: float) -> None:
    if not 0.0 < p <= 1.0:
        raise ConfigurationError(f"attempt success probability p must be in (0, 1], got {p!r}", field="p", value=p)
    if not 0.0 < a <= 1.0:
        raise ConfigurationError(f"swap success probability a must be in (0, 1], got {a!r}", field="a", value=a)


def _check_decay(g: float) -> float:
    if not (isinstance(g, (int, float)) and math.isfinite(g) and g >= 0.0):
        raise ConfigurationError(f"decay rate g must be a finite number >= 0 (per attempt duration T), got {g!r}",
                                 field="decay_per_attempt", value=g)
    return math.exp(-2.0 * g)  # decay of a pair's characters per T, both qubits stored


def _check_segments(n: int, least: int = 1, most: int | None = None) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < least or (most is not None and n > most):
        accepted = f"an integer >= {least}" + (f" and <= {most}" if most is not None else "")
        raise ConfigurationError(f"number of segments n must be {accepted}, got {n!r}", field="n", value=n)


def _check_tail(tail: float) -> None:
    if not 0.0 < tail < 0.01:
        raise ConfigurationError(f"truncation tail mass must be in (0, 0.01), got {tail!r}", field="tail", value=tail)


def _check_size(size: int) -> None:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 0:
        raise ConfigurationError(f"sample size must be an integer >= 0, got {size!r}", field="size", value=size)


# --------------------------------------------------------------------------------------------------
# Two segments, no latency (REP-1)


def two_segment_mean_delivery_time(p: float, a: float = 1.0) -> float:
    """Mean delivery time (attempts) of a two-segment repeater without classical latency.

    Closed form ``(3 - 2p) / (a p (2 - p))`` of Shchukin, Schmidt, van Loock,
    PRA 100, 032322 (2019): the mean of the later of two Geometric(p) link
    times, divided by the swap success probability ``a`` (a failed swap
    restarts both links).  Raises ConfigurationError unless ``0 < p, a <= 1``.
    """
    _check(p, a)
    return (3.0 - 2.0 * p) / (a * p * (2.0 - p))


def two_segment_delivery_pmf(p: float, a: float = 1.0, tail: float = 1e-13) -> np.ndarray:
    """``pmf[t]`` = probability that the end-to-end pair is delivered at attempt ``t``
    (``pmf[0] = 0``), truncated where the remaining probability is below ``tail``.

    Same process as :func:`two_segment_mean_delivery_time`; the distribution
    follows from ``f_T = a f_M + (1 - a) f_M * f_T`` with
    ``P(M <= t) = (1 - (1-p)^t)^2``.
    """
    _check(p, a)
    t_max = int(40 * two_segment_mean_delivery_time(p, a)) + 16
    while True:
        pmf = _pmf_up_to(p, a, t_max)
        if pmf.sum() >= 1.0 - tail:
            return pmf
        t_max *= 2


def _pmf_up_to(p: float, a: float, t_max: int) -> np.ndarray:
    t = np.arange(t_max + 1, dtype=float)
    f_m = np.diff((1.0 - (1.0 - p) ** t) ** 2, prepend=0.0)
    f_m[0] = 0.0
    f_t = np.zeros(t_max + 1)
    for n in range(1, t_max + 1):
        restart = float(np.dot(f_m[1:n], f_t[n - 1:0:-1])) if n > 1 else 0.0  # sum_s f_M(s) f_T(n - s)
        f_t[n] = a * f_m[n] + (1.0 - a) * restart
    return f_t


def pmf_mean_sd(pmf: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of a distribution over 0, 1, 2, ... (normalised by its mass)."""
    t = np.arange(len(pmf), dtype=float)
    mass = pmf.sum()
    mean = float((t * pmf).sum() / mass)
    var = float(((t - mean) ** 2 * pmf).sum() / mass)
    return mean, math.sqrt(var)


def sample_two_segment_delivery_times(p: float, a: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` delivery times (attempts) drawn from the two-segment process above."""
    _check(p, a)
    total = np.zeros(n, dtype=np.int64)
    pending = np.arange(n)
    while pending.size:
        m = np.maximum(rng.geometric(p, pending.size), rng.geometric(p, pending.size))
        total[pending] += m
        pending = pending[rng.random(pending.size) >= a]
    return total


# --------------------------------------------------------------------------------------------------
# Swap trees with synchronised restarts


@dataclass(frozen=True, slots=True)
class SwapTree:
    """A binary tree of swaps over the path nodes ``left .. right``.

    A leaf (no children) is the elementary link ``[left, left + 1]``.  An
    inner node joins its children ``[left, m]`` and ``[m, right]`` by a swap
    at path node ``m`` (:attr:`swapper`).  Build the usual ones with
    :func:`nested_tree` and :func:`sequential_tree`.

    Raises ConfigurationError if the children do not tile ``[left, right]``.

    >>> SwapTree(0, 2, (SwapTree(0, 1), SwapTree(1, 2))).swapper
    1
    """

    left: int
    right: int
    children: tuple[SwapTree, SwapTree] | tuple[()] = ()

    def __post_init__(self) -> None:
        if self.left < 0:
            raise ConfigurationError(f"swap tree span must start at a node >= 0, got {self.left!r}",
                                     field="left", value=self.left)
        if not self.children:
            if self.right != self.left + 1:
                raise ConfigurationError(f"a swap-tree leaf is one elementary link [i, i+1], got "
                                         f"[{self.left}, {self.right}]", field="right", value=self.right)
            return
        if len(self.children) != 2 or not all(isinstance(c, SwapTree) for c in self.children):
            raise ConfigurationError("a swap-tree node has no children or exactly two SwapTree children, got "
                                     f"{self.children!r}", field="children", value=self.children)
        low, high = self.children
        if (low.left, high.right, low.right) != (self.left, self.right, high.left):
            raise ConfigurationError(f"children [{low.left}, {low.right}] and [{high.left}, {high.right}] do not "
                                     f"tile [{self.left}, {self.right}] with a shared swap node",
                                     field="children", value=self.children)

    @property
    def is_link(self) -> bool:
        """True for an elementary link (a leaf)."""
        return not self.children

    @property
    def segments(self) -> int:
        """Number of elementary links spanned."""
        return self.right - self.left

    @property
    def swapper(self) -> int | None:
        """Path node where this node's swap happens (None for a leaf)."""
        return self.children[0].right if self.children else None


def nested_tree(n: int) -> SwapTree:
    """Nested swap tree over ``n`` segments (nodes ``0..n``): every span ``[l, r]`` is split at
    ``(l + r) // 2``.  For ``n = 2^k`` this is the doubling scheme; otherwise the halves differ
    by one segment.  Raises ConfigurationError unless ``n >= 1``.

    >>> nested_tree(4).swapper, [c.swapper for c in nested_tree(4).children]
    (2, [1, 3])
    """
    _check_segments(n)
    return _nested(0, int(n))


def _nested(left: int, n: int) -> SwapTree:
    if n == 1:
        return SwapTree(left, left + 1)
    half = n // 2
    return SwapTree(left, left + n, (_nested(left, half), _nested(left + half, n - half)))


def sequential_tree(n: int) -> SwapTree:
    """Left-deep swap tree over ``n`` segments: the swap at node ``i`` joins ``[0, i]`` and
    ``[i, i+1]``, for ``i = 1 .. n-1``.  Raises ConfigurationError unless ``n >= 1``.

    >>> sequential_tree(3).children[0].swapper
    1
    """
    _check_segments(n)
    tree = SwapTree(0, 1)
    for i in range(1, int(n)):
        tree = SwapTree(0, i + 1, (tree, SwapTree(i, i + 1)))
    return tree


def _notice_latency(child: SwapTree, swapper: int, latency: bool) -> int:
    """T from the child's completion at its own swapper to the parent's swapper knowing it."""
    if not latency or child.is_link:
        return 0  # a link's herald reaches both its ends at once
    return abs(swapper - child.swapper)


def _far_end_latency(node: SwapTree, latency: bool) -> int:
    """T from the node's swapper to the farther end of its span (restart and delivery notices)."""
    if not latency or node.is_link:
        return 0
    return max(node.swapper - node.left, node.right - node.swapper)


@dataclass(frozen=True, slots=True, eq=False)
class DeliveryStatistics:
    """Distribution of a delivery interval and the decay of the delivered pair.

    ``pmf[t]`` is the probability that the interval is ``t`` attempts (T);
    ``decay[t]`` is the partial expectation ``E[D; interval = t]`` of the decay
    factor ``D`` (the factor multiplying the product of the elementary links'
    Pauli-transfer characters).  Both are exact up to floating point for every
    ``t`` they cover; the probability beyond is :attr:`tail`.
    """

    pmf: np.ndarray
    decay: np.ndarray
    segments: int

    @property
    def tail(self) -> float:
        """Probability mass beyond the truncation horizon."""
        return max(0.0, 1.0 - float(self.pmf.sum()))

    @property
    def mean(self) -> float:
        """Mean interval, T."""
        return pmf_mean_sd(self.pmf)[0]

    @property
    def sd(self) -> float:
        """Standard deviation of the interval, T."""
        return pmf_mean_sd(self.pmf)[1]

    @property
    def mean_decay(self) -> float:
        """``E[D]``, the mean decay factor of a delivered pair (0..1)."""
        return float(self.decay.sum() / self.pmf.sum())

    def decay_given_interval(self) -> np.ndarray:
        """``E[D | interval = t]`` for every ``t`` (NaN where the interval is impossible)."""
        out = np.full(self.pmf.shape, np.nan)
        np.divide(self.decay, self.pmf, out=out, where=self.pmf > 0)
        return out

    def mean_fidelity(self, link_werner: float = 1.0) -> float:
        """Mean fidelity of the delivered pair when every link is born a Werner state of
        parameter ``link_werner``: characters ``w^n D``, fidelity ``(1 + 3 w^n D) / 4``."""
        return (1.0 + 3.0 * link_werner ** self.segments * self.mean_decay) / 4.0


def tree_delivery_statistics(tree: SwapTree, p: float, a: float = 1.0, decay_per_attempt: float = 0.0, *,
                             latency: bool = True, tail: float = 1e-12) -> DeliveryStatistics:
    """Exact distribution of the delivery interval of a swap tree with synchronised restarts.

    Model (``latency=True``, the protocols of qactors; times in attempts T):

    * a link started at 0 is complete at ``S = K + 1`` (the herald reaches both
      ends one T after the successful attempt); each of its qubits has then been
      stored for 1 T;
    * an inner node with swapper ``m`` starts both children at 0; with child
      completion times ``A``, ``B`` the swapper hears of them ``d_A``, ``d_B``
      later (``d`` = distance from the child's swapper to ``m``, 0 for a link)
      and swaps at ``t = max(A + d_A, B + d_B)``.  With probability ``a`` the
      node is complete at ``S = t``; otherwise the whole subtree starts again
      from scratch at ``t + r``, ``r = max(m - left, right - m)``.  So
      ``S = sum_{j<=J} max(A_j + d_A, B_j + d_B) + (J - 1) r``, ``J ~ Geom(a)``;
    * the pair is delivered when both path ends know: ``S_root + r_root``;
      then the whole path restarts, so intervals are iid.

    Decay: every stored qubit depolarises, multiplying each Pauli-transfer
    character of its pair by ``exp(-g t)`` for ``t`` of storage; swaps multiply
    characters.  So a delivered pair has characters ``prod(link characters) * D``
    with ``D = exp(-g * total storage time of all its qubits)``, built up as: a
    link completes with ``D = exp(-2g)``; a swap at ``t`` gives
    ``D = D_A exp(-2g (t - A)) D_B exp(-2g (t - B))``; the root pair decays
    ``exp(-2g r_root)`` more until delivery.

    With ``latency=False`` every latency is 0 and a link completes at ``S = K``
    with ``D = 1``: the model of Brand, Coopmans, Elkouss (2020) with
    ``1/T_coh = 2 g`` and, for two segments, REP-1.

    Method: for each tree node the arrays ``P[t] = P(S = t)`` and
    ``Q[t] = E[D; S = t]`` over ``t = 0 .. horizon``.  Shifting a child by its
    notice latency ``d`` shifts both arrays and multiplies ``Q`` by
    ``exp(-2g d)`` (the child decays while the news travels), giving shifted
    completions ``X``, ``Y``.  Their maximum has ``P_M[t] = P_X[t] F_Y[t] +
    F_X[t-1] P_Y[t]`` (``F`` the cdf); in the partial expectation the child
    that completed first decays until ``t``, so with the discounted sums
    ``H[t] = sum_{s<=t} Q[s] exp(-2g (t - s))`` (``H[t] = Q[t] + e^{-2g} H[t-1]``)
    independence gives ``Q_M[t] = Q_X[t] H_Y[t] + e^{-2g} H_X[t-1] Q_Y[t]``.
    Restarts: with ``R[t] = (1 - a) P_M[t - r]``, ``P_S = a P_M + R * P_S`` and
    ``Q_S = a Q_M + R * Q_S`` (only the successful attempt's pair survives),
    i.e. ``P_S = a P_M * U`` with the renewal series ``U = 1 / (1 - R)``
    (power-series inverse by Newton iteration; products summed directly up to
    horizons of 16384 T, by FFT beyond, where values below ~1e-16 are noise).  Every step
    is causal, so truncating at a horizon leaves all covered values exact; the
    horizon doubles until the missing mass is below ``tail``.

    Args:
        tree: the swap tree (nodes ``tree.left .. tree.right`` are the path).
        p: attempt success probability, ``0 < p <= 1``.
        a: swap success probability, ``0 < a <= 1``.
        decay_per_attempt: ``g`` >= 0, per-qubit depolarising rate in 1/T.
        latency: include the classical delays (default) or not (the papers' model).
        tail: largest probability left beyond the horizon, ``0 < tail < 0.01``.

    Returns:
        :class:`DeliveryStatistics` of the delivery interval.

    Raises:
        ConfigurationError: invalid ``p``, ``a``, ``g``, ``tail`` or tree, or a
        horizon beyond 2^24 attempts would be needed.

    >>> s = tree_delivery_statistics(nested_tree(2), 0.5, latency=False)
    >>> round(s.mean, 6)  # E[max of two Geometric(1/2)] = 8/3
    2.666667
    """
    _check(p, a)
    lam = _check_decay(decay_per_attempt)
    _check_tail(tail)
    if not isinstance(tree, SwapTree):
        raise ConfigurationError(f"tree must be a SwapTree, got {tree!r}", field="tree", value=tree)
    horizon = int(8 * _mean_bound(tree, p, a, latency)) + 64
    final = _far_end_latency(tree, latency)
    while True:
        if horizon > _MAX_HORIZON:
            raise ConfigurationError(f"delivery distribution for p={p!r}, a={a!r} over {tree.segments} segments "
                                     f"needs a horizon beyond {_MAX_HORIZON} attempts; use the sampler",
                                     field="p", value=p)
        pmf, decay = _node_arrays(tree, p, a, lam, latency, horizon + 1)
        if pmf.sum() >= 1.0 - tail:
            break
        horizon *= 2
    shifted = np.zeros(len(pmf) + final)
    shifted[final:] = pmf
    shifted_decay = np.zeros(len(pmf) + final)
    shifted_decay[final:] = decay * lam ** final
    return DeliveryStatistics(shifted, shifted_decay, tree.segments)


def _mean_bound(node: SwapTree, p: float, a: float, latency: bool) -> float:
    """Upper bound on E[S] (max <= sum), to size the first horizon."""
    if node.is_link:
        return 1.0 / p + (1.0 if latency else 0.0)
    low, high = node.children
    m = node.swapper
    attempt = (_mean_bound(low, p, a, latency) + _notice_latency(low, m, latency)
               + _mean_bound(high, p, a, latency) + _notice_latency(high, m, latency))
    return attempt / a + (1.0 / a - 1.0) * _far_end_latency(node, latency)


def _node_arrays(node: SwapTree, p: float, a: float, lam: float, latency: bool,
                 size: int) -> tuple[np.ndarray, np.ndarray]:
    """``(P, Q)`` over ``t = 0 .. size-1``: ``P[t] = P(S = t)``, ``Q[t] = E[D; S = t]``."""
    if node.is_link:
        herald = 1 if latency else 0
        prob = np.zeros(size)
        if size > herald + 1:
            prob[herald + 1:] = p * (1.0 - p) ** np.arange(size - herald - 1)
        return prob, prob * (lam if latency else 1.0)
    m = node.swapper
    shifted = []
    for child in node.children:
        prob, part = _node_arrays(child, p, a, lam, latency, size)
        d = _notice_latency(child, m, latency)
        shifted.append((_shift(prob, d), _shift(part, d) * lam ** d))
    (px, qx), (py, qy) = shifted
    fx, fy = np.cumsum(px), np.cumsum(py)
    hx, hy = _discounted_cumsum(qx, lam), _discounted_cumsum(qy, lam)
    p_max = px * fy + _shift(fx, 1) * py
    q_max = qx * hy + lam * _shift(hx, 1) * qy
    if a == 1.0:
        return p_max, q_max
    restart = (1.0 - a) * _shift(p_max, _far_end_latency(node, latency))
    renewal = _inverse_one_minus(restart, size)
    return (np.maximum(a * _product(p_max, renewal, size), 0.0),
            np.maximum(a * _product(q_max, renewal, size), 0.0))


def _shift(x: np.ndarray, d: int) -> np.ndarray:
    if d == 0:
        return x
    out = np.zeros_like(x)
    if d < len(x):
        out[d:] = x[:-d]
    return out


def _discounted_cumsum(q: np.ndarray, lam: float) -> np.ndarray:
    """``H[t] = sum_{s<=t} q[s] lam^(t-s)``."""
    if lam == 1.0:
        return np.cumsum(q)
    out = np.empty_like(q)
    h = 0.0
    for t, v in enumerate(q.tolist()):  # a recursion: stable for any lam, unlike lam^-s rescaling
        h = h * lam + v
        out[t] = h
    return out


def _product(x: np.ndarray, y: np.ndarray, size: int) -> np.ndarray:
    """First ``size`` coefficients of the power-series product ``x * y``."""
    x, y = x[:size], y[:size]
    if len(x) * len(y) <= _DIRECT_PRODUCT:
        return np.convolve(x, y)[:size]
    n = 1 << (len(x) + len(y) - 2).bit_length()
    return np.fft.irfft(np.fft.rfft(x, n) * np.fft.rfft(y, n), n)[:size]


def _inverse_one_minus(r: np.ndarray, size: int) -> np.ndarray:
    """First ``size`` coefficients of ``1 / (1 - r)`` for ``r[0] = 0`` (Newton: ``u <- u (2 - f u)``)."""
    f = -r[:size].astype(float)
    f[0] += 1.0
    u = np.ones(1)
    k = 1
    while k < size:
        k = min(2 * k, size)
        correction = -_product(f[:k], u, k)
        correction[0] += 2.0
        u = _product(u, correction, k)
    return u


def sample_tree_delivery(tree: SwapTree, p: float, a: float, decay_per_attempt: float, size: int,
                         rng: np.random.Generator, *, latency: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Monte Carlo sample of the process of :func:`tree_delivery_statistics`.

    Returns ``(intervals, decays)``: ``size`` iid delivery intervals (int64, T)
    and the decay factor ``D`` of each delivered pair (float, 0..1).
    Raises ConfigurationError for invalid arguments.
    """
    _check(p, a)
    lam = _check_decay(decay_per_attempt)
    _check_size(size)
    if not isinstance(tree, SwapTree):
        raise ConfigurationError(f"tree must be a SwapTree, got {tree!r}", field="tree", value=tree)
    s, d = _sample_node(tree, int(size), p, a, lam, latency, rng)
    final = _far_end_latency(tree, latency)
    return s + final, d * lam ** final


def _sample_node(node: SwapTree, size: int, p: float, a: float, lam: float, latency: bool,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if node.is_link:
        herald = 1 if latency else 0
        return rng.geometric(p, size).astype(np.int64) + herald, np.full(size, lam if latency else 1.0)
    m = node.swapper
    low, high = node.children
    d_low, d_high = _notice_latency(low, m, latency), _notice_latency(high, m, latency)
    restart = _far_end_latency(node, latency)
    total = np.zeros(size, dtype=np.int64)
    decay = np.zeros(size)
    pending = np.arange(size)
    while pending.size:
        sa, da = _sample_node(low, pending.size, p, a, lam, latency, rng)
        sb, db = _sample_node(high, pending.size, p, a, lam, latency, rng)
        t = np.maximum(sa + d_low, sb + d_high)
        total[pending] += t
        ok = rng.random(pending.size) < a
        decay[pending[ok]] = (da * db * lam ** (t - sa) * lam ** (t - sb))[ok]
        pending = pending[~ok]
        total[pending] += restart
    return total, decay


# --------------------------------------------------------------------------------------------------
# Swap-asap, deterministic swaps, first delivery, with latency


_ENDS = ("left", "right", "both")


def _record_offsets(n: int, end: str, latency: bool) -> list[int]:
    """``c_i``: the latest notice at ``end`` among the records that depend on link ``i``."""
    def to_end(m: int) -> int:
        if not latency:
            return 0
        return {"left": m, "right": n - m, "both": max(m, n - m)}[end]
    offsets = []
    for i in range(n):  # link i joins nodes i and i+1; repeaters i and i+1 use it
        users = [m for m in (i, i + 1) if 1 <= m <= n - 1]
        offsets.append(max([0] + [to_end(m) for m in users]))
    return offsets


def swap_asap_first_delivery_pmf(n: int, p: float, *, end: str = "both", latency: bool = True,
                                 tail: float = 1e-12) -> np.ndarray:
    """Exact pmf of the time (T) at which an end node first holds an end-to-end pair, swap-asap, ``a = 1``.

    Model: all links of the chain ``0..n`` start at 0; link ``i`` (nodes ``i``,
    ``i+1``) heralds at both its ends at ``H_i = K_i + 1``; repeater ``m``
    swaps at ``max(H_{m-1}, H_m)`` and its record reaches node 0 ``m`` later and
    node ``n`` ``n - m`` later.  An end has the pair when it holds its own link
    and every record.  Each arrival is ``H_i + (latency)`` for a link it
    depends on, so the time at the end is ``max_i (K_i + 1 + c_i)`` with ``c_i``
    the largest latency among the records that use link ``i`` (0 for the end's
    own link alone), and by independence of the ``K_i``::

        P(D <= t) = prod_i (1 - (1 - p)^max(0, t - 1 - c_i)).

    ``end="left"`` (node 0), ``"right"`` (node ``n``) or ``"both"`` (the later
    of the two, ``c_i`` the largest latency to either end).  With
    ``latency=False``, ``H_i = K_i`` and ``c_i = 0``: the maximum of ``n``
    Geometric(p) variables.

    Returns ``pmf`` with ``pmf[t] = P(D = t)``, truncated where the remaining
    mass is below ``tail``.  Raises ConfigurationError for invalid arguments.

    >>> pmf_mean_sd(swap_asap_first_delivery_pmf(1, 1.0))  # herald 1 T after the first attempt
    (2.0, 0.0)
    """
    _check_segments(n)
    _check(p, 1.0)
    _check_tail(tail)
    if end not in _ENDS:
        raise ConfigurationError(f"end must be one of {_ENDS}, got {end!r}", field="end", value=end)
    herald = 1 if latency else 0
    offsets = np.array(_record_offsets(int(n), end, latency)) + herald
    q = 1.0 - p
    # 1 - prod(1 - x_i) <= sum x_i <= n q^(t - max offset): enough attempts for the tail
    extra = 1 if q == 0.0 else max(1, math.ceil(math.log(tail / n) / math.log(q)) + 1)
    t = np.arange(int(offsets.max()) + extra + 1)
    k = np.maximum(0, t[:, None] - offsets[None, :])
    cdf = np.prod(1.0 - q ** k, axis=1)
    return np.diff(cdf, prepend=0.0)


def sample_swap_asap_first_delivery(n: int, p: float, size: int, rng: np.random.Generator, *,
                                    latency: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Monte Carlo sample of :func:`swap_asap_first_delivery_pmf`'s process.

    Returns ``(left, right)``: for each of ``size`` runs, the time (T, int64) at
    which node 0 and node ``n`` hold the end-to-end pair (both ends: their
    maximum).  Raises ConfigurationError for invalid arguments.
    """
    _check_segments(n)
    _check(p, 1.0)
    _check_size(size)
    herald = rng.geometric(p, (int(size), int(n))).astype(np.int64) + (1 if latency else 0)
    left, right = herald[:, 0].copy(), herald[:, -1].copy()
    if n > 1:
        swaps = np.maximum(herald[:, :-1], herald[:, 1:])  # column m - 1: repeater m
        m = np.arange(1, n) if latency else np.zeros(n - 1, dtype=np.int64)
        far = np.arange(n - 1, 0, -1) if latency else m
        left = np.maximum(left, (swaps + m).max(axis=1))
        right = np.maximum(right, (swaps + far).max(axis=1))
    return left, right


# --------------------------------------------------------------------------------------------------
# Swap-asap with probabilistic swaps, no latency: Shchukin et al.'s Markov chain


def _markov_step(n: int, p: float, a: float, state: int) -> dict[int, float]:
    """Distribution of the next state from ``state`` (bit ``i`` set: segment ``i`` is covered by a span).

    A state needs only the covered segments: after every step no two spans are
    adjacent (they would have been swapped), so each maximal run of covered
    segments is one span.
    """
    missing = [i for i in range(n) if not state >> i & 1]
    q = 1.0 - p
    out: dict[int, float] = {}
    for choice in range(1 << len(missing)):
        new = state
        successes = 0
        for j, i in enumerate(missing):
            if choice >> j & 1:
                new |= 1 << i
                successes += 1
        prob = p ** successes * q ** (len(missing) - successes)
        if prob == 0.0:
            continue
        outcomes = {new: prob}
        for low, high in _runs(new, n):
            # swaps in this run: its inner nodes that were not already inside a span
            swaps = sum(1 for b in range(low + 1, high + 1) if not (state >> (b - 1) & 1 and state >> b & 1))
            if swaps == 0:
                continue
            keep = a ** swaps
            run_mask = ((1 << (high + 1)) - 1) ^ ((1 << low) - 1)
            split: dict[int, float] = {}
            for s, w in outcomes.items():
                split[s] = split.get(s, 0.0) + w * keep
                if keep < 1.0:  # any failure measures out the ends of every span in the run
                    split[s & ~run_mask] = split.get(s & ~run_mask, 0.0) + w * (1.0 - keep)
            outcomes = split
        for s, w in outcomes.items():
            out[s] = out.get(s, 0.0) + w
    return out


def _runs(mask: int, n: int) -> list[tuple[int, int]]:
    runs, i = [], 0
    while i < n:
        if mask >> i & 1:
            j = i
            while j + 1 < n and mask >> (j + 1) & 1:
                j += 1
            runs.append((i, j))
            i = j + 1
        else:
            i += 1
    return runs


def swap_asap_markov_waiting_time(n: int, p: float, a: float = 1.0) -> tuple[float, float]:
    """Mean and standard deviation (attempts) of the first end-to-end pair, swap-asap, no latency.

    The Markov-chain model of Shchukin, Schmidt, van Loock, PRA 100, 032322
    (2019), for the scheme that swaps as soon as possible: a state is the set of
    segments covered by spans; in every time step each missing elementary link
    is attempted and appears with probability ``p``; then every repeater whose
    two sides are both covered swaps at once, each swap succeeding with
    probability ``a``.  A failed swap destroys both spans it involves, and
    since all swaps of a run of adjacent spans are simultaneous, one failure
    loses the whole run (the neighbouring successful swaps joined into spans
    whose end qubit was just measured).  ``T`` counts steps until a span
    covers all ``n`` segments; ``E[T]`` and ``E[T^2]`` solve
    ``(I - Q) m = 1`` and ``(I - Q) m2 = 1 + 2 Q m`` over the transient states.
    For ``n = 2`` this is REP-1's ``(3 - 2p) / (a p (2 - p))``; with ``a = 1``
    the maximum of ``n`` Geometric(p) variables.

    Raises ConfigurationError unless ``1 <= n <= 10`` and ``0 < p, a <= 1``.

    >>> round(swap_asap_markov_waiting_time(2, 0.1, 0.5)[0], 6)
    29.473684
    """
    _check_segments(n, most=_MAX_MARKOV_SEGMENTS)
    _check(p, a)
    n = int(n)
    full = (1 << n) - 1
    transient = np.eye(full)  # states 0 .. full - 1; the full span is absorbing
    q_matrix = np.zeros((full, full))
    for s in range(full):
        for t, w in _markov_step(n, p, a, s).items():
            if t != full:
                q_matrix[s, t] += w
    transient -= q_matrix
    mean = np.linalg.solve(transient, np.ones(full))
    second = np.linalg.solve(transient, 1.0 + 2.0 * q_matrix @ mean)
    return float(mean[0]), math.sqrt(max(0.0, float(second[0] - mean[0] ** 2)))


def sample_swap_asap_markov_waiting_times(n: int, p: float, a: float, size: int,
                                          rng: np.random.Generator) -> np.ndarray:
    """Monte Carlo sample (int64, attempts) of :func:`swap_asap_markov_waiting_time`'s process.

    Raises ConfigurationError for invalid arguments.
    """
    _check_segments(n)
    _check(p, a)
    _check_size(size)
    n = int(n)
    times = np.zeros(int(size), dtype=np.int64)
    covered = np.zeros((int(size), n), dtype=bool)
    pending = np.arange(int(size))
    step = 0
    while pending.size:
        step += 1
        old = covered[pending]
        new = old | (rng.random(old.shape) < p)
        # node b (1..n-1) swaps if both sides are covered now and it was not inside a span before
        swapping = new[:, :-1] & new[:, 1:] & ~(old[:, :-1] & old[:, 1:])
        failed = swapping & (rng.random(swapping.shape) >= a)
        lost = np.zeros_like(new)
        lost[:, :-1] |= failed
        lost[:, 1:] |= failed
        for i in range(1, n):  # spread the loss over the run of covered segments
            lost[:, i] |= lost[:, i - 1] & new[:, i - 1] & new[:, i]
        for i in range(n - 2, -1, -1):
            lost[:, i] |= lost[:, i + 1] & new[:, i + 1] & new[:, i]
        new &= ~lost
        covered[pending] = new
        done = new.all(axis=1)
        times[pending[done]] = step
        pending = pending[~done]
    return times
