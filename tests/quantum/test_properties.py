"""Properties that must hold for every input: physical states stay physical, Bell coefficients
stay probability vectors, local operations do not signal, noise does not help."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qactors.quantum import bell
from qactors.quantum import density as d

SETTINGS = settings(max_examples=60, deadline=None)
EPS = 1e-10

seeds = st.integers(0, 2 ** 32 - 1)
unit = st.floats(0.0, 1.0)
angles = st.floats(-2 * math.pi, 2 * math.pi)


def random_state(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rank = int(rng.integers(1, 2 ** n + 1))
    g = rng.normal(size=(2 ** n, rank)) + 1j * rng.normal(size=(2 ** n, rank))
    rho = g @ g.conj().T
    return rho / np.trace(rho)


def random_unitary(seed: int, k: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.normal(size=(2 ** k, 2 ** k)) + 1j * rng.normal(size=(2 ** k, 2 ** k)))
    return q * (np.diag(r) / np.abs(np.diag(r)))


@st.composite
def probability_vectors(draw, size: int = 4):
    raw = draw(st.lists(st.floats(0.0, 1.0), min_size=size, max_size=size).filter(lambda v: sum(v) > 1e-3))
    total = sum(raw)
    return tuple(x / total for x in raw)


@st.composite
def memory_noises(draw):
    t1 = draw(st.one_of(st.just(math.inf), st.floats(1e-3, 10.0)))
    t2 = math.inf if t1 == math.inf else 2.0 * t1 * draw(st.floats(0.01, 1.0))
    if t1 == math.inf:
        t2 = draw(st.one_of(st.just(math.inf), st.floats(1e-3, 10.0)))
    dep = draw(st.one_of(st.just(math.inf), st.floats(1e-3, 10.0)))
    return bell.MemoryNoise(t1, t2, dep).check()


def single_qubit_channel(draw) -> list[np.ndarray]:
    kind = draw(st.sampled_from(["amplitude", "dephasing", "depolarising", "pauli", "t1t2"]))
    if kind == "amplitude":
        return d.amplitude_damping(draw(unit))
    if kind == "dephasing":
        return d.dephasing(draw(unit))
    if kind == "depolarising":
        return d.depolarising(draw(unit))
    if kind == "pauli":
        return d.pauli_channel(*draw(probability_vectors()))
    t1 = draw(st.floats(1e-3, 1.0))
    return d.t1_t2(draw(st.floats(0.0, 2.0)), t1, 2 * t1 * draw(st.floats(0.01, 1.0)))


@st.composite
def operations(draw, n: int):
    """One operation on an ``n``-qubit state, as a function of the state."""
    q = draw(st.integers(0, n - 1))
    kind = draw(st.sampled_from(["gate", "rotation", "two", "unitary", "channel", "measure", "average"]))
    if kind == "gate":
        g = draw(st.sampled_from([d.I, d.X, d.Y, d.Z, d.H, d.S, d.T]))
        return lambda rho: d.apply_unitary(rho, g, [q])
    if kind == "rotation":
        rot, theta = draw(st.sampled_from([d.rx, d.ry, d.rz])), draw(angles)
        return lambda rho: d.apply_unitary(rho, rot(theta), [q])
    if kind in ("two", "unitary") and n >= 2:
        r = draw(st.integers(0, n - 1).filter(lambda x: x != q))
        g = draw(st.sampled_from([d.CNOT, d.CZ])) if kind == "two" else random_unitary(draw(seeds), 2)
        return lambda rho: d.apply_unitary(rho, g, [q, r])
    if kind == "channel":
        kraus = single_qubit_channel(draw)
        return lambda rho: d.apply_kraus(rho, kraus, [q])
    basis = draw(st.one_of(st.sampled_from(["X", "Y", "Z"]), seeds.map(lambda s: random_unitary(s, 1))))
    if kind == "measure":
        outcome = draw(st.integers(0, 1))

        def conditional(rho):
            p, post = d.measure(rho, q, basis, outcome)
            return post if p > 1e-6 else d.measure(rho, q, basis, 1 - outcome)[1]
        return conditional
    return lambda rho: sum(p * post for p, post in (d.measure(rho, q, basis, m) for m in (0, 1)))


def assert_physical(rho: np.ndarray) -> None:
    assert np.max(np.abs(rho - rho.conj().T)) < EPS
    assert abs(np.trace(rho) - 1.0) < EPS
    assert np.linalg.eigvalsh(rho)[0] >= -EPS


@SETTINGS
@given(st.data(), st.integers(1, 4), seeds)
def test_states_stay_physical(data, n, seed):
    rho = random_state(seed, n)
    for op in data.draw(st.lists(operations(n), min_size=1, max_size=8)):
        rho = op(rho)
        assert_physical(rho)


def assert_probability_vector(c) -> None:
    assert len(c) == 4
    assert all(x >= -1e-12 for x in c)
    assert abs(sum(c) - 1.0) < 1e-9
    bell.check_coefficients(c)


@SETTINGS
@given(probability_vectors(), probability_vectors(), probability_vectors(), memory_noises(),
       st.floats(0.0, 5.0))
def test_bell_coefficients_stay_probability_vectors(c1, c2, p, noise, duration):
    assert_probability_vector(bell.apply_channel(c1, bell.PauliChannel(*p)))
    assert_probability_vector(bell.apply_channel(c1, noise.channel(duration)))
    assert_probability_vector(bell.swap(c1, c2))
    for protocol in (bell.bbpssw, bell.dejmps):
        success, out = protocol(c1, c2)
        assert -1e-12 <= success <= 1.0 + 1e-12
        assert_probability_vector(out)


@st.composite
def local_operations(draw, a: int, others: list[int]):
    """An operation on qubit ``a`` (a unitary may also touch a third qubit in ``others``)."""
    kind = draw(st.sampled_from(["unitary", "joint", "channel", "measure", "povm"]))
    if kind == "unitary":
        u = random_unitary(draw(seeds), 1)
        return lambda rho: d.apply_unitary(rho, u, [a])
    if kind == "joint" and others:
        c = draw(st.sampled_from(others))
        u = random_unitary(draw(seeds), 2)
        return lambda rho: d.apply_unitary(rho, u, [a, c])
    if kind == "channel":
        kraus = single_qubit_channel(draw)
        return lambda rho: d.apply_kraus(rho, kraus, [a])
    if kind == "povm":
        u = random_unitary(draw(seeds), 1)
        eps = draw(unit)
        ops = [u @ np.diag([math.sqrt(1 - eps), math.sqrt(eps)]), u @ np.diag([math.sqrt(eps), math.sqrt(1 - eps)])]
        return lambda rho: sum(p * post for p, post in (d.measure_povm(rho, a, ops, m) for m in (0, 1)))
    basis = draw(st.one_of(st.sampled_from(["X", "Y", "Z"]), seeds.map(lambda s: random_unitary(s, 1))))
    return lambda rho: sum(p * post for p, post in (d.measure(rho, a, basis, m) for m in (0, 1)))


@SETTINGS
@given(st.data(), st.integers(2, 3), seeds)
def test_no_signalling(data, n, seed):
    """Whatever is done to qubit A (averaged over outcomes), the reduced state of B is unchanged."""
    a, b = data.draw(st.permutations(range(n)))[:2]
    others = [q for q in range(n) if q not in (a, b)]
    rho = random_state(seed, n)
    before = d.partial_trace(rho, [b])
    after = data.draw(local_operations(a, others))(rho)
    assert np.max(np.abs(d.partial_trace(after, [b]) - before)) < 1e-9


werner_fidelities = st.floats(0.25, 1.0)


@SETTINGS
@given(werner_fidelities, probability_vectors(), st.integers(0, 1))
def test_pauli_noise_never_raises_werner_fidelity(f, p, qubit):
    """F' = p_I F + (1 - p_I)(1 - F)/3 <= F exactly when F >= 1/4."""
    assert bell.apply_channel(bell.werner(f), bell.PauliChannel(*p))[bell.PHI_PLUS] <= f + 1e-12
    out = d.apply_kraus(d.werner_state(f), d.pauli_channel(*p), [qubit])
    assert d.fidelity_pure(out, d.bell_ket(0)) <= f + 1e-12


