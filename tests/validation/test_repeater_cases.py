"""REP-1: mean (and spread) of the delivery time of a two-segment repeater."""

from __future__ import annotations

import math

import numpy as np

from qactors.protocols.analysis import (pmf_mean_sd, sample_two_segment_delivery_times,
                                        two_segment_delivery_pmf, two_segment_mean_delivery_time)


def parse(key: str) -> tuple[float, float]:
    parts = dict(item.split("=") for item in key.split(","))
    return float(parts["p"]), float(parts["a"])


def test_rep_1_closed_form_and_pmf(cases):
    case = cases["REP-1"]
    for key, exp in case["expected"].items():
        p, a = parse(key)
        assert math.isclose(two_segment_mean_delivery_time(p, a), exp["E_T"], rel_tol=1e-6), key
        mean, sd = pmf_mean_sd(two_segment_delivery_pmf(p, a))
        assert math.isclose(mean, exp["E_T"], rel_tol=1e-6), key  # "exact/algorithmic: rel 1e-6"
        assert math.isclose(sd, exp["SD_T"], rel_tol=1e-5), key   # SD printed to 6 digits


def test_rep_1_monte_carlo(cases):
    case = cases["REP-1"]
    rng = np.random.default_rng(20261122)
    n = 200_000
    for key, exp in case["expected"].items():
        p, a = parse(key)
        samples = sample_two_segment_delivery_times(p, a, n, rng)
        assert samples.min() >= 1
        assert abs(samples.mean() - exp["E_T"]) < 3 * exp["SD_T"] / math.sqrt(n), key  # the case's MC bound
