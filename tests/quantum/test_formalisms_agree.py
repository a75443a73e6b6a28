"""The Bell-diagonal formalism (bell.py) and the density-matrix formalism (density.py) agree
wherever both apply: Pauli noise, swapping, recurrence purification and Pauli measurements on
Bell-diagonal pairs.  Where bell.py approximates (amplitude damping on both qubits), the size of
the difference is pinned down by a closed form.

Qubit order for two pairs: pair 1 is qubits (0, 1), pair 2 is qubits (2, 3), built with
``numpy.kron(pair1, pair2)``.  For purification that is A1 B1 A2 B2 (Alice holds 0 and 2);
for swapping it is A B1 B2 C (the middle node holds 1 and 2).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qactors.quantum import bell, information
from qactors.quantum import density as d

TOL = 1e-9
SETTINGS = settings(max_examples=60, deadline=None)
BELL_PROJECTORS = [np.outer(d.bell_ket(k), d.bell_ket(k).conj()) for k in range(4)]


@st.composite
def coefficients(draw):
    raw = draw(st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4).filter(lambda v: sum(v) > 1e-3))
    total = sum(raw)
    return tuple(x / total for x in raw)


def assert_same_pair(rho: np.ndarray, c) -> None:
    """``rho`` is exactly the Bell-diagonal state ``c`` (coefficients and off-diagonal terms)."""
    assert np.allclose(d.bell_coefficients(rho), c, atol=TOL, rtol=0)
    assert np.max(np.abs(rho - d.bell_diagonal(c))) < TOL


# ---------------------------------------------------------------- (a) Pauli channels

@SETTINGS
@given(coefficients(), coefficients(), st.integers(0, 1))
def test_pauli_channel_on_either_qubit(c, p, qubit):
    """(P_j ⊗ 1)|Phi+> = (1 ⊗ P_j^T)|Phi+> and P_j^T = ±P_j, so a channel on qubit 0 or 1 maps frame k
    to frame j·k: bell.apply_channel."""
    rho = d.apply_kraus(d.bell_diagonal(c), d.pauli_channel(*p), [qubit])
    assert_same_pair(rho, bell.apply_channel(c, bell.PauliChannel(*p)))


# ---------------------------------------------------------------- (b) memory noise

@SETTINGS
@given(coefficients(), st.floats(1e-4, 10.0), st.floats(1e-6, 10.0), st.integers(0, 1))
def test_memory_dephasing_and_depolarising_are_exact(c, time_constant, duration, qubit):
    """MemoryNoise(t2_s=T) is dephasing with e = exp(-t/T); MemoryNoise(depolarising_s=T) is
    depolarising with e = exp(-t/T).  Both are Pauli channels, so the agreement is exact."""
    e = math.exp(-duration / time_constant)
    for noise, kraus in ((bell.MemoryNoise(t2_s=time_constant), d.dephasing(e)),
                         (bell.MemoryNoise(depolarising_s=time_constant), d.depolarising(e))):
        rho = d.apply_kraus(d.bell_diagonal(c), kraus, [qubit])
        assert_same_pair(rho, bell.apply_channel(c, noise.channel(duration)))


@SETTINGS
@given(coefficients(), st.floats(1e-3, 1.0), st.floats(0.01, 1.0), st.floats(1e-6, 3.0), st.integers(0, 1))
def test_one_damped_qubit_bell_coefficients_are_exact(c, t1, ratio, duration, qubit):
    """One qubit of a Bell-diagonal pair under exact T1/T2 decay: the Bell coefficients (in particular
    the fidelity to Phi+) equal those from the twirled channel in MemoryNoise.

    <B_j|(1 ⊗ L)(B_k)|B_j> = sum_K |tr(P_j K P_k)/2|^2 = chi_ll(L), with P_l = P_k P_j up to
    phase: the diagonal of L's chi matrix, i.e. its Pauli twirl.  For amplitude damping,
    K0 = (1+s)/2 I + (1-s)/2 Z and K1 = sqrt(g)(X + iY)/2 (s = sqrt(1-g)), so chi = ((1+s)^2/4, g/4,
    g/4, (1-s)^2/4), the twirl used by bell.py; composing with dephasing (a Pauli channel) convolves
    the twirl.  On qubit 0 the Kraus operators are transposed, with the same chi diagonal.
    The exact state is not Bell-diagonal (off-diagonal terms appear), only its diagonal agrees."""
    t2 = 2 * t1 * ratio
    noise = bell.MemoryNoise(t1_s=t1, t2_s=t2).check()
    rho = d.apply_kraus(d.bell_diagonal(c), d.t1_t2(duration, t1, t2), [qubit])
    assert np.allclose(d.bell_coefficients(rho), bell.apply_channel(c, noise.channel(duration)), atol=TOL, rtol=0)


@pytest.mark.parametrize("gamma", [0.05, 0.3, 0.8])
def test_two_damped_qubits_differ_by_the_twirl_approximation(gamma):
    """Phi+ with amplitude damping g on both qubits.

    Exact: |00> stays, |11> -> (1-g)^2 |11> + g(1-g)(|01> + |10>) + g^2 |00>, coherence
    |00><11| -> (1-g).  F = (1/2)[(1+g^2)/2 + (1-g)^2/2 + (1-g)] = 1 - g + g^2/2.
    Twirled (bell.py): F = p_I^2 + p_X^2 + p_Y^2 + p_Z^2 with p = ((1+s)^2, g, g, (1-s)^2)/4;
    ((1+s)^4 + (1-s)^4)/16 = (8 - 8g + g^2)/8, so F = 1 - g + g^2/8 + g^2/8 = 1 - g + g^2/4.
    The twirl drops the coherence created by the first damping, which the second one turns
    back into Phi+ weight: the approximation underestimates F by g^2/4."""
    exact = d.bell_state(0)
    for q in (0, 1):
        exact = d.apply_kraus(exact, d.amplitude_damping(gamma), [q])
    ch = bell.PauliChannel.twirled_amplitude_damping(gamma)
    twirled = bell.apply_channel_both(bell.werner(1.0), ch, ch)
    assert abs(d.fidelity_pure(exact, d.bell_ket(0)) - (1 - gamma + gamma ** 2 / 2)) < TOL
    assert abs(twirled[bell.PHI_PLUS] - (1 - gamma + gamma ** 2 / 4)) < TOL
    # the same through MemoryNoise (T2 = 2 T1: pure relaxation)
    t1 = 1.0
    duration = -t1 * math.log(1 - gamma)
    noise = bell.MemoryNoise(t1_s=t1, t2_s=2 * t1)
    assert abs(bell.apply_channel_both(bell.werner(1.0), noise.channel(duration), noise.channel(duration))[0]
               - twirled[0]) < TOL


# ---------------------------------------------------------------- (c) swapping

def swap_density(c1, c2) -> np.ndarray:
    """A-B1 and B2-C; Bell measurement of B1 B2 (qubits 1, 2), outcome k, correction P_k on C.

    Projecting B1 B2 onto (1 ⊗ P_k)|Phi+> leaves C in P_k^* times the ideal state (the teleportation
    identity), and P_k^* = ±P_k, so the correction is P_k.  Summed over outcomes (unnormalised),
    then A and C are kept."""
    rho = np.kron(d.bell_diagonal(c1), d.bell_diagonal(c2))
    out = np.zeros((4, 4), dtype=complex)
    for k in range(4):
        p, post = d.measure_povm(rho, [1, 2], BELL_PROJECTORS, k)
        out += p * d.partial_trace(d.apply_unitary(post, d.PAULIS[k], [3]), [0, 3])
    return out


@SETTINGS
@given(coefficients(), coefficients())
def test_swap(c1, c2):
    assert_same_pair(swap_density(c1, c2), bell.swap(c1, c2))


@SETTINGS
@given(coefficients(), coefficients())
def test_swap_outcome_before_correction(c1, c2):
    """Each Bell outcome on B1 B2 has probability 1/4 and leaves A-C in bell.swap_outcome (the
    corrected pair with the correction P_k undone)."""
    rho = np.kron(d.bell_diagonal(c1), d.bell_diagonal(c2))
    for k in range(4):
        p, post = d.measure_povm(rho, [1, 2], BELL_PROJECTORS, k)
        assert abs(p - 0.25) < TOL
        assert_same_pair(d.partial_trace(post, [0, 3]), bell.swap_outcome(c1, c2, k))


@SETTINGS
@given(coefficients(), st.integers(0, 3), st.integers(0, 1))
def test_apply_pauli(c, k, qubit):
    assert_same_pair(d.apply_unitary(d.bell_diagonal(c), d.PAULIS[k], [qubit]), bell.apply_pauli(c, k))


def test_swap_of_two_perfect_pairs_is_perfect_for_every_outcome():
    rho = np.kron(d.bell_state(0), d.bell_state(0))
    for k in range(4):
        p, post = d.measure_povm(rho, [1, 2], BELL_PROJECTORS, k)
        assert abs(p - 0.25) < TOL
        assert_same_pair(d.partial_trace(d.apply_unitary(post, d.PAULIS[k], [3]), [0, 3]), (1, 0, 0, 0))


# ---------------------------------------------------------------- (d) purification

def purify_density(rho1: np.ndarray, rho2: np.ndarray, rotate: bool) -> tuple[float, np.ndarray]:
    """A1 B1 A2 B2; optional DEJMPS rotations (Rx(pi/2) at Alice, Rx(-pi/2) at Bob), bilateral CNOT
    (pair 1 controls), Z measurement of A2 and B2, keep equal outcomes."""
    rho = np.kron(rho1, rho2)
    if rotate:
        for q, theta in ((0, math.pi / 2), (2, math.pi / 2), (1, -math.pi / 2), (3, -math.pi / 2)):
            rho = d.apply_unitary(rho, d.rx(theta), [q])
    rho = d.apply_unitary(d.apply_unitary(rho, d.CNOT, [0, 2]), d.CNOT, [1, 3])
    kept = np.zeros((4, 4), dtype=complex)
    for m in (0, 1):
        p_a, post = d.measure(rho, 2, "Z", m)
        p_b, post = d.measure(post, 3, "Z", m)
        kept += p_a * p_b * d.partial_trace(post, [0, 1])
    success = float(np.trace(kept).real)
    return success, kept / success


@SETTINGS
@given(coefficients(), coefficients())
def test_dejmps(c1, c2):
    success, out = bell.dejmps(c1, c2)
    if success < 1e-6:
        return  # bell.py returns a placeholder pair; nothing to compare
    p, rho = purify_density(d.bell_diagonal(c1), d.bell_diagonal(c2), rotate=True)
    assert abs(p - success) < TOL
    assert_same_pair(rho, out)


def test_dejmps_rotation_exchanges_psi_minus_and_phi_minus():
    """(Rx(pi/2) ⊗ Rx(-pi/2)) fixes Phi+ and Psi+ and swaps Psi- with Phi- (up to phase)."""
    u = np.kron(d.rx(math.pi / 2), d.rx(-math.pi / 2))
    for k, image in enumerate((0, 1, 3, 2)):
        assert abs(abs(np.vdot(d.bell_ket(image), u @ d.bell_ket(k))) - 1) < TOL


def clifford_group() -> list[np.ndarray]:
    """The 24 single-qubit Cliffords (modulo phase), generated from H and S."""
    def key(u):
        pivot = u.flat[np.argmax(np.abs(u.flat) > 1e-9)]
        return tuple(np.round(u / (pivot / abs(pivot)), 9).flat)
    group = {key(np.eye(2)): np.eye(2, dtype=complex)}
    frontier = list(group.values())
    while frontier:
        new = []
        for u in frontier:
            for g in (d.H, d.S):
                v = g @ u
                if key(v) not in group:
                    group[key(v)] = v
                    new.append(v)
        frontier = new
    return list(group.values())


CLIFFORDS = clifford_group()


def twirl_density(rho: np.ndarray) -> np.ndarray:
    """Average of (U ⊗ U^*) rho (U ⊗ U^*)^dag over the Clifford group, a unitary 2-design: the
    isotropic (Werner) state with the same Phi+ fidelity (Phi+ is invariant under U ⊗ U^*)."""
    return sum(d.apply_unitary(rho, np.kron(u, u.conj()), [0, 1]) for u in CLIFFORDS) / len(CLIFFORDS)


def test_clifford_twirl_gives_the_werner_state():
    assert len(CLIFFORDS) == 24
    rho = d.apply_kraus(d.bell_diagonal((0.5, 0.3, 0.15, 0.05)), d.amplitude_damping(0.4), [1])
    f = d.fidelity_pure(rho, d.bell_ket(0))
    assert np.max(np.abs(twirl_density(rho) - d.werner_state(f))) < TOL


@SETTINGS
@given(coefficients(), coefficients())
def test_bbpssw(c1, c2):
    """Inputs twirled in the density formalism, bilateral CNOT, Z measurement, output twirled."""
    success, out = bell.bbpssw(c1, c2)
    p, rho = purify_density(twirl_density(d.bell_diagonal(c1)), twirl_density(d.bell_diagonal(c2)), rotate=False)
    assert abs(p - success) < TOL
    assert_same_pair(twirl_density(rho), out)


@pytest.mark.parametrize("f", [0.3, 0.6, 0.9])
def test_bbpssw_closed_form(f):
    """Werner inputs F (Bennett et al. PRL 76, 722, 1996): with r = (1-F)/3,
    p = F^2 + 2 F r + 5 r^2 and F' = (F^2 + r^2) / p."""
    r = (1 - f) / 3
    p = f ** 2 + 2 * f * r + 5 * r ** 2
    success, out = bell.bbpssw(bell.werner(f), bell.werner(f))
    dens_p, rho = purify_density(d.werner_state(f), d.werner_state(f), rotate=False)
    assert abs(success - p) < TOL and abs(dens_p - p) < TOL
    assert abs(out[0] - (f ** 2 + r ** 2) / p) < TOL
    assert abs(d.fidelity_pure(rho, d.bell_ket(0)) - (f ** 2 + r ** 2) / p) < TOL


