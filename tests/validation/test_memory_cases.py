"""MEM-1: a stored |Phi+> pair under memory noise.

Pauli noise (depolarising, dephasing) and amplitude damping of one qubit go
through Bell-diagonal pair records (``PairRecord.at``); amplitude damping of
both qubits and the combined T1/T2 channel need the exact density-matrix
formalism (the Pauli twirl of amplitude damping is exact for one damped
qubit's Bell fidelity, not for two).
"""

from __future__ import annotations

import math

import pytest

from qactors.core import S, ConfigurationError
from qactors.quantum import bell

T_S = 1.0  # the case gives values at t/T; T = 1 s
NOISELESS = bell.MemoryNoise()


def record(noise_a, noise_b, start=bell.PHI_PLUS):
    coeffs = [0.0] * 4
    coeffs[start] = 1.0
    return bell.PairRecord("p", tuple(coeffs), 0, bell.PairEnd("A", noise_a, 0), bell.PairEnd("B", noise_b, 0))


def t_values(case):
    for key, exp in case["expected"].items():
        if key.startswith("t/T="):
            yield float(key[4:]), exp


def close(a, b):
    return abs(a - b) <= 5e-7 * max(1.0, abs(b))  # the case prints 7 significant digits


def test_mem_1_pauli_noise_through_pair_records(cases):
    case = cases["MEM-1"]
    depol = bell.MemoryNoise(depolarising_s=T_S)
    dephase = bell.MemoryNoise(t2_s=T_S)
    damp = bell.MemoryNoise(t1_s=T_S, t2_s=2 * T_S)  # pure amplitude damping: T2 = 2 T1
    for ratio, exp in t_values(case):
        t_ps = round(ratio * T_S * S)
        assert close(record(depol, NOISELESS).fidelity_at(t_ps), exp["link_depol"])
        assert close(record(depol, NOISELESS).fidelity_at(t_ps), exp["depol_one"])
        assert close(record(depol, depol).fidelity_at(t_ps), exp["depol_both"])
        assert close(record(dephase, NOISELESS).fidelity_at(t_ps), exp["dephase_one"])
        assert close(record(dephase, dephase).fidelity_at(t_ps), exp["dephase_both"])
        assert close(record(damp, NOISELESS).fidelity_at(t_ps), exp["ampdamp_one_phi"])


def test_mem_1_amplitude_damping_and_t1_t2_through_density_matrices(cases):
    from qactors.quantum import density
    case = cases["MEM-1"]
    for ratio, exp in t_values(case):
        gamma = -math.expm1(-ratio)
        damp = density.amplitude_damping(gamma)
        for start, key in ((bell.PHI_PLUS, "ampdamp_both_phi"), (bell.PSI_PLUS, "ampdamp_both_psi")):
            rho = density.apply_kraus(density.apply_kraus(density.bell_state(start), damp, [0]), damp, [1])
            assert close(density.bell_coefficients(rho)[start], exp[key]), (ratio, key)
        one = density.apply_kraus(density.bell_state(bell.PHI_PLUS), damp, [1])
        assert close(density.bell_coefficients(one)[bell.PHI_PLUS], exp["ampdamp_one_phi"])
    # combined T1 = 10, T2 = 5 on both qubits for t = 1
    channel = density.t1_t2(1.0, 10.0, 5.0)
    rho = density.apply_kraus(density.apply_kraus(density.bell_state(bell.PHI_PLUS), channel, [0]), channel, [1])
    assert close(density.bell_coefficients(rho)[bell.PHI_PLUS], case["expected"]["T1T2_example(t=1,T1=10,T2=5)"])


def test_pair_records_decay_from_when_each_end_was_stored():
    noise = bell.MemoryNoise(t2_s=1.0)
    late = bell.PairRecord("p", (1.0, 0.0, 0.0, 0.0), 0, bell.PairEnd("A", noise, 0),
                           bell.PairEnd("B", noise, round(0.5 * S)))
    e = math.exp(-1.0)
    # A dephased for 1 s, B for 0.5 s: coherences multiply
    assert late.fidelity_at(S) == pytest.approx((1 + e * math.exp(-0.5)) / 2, abs=1e-12)
    moved = late.advanced(round(0.25 * S))
    assert moved.fidelity_at(S) == pytest.approx(late.fidelity_at(S), abs=1e-12)
    with pytest.raises(ConfigurationError, match="asked for its state"):
        moved.at(0)
