"""Detectors: validation, click statistics, number resolution, named constructors."""

from __future__ import annotations

import math

import pytest

from qactors.hardware import Detector


@pytest.mark.parametrize("kwargs, field, value, allowed", [
    ({"efficiency": 1.2}, "Detector.efficiency", "1.2", "[0, 1]"),
    ({"efficiency": -0.01}, "Detector.efficiency", "-0.01", "[0, 1]"),
    ({"dark_count_rate_hz": -5.0}, "Detector.dark_count_rate_hz", "-5.0", ">= 0"),
    ({"dead_time_ps": 1.5}, "Detector.dead_time_ps", "1.5", "int >= 0"),
    ({"dead_time_ps": -1}, "Detector.dead_time_ps", "-1", "int >= 0"),
    ({"timing_jitter_ps": -3.0}, "Detector.timing_jitter_ps", "-3.0", ">= 0"),
    ({"number_resolving": 1}, "Detector.number_resolving", "1", "True or False"),
])
def test_rejects_bad_fields(kwargs, field, value, allowed, expect_error):
    expect_error(lambda: Detector(**kwargs), field, value, allowed)


def test_click_probability_closed_form():
    """Poisson light of mean n through efficiency eta gives Poisson(eta n); dark counts
    add Poisson(rate w); no click needs zero of both: P = 1 - e^{-rate w} e^{-eta n}."""
    d = Detector(efficiency=0.7, dark_count_rate_hz=1e3)
    w, n = 2e-9, 0.4
    p_dark = 1 - math.exp(-1e3 * w)
    assert d.dark_count_probability(w) == pytest.approx(p_dark, rel=1e-12)
    assert d.click_probability(n, w) == pytest.approx(1 - (1 - p_dark) * math.exp(-0.7 * n), rel=1e-12)
    assert d.click_probability(0.0, w) == pytest.approx(p_dark, rel=1e-12)
    assert Detector().click_probability(0.0, 1.0) == 0.0
    assert Detector().click_probability(1.0, 0.0) == pytest.approx(1 - math.exp(-1.0))


def test_click_probability_is_monotonic():
    d = Detector.snspd()
    clicks = [d.click_probability(n, 1e-9) for n in (0.0, 1e-3, 0.1, 1.0, 10.0)]
    assert clicks == sorted(clicks) and clicks[-1] < 1.0
    windows = [d.click_probability(0.0, w) for w in (1e-9, 1e-6, 1e-3)]
    assert windows == sorted(windows)


def test_threshold_detector_cannot_tell_one_photon_from_two():
    """A threshold detector reads every click as one photon; a number-resolving
    one reports exactly one with probability m e^{-m}, m = eta n + rate w."""
    threshold = Detector(efficiency=0.9)
    pnr = Detector(efficiency=0.9, number_resolving=True)
    n = 2.0
    assert threshold.single_count_probability(n, 1e-9) == threshold.click_probability(n, 1e-9)
    assert pnr.single_count_probability(n, 1e-9) == pytest.approx(1.8 * math.exp(-1.8), rel=1e-12)
    assert pnr.single_count_probability(n, 1e-9) < pnr.click_probability(n, 1e-9)


def test_argument_checks(expect_error):
    d = Detector()
    expect_error(lambda: d.click_probability(-1.0, 1e-9), "mean_photons", "-1.0", ">= 0")
    expect_error(lambda: d.click_probability(1.0, -1e-9), "window_s", "-1e-09", ">= 0")
    expect_error(lambda: d.dark_count_probability(math.nan), "window_s", "nan", ">= 0")


def test_dead_time_bounds_the_count_rate():
    assert Detector(dead_time_ps=50_000).max_count_rate_hz == pytest.approx(2e7)
    assert Detector().max_count_rate_hz == math.inf


def test_named_detectors_are_ordered_as_in_the_literature():
    """At 1550 nm SNSPDs beat InGaAs SPADs on efficiency, dark counts, jitter and dead time."""
    snspd, spad, si = Detector.snspd(), Detector.spad(), Detector.silicon_spad()
    assert snspd.efficiency > spad.efficiency
    assert snspd.dark_count_rate_hz < spad.dark_count_rate_hz
    assert snspd.timing_jitter_ps < spad.timing_jitter_ps
    assert snspd.dead_time_ps < spad.dead_time_ps
    for d in (snspd, spad, si):
        assert not d.number_resolving and type(d.dead_time_ps) is int