# ---------------------------------------------------------------- (e) Pauli measurements

def joint_distribution(rho: np.ndarray, basis_a: str, basis_b: str) -> np.ndarray:
    """P(a, b) for qubit 0 measured in basis_a, then qubit 1 in basis_b."""
    out = np.zeros((2, 2))
    for a in (0, 1):
        p, post = d.measure(rho, 0, basis_a, a)
        if p > 0:
            out[a] = p * d.probabilities(post, 1, basis_b)
    return out


@SETTINGS
@given(coefficients())
def test_correlation(c):
    """bell.correlation(c, sigma) = tr(rho sigma ⊗ sigma)."""
    rho = d.bell_diagonal(c)
    for basis, pauli in zip("XYZ", (d.X, d.Y, d.Z)):
        assert abs(bell.correlation(c, basis) - np.trace(rho @ np.kron(pauli, pauli)).real) < TOL
        dist = joint_distribution(rho, basis, basis)
        assert abs(bell.correlation(c, basis) - (dist[0, 0] + dist[1, 1] - dist[0, 1] - dist[1, 0])) < TOL


GRID = 2000


def measure_pair_distribution(c, basis_a: str, basis_b: str) -> np.ndarray:
    """Distribution of bell.measure_pair over its two uniform inputs.  ``a`` depends only on which
    half u_a is in (exact with two points); u_b runs over a midpoint grid (error <= 1/GRID)."""
    out = np.zeros((2, 2))
    for u_a in (0.25, 0.75):
        for u_b in (np.arange(GRID) + 0.5) / GRID:
            a, b = bell.measure_pair(c, basis_a, basis_b, u_a, u_b)
            out[a, b] += 0.5 / GRID
    return out


