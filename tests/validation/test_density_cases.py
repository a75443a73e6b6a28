"""TEL-1, SWAP-1 and QKD-2 again, through explicit density-matrix circuits."""

from __future__ import annotations

import math

import numpy as np

from qactors.quantum import bell, density


def close(a, b):
    return abs(a - b) <= 5e-7 * max(1.0, abs(b))  # expected values carry 7 significant digits


def test_tel_1_teleportation_circuit_over_werner_resources(cases):
    case = cases["TEL-1"]
    for f in case["inputs"]["F_resource"]:
        fid = density.average_teleportation_fidelity(density.werner_state(f))
        assert close(fid, case["expected"]["F_tel"][str(f)]), f


def test_tel_1_haar_random_inputs_average_to_the_same_value(cases):
    """The six-state average equals the Haar average (a 2-design); check with random pure inputs."""
    rng = np.random.default_rng(7)
    resource = density.werner_state(0.8)
    fids = []
    for _ in range(400):
        v = rng.normal(size=2) + 1j * rng.normal(size=2)
        v /= np.linalg.norm(v)
        fids.append(density.fidelity_pure(density.teleport(density.pure(v), resource), v))
    expected = cases["TEL-1"]["expected"]["F_tel"]["0.8"]
    # the fidelity of one input lies in [1/3, 1]: a 3-sigma bound with sd <= 1/3
    assert abs(np.mean(fids) - expected) < 3 * (1 / 3) / math.sqrt(len(fids))


def test_swap_1_by_bell_measurement_circuit(cases):
    case = cases["SWAP-1"]
    for f1, f2 in case["inputs"]["(F1,F2)"]:
        rho = np.kron(density.werner_state(f1), density.werner_state(f2))  # qubits A, B1, B2, C
        out = np.zeros((4, 4), dtype=complex)
        for outcome in range(4):
            # rotate the Bell basis of B1, B2 onto the computational basis and project
            rotated = density.apply_unitary(density.apply_unitary(rho, density.CNOT, [1, 2]), density.H, [1])
            bits = {0: (0, 0), 1: (0, 1), 2: (1, 1), 3: (1, 0)}[outcome]
            p1, s = density.measure(rotated, 1, "Z", bits[0])
            p2, s = density.measure(s, 2, "Z", bits[1])
            if p1 * p2 == 0:
                continue
            kept = density.partial_trace(s, [0, 3])
            correction = [np.eye(2), density.X, density.Y, density.Z][outcome]
            out += p1 * p2 * density.apply_unitary(kept, correction, [1])
        exp = case["expected"][f"{f1},{f2}"]
        assert close(density.bell_coefficients(out)[bell.PHI_PLUS], exp["F_out"]), (f1, f2)


def test_qkd_2_chsh_from_the_density_matrix(cases):
    case = cases["QKD-2"]
    for f in case["inputs"]["F"]:
        exp = case["expected"][str(f)]
        rho = density.werner_state(f)
        assert close(density.chsh_optimal(rho), exp["S"]), f
        # the textbook settings: Alice Z, X; Bob at +-45 degrees between them
        s = density.chsh(rho, 0.0, math.pi / 2, math.pi / 4, -math.pi / 4)
        assert close(abs(s), exp["S"]), f
