"""QKD figures of merit in qactors.quantum.information and the X-Z plane measurement of
Bell-diagonal pairs in qactors.quantum.bell: E91/CHSH against density matrices, the
device-independent key fraction, and the decoy-state BB84 closed forms of Ma, Qi, Zhao,
Lo, PRA 72, 012326 (2005) [MQZL]."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qactors.core.errors import ConfigurationError
from qactors.quantum import bell, information as info
from qactors.quantum import density as d

TOL = 1e-9
SETTINGS = settings(max_examples=40, deadline=None)
GRID = 2000
ANGLES = st.floats(-2 * math.pi, 2 * math.pi, allow_nan=False)


@st.composite
def coefficients(draw):
    raw = draw(st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4).filter(lambda v: sum(v) > 1e-3))
    total = sum(raw)
    return tuple(x / total for x in raw)


def joint_distribution(rho: np.ndarray, theta_a: float, theta_b: float) -> np.ndarray:
    """P(a, b) with qubit 0 measured along theta_a and qubit 1 along theta_b in the X-Z plane:
    the eigenvectors of cos(t) Z + sin(t) X are the columns of ry(t) (outcome 0 = eigenvalue +1)."""
    out = np.zeros((2, 2))
    for a in (0, 1):
        p, post = d.measure(rho, 0, d.ry(theta_a), a)
        if p > 0:
            out[a] = p * d.probabilities(post, 1, d.ry(theta_b))
    return out


@SETTINGS
@given(coefficients(), ANGLES, ANGLES)
def test_correlation_xz_matches_density_matrices(c, theta_a, theta_b):
    rho = d.bell_diagonal(c)
    t = d.correlation_matrix(rho)
    da = np.array([math.sin(theta_a), 0.0, math.cos(theta_a)])
    db = np.array([math.sin(theta_b), 0.0, math.cos(theta_b)])
    assert abs(bell.correlation_xz(c, theta_a, theta_b) - da @ t @ db) < TOL


@pytest.mark.parametrize("theta_a, theta_b", [(0.0, math.pi / 4), (math.pi / 2, 3 * math.pi / 4), (0.3, 1.9),
                                              (math.pi / 4, math.pi / 4)])
def test_measure_pair_xz_statistics(theta_a, theta_b):
    """The outcome pair drawn from two uniform numbers has the density-matrix joint distribution."""
    for c in ((1, 0, 0, 0), (0, 0, 1, 0), (0.7, 0.1, 0.15, 0.05), (0.1, 0.5, 0.1, 0.3)):
        out = np.zeros((2, 2))
        for u_a in (0.25, 0.75):
            for u_b in (np.arange(GRID) + 0.5) / GRID:
                a, b = bell.measure_pair_xz(c, theta_a, theta_b, u_a, u_b)
                out[a, b] += 0.5 / GRID
        assert np.max(np.abs(out - joint_distribution(d.bell_diagonal(c), theta_a, theta_b))) <= 1.0 / GRID + TOL


def test_measure_pair_xz_agrees_with_pauli_measurement_at_0_and_pi_over_2():
    c = (0.7, 0.1, 0.15, 0.05)
    for u_a in (0.1, 0.6):
        for u_b in np.linspace(0.0, 0.999, 37):
            assert bell.measure_pair_xz(c, 0.0, 0.0, u_a, u_b) == bell.measure_pair(c, "Z", "Z", u_a, u_b)
            assert bell.measure_pair_xz(c, math.pi / 2, math.pi / 2, u_a, u_b) == bell.measure_pair(c, "X", "X", u_a,
                                                                                                    u_b)
    with pytest.raises(ConfigurationError, match="theta_b = nan"):
        bell.measure_pair_xz(c, 0.0, math.nan, 0.1, 0.2)


@pytest.mark.parametrize("fidelity", [1.0, 0.95, 0.9, 0.85, 0.8, 0.78033, 0.75, 0.7])
def test_e91_chsh_of_werner_states(fidelity, cases):
    """QKD-2: S = 2 sqrt 2 w at the E91 angles, the optimum for a Werner state, and the density-matrix
    CHSH value at the same angles; both key settings have QBER (1 - w)/2."""
    c = bell.werner(fidelity)
    w = bell.werner_parameter(fidelity)
    expected = cases["QKD-2"]["expected"][str(fidelity)]
    assert info.e91_chsh_value(c) == pytest.approx(expected["S"], abs=1e-6)
    assert info.e91_chsh_value(c) == pytest.approx(2 * math.sqrt(2) * w, abs=TOL)
    assert info.e91_chsh_value(c) == pytest.approx(info.chsh_value(c), abs=TOL)
    # density.chsh is E(a0,b0) + E(a0,b1) + E(a1,b0) - E(a1,b1): with a0 = X, a1 = Z, b0 = D, b1 = A it is
    # E(X,D) + E(X,A) + E(Z,D) - E(Z,A), the E91 combination
    a = info.E91_ANGLES
    assert d.chsh(d.bell_diagonal(c), a["X"], a["Z"], a["D"], a["A"]) == pytest.approx(info.e91_chsh_value(c), abs=TOL)
    for setting in info.E91_KEY_SETTINGS:
        assert info.e91_qber(c, setting) == pytest.approx(expected["QBER"], abs=1e-6)


def test_e91_chsh_of_a_dephased_pair_is_below_the_optimum():
    c = (0.9, 0.0, 0.0, 0.1)  # <ZZ> = 1, <XX> = 0.8, <YY> = -0.8
    assert info.e91_chsh_value(c) == pytest.approx(math.sqrt(2) * 1.8)
    assert info.e91_chsh_value(c) < info.chsh_value(c)
    with pytest.raises(ConfigurationError, match="setting alice = 'Y'"):
        info.e91_correlation(c, "Y", "D")
    with pytest.raises(ConfigurationError, match="key setting 'Z'"):
        info.e91_qber(c, "Z")


def test_device_independent_key_fraction():
    """Acín et al. PRL 98, 230501 (2007): 1 at S = 2 sqrt 2 and Q = 0; for Werner pairs the key
    vanishes near Q = 7.1 %; no key at S <= 2."""
    assert info.di_key_fraction(2 * math.sqrt(2), 0.0) == pytest.approx(1.0)
    assert info.di_key_fraction(2.0, 0.0) == pytest.approx(0.0)
    assert info.di_key_fraction(1.5, 0.01) < 0
    assert info.di_key_fraction(3.0, 0.0) == pytest.approx(1.0)  # a fluctuation above 2 sqrt 2 is clamped
    lo, hi = 0.0, 0.2
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if info.di_key_fraction(2 * math.sqrt(2) * (1 - 2 * mid), mid) > 0 else (lo, mid)
    assert 0.070 < lo < 0.072
    assert info.di_key_fraction(2.5, 0.05, ec_efficiency=1.2) < info.di_key_fraction(2.5, 0.05)
    with pytest.raises(ConfigurationError, match="ec_efficiency = 0.9"):
        info.di_key_fraction(2.5, 0.05, ec_efficiency=0.9)


def test_secret_fraction_is_the_shor_preskill_fraction_for_equal_error_rates(cases):
    for q, r in cases["QKD-1"]["expected"]["r"].items():
        assert info.secret_fraction(float(q), float(q)) == pytest.approx(r, abs=1e-7)
    assert info.secret_fraction(0.02, 0.05, 1.2) == pytest.approx(1 - 1.2 * info.binary_entropy(0.02)
                                                                 - info.binary_entropy(0.05))
    with pytest.raises(ConfigurationError, match="bit_error_rate = 1.5"):
        info.secret_fraction(1.5, 0.0)


# -- decoy-state BB84 ---------------------------------------------------------------------------------
# GYS parameters as tabulated by MQZL (Table I): eta_Bob = 4.5 %, Y0 = 1.7e-6, e_d = 3.3 %, 0.21 dB/km, f = 1.22
ETA_BOB, Y0, E_D, ALPHA = 0.045, 1.7e-6, 0.033, 0.21


def eta_at(length_km: float) -> float:
    return ETA_BOB * 10 ** (-ALPHA * length_km / 10)


@pytest.mark.parametrize("length_km", [0, 25, 50, 100, 130])
@pytest.mark.parametrize("mu", [0.1, 0.48, 1.0])
def test_gain_and_error_rate_are_mqzl_up_to_the_dark_count_product(length_km, mu):
    """MQZL write Q = Y0 + 1 - exp(-eta mu) and E Q = e0 Y0 + e_d (1 - exp(-eta mu)); the exact
    forms differ by the product Y0 (1 - exp(-eta mu)) (a dark count and a photon in one gate)."""
    eta = eta_at(length_km)
    x = math.exp(-eta * mu)
    q = info.decoy_gain(mu, eta, Y0)
    assert abs(q - (Y0 + 1 - x)) <= Y0 * (1 - x) * (1 + 1e-6) + 1e-15
    assert abs(info.decoy_error_rate(mu, eta, Y0, E_D) * q - (0.5 * Y0 + E_D * (1 - x))) <= Y0 * (1 - x) + 1e-15
    assert info.decoy_gain(0.0, eta, Y0) == pytest.approx(Y0)
    assert info.decoy_error_rate(0.0, eta, Y0, E_D) == pytest.approx(0.5)


@pytest.mark.parametrize("length_km", [0, 40, 80, 120, 140])
@pytest.mark.parametrize("nu", [0.02, 0.05, 0.1, 0.2])
def test_decoy_bounds_hold_and_the_rate_stays_below_the_infinite_decoy_rate(length_km, nu):
    """Y1_lower <= Y1 = 1 - (1 - Y0)(1 - eta) and e1_upper >= e1, so the decoy rate never exceeds
    the infinite-decoy rate; the bounds tighten as nu -> 0."""
    mu, eta = 0.48, eta_at(length_km)
    y1 = 1 - (1 - Y0) * (1 - eta)
    e1 = (E_D * eta + 0.5 * Y0 * (1 - eta)) / y1
    y1_lower, e1_upper = info.single_photon_bounds(mu, nu, info.decoy_gain(mu, eta, Y0), info.decoy_gain(nu, eta, Y0),
                                                   Y0, info.decoy_error_rate(nu, eta, Y0, E_D))
    assert y1_lower <= y1 * (1 + 1e-12)
    assert e1_upper >= e1 * (1 - 1e-12)
    decoy = info.decoy_key_rate(mu, nu, eta, Y0, E_D)
    infinite = info.infinite_decoy_key_rate(mu, eta, Y0, E_D)
    assert decoy <= infinite + 1e-18


def test_decoy_rate_is_close_to_the_infinite_decoy_rate_for_a_weak_decoy():
    """MQZL's point: vacuum + a weak decoy nearly reach the infinite-decoy rate (here within 7 % up
    to 100 km with nu = 0.05, within 2 % with nu = 0.01)."""
    for length_km in (0, 25, 50, 75, 100):
        eta = eta_at(length_km)
        infinite = info.infinite_decoy_key_rate(0.48, eta, Y0, E_D)
        assert 0.93 * infinite < info.decoy_key_rate(0.48, 0.05, eta, Y0, E_D) <= infinite
        assert 0.98 * infinite < info.decoy_key_rate(0.48, 0.01, eta, Y0, E_D) <= infinite


def test_gllp_rate_at_zero_distance_by_hand():
    eta = ETA_BOB
    q = 1 - (1 - Y0) * math.exp(-eta * 0.48)
    e = (E_D * (1 - math.exp(-eta * 0.48)) + 0.5 * Y0 * math.exp(-eta * 0.48)) / q
    y1 = Y0 + eta - Y0 * eta
    e1 = (E_D * eta + 0.5 * Y0 * (1 - eta)) / y1
    by_hand = 0.5 * (-q * 1.22 * info.binary_entropy(e) + y1 * 0.48 * math.exp(-0.48) * (1 - info.binary_entropy(e1)))
    assert info.infinite_decoy_key_rate(0.48, eta, Y0, E_D) == pytest.approx(by_hand, rel=1e-12)
    assert by_hand == pytest.approx(2.5547e-3, rel=1e-3)


def test_decoy_inputs_are_checked():
    with pytest.raises(ConfigurationError, match="0 < nu < mu"):
        info.single_photon_bounds(0.1, 0.1, 0.01, 0.01, 1e-6, 0.03)
    with pytest.raises(ConfigurationError, match="nu = 0.5"):
        info.single_photon_bounds(0.1, 0.5, 0.01, 0.01, 1e-6, 0.03)
    with pytest.raises(ConfigurationError, match="eta = 1.2"):
        info.decoy_gain(0.5, 1.2, 1e-6)
    with pytest.raises(ConfigurationError, match="mu = -0.1"):
        info.decoy_gain(-0.1, 0.1, 1e-6)
    with pytest.raises(ConfigurationError, match="basis_factor = 0"):
        info.gllp_key_rate(0.01, 0.03, 0.005, 0.03, basis_factor=0)
    with pytest.raises(ConfigurationError, match="misalignment = -0.01"):
        info.decoy_error_rate(0.5, 0.1, 1e-6, -0.01)
    # no single-photon information: the estimate gives up rather than guess
    assert info.single_photon_bounds(0.5, 0.1, 0.5, 0.0, 0.0, 0.0) == (0.0, 0.5)


def test_doctests():
    result = doctest.testmod(info)
    assert result.attempted > 0 and result.failed == 0
