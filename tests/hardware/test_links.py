"""Heralded-link physics: double click, single click, attempt timing and rates."""

from __future__ import annotations

import pytest

from qactors.hardware import (Fibre, attempt_duration_ps, attempt_duration_s, double_click,
                              double_click_success_probability, heralded_rate_hz, midpoint_arm_efficiency,
                              single_click, single_click_success_probability)


def test_midpoint_arm_squared_is_one_full_span(expect_error):
    """(eta_d 10^(-a L/20))^2 = eta_d^2 10^(-a L/10): two half-spans in series are one span."""
    for length in (0.0, 10.0, 73.0, 300.0):
        eta = midpoint_arm_efficiency(length, detection_efficiency=0.7, attenuation_db_per_km=0.18)
        assert eta ** 2 == pytest.approx(0.49 * Fibre(length, attenuation_db_per_km=0.18).transmissivity, rel=1e-12)
    expect_error(lambda: midpoint_arm_efficiency(-1.0), "length_km", "-1.0", ">= 0")
    expect_error(lambda: midpoint_arm_efficiency(1.0, detection_efficiency=2.0), "detection_efficiency", "2.0",
                 "[0, 1]")
    expect_error(lambda: midpoint_arm_efficiency(1.0, attenuation_db_per_km=-0.2), "attenuation_db_per_km",
                 "-0.2", ">= 0")


def test_double_click(expect_error):
    assert double_click_success_probability(1.0) == 0.5
    assert double_click_success_probability(0.1) == pytest.approx(0.005)
    ideal = double_click(0.3)
    assert ideal.fidelity == 1.0 and ideal.success_probability == pytest.approx(0.045)
    assert double_click(0.3, visibility=0.9).pauli_probabilities == pytest.approx((0.95, 0.0, 0.0, 0.05))
    expect_error(lambda: double_click_success_probability(1.5), "eta_arm", "1.5", "[0, 1]")
    expect_error(lambda: double_click(0.5, visibility=-1.0), "visibility", "-1.0", "[0, 1]")


def test_single_click_small_loss_limit():
    """For alpha eta << 1: p -> 2 alpha eta and F -> 1 - alpha (Humphreys et al. 2018)."""
    for alpha in (0.02, 0.05, 0.1, 0.3):
        link = single_click(alpha, 1e-6)
        assert link.success_probability == pytest.approx(2 * alpha * 1e-6, rel=1e-6)
        assert link.fidelity == pytest.approx(1 - alpha, rel=1e-6)
        assert single_click_success_probability(alpha, 1e-6) == link.success_probability


def test_single_click_exact_model():
    """One bright: 2 a (1-a) eta -> good; both bright: a^2 eta (2 - eta) -> |11>.
    a = 0.2, eta = 0.5: good = 0.16, bad = 0.04 x 0.75 = 0.03, p = 0.19, q = 16/19; |11> twirls to
    equal X and Y; V = 0.8 moves q (1 - V)/2 of the good part to Z."""
    link = single_click(0.2, 0.5, visibility=0.8)
    q = 16 / 19
    assert link.success_probability == pytest.approx(0.19, rel=1e-12)
    assert link.pauli_probabilities == pytest.approx((q * 0.9, (1 - q) / 2, (1 - q) / 2, q * 0.1), rel=1e-12)
    assert sum(link.pauli_probabilities) == pytest.approx(1.0)


def test_single_click_trade_off(expect_error):
    """More bright-state population: more heralds, lower fidelity."""
    links = [single_click(a, 0.01) for a in (0.01, 0.05, 0.1, 0.2, 0.4)]
    assert [lk.success_probability for lk in links] == sorted(lk.success_probability for lk in links)
    assert [lk.fidelity for lk in links] == sorted((lk.fidelity for lk in links), reverse=True)
    assert single_click(0.0, 0.5).success_probability == 0.0
    assert single_click(1.0, 0.5).pauli_probabilities == (0.0, 0.5, 0.5, 0.0)  # only |11> heralds
    expect_error(lambda: single_click(1.2, 0.5), "bright_state_population", "1.2", "[0, 1]")


def test_attempt_timing_and_rate(expect_error):
    """Photon to the midpoint (L/2) and herald back (L/2): T = L/c; 20 km at 2e8 m/s is 100 us.
    Back-to-back attempts give p/T successes per second."""
    assert attempt_duration_s(20.0) == pytest.approx(1e-4, rel=1e-12)
    assert attempt_duration_ps(20.0) == 100_000_000
    assert attempt_duration_ps(20.0, c_m_per_s=299_792_458.0) == round(20e3 / 299_792_458.0 * 1e12)
    assert heralded_rate_hz(0.01, 20.0) == pytest.approx(100.0, rel=1e-12)
    rates = [heralded_rate_hz(double_click_success_probability(midpoint_arm_efficiency(length)), length)
             for length in (1, 10, 50, 100)]
    assert rates == sorted(rates, reverse=True)
    expect_error(lambda: attempt_duration_s(0.0), "length_km", "0.0", "> 0")
    expect_error(lambda: attempt_duration_s(10.0, c_m_per_s=-1.0), "c_m_per_s", "-1.0", "> 0")
    expect_error(lambda: heralded_rate_hz(1.5, 10.0), "success_probability", "1.5", "[0, 1]")
