"""Photon sources: SPDC statistics, quantum-dot interference, emitter nodes."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from qactors.hardware import EMITTER_KINDS, EmitterNode, QuantumDotSource, SPDCSource


# --- SPDC --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, field, value, allowed", [
    ({"mean_photon_number": -0.1}, "SPDCSource.mean_photon_number", "-0.1", ">= 0"),
    ({"heralding_efficiency": 1.2}, "SPDCSource.heralding_efficiency", "1.2", "[0, 1]"),
    ({"repetition_rate_hz": 0.0}, "SPDCSource.repetition_rate_hz", "0.0", "> 0"),
    ({"wavelength_nm": -1550.0}, "SPDCSource.wavelength_nm", "-1550.0", "> 0"),
])
def test_spdc_rejects_bad_fields(kwargs, field, value, allowed, expect_error):
    args = dict(mean_photon_number=0.05, heralding_efficiency=0.8, repetition_rate_hz=1e8)
    args.update(kwargs)
    expect_error(lambda: SPDCSource(**args), field, value, allowed)


@pytest.mark.parametrize("mu", [0.0, 0.01, 0.2, 1.5])
def test_thermal_statistics(mu):
    """P(n) = mu^n/(1+mu)^(n+1) is normalised with mean mu; P(0), P(1) and
    P(n >= 2) = 1 - P(0) - P(1) = (mu/(1+mu))^2 agree with it."""
    s = SPDCSource(mu, 0.9, 1e8)
    probs = [s.pair_number_probability(n) for n in range(400)]
    assert sum(probs) == pytest.approx(1.0, abs=1e-12)
    assert sum(n * p for n, p in enumerate(probs)) == pytest.approx(mu, abs=1e-10)
    assert s.vacuum_probability == pytest.approx(probs[0], rel=1e-12)
    assert s.single_pair_probability == pytest.approx(probs[1], abs=1e-15)
    assert s.multi_pair_probability == pytest.approx(1 - probs[0] - probs[1], abs=1e-12)


def test_multi_pair_emission_lowers_the_visibility():
    """V(mu) = (1 + mu)/(1 + 3 mu): 1 at mu = 0, slope -2 there (V ~ 1 - 2 mu), 1/3 as mu -> inf."""
    mus = [0.0, 0.001, 0.01, 0.1, 1.0, 10.0]
    vis = [SPDCSource(mu, 1.0, 1e6).entanglement_visibility for mu in mus]
    assert vis[0] == 1.0 and vis == sorted(vis, reverse=True)
    assert (1 - SPDCSource(1e-6, 1, 1).entanglement_visibility) / 1e-6 == pytest.approx(2.0, rel=1e-5)
    assert SPDCSource(1e6, 1, 1).entanglement_visibility == pytest.approx(1 / 3, rel=1e-5)
    s = SPDCSource(0.1, 1.0, 1e6)
    assert s.werner_factor == s.entanglement_visibility
    assert s.fidelity == pytest.approx((1 + 3 * s.werner_factor) / 4)


def test_herald_probability_sums_the_series(expect_error):
    """Threshold herald: sum_n P(n) (1 - (1 - eta)^n), which for thermal P(n) is eta mu/(1 + eta mu)."""
    s = SPDCSource(0.3, 0.9, 1e8)
    eta = 0.6
    series = sum(s.pair_number_probability(n) * (1 - (1 - eta) ** n) for n in range(300))
    assert s.herald_probability(eta) == pytest.approx(series, rel=1e-12)
    assert s.pair_rate_hz == pytest.approx(3e7)
    expect_error(lambda: s.herald_probability(1.5), "detector_efficiency", "1.5", "[0, 1]")
    expect_error(lambda: s.pair_number_probability(-1), "n", "-1", "int >= 0")


# --- quantum dots ------------------------------------------------------------------------------------

def _dot(**kw) -> QuantumDotSource:
    args = dict(brightness=0.3, entanglement_fidelity=0.95, indistinguishability=0.9, repetition_rate_hz=8e7,
                linewidth_ghz=0.5, central_frequency_thz=384.0)
    args.update(kw)
    return QuantumDotSource(**args)


@pytest.mark.parametrize("kwargs, field, value, allowed", [
    ({"brightness": -0.1}, "QuantumDotSource.brightness", "-0.1", "[0, 1]"),
    ({"entanglement_fidelity": 0.2}, "QuantumDotSource.entanglement_fidelity", "0.2", "[0.25, 1]"),
    ({"indistinguishability": 1.01}, "QuantumDotSource.indistinguishability", "1.01", "[0, 1]"),
    ({"linewidth_ghz": 0.0}, "QuantumDotSource.linewidth_ghz", "0.0", "> 0"),
    ({"central_frequency_thz": -1.0}, "QuantumDotSource.central_frequency_thz", "-1.0", "> 0"),
])
def test_dot_rejects_bad_fields(kwargs, field, value, allowed, expect_error):
    expect_error(lambda: _dot(**kwargs), field, value, allowed)


def test_same_dot_interferes_with_its_own_indistinguishability():
    a = _dot(indistinguishability=0.93)
    assert a.spectral_overlap(a) == 1.0
    assert a.two_photon_interference_visibility(a) == pytest.approx(0.93)


def test_spectral_overlap_closed_forms():
    """Equal widths G detuned by D: G^2/(G^2 + D^2), so 1/2 at D = G.  Different
    widths, no detuning: 4 G1 G2/(G1 + G2)^2 (a 1:3 ratio gives 3/4)."""
    a = _dot()
    assert a.spectral_overlap(_dot(central_frequency_thz=384.0 + 0.5e-3)) == pytest.approx(0.5, rel=1e-6)
    assert a.spectral_overlap(_dot(linewidth_ghz=1.5)) == pytest.approx(0.75, rel=1e-12)
    detunings = [0.0, 0.1e-3, 1e-3, 10e-3]
    vis = [a.two_photon_interference_visibility(_dot(central_frequency_thz=384.0 + d)) for d in detunings]
    assert vis == sorted(vis, reverse=True)
    b = _dot(indistinguishability=0.7, linewidth_ghz=0.8, central_frequency_thz=384.001)
    assert a.two_photon_interference_visibility(b) == pytest.approx(b.two_photon_interference_visibility(a))


def test_spectral_overlap_matches_numerical_wavepacket_overlap():
    """|int xi1*(t) xi2(t) dt|^2 for xi_j = sqrt(g_j) exp(-g_j t/2 - i w_j t), by quadrature."""
    a = _dot(linewidth_ghz=0.4)
    b = _dot(linewidth_ghz=0.9, central_frequency_thz=384.0 + 0.7e-3)
    g1, g2 = 2 * math.pi * 0.4e9, 2 * math.pi * 0.9e9
    dw = 2 * math.pi * 0.7e9
    t = np.linspace(0.0, 40.0 / g1, 400_001)
    integrand = np.sqrt(g1 * g2) * np.exp(-(g1 + g2) * t / 2) * np.exp(1j * dw * t)
    overlap = abs(np.trapezoid(integrand, t)) ** 2
    assert a.spectral_overlap(b) == pytest.approx(overlap, rel=1e-6)


def test_dot_derived_quantities(expect_error):
    """T1 = 1/(2 pi x 0.64 GHz) = 248.7 ps; 384 THz is c/384e12 = 780.7 nm."""
    dot = _dot(linewidth_ghz=0.64, brightness=0.5, repetition_rate_hz=1e8, entanglement_fidelity=0.85)
    assert dot.radiative_lifetime_ps == pytest.approx(248.68, rel=1e-4)
    assert dot.wavelength_nm == pytest.approx(780.7, rel=1e-4)
    assert dot.photon_rate_hz == pytest.approx(5e7)
    assert dot.werner_factor == pytest.approx(0.8)
    expect_error(lambda: dot.spectral_overlap("dot"), "other", "'dot'", "QuantumDotSource")


# --- emitters ----------------------------------------------------------------------------------------

def test_emitter_validation(expect_error):
    expect_error(lambda: EmitterNode("quantum_dot", 0.5, 0.5, 0.5, 900.0), "EmitterNode.kind", "'quantum_dot'",
                 "'NV', 'SiV', 'trapped_ion'")
    expect_error(lambda: EmitterNode("NV", 1.5, 0.5, 0.5, 637.0), "EmitterNode.bright_state_population", "1.5",
                 "[0, 1]")
    expect_error(lambda: EmitterNode.nv(bright_state_population=-0.1), "EmitterNode.bright_state_population",
                 "-0.1", "[0, 1]")
    expect_error(lambda: EmitterNode("SiV", 0.5, 0.5, 0.5, 0.0), "EmitterNode.wavelength_nm", "0.0", "> 0")


def test_named_emitters():
    nodes = [EmitterNode.nv(), EmitterNode.siv(), EmitterNode.trapped_ion()]
    assert tuple(n.kind for n in nodes) == EMITTER_KINDS
    assert [n.wavelength_nm for n in nodes] == [637.0, 737.0, 854.0]
    for n in nodes:
        assert n.photon_emission_probability == pytest.approx(
            n.bright_state_population * n.emission_efficiency * n.collection_efficiency)
        assert pickle.loads(pickle.dumps(n)) == n
    # an NV without a cavity is far dimmer than cavity-coupled emitters
    assert nodes[0].photon_emission_probability < 1e-3 < nodes[1].photon_emission_probability
    assert EmitterNode.nv(0.1).photon_emission_probability == pytest.approx(
        2 * EmitterNode.nv(0.05).photon_emission_probability)
