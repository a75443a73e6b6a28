"""Delivery-time statistics of small repeater chains, computed exactly and sampled.

Two segments, each generating entanglement by heralded attempts of equal
duration that succeed independently with probability ``p``; perfect
memories; the middle node swaps as soon as both links exist, succeeding with
probability ``a``; a failed swap loses both links and the process restarts.
Time is counted in attempts (the first attempt ends at T = 1).

* closed form of the mean: Shchukin, Schmidt, van Loock, PRA 100, 032322
  (2019), ``E[T] = (3 - 2p) / (a p (2 - p))``;
* the whole distribution by the recursion
  ``f_T = a f_M + (1 - a) f_M * f_T`` over the distribution ``f_M`` of the
  later of the two link-generation times (``P(M <= t) = (1 - (1-p)^t)^2``),
  in the spirit of the probability-mass-function algorithm of Brand,
  Coopmans, Elkouss, IEEE JSAC 38, 619 (2020);
* Monte Carlo samples from the same process, for checking simulations.
"""

from __future__ import annotations

import math

import numpy as np

from qactors.core.errors import ConfigurationError

__all__ = ["two_segment_mean_delivery_time", "two_segment_delivery_pmf", "pmf_mean_sd",
           "sample_two_segment_delivery_times"]


def _check(p: float, a: float) -> None:
    if not 0.0 < p <= 1.0:
        raise ConfigurationError(f"attempt success probability p must be in (0, 1], got {p!r}", field="p", value=p)
    if not 0.0 < a <= 1.0:
        raise ConfigurationError(f"swap success probability a must be in (0, 1], got {a!r}", field="a", value=a)


def two_segment_mean_delivery_time(p: float, a: float = 1.0) -> float:
    """Mean delivery time in attempts, closed form."""
    _check(p, a)
    return (3.0 - 2.0 * p) / (a * p * (2.0 - p))


def two_segment_delivery_pmf(p: float, a: float = 1.0, tail: float = 1e-13) -> np.ndarray:
    """``pmf[t]`` = probability that the end-to-end pair is delivered at attempt ``t``
    (``pmf[0] = 0``), truncated where the remaining probability is below ``tail``."""
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
    """Mean and standard deviation of a distribution over 0, 1, 2, ..."""
    t = np.arange(len(pmf), dtype=float)
    mass = pmf.sum()
    mean = float((t * pmf).sum() / mass)
    var = float(((t - mean) ** 2 * pmf).sum() / mass)
    return mean, math.sqrt(var)


def sample_two_segment_delivery_times(p: float, a: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` delivery times (attempts) drawn from the process above."""
    _check(p, a)
    total = np.zeros(n, dtype=np.int64)
    pending = np.arange(n)
    while pending.size:
        m = np.maximum(rng.geometric(p, pending.size), rng.geometric(p, pending.size))
        total[pending] += m
        pending = pending[rng.random(pending.size) >= a]
    return total