@pytest.mark.parametrize("basis_a, basis_b", list(itertools.product("XYZ", repeat=2)))
def test_measure_pair_statistics(basis_a, basis_b):
    """Outcome 0 = eigenvalue +1 in both formalisms; a Bell-diagonal state has uniform marginals,
    P(agree) = (1 + <sigma ⊗ sigma>)/2 in equal bases, and no correlation in different bases
    (tr(rho sigma_i ⊗ sigma_j) = 0 for i != j)."""
    for c in ((1, 0, 0, 0), (0, 0, 1, 0), (0.7, 0.1, 0.15, 0.05), (0.25, 0.25, 0.25, 0.25), (0.1, 0.5, 0.1, 0.3)):
        expected = joint_distribution(d.bell_diagonal(c), basis_a, basis_b)
        assert np.max(np.abs(measure_pair_distribution(c, basis_a, basis_b) - expected)) <= 1.0 / GRID + TOL


@SETTINGS
@given(coefficients())
def test_information_figures_from_bell_coefficients(c):
    """information.py's closed forms for Bell-diagonal pairs match the density computations: the
    Horodecki CHSH optimum, the six-state teleportation average and the Z-basis error rate."""
    rho = d.bell_diagonal(c)
    assert abs(information.chsh_value(c) - d.chsh_optimal(rho)) < TOL
    assert abs(information.teleportation_fidelity(c) - d.average_teleportation_fidelity(rho)) < TOL
    dist = joint_distribution(rho, "Z", "Z")
    assert abs(information.qber(c, "Z") - (dist[0, 1] + dist[1, 0])) < TOL