@SETTINGS
@given(werner_fidelities, memory_noises(), st.floats(1e-6, 10.0), st.integers(0, 1))
def test_memory_noise_never_raises_werner_fidelity(f, noise, duration, qubit):
    """Bell-diagonal: MemoryNoise.channel is a Pauli channel.  Exact: Werner = w Phi+ + (1-w) 1/4 with
    w >= 0 for F >= 1/4; a channel Lambda on one qubit gives F' = w <Phi+|(1⊗Lambda)(Phi+)|Phi+> + (1-w)/4
    <= w + (1-w)/4 = F."""
    assert bell.apply_channel(bell.werner(f), noise.channel(duration))[bell.PHI_PLUS] <= f + 1e-12
    rho = d.werner_state(f)
    if noise.t1_s != math.inf or noise.t2_s != math.inf:
        rho = d.apply_kraus(rho, d.t1_t2(duration, noise.t1_s, noise.t2_s), [qubit])
    if noise.depolarising_s != math.inf:
        rho = d.apply_kraus(rho, d.depolarising(math.exp(-duration / noise.depolarising_s)), [qubit])
    assert d.fidelity_pure(rho, d.bell_ket(0)) <= f + 1e-12



def test_memory_noise_with_only_t1_is_a_channel():
    """MemoryNoise(t1_s=1).channel(0.5) is pure relaxation (T2 = 2 T1): a probability vector equal to
    the twirled amplitude damping with gamma = 1 - exp(-0.5)."""
    channel = bell.MemoryNoise(t1_s=1.0).channel(0.5)
    assert min(channel.probabilities()) >= 0.0
    twirled = bell.PauliChannel.twirled_amplitude_damping(-math.expm1(-0.5))
    assert channel.probabilities() == pytest.approx(twirled.probabilities(), abs=1e-12)
