"""Bell-state analysers: linear optics and deterministic (memory-based)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from qactors.hardware import DeterministicBSA, Detector, LinearOpticsBSA


# --- linear optics -----------------------------------------------------------------------------------

def test_linear_optics_validation(expect_error):
    expect_error(lambda: LinearOpticsBSA(visibility=1.5), "LinearOpticsBSA.visibility", "1.5", "[0, 1]")
    expect_error(lambda: LinearOpticsBSA(detector=0.9), "LinearOpticsBSA.detector", "0.9", "a Detector")
    expect_error(lambda: LinearOpticsBSA().success_probability(1.2), "transmissivity_a", "1.2", "[0, 1]")


def test_linear_optics_success_probability():
    """Ideal: 2 of 4 Bell states -> 1/2.  Both photons must be detected:
    (1/2) (t_a eta) (t_b eta) = 0.5 x (0.5 x 0.8) x (0.25 x 0.8) = 0.04."""
    assert LinearOpticsBSA().success_probability() == 0.5
    bsa = LinearOpticsBSA(detector=Detector(efficiency=0.8))
    assert bsa.success_probability(0.5, 0.25) == pytest.approx(0.04, rel=1e-12)
    assert LinearOpticsBSA(visibility=0.3).success_probability() == 0.5  # independent of V


def test_linear_optics_visibility_limits():
    """V = 1: the announced Bell state.  V = 0 (distinguishable photons): the
    analyser only learns that the polarisations differ, so the pair is an equal
    mixture of Psi+ and Psi-: fidelity 1/2 (classically correlated)."""
    assert LinearOpticsBSA().output_pauli_probabilities == (1.0, 0.0, 0.0, 0.0)
    assert LinearOpticsBSA(visibility=0.0).output_pauli_probabilities == (0.5, 0.0, 0.0, 0.5)
    bsa = LinearOpticsBSA(visibility=0.8)
    assert bsa.output_fidelity == pytest.approx(0.9)
    assert bsa.output_werner_factor == pytest.approx((1 + 2 * 0.8) / 3)


def _swap_with_distinguishable_photons(overlap: complex) -> np.ndarray:
    """Density matrix of the outer pair (A, D) after two Psi- pairs (A,B), (C,D)
    and a linear-optics Bell measurement on B, C (50:50 beam splitter, then
    polarisation-resolving detectors on both outputs) that heralds "H in output
    port c, V in output port d" with time-integrated detection.

    B's and C's temporal modes have inner product ``overlap``.  Amplitudes for
    the detectors firing at (port c: H, port d: V) come from (B->c with H, C->d
    with V) and from (C->c with H, B->d with V), each with amplitude 1/2 from
    the 50:50 beam splitter (sign -1 for the reflected path); summing over the
    unresolved temporal modes turns their interference into ``|overlap|^2``.
    Built explicitly in a basis {mode 0, mode 1} for each photon.
    """
    # temporal modes: B in |0>, C in overlap|0> + sqrt(1-|overlap|^2)|1>
    tb = np.array([1.0, 0.0], dtype=complex)
    tc = np.array([overlap, np.sqrt(1 - abs(overlap) ** 2)], dtype=complex)
    h, v = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    psi_minus = (np.kron(h, v) - np.kron(v, h)) / np.sqrt(2)
    # state over (A pol, B pol, C pol, D pol)
    state = np.kron(psi_minus, psi_minus).reshape(2, 2, 2, 2)
    # project B,C: photon in port c carries H, photon in port d carries V; photon B
    # transmitted to c (+1/2), photon C reflected to c (-1/2) -- the exchange term.
    rho = np.zeros((4, 4), dtype=complex)
    for mc, md in itertools.product(range(2), repeat=2):  # detected temporal modes, unresolved
        amp = np.zeros((2, 2), dtype=complex)  # over (A pol, D pol)
        # term 1: B -> c (H), C -> d (V)
        amp += 0.5 * tb[mc] * tc[md] * state[:, 0, 1, :]
        # term 2: C -> c (H), B -> d (V), reflection sign
        amp -= 0.5 * tc[mc] * tb[md] * state[:, 1, 0, :]
        vec = amp.reshape(4)
        rho += np.outer(vec, vec.conj())
    return rho / np.trace(rho).real


@pytest.mark.parametrize("visibility", [1.0, 0.9, 0.5, 0.0])
def test_heralded_mixture_matches_an_explicit_mode_overlap_calculation(visibility):
    """The outer pair's fidelity with the announced Bell state equals (1 + V)/2 with
    V = |<xi_B|xi_C>|^2, and the rest is the state with the opposite phase."""
    rho = _swap_with_distinguishable_photons(np.sqrt(visibility))
    h, v = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    psi_p = (np.kron(h, v) + np.kron(v, h)) / np.sqrt(2)
    psi_m = (np.kron(h, v) - np.kron(v, h)) / np.sqrt(2)
    weights = sorted([float((psi_p @ rho @ psi_p).real), float((psi_m @ rho @ psi_m).real)], reverse=True)
    p_i, _, _, p_z = LinearOpticsBSA(visibility=visibility).output_pauli_probabilities
    assert weights[0] == pytest.approx(p_i, abs=1e-12)
    assert weights[1] == pytest.approx(p_z, abs=1e-12)


# --- deterministic ------------------------------------------------------------------------------------

def test_deterministic_validation(expect_error):
    expect_error(lambda: DeterministicBSA(gate_fidelity=0.2), "DeterministicBSA.gate_fidelity", "0.2", "[0.25, 1]")
    expect_error(lambda: DeterministicBSA(gate_fidelity=1.01), "DeterministicBSA.gate_fidelity", "1.01",
                 "[0.25, 1]")
    expect_error(lambda: DeterministicBSA(measurement_fidelity=-0.5), "DeterministicBSA.measurement_fidelity",
                 "-0.5", "[0, 1]")


def test_deterministic_closed_forms():
    """Average gate fidelity F of a two-qubit depolarising channel with weight l is
    l + (1 - l)/4, so l = (4F - 1)/3 and with perfect readout the output Werner
    parameter is l.  F = 1/4 gives l = 0: a maximally mixed output."""
    assert DeterministicBSA().output_pauli_probabilities == (1.0, 0.0, 0.0, 0.0)
    assert DeterministicBSA().success_probability() == 1.0
    gate = DeterministicBSA(gate_fidelity=0.97)
    assert gate.depolarising_parameter == pytest.approx(0.96)
    assert gate.output_werner_factor == pytest.approx(0.96)
    assert DeterministicBSA(gate_fidelity=0.25).output_pauli_probabilities == pytest.approx((0.25,) * 4)


def test_readout_errors_flip_the_correction():
    """Each bit wrong with probability e = 1 - m: the parity bit gives X, the phase
    bit Z, both Y: (m^2, m e, e^2, m e)."""
    p = DeterministicBSA(measurement_fidelity=0.9).output_pauli_probabilities
    assert p == pytest.approx((0.81, 0.09, 0.01, 0.09))
    combined = DeterministicBSA(gate_fidelity=0.99, measurement_fidelity=0.98).output_pauli_probabilities
    assert sum(combined) == pytest.approx(1.0) and min(combined) > 0
    assert DeterministicBSA(0.99, 0.98).output_fidelity < DeterministicBSA(0.99, 1.0).output_fidelity
