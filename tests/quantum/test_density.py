"""Density-matrix formalism against closed forms derived in each test's docstring."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qactors.core.errors import ConfigurationError
from qactors.quantum import density as d

TOL = 1e-9
PLUS = np.array([1, 1]) / math.sqrt(2)
PHI_PLUS = d.bell_ket(0)


def random_state(rng: np.random.Generator, n: int, rank: int | None = None) -> np.ndarray:
    dim = 2 ** n
    g = rng.normal(size=(dim, rank or dim)) + 1j * rng.normal(size=(dim, rank or dim))
    rho = g @ g.conj().T
    return rho / np.trace(rho)


def embed(u: np.ndarray, targets: list[int], n: int) -> np.ndarray:
    """The full 2**n operator of ``u`` on ``targets``, built element by element (qubit 0 = MSB)."""
    full = np.zeros((2 ** n, 2 ** n), dtype=complex)
    bit = lambda index, q: (index >> (n - 1 - q)) & 1  # noqa: E731
    for i in range(2 ** n):
        for j in range(2 ** n):
            if any(bit(i, q) != bit(j, q) for q in range(n) if q not in targets):
                continue
            si = sum(bit(i, q) << (len(targets) - 1 - k) for k, q in enumerate(targets))
            sj = sum(bit(j, q) << (len(targets) - 1 - k) for k, q in enumerate(targets))
            full[i, j] = u[si, sj]
    return full


# ---------------------------------------------------------------- states

def test_qubit_zero_is_the_most_significant_bit():
    """|q0 q1 q2> = |1 0 0> is basis index 4, the same as numpy.kron(|1>, |0>, |0>)."""
    assert np.argmax(d.ket("100")) == 4
    assert np.argmax(d.ket([0, 0, 1])) == 1
    e0, e1 = np.array([1, 0]), np.array([0, 1])
    assert np.allclose(d.ket("100"), np.kron(np.kron(e1, e0), e0))
    assert d.ket("01").dtype == np.complex128


def test_pure_state_and_maximally_mixed():
    rho = d.pure(PLUS)
    assert np.allclose(rho, np.full((2, 2), 0.5))
    assert np.allclose(d.maximally_mixed(3), np.eye(8) / 8)
    d.check_density(rho)
    d.check_density(d.maximally_mixed(2))


@pytest.mark.parametrize("k", range(4))
def test_bell_states_are_pauli_frames_of_phi_plus(k):
    """Bell state k is (I ⊗ P_k)|Phi+> up to phase, P = (I, X, Y, Z); its Bell coefficients are e_k."""
    frame = np.kron(np.eye(2), d.PAULIS[k]) @ PHI_PLUS
    assert abs(abs(np.vdot(frame, d.bell_ket(k))) - 1.0) < TOL
    assert np.allclose(d.bell_state(k), np.outer(frame, frame.conj()), atol=TOL)
    assert np.allclose(d.bell_coefficients(d.bell_state(k)), np.eye(4)[k], atol=TOL)


@pytest.mark.parametrize("k, xx, yy, zz", [(0, 1, -1, 1), (1, 1, 1, -1), (2, -1, -1, -1), (3, -1, 1, 1)])
def test_bell_state_correlations(k, xx, yy, zz):
    """<XX>, <YY>, <ZZ> of each Bell state.

    Phi+ is a +1 eigenstate of XX and ZZ, and (X⊗X)(Z⊗Z) = (XZ)⊗(XZ) = (-iY)⊗(-iY) = -Y⊗Y,
    so <YY> = -1.  The frame P_k on qubit 1 flips the sign of every sigma⊗sigma whose sigma
    anticommutes with P_k: X flips ZZ and YY, Y flips XX and ZZ, Z flips XX and YY.
    """
    rho = d.bell_state(k)
    got = [np.trace(rho @ np.kron(p, p)).real for p in (d.X, d.Y, d.Z)]
    assert np.allclose(got, [xx, yy, zz], atol=TOL)
    assert np.allclose(np.diag(d.correlation_matrix(rho)), [xx, yy, zz], atol=TOL)


def test_bell_diagonal_and_werner():
    """werner_state(F) = F Phi+ + (1-F)/3 (1 - Phi+) = w Phi+ + (1-w) 1/4 with w = (4F-1)/3."""
    c = (0.4, 0.3, 0.2, 0.1)
    rho = d.bell_diagonal(c)
    assert np.allclose(d.bell_coefficients(rho), c, atol=TOL)
    f = 0.8
    w = (4 * f - 1) / 3
    assert np.allclose(d.werner_state(f), w * d.bell_state(0) + (1 - w) * np.eye(4) / 4, atol=TOL)
    assert abs(d.fidelity_pure(d.werner_state(f), PHI_PLUS) - f) < TOL
    d.check_density(rho)


# ---------------------------------------------------------------- gates

def test_gates_are_unitary_and_satisfy_their_identities():
    """HZH = X, S^2 = Z, T^2 = S, rx(pi) = -iX, ry(pi) = -iY, rz(pi) = -iZ, CZ = (1⊗H) CNOT (1⊗H)."""
    for g in (d.I, d.X, d.Y, d.Z, d.H, d.S, d.T, d.CNOT, d.CZ, d.rx(0.3), d.ry(1.1), d.rz(-2.0)):
        assert np.allclose(g.conj().T @ g, np.eye(g.shape[0]))
    assert np.allclose(d.H @ d.Z @ d.H, d.X)
    assert np.allclose(d.S @ d.S, d.Z)
    assert np.allclose(d.T @ d.T, d.S)
    for rot, p in ((d.rx, d.X), (d.ry, d.Y), (d.rz, d.Z)):
        assert np.allclose(rot(np.pi), -1j * p)
    h1 = np.kron(np.eye(2), d.H)
    assert np.allclose(h1 @ d.CNOT @ h1, d.CZ)


def test_gate_constants_are_read_only():
    with pytest.raises(ValueError):
        d.X[0, 0] = 5


def test_cnot_control_is_the_first_target():
    """CNOT|10> = |11> with targets [0, 1]; with targets [1, 0] qubit 1 controls: CNOT|01> = |11>."""
    out = d.apply_unitary(d.pure(d.ket("10")), d.CNOT, [0, 1])
    assert np.allclose(out, d.pure(d.ket("11")))
    out = d.apply_unitary(d.pure(d.ket("01")), d.CNOT, [1, 0])
    assert np.allclose(out, d.pure(d.ket("11")))
    out = d.apply_unitary(d.pure(d.ket("01")), d.CNOT, [0, 1])
    assert np.allclose(out, d.pure(d.ket("01")))


@pytest.mark.parametrize("targets", [[0], [2], [2, 0], [1, 3], [3, 1, 0]])
def test_apply_unitary_matches_the_full_operator(targets):
    """Reshaping/contracting equals U_full rho U_full^dag with U_full built bit by bit."""
    rng = np.random.default_rng(7)
    n = 4
    rho = random_state(rng, n)
    k = len(targets)
    u, _ = np.linalg.qr(rng.normal(size=(2 ** k, 2 ** k)) + 1j * rng.normal(size=(2 ** k, 2 ** k)))
    full = embed(u, targets, n)
    assert np.allclose(d.apply_unitary(rho, u, targets), full @ rho @ full.conj().T, atol=TOL)


def test_inputs_are_not_modified():
    rho = d.bell_state(0)
    before = rho.copy()
    d.apply_unitary(rho, d.H, [0])
    d.apply_kraus(rho, d.amplitude_damping(0.3), [1])
    d.measure(rho, 0, "X", 0)
    assert np.array_equal(rho, before)


def test_bell_state_from_circuit():
    """CNOT (H ⊗ 1)|00> = Phi+; applying P_k to qubit 1 afterwards gives Bell state k."""
    rho = d.apply_unitary(d.apply_unitary(d.pure(d.ket("00")), d.H, [0]), d.CNOT, [0, 1])
    for k in range(4):
        assert np.allclose(d.apply_unitary(rho, d.PAULIS[k], [1]), d.bell_state(k), atol=TOL)


def test_ten_qubits():
    """GHZ on 10 qubits by H and a CNOT chain: only |0..0><0..0|, |1..1><1..1| and their coherences."""
    n = 10
    rho = d.apply_unitary(d.pure(d.ket("0" * n)), d.H, [0])
    for q in range(n - 1):
        rho = d.apply_unitary(rho, d.CNOT, [q, q + 1])
    ghz = (d.ket("0" * n) + d.ket("1" * n)) / math.sqrt(2)
    assert abs(d.fidelity_pure(rho, ghz) - 1.0) < TOL
    assert np.allclose(d.partial_trace(rho, [3, 7]), np.diag([0.5, 0, 0, 0.5]), atol=TOL)


# ---------------------------------------------------------------- channels

@pytest.mark.parametrize("gamma", [0.0, 0.2, 0.7, 1.0])
def test_amplitude_damping_on_one_and_plus(gamma):
    """AD(|1><1|) = gamma |0><0| + (1-gamma) |1><1|; on |+> the coherence 1/2 becomes sqrt(1-gamma)/2.

    With K0 = diag(1, sqrt(1-g)), K1 = sqrt(g)|0><1|: K0|1> = sqrt(1-g)|1>, K1|1> = sqrt(g)|0>,
    and K0 |0><1| K0^dag = sqrt(1-g)|0><1| while K1 kills |0><1|.
    """
    out = d.apply_kraus(d.pure(d.ket("1")), d.amplitude_damping(gamma), [0])
    assert np.allclose(out, np.diag([gamma, 1 - gamma]), atol=TOL)
    out = d.apply_kraus(d.pure(PLUS), d.amplitude_damping(gamma), [0])
    assert abs(out[0, 1] - math.sqrt(1 - gamma) / 2) < TOL
    assert abs(out[0, 0] - (1 + gamma) / 2) < TOL


def test_dephasing_multiplies_coherences_by_e():
    """(1+e)/2 rho + (1-e)/2 Z rho Z keeps the diagonal and multiplies rho_01 by e."""
    rho = random_state(np.random.default_rng(3), 1)
    out = d.apply_kraus(rho, d.dephasing(0.35), [0])
    assert np.allclose(np.diag(out), np.diag(rho), atol=TOL)
    assert abs(out[0, 1] - 0.35 * rho[0, 1]) < TOL


def test_depolarising_is_e_rho_plus_mixture():
    """On qubit 1 of a two-qubit state: e rho + (1-e) tr_1(rho) ⊗ 1/2."""
    rho = random_state(np.random.default_rng(4), 2)
    e = 0.6
    out = d.apply_kraus(rho, d.depolarising(e), [1])
    assert np.allclose(out, e * rho + (1 - e) * np.kron(d.partial_trace(rho, [0]), np.eye(2) / 2), atol=TOL)
    out = d.apply_kraus(d.pure(d.ket("0")), d.depolarising(e), [0])
    assert np.allclose(out, e * d.pure(d.ket("0")) + (1 - e) * np.eye(2) / 2, atol=TOL)


@pytest.mark.parametrize("t, t1, t2", [(1e-3, 5e-3, 2e-3), (2.0, 1.0, 2.0), (0.5, math.inf, 0.1), (0.3, 1.0, 0.01)])
def test_t1_t2_decay(t, t1, t2):
    """|+>: rho_01 = exp(-t/T2)/2.  |1>: rho_11 = exp(-t/T1) (populations relax with T1 only)."""
    kraus = d.t1_t2(t, t1, t2)
    out = d.apply_kraus(d.pure(PLUS), kraus, [0])
    assert abs(out[0, 1] - math.exp(-t / t2) / 2) < TOL
    out = d.apply_kraus(d.pure(d.ket("1")), kraus, [0])
    assert abs(out[1, 1] - math.exp(-t / t1)) < TOL
    assert abs(np.trace(out) - 1) < TOL


def test_t1_t2_zero_duration_is_identity_and_rejects_t2_above_2t1():
    rho = random_state(np.random.default_rng(5), 1)
    assert np.allclose(d.apply_kraus(rho, d.t1_t2(0.0, 1.0, 1.5), [0]), rho, atol=TOL)
    with pytest.raises(ConfigurationError, match="t2_s"):
        d.t1_t2(1.0, 1.0, 2.5)
    with pytest.raises(ConfigurationError, match="t2_s"):
        d.t1_t2(1.0, 1.0, math.inf)
    with pytest.raises(ConfigurationError, match="duration_s"):
        d.t1_t2(-1.0, 1.0, 1.0)


def test_pauli_channel_matches_its_definition():
    """sum_P p_P P rho P for a random two-qubit state, channel on qubit 0."""
    rng = np.random.default_rng(6)
    rho = random_state(rng, 2)
    p = rng.dirichlet(np.ones(4))
    expected = sum(pk * np.kron(P, np.eye(2)) @ rho @ np.kron(P, np.eye(2)).conj().T for pk, P in zip(p, d.PAULIS))
    assert np.allclose(d.apply_kraus(rho, d.pauli_channel(*p), [0]), expected, atol=TOL)


def test_two_qubit_kraus():
    """Two-qubit depolarising as 16 Pauli-product Kraus operators sends any state to 1/4."""
    ops = [np.kron(P, Q) / 4 for P in d.PAULIS for Q in d.PAULIS]
    rho = random_state(np.random.default_rng(8), 3)
    out = d.apply_kraus(rho, ops, [2, 0])
    assert np.allclose(d.partial_trace(out, [0, 2]), np.eye(4) / 4, atol=TOL)
    assert np.allclose(d.partial_trace(out, [1]), d.partial_trace(rho, [1]), atol=TOL)


def test_loss_is_a_heralded_erasure():
    """Loss does not depend on the qubit value: p_lost = p_loss, the surviving state is unchanged."""
    rho = d.bell_state(2)
    p, kept = d.apply_loss(rho, 1, 0.3)
    assert p == 0.3
    assert np.array_equal(kept, rho) and kept is not rho


# ---------------------------------------------------------------- measurement

@pytest.mark.parametrize("theta", [0.0, 0.4, 1.3, math.pi / 2, 2.5, math.pi])
def test_probabilities_at_arbitrary_angles(theta):
    """ry(theta)|0> = cos(theta/2)|0> + sin(theta/2)|1>: P(0) = cos^2(theta/2) in Z.

    In the basis given by the columns of ry(phi), P(0) = |<0|ry(-phi) ry(theta)|0>|^2 = cos^2((theta-phi)/2).
    In X: P(+) = (1 + sin theta)/2.
    """
    rho = d.apply_unitary(d.pure(d.ket("0")), d.ry(theta), [0])
    assert np.allclose(d.probabilities(rho, 0, "Z"), [math.cos(theta / 2) ** 2, math.sin(theta / 2) ** 2], atol=TOL)
    phi = 0.7
    assert abs(d.probabilities(rho, 0, d.ry(phi))[0] - math.cos((theta - phi) / 2) ** 2) < TOL
    assert abs(d.probabilities(rho, 0, "X")[0] - (1 + math.sin(theta)) / 2) < TOL


def test_y_basis_labels():
    """Outcome 0 of Y is |+i> = (|0> + i|1>)/sqrt(2) = S|+>."""
    rho = d.apply_unitary(d.pure(PLUS), d.S, [0])
    assert np.allclose(d.probabilities(rho, 0, "Y"), [1, 0], atol=TOL)


def test_measurement_keeps_the_qubit_in_its_eigenstate():
    """Z on qubit 0 of Phi+: outcome 1 with p = 1/2 leaves |11>.  X on Phi+ = (|++> + |-->)/sqrt(2): |-->."""
    p, post = d.measure(d.bell_state(0), 0, "Z", 1)
    assert abs(p - 0.5) < TOL and np.allclose(post, d.pure(d.ket("11")), atol=TOL)
    p, post = d.measure(d.bell_state(0), 0, "X", 1)
    minus = np.array([1, -1]) / math.sqrt(2)
    assert abs(p - 0.5) < TOL and np.allclose(post, d.pure(np.kron(minus, minus)), atol=TOL)


def test_zero_probability_outcome_gives_zero_matrix():
    p, post = d.measure(d.pure(d.ket("01")), 1, "Z", 0)
    assert p == 0.0 and not post.any()


def test_measurement_in_the_columns_of_a_unitary():
    """Basis = columns of U; outcome 1 leaves the qubit in U|1>."""
    u = d.ry(0.9) @ d.rz(0.4)
    rho = random_state(np.random.default_rng(9), 2)
    p, post = d.measure(rho, 1, u, 1)
    v = u[:, 1]
    assert abs(p - d.probabilities(rho, 1, u)[1]) < TOL
    assert abs(d.fidelity_pure(d.partial_trace(post, [1]), v) - 1) < TOL


def test_povm_noisy_z_measurement():
    """M0 = sqrt(1-eps)|0><0| + sqrt(eps)|1><1|, M1 the flip: on |0>, P(0) = 1-eps; on |+>, P(0) = 1/2.

    After outcome 0 on |+>: M0|+> = (sqrt(1-eps)|0> + sqrt(eps)|1>)/sqrt(2), of squared norm 1/2,
    so the post-measurement state is sqrt(1-eps)|0> + sqrt(eps)|1>.
    """
    eps = 0.1
    m0 = np.diag([math.sqrt(1 - eps), math.sqrt(eps)])
    m1 = np.diag([math.sqrt(eps), math.sqrt(1 - eps)])
    p, _ = d.measure_povm(d.pure(d.ket("0")), 0, [m0, m1], 0)
    assert abs(p - (1 - eps)) < TOL
    p, post = d.measure_povm(d.pure(PLUS), 0, [m0, m1], 0)
    assert abs(p - 0.5) < TOL
    assert abs(d.fidelity_pure(post, np.array([math.sqrt(1 - eps), math.sqrt(eps)])) - 1) < TOL


def test_bell_measurement_as_a_povm_on_two_qubits():
    projectors = [np.outer(d.bell_ket(k), d.bell_ket(k).conj()) for k in range(4)]
    c = (0.1, 0.2, 0.3, 0.4)
    for k in range(4):
        p, _ = d.measure_povm(d.bell_diagonal(c), [0, 1], projectors, k)
        assert abs(p - c[k]) < TOL


def test_sample_measure_frequencies_and_reproducibility():
    """Outcome 0 of Z on ry(theta)|0> has frequency cos^2(theta/2) within 5 binomial sigmas."""
    theta, n = 1.1, 4000
    rho = d.apply_unitary(d.pure(d.ket("0")), d.ry(theta), [0])
    rng = np.random.default_rng(11)
    outcomes = [d.sample_measure(rho, 0, "Z", rng)[0] for _ in range(n)]
    p0 = math.cos(theta / 2) ** 2
    assert abs(outcomes.count(0) / n - p0) < 5 * math.sqrt(p0 * (1 - p0) / n)
    a = d.sample_measure(d.bell_state(0), 0, "X", np.random.default_rng(3))
    b = d.sample_measure(d.bell_state(0), 0, "X", np.random.default_rng(3))
    assert a[0] == b[0] and np.array_equal(a[1], b[1])
    assert abs(np.trace(a[1]) - 1) < TOL


def test_partial_trace_keeps_the_given_order():
    rng = np.random.default_rng(12)
    a, b, c = (random_state(rng, 1) for _ in range(3))
    rho = np.kron(np.kron(a, b), c)
    assert np.allclose(d.partial_trace(rho, [2, 0]), np.kron(c, a), atol=TOL)
    assert np.allclose(d.partial_trace(rho, [1]), b, atol=TOL)
    assert np.allclose(d.partial_trace(rho, [0, 1, 2]), rho, atol=TOL)


# ---------------------------------------------------------------- fidelity

def test_fidelity():
    """Uhlmann fidelity: <psi|sigma|psi> if one state is pure; (sum sqrt(p_i q_i))^2 for commuting states."""
    rng = np.random.default_rng(13)
    sigma = random_state(rng, 2)
    psi = rng.normal(size=4) + 1j * rng.normal(size=4)
    psi /= np.linalg.norm(psi)
    assert abs(d.fidelity(d.pure(psi), sigma) - d.fidelity_pure(sigma, psi)) < TOL
    assert abs(d.fidelity(sigma, d.pure(psi)) - d.fidelity_pure(sigma, psi)) < TOL
    p, q = np.array([0.5, 0.3, 0.2, 0.0]), np.array([0.1, 0.1, 0.4, 0.4])
    assert abs(d.fidelity(np.diag(p), np.diag(q)) - np.sum(np.sqrt(p * q)) ** 2) < TOL
    rho = random_state(rng, 2)
    assert abs(d.fidelity(rho, sigma) - d.fidelity(sigma, rho)) < TOL
    assert abs(d.fidelity(rho, rho) - 1) < TOL


# ---------------------------------------------------------------- teleportation

@pytest.mark.parametrize("seed", range(5))
def test_teleportation_with_a_perfect_pair_is_perfect(seed):
    """With Phi+ the corrected output is the input for every outcome, so the channel is the identity."""
    rng = np.random.default_rng(seed)
    psi = rng.normal(size=2) + 1j * rng.normal(size=2)
    psi /= np.linalg.norm(psi)
    out = d.teleport(d.pure(psi), d.bell_state(0))
    assert abs(d.fidelity_pure(out, psi) - 1) < TOL
    rho = random_state(rng, 1)
    assert np.allclose(d.teleport(rho, d.bell_state(0)), rho, atol=TOL)


def test_teleportation_through_a_bell_diagonal_pair_is_its_pauli_channel():
    """Resource (I⊗P_k)|Phi+>: P_k on B commutes with the measurement of input and A and the
    correction, so the output is P_k rho P_k; by linearity a Bell-diagonal resource c gives the
    Pauli channel with probabilities c."""
    rng = np.random.default_rng(14)
    rho = random_state(rng, 1)
    c = rng.dirichlet(np.ones(4))
    assert np.allclose(d.teleport(rho, d.bell_diagonal(c)), d.apply_kraus(rho, d.pauli_channel(*c), [0]),
                       atol=TOL)


@pytest.mark.parametrize("f", [0.25, 0.5, 0.8, 1.0])
def test_average_teleportation_fidelity_of_werner_pairs(f):
    """Pauli channel p averaged over the sphere: p_I + (1-p_I)/3 (each other Pauli gives <psi|P psi P|psi>
    with average 1/3), so (2F + 1)/3 for a Werner resource."""
    assert abs(d.average_teleportation_fidelity(d.werner_state(f)) - (2 * f + 1) / 3) < TOL


# ---------------------------------------------------------------- CHSH

def test_chsh_of_phi_plus():
    """E(a, b) = cos a cos b <ZZ> + sin a sin b <XX> = cos(a - b) for Phi+;
    a = (0, pi/2), b = (pi/4, -pi/4) give 3 cos(pi/4) - cos(3 pi/4) = 2 sqrt(2)."""
    rho = d.bell_state(0)
    assert abs(d.chsh(rho, 0, math.pi / 2, math.pi / 4, -math.pi / 4) - 2 * math.sqrt(2)) < TOL
    assert abs(d.chsh(rho, 0.3, 0.3, 0.3, 0.3) - 2) < TOL  # three cos 0 terms minus one
    assert abs(d.chsh_optimal(rho) - 2 * math.sqrt(2)) < TOL


@pytest.mark.parametrize("f", [0.3, 0.5, 0.78, 0.95])
def test_chsh_of_werner_states(f):
    """T = w diag(1, -1, 1) for a Werner state (w = (4F-1)/3), so the optimum is 2 sqrt(2) w,
    above 2 only for F > (3/sqrt(2) + 1)/4 ~ 0.78."""
    w = (4 * f - 1) / 3
    rho = d.werner_state(f)
    assert abs(d.chsh_optimal(rho) - 2 * math.sqrt(2) * w) < TOL
    assert abs(d.chsh(rho, 0, math.pi / 2, math.pi / 4, -math.pi / 4) - 2 * math.sqrt(2) * w) < TOL


def test_chsh_optimal_bounds_every_setting_and_product_states():
    """|00> has T = diag(0, 0, 1): optimum 2 (no violation); random angles never exceed the optimum."""
    assert abs(d.chsh_optimal(d.pure(d.ket("00"))) - 2) < TOL
    rng = np.random.default_rng(15)
    for _ in range(20):
        rho = random_state(rng, 2, rank=1)
        best = d.chsh_optimal(rho)
        assert abs(d.chsh(rho, *rng.uniform(-math.pi, math.pi, 4))) <= best + TOL


def test_chsh_of_the_singlet_at_optimal_angles():
    """Psi- has T = -1: E(a, b) = -cos(a - b), the same angles give -2 sqrt(2)."""
    assert abs(d.chsh(d.bell_state(2), 0, math.pi / 2, math.pi / 4, -math.pi / 4) + 2 * math.sqrt(2)) < TOL


# ---------------------------------------------------------------- validation

BAD_CALLS = [
    (lambda: d.apply_unitary(d.bell_state(0), d.H, [2]), "targets"),
    (lambda: d.apply_unitary(d.bell_state(0), d.CNOT, [0, 0]), "targets"),
    (lambda: d.apply_unitary(d.bell_state(0), d.CNOT, [0]), "U"),
    (lambda: d.apply_unitary(d.bell_state(0), np.array([[1, 1], [0, 1]]), [0]), "unitary"),
    (lambda: d.apply_unitary(np.ones((3, 3)), d.H, [0]), "rho"),
    (lambda: d.apply_unitary(np.ones((2, 4)), d.H, [0]), "rho"),
    (lambda: d.apply_kraus(d.pure(PLUS), [np.eye(2), np.eye(2)], [0]), "kraus"),
    (lambda: d.amplitude_damping(1.5), "gamma"),
    (lambda: d.dephasing(-0.1), "e"),
    (lambda: d.depolarising(float("nan")), "e"),
    (lambda: d.pauli_channel(0.5, 0.5, 0.5, 0.0), "p_i"),
    (lambda: d.pauli_channel(1.2, -0.2, 0, 0), "p_i"),
    (lambda: d.apply_loss(d.pure(PLUS), 0, 1.1), "p_loss"),
    (lambda: d.apply_loss(d.pure(PLUS), 1, 0.1), "target"),
    (lambda: d.measure(d.pure(PLUS), 0, "W", 0), "basis"),
    (lambda: d.measure(d.pure(PLUS), 0, np.eye(3), 0), "basis"),
    (lambda: d.measure(d.pure(PLUS), 0, "Z", 2), "outcome"),
    (lambda: d.probabilities(d.pure(PLUS), -1, "Z"), "target"),
    (lambda: d.sample_measure(d.pure(PLUS), 0, "Z", 0.5), "rng"),
    (lambda: d.pure([1, 1]), "psi"),
    (lambda: d.ket("012"), "bits"),
    (lambda: d.bell_state(4), "index"),
    (lambda: d.bell_diagonal((0.5, 0.5, 0.5, 0.5)), "coefficients"),
    (lambda: d.werner_state(1.2), "F"),
    (lambda: d.maximally_mixed(0), "n"),
    (lambda: d.partial_trace(d.bell_state(0), [0, 5]), "keep"),
    (lambda: d.fidelity(d.bell_state(0), np.eye(2) / 2), "sigma"),
    (lambda: d.bell_coefficients(np.eye(2) / 2), "rho_2q"),
    (lambda: d.teleport(d.bell_state(0), d.bell_state(0)), "rho_in"),
    (lambda: d.chsh_optimal(np.eye(8) / 8), "rho"),
    (lambda: d.check_density(np.diag([1.5, -0.5])), "positive"),
    (lambda: d.check_density(np.diag([0.5, 0.6])), "trace"),
]


@pytest.mark.parametrize("call, text", BAD_CALLS)
def test_invalid_inputs_raise_configuration_error(call, text):
    with pytest.raises(ConfigurationError, match=text):
        call()
