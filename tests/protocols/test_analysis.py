"""Reference statistics of repeater chains (protocols.analysis): exact values against closed
forms, published formulas and Monte Carlo samples of the same abstract processes (3 sigma)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qactors.core.errors import ConfigurationError
from qactors.protocols import analysis
from qactors.protocols.analysis import (SwapTree, nested_tree, pmf_mean_sd, sample_swap_asap_first_delivery,
                                        sample_swap_asap_markov_waiting_times, sample_tree_delivery,
                                        sequential_tree, swap_asap_first_delivery_pmf,
                                        swap_asap_markov_waiting_time, tree_delivery_statistics,
                                        two_segment_delivery_pmf)


def expected_max_of_geometrics(n: int, p: float) -> float:
    """E[max of n iid Geometric(p)] by inclusion-exclusion."""
    q = 1.0 - p
    return sum((-1) ** (k + 1) * math.comb(n, k) / (1.0 - q ** k) for k in range(1, n + 1))


def max_of_geometrics_pmf(n: int, p: float, length: int) -> np.ndarray:
    t = np.arange(length)
    return np.diff((1.0 - (1.0 - p) ** t) ** n, prepend=0.0)


def two_link_decay(p: float, g: float) -> float:
    """E[exp(-2g |K1 - K2|)]: P(K1 - K2 = j) = p q^|j| / (1 + q)."""
    q, lam = 1.0 - p, math.exp(-2.0 * g)
    return p / (1.0 + q) * (1.0 + 2.0 * q * lam / (1.0 - q * lam))


def shchukin_four_segment_doubling(p: float, a: float) -> float:
    """Mean waiting time of four-segment doubling, Shchukin, Schmidt, van Loock, PRA 100, 032322
    (2019), eq. (64) (arXiv:1710.06214), as transcribed in third-party analysis code; at a = 1 it is
    E[max of four geometrics], which pins the transcription."""
    num = (2 * a * a * p ** 4 * (p - 1) * (2 * p - 3)
           - a * (20 * p ** 5 - 72 * p ** 4 + 93 * p ** 3 - 53 * p ** 2 + 10 * p + 4)
           + 3 * (3 - 2 * p) ** 2 * (2 * p * p - 3 * p + 2))
    den = a * a * p * (2 - p) * (a * p * p - (a + 2) * p + 3) * (-a * p ** 3 + 4 * p * p - 6 * p + 4)
    return num / den


def within(samples: np.ndarray, mean: float, sd: float, sigmas: float = 3.0) -> bool:
    return abs(samples.mean() - mean) < sigmas * sd / math.sqrt(len(samples))


# ---------------------------------------------------------------------------------------------
# trees


def test_tree_builders():
    nested = nested_tree(8)
    assert (nested.left, nested.right, nested.swapper) == (0, 8, 4)
    assert [c.swapper for c in nested.children] == [2, 6]
    seq = sequential_tree(4)
    swaps, node = [], seq
    while not node.is_link:
        swaps.append(node.swapper)
        assert node.children[1].is_link and node.left == 0
        node = node.children[0]
    assert swaps == [3, 2, 1]
    assert nested_tree(2) == sequential_tree(2) and nested_tree(1) == SwapTree(0, 1)


@pytest.mark.parametrize("latency", [True, False])
def test_single_link(latency):
    p, g = 0.3, 0.05
    stats = tree_delivery_statistics(nested_tree(1), p, 0.5, g, latency=latency)
    q = 1.0 - p
    assert stats.mean == pytest.approx(1 / p + latency, rel=1e-10)
    assert stats.sd == pytest.approx(math.sqrt(q) / p, rel=1e-8)
    assert stats.mean_decay == pytest.approx(math.exp(-2 * g) if latency else 1.0, rel=1e-12)
    assert stats.tail < 1e-12


def test_two_segments_without_latency_is_rep_1(cases):
    for key, exp in cases["REP-1"]["expected"].items():
        p, a = (float(kv.split("=")[1]) for kv in key.split(","))
        stats = tree_delivery_statistics(nested_tree(2), p, a, latency=False)
        assert stats.mean == pytest.approx(exp["E_T"], rel=1e-6), key
        assert stats.sd == pytest.approx(exp["SD_T"], rel=1e-5), key
        ref = two_segment_delivery_pmf(p, a)
        m = min(len(ref), len(stats.pmf))
        assert np.abs(stats.pmf[:m] - ref[:m]).max() < 1e-14, key


@pytest.mark.parametrize("p", [0.3, 0.7])
def test_two_segments_closed_forms(p):
    g = 0.02
    e_max = (3 - 2 * p) / (p * (2 - p))
    plain = tree_delivery_statistics(nested_tree(2), p, 1.0, g, latency=False)
    assert plain.mean == pytest.approx(e_max, rel=1e-10)
    assert plain.mean_decay == pytest.approx(two_link_decay(p, g), rel=1e-10)
    # with latency: heralds 1 T late, the swap notice to both ends 1 T, restarts 1 T after a failure;
    # 6 T of storage beyond the difference of the link times (2 per link before the swap, 2 after)
    for a in (0.5, 1.0):
        late = tree_delivery_statistics(nested_tree(2), p, a, g)
        assert late.mean == pytest.approx((e_max + 2) / a, rel=1e-10)
        assert late.mean_decay == pytest.approx(math.exp(-6 * g) * two_link_decay(p, g), rel=1e-10)


@pytest.mark.parametrize("n", [4, 8])
def test_nested_deterministic_swaps_without_latency_is_max_of_geometrics(n):
    p = 0.3
    stats = tree_delivery_statistics(nested_tree(n), p, 1.0, latency=False)
    assert stats.mean == pytest.approx(expected_max_of_geometrics(n, p), rel=1e-10)
    assert np.abs(stats.pmf - max_of_geometrics_pmf(n, p, len(stats.pmf))).max() < 1e-14


@pytest.mark.parametrize("p,a", [(0.3, 0.5), (0.1, 0.7), (0.9, 0.3), (0.5, 1.0)])
def test_four_segment_doubling_matches_shchukin(p, a):
    stats = tree_delivery_statistics(nested_tree(4), p, a, latency=False)
    assert stats.mean == pytest.approx(shchukin_four_segment_doubling(p, a), rel=1e-9)


def test_statistics_accessors():
    stats = tree_delivery_statistics(nested_tree(4), 0.3, 0.5, 0.01)
    given = stats.decay_given_interval()
    assert np.isnan(given[0]) and np.nanmax(given) <= 1.0 + 1e-9
    assert np.nansum(given * stats.pmf) == pytest.approx(stats.mean_decay, rel=1e-10)
    assert stats.mean_fidelity(1.0) == pytest.approx((1 + 3 * stats.mean_decay) / 4)
    assert stats.mean_fidelity(0.9) == pytest.approx((1 + 3 * 0.9 ** 4 * stats.mean_decay) / 4)
    # latency and restarts only lengthen the interval
    assert stats.mean > tree_delivery_statistics(nested_tree(4), 0.3, 0.5, latency=False).mean


def test_fft_products_agree_with_direct_sums(monkeypatch):
    """Long horizons (beyond 16384 T) multiply series by FFT; both paths give the same numbers."""
    direct = tree_delivery_statistics(nested_tree(4), 0.3, 0.5, 0.01)
    monkeypatch.setattr(analysis, "_DIRECT_PRODUCT", 0)
    fft = tree_delivery_statistics(nested_tree(4), 0.3, 0.5, 0.01)
    m = min(len(direct.pmf), len(fft.pmf))
    assert np.abs(direct.pmf[:m] - fft.pmf[:m]).max() < 1e-15
    assert (fft.mean, fft.sd, fft.mean_decay) == pytest.approx((direct.mean, direct.sd, direct.mean_decay), rel=1e-12)


def right_deep_three() -> SwapTree:
    return SwapTree(0, 3, (SwapTree(0, 1), SwapTree(1, 3, (SwapTree(1, 2), SwapTree(2, 3)))))


@pytest.mark.parametrize("tree,samples,latency", [
    (nested_tree(4), 40_000, True), (nested_tree(4), 40_000, False), (sequential_tree(4), 40_000, True),
    (nested_tree(8), 10_000, True), (right_deep_three(), 40_000, True),
])
def test_tree_analysis_against_sampler(tree, samples, latency):
    p, a, g = 0.3, 0.5, 0.01
    stats = tree_delivery_statistics(tree, p, a, g, latency=latency)
    rng = np.random.default_rng(20261123 + tree.segments)
    intervals, decays = sample_tree_delivery(tree, p, a, g, samples, rng, latency=latency)
    assert within(intervals, stats.mean, stats.sd)
    assert within(decays, stats.mean_decay, decays.std())
    cdf = np.cumsum(stats.pmf)
    for t in np.searchsorted(cdf, [0.25, 0.5, 0.75]):
        assert abs((intervals <= t).mean() - cdf[t]) < 3 * math.sqrt(cdf[t] * (1 - cdf[t]) / samples)


# ---------------------------------------------------------------------------------------------
# swap-asap, a = 1, first delivery with latency


def test_swap_asap_first_delivery_limits():
    p = 0.3
    for n in (1, 4, 8):
        plain = swap_asap_first_delivery_pmf(n, p, latency=False)
        assert np.abs(plain - max_of_geometrics_pmf(n, p, len(plain))).max() < 1e-15
    single = swap_asap_first_delivery_pmf(1, p)
    assert pmf_mean_sd(single)[0] == pytest.approx(1 / p + 1, rel=1e-10)
    # two segments: the repeater's record reaches either end 1 T after its swap, as in the tree model
    both = swap_asap_first_delivery_pmf(2, p)
    tree = tree_delivery_statistics(nested_tree(2), p, 1.0).pmf
    m = min(len(both), len(tree))
    assert np.abs(both[:m] - tree[:m]).max() < 1e-14
    # both ends know no earlier than either end, and the chain is symmetric
    for n in (4, 8):
        left, right, late = (pmf_mean_sd(swap_asap_first_delivery_pmf(n, p, end=e)) for e in ("left", "right", "both"))
        assert left == pytest.approx(right, rel=1e-10) and late[0] > left[0]


@pytest.mark.parametrize("n", [4, 8])
def test_swap_asap_first_delivery_against_sampler(n):
    p, samples = 0.3, 40_000
    left, right = sample_swap_asap_first_delivery(n, p, samples, np.random.default_rng(7 + n))
    for end, times in (("left", left), ("right", right), ("both", np.maximum(left, right))):
        pmf = swap_asap_first_delivery_pmf(n, p, end=end)
        mean, sd = pmf_mean_sd(pmf)
        assert within(times, mean, sd), end
        counts = np.bincount(times, minlength=len(pmf))[:len(pmf)] / samples
        assert np.abs(counts - pmf).max() < 4 * math.sqrt(pmf.max() / samples), end


# ---------------------------------------------------------------------------------------------
# swap-asap with probabilistic swaps: Shchukin et al.'s Markov chain


def test_markov_chain_limits(cases):
    assert swap_asap_markov_waiting_time(1, 0.3, 0.5) == pytest.approx((1 / 0.3, math.sqrt(0.7) / 0.3))
    for key, exp in cases["REP-1"]["expected"].items():
        p, a = (float(kv.split("=")[1]) for kv in key.split(","))
        mean, sd = swap_asap_markov_waiting_time(2, p, a)
        assert mean == pytest.approx(exp["E_T"], rel=1e-9), key
        assert sd == pytest.approx(exp["SD_T"], rel=1e-5), key
    for n in (3, 4, 8):
        mean, sd = swap_asap_markov_waiting_time(n, 0.3, 1.0)
        ref = max_of_geometrics_pmf(n, 0.3, 400)
        assert mean == pytest.approx(expected_max_of_geometrics(n, 0.3), rel=1e-10)
        assert sd == pytest.approx(pmf_mean_sd(ref)[1], rel=1e-9)


@pytest.mark.parametrize("n,samples", [(3, 20_000), (4, 20_000), (8, 3_000)])
def test_markov_chain_against_sampler(n, samples):
    p, a = 0.3, 0.5
    mean, sd = swap_asap_markov_waiting_time(n, p, a)
    times = sample_swap_asap_markov_waiting_times(n, p, a, samples, np.random.default_rng(31 + n))
    assert within(times, mean, sd)
    assert abs(times.std() - sd) < 0.1 * sd  # about 4 sigma for n = 8


# ---------------------------------------------------------------------------------------------
# invalid input


@pytest.mark.parametrize("call", [
    lambda: tree_delivery_statistics(nested_tree(2), 0.0),
    lambda: tree_delivery_statistics(nested_tree(2), 1.5),
    lambda: tree_delivery_statistics(nested_tree(2), 0.3, a=0.0),
    lambda: tree_delivery_statistics(nested_tree(2), 0.3, a=1.2),
    lambda: tree_delivery_statistics(nested_tree(2), 0.3, decay_per_attempt=-0.1),
    lambda: tree_delivery_statistics(nested_tree(2), 0.3, decay_per_attempt=float("nan")),
    lambda: tree_delivery_statistics(nested_tree(2), 0.3, tail=0.0),
    lambda: tree_delivery_statistics("tree", 0.3),
    lambda: tree_delivery_statistics(nested_tree(8), 1e-6, 0.1),
    lambda: sample_tree_delivery(nested_tree(2), 0.3, 0.5, -1.0, 10, np.random.default_rng()),
    lambda: nested_tree(0),
    lambda: sequential_tree(0),
    lambda: SwapTree(0, 2),
    lambda: SwapTree(0, 3, (SwapTree(0, 1), SwapTree(2, 3))),
    lambda: swap_asap_first_delivery_pmf(0, 0.3),
    lambda: swap_asap_first_delivery_pmf(4, 0.3, end="middle"),
    lambda: swap_asap_first_delivery_pmf(4, -0.3),
    lambda: swap_asap_markov_waiting_time(11, 0.3, 0.5),
    lambda: swap_asap_markov_waiting_time(4, 0.3, 0.0),
    lambda: sample_swap_asap_markov_waiting_times(4, 0.3, 0.5, -1, np.random.default_rng()),
])
def test_invalid_input_is_refused(call):
    with pytest.raises(ConfigurationError):
        call()


def test_nested_trees_of_any_length_split_spans_at_the_midpoint():
    tree = nested_tree(5)
    assert (tree.swapper, [c.segments for c in tree.children]) == (2, [2, 3])
    assert [c.swapper for c in tree.children] == [1, 3] and tree.children[1].children[1].swapper == 4
    assert nested_tree(8) == _doubling(0, 8)


def _doubling(left, n):
    """The textbook doubling tree, built independently."""
    if n == 1:
        return SwapTree(left, left + 1)
    return SwapTree(left, left + n, (_doubling(left, n // 2), _doubling(left + n // 2, n // 2)))
