"""Density matrices of small entangled groups: the exact formalism.

A state of ``n`` qubits (up to about ten) is a ``2**n x 2**n`` complex128
numpy array.  **Qubit 0 is the most significant bit of the basis index**:
for three qubits, row ``0b100 = 4`` is ``|1>|0>|0>`` (qubit 0 in ``|1>``),
which is the order of ``numpy.kron(q0, q1, ...)``.  A gate on ``k`` qubits is
a ``2**k x 2**k`` matrix in the same convention, its first target being the
most significant bit, so ``apply_unitary(rho, CNOT, [2, 0])`` uses qubit 2 as
control and qubit 0 as target.

Used where the Bell-diagonal records of :mod:`qactors.quantum.bell` are not
exact: arbitrary teleported states, non-Pauli noise (amplitude damping,
combined T1/T2 decay) and measurements at arbitrary angles (docs/architecture.md).  The
Bell states are numbered as in :mod:`qactors.quantum.bell`:
``(Phi+, Psi+, Psi-, Phi-)`` is ``(I ⊗ P_k)|Phi+>`` with ``P = (I, X, Y, Z)``
(up to a global phase: ``(I ⊗ Y)|Phi+> = i|Psi->``).

Everything here is a pure function: inputs are never modified, results are
new arrays, and the gate constants are read-only.  Operators act on chosen
qubits by reshaping the state into one axis per qubit and contracting
(``numpy.tensordot``); no ``2**n``-sized Kronecker products are built.
Physical states are not checked on every call (that needs an
eigendecomposition); :func:`check_density` does it on demand.

Outcome labels: ``0`` is the first basis vector (eigenvalue +1 of a Pauli
basis), ``1`` the second (eigenvalue -1), as in :func:`bell.measure_pair`.

Sources for the formulas: M. A. Nielsen and I. L. Chuang, *Quantum
Computation and Quantum Information* (Cambridge, 2000), ch. 2, 4 and 8
(gates, Kraus operators, amplitude and phase damping, T1/T2); others are
cited where they are used.

Example:
    >>> rho = apply_unitary(pure(ket("00")), H, [0])
    >>> rho = apply_unitary(rho, CNOT, [0, 1])
    >>> [round(c, 12) for c in bell_coefficients(rho)]
    [1.0, 0.0, 0.0, 0.0]
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from types import MappingProxyType
from typing import Sequence, Union

import numpy as np

from ..core import checks
from ..core.errors import ConfigurationError
from .bell import check_coefficients

__all__ = [
    # states
    "ket", "pure", "bell_ket", "bell_state", "bell_diagonal", "werner_state", "maximally_mixed",
    "check_density",
    # gates
    "I", "X", "Y", "Z", "H", "S", "T", "CNOT", "CZ", "PAULIS", "rx", "ry", "rz", "apply_unitary",
    # channels
    "amplitude_damping", "dephasing", "depolarising", "t1_t2", "pauli_channel", "apply_kraus", "apply_loss",
    # measurement
    "BASES", "probabilities", "measure", "measure_povm", "sample_measure",
    # figures of merit and protocols
    "partial_trace", "fidelity_pure", "fidelity", "bell_coefficients", "teleport",
    "average_teleportation_fidelity", "correlation_matrix", "chsh", "chsh_optimal",
]

Targets = Union[int, Sequence[int]]
Basis = Union[str, np.ndarray]

_DTYPE = np.complex128
_UNITARY_TOLERANCE = 1e-8
_PROBABILITY_TOLERANCE = 1e-9
_ZERO_PROBABILITY = 1e-15


def _constant(rows) -> np.ndarray:
    a = np.array(rows, dtype=_DTYPE)
    a.setflags(write=False)
    return a


_R2 = 1.0 / math.sqrt(2.0)

I = _constant([[1, 0], [0, 1]])  # noqa: E741 - the standard name of the identity gate
X = _constant([[0, 1], [1, 0]])
Y = _constant([[0, -1j], [1j, 0]])
Z = _constant([[1, 0], [0, -1]])
H = _constant([[_R2, _R2], [_R2, -_R2]])
S = _constant([[1, 0], [0, 1j]])
T = _constant([[1, 0], [0, np.exp(1j * np.pi / 4)]])
#: Control is the first target, target the second.
CNOT = _constant([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]])
CZ = _constant(np.diag([1, 1, 1, -1]))
#: Pauli matrices in the Bell-frame order of :mod:`qactors.quantum.bell`.
PAULIS = (I, X, Y, Z)

#: Named measurement bases; the columns of each matrix are the basis vectors
#: for outcomes 0 and 1 (eigenvalues +1 and -1 of the Pauli operator).
BASES = MappingProxyType({
    "X": _constant([[_R2, _R2], [_R2, -_R2]]),
    "Y": _constant([[_R2, _R2], [1j * _R2, -1j * _R2]]),
    "Z": _constant([[1, 0], [0, 1]]),
})


# ---------------------------------------------------------------- validation

_fail = checks.fail


def _probability(value, what: str) -> float:
    return checks.probability(what, value)


def _qubit_count(dim: int, what: str, shape) -> int:
    n = dim.bit_length() - 1
    if dim < 2 or (1 << n) != dim:
        raise _fail(what, f"array of shape {shape}", "of dimension 2**n (n >= 1 qubits)")
    return n


def _state(rho, what: str = "rho") -> tuple[np.ndarray, int]:
    """``rho`` as a complex128 array and its qubit count; shape checks only."""
    a = np.asarray(rho, dtype=_DTYPE)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise _fail(what, f"array of shape {a.shape}", "a square 2**n x 2**n matrix")
    return a, _qubit_count(a.shape[0], what, a.shape)


def _vector(psi, what: str = "psi") -> tuple[np.ndarray, int]:
    v = np.asarray(psi, dtype=_DTYPE)
    if v.ndim == 2 and 1 in v.shape:
        v = v.reshape(-1)
    if v.ndim != 1:
        raise _fail(what, f"array of shape {v.shape}", "a state vector of length 2**n")
    n = _qubit_count(v.shape[0], what, v.shape)
    norm = float(np.vdot(v, v).real)
    if abs(norm - 1.0) > _UNITARY_TOLERANCE:
        raise _fail(what, f"vector of squared norm {norm}", "normalised (squared norm 1)")
    return v, n


def _targets(targets: Targets, n: int, what: str = "targets") -> list[int]:
    seq = [targets] if isinstance(targets, Integral) else list(targets)
    if not seq or any(isinstance(q, bool) or not isinstance(q, Integral) for q in seq):
        raise _fail(what, targets, f"a qubit index or a non-empty list of qubit indices in 0..{n - 1}")
    seq = [int(q) for q in seq]
    if any(not 0 <= q < n for q in seq):
        raise _fail(what, targets, f"qubit indices in 0..{n - 1} (the state has {n} qubits)")
    if len(set(seq)) != len(seq):
        raise _fail(what, targets, "distinct qubit indices")
    return seq


def _operator(op, k: int, what: str) -> np.ndarray:
    a = np.asarray(op, dtype=_DTYPE)
    d = 1 << k
    if a.shape != (d, d):
        raise _fail(what, f"array of shape {a.shape}", f"a {d} x {d} matrix acting on {k} qubit(s)")
    return a


def _check_unitary(u: np.ndarray, what: str) -> np.ndarray:
    err = float(np.max(np.abs(u.conj().T @ u - np.eye(u.shape[0]))))
    if err > _UNITARY_TOLERANCE:
        raise _fail(what, f"matrix with max|U^dag U - 1| = {err:.3g}", "unitary")
    return u


def _kraus(kraus, k: int, what: str) -> list[np.ndarray]:
    ops = [_operator(K, k, f"{what}[{i}]") for i, K in enumerate(kraus)]
    if not ops:
        raise _fail(what, kraus, "a non-empty list of Kraus operators")
    total = sum(K.conj().T @ K for K in ops)
    err = float(np.max(np.abs(total - np.eye(1 << k))))
    if err > _UNITARY_TOLERANCE:
        raise _fail(what, f"operators with max|sum K^dag K - 1| = {err:.3g}",
                    "complete (sum of K^dag K equal to the identity)")
    return ops


def _basis(basis: Basis) -> np.ndarray:
    if isinstance(basis, str):
        if basis not in BASES:
            raise _fail("basis", basis, f"one of {tuple(BASES)} or a 2x2 unitary whose columns are the basis")
        return BASES[basis]
    return _check_unitary(_operator(basis, 1, "basis"), "basis")


def check_density(rho, what: str = "rho", tolerance: float = 1e-9) -> np.ndarray:
    """Return ``rho`` as a complex128 array if it is a density matrix, else raise.

    Checks shape ``2**n x 2**n``, Hermiticity, unit trace and eigenvalues
    ``>= -tolerance``.

    Raises:
        ConfigurationError: naming ``what`` and the failed condition.
    """
    a, _ = _state(rho, what)
    herm = float(np.max(np.abs(a - a.conj().T)))
    if herm > tolerance:
        raise _fail(what, f"matrix with max|rho - rho^dag| = {herm:.3g}", "Hermitian")
    tr = complex(np.trace(a))
    if abs(tr - 1.0) > tolerance:
        raise _fail(what, f"matrix of trace {tr:.12g}", "of trace 1")
    low = float(np.linalg.eigvalsh(a)[0])
    if low < -tolerance:
        raise _fail(what, f"matrix with smallest eigenvalue {low:.3g}", "positive semidefinite")
    return a


# ---------------------------------------------------------------- states

def ket(bits: Union[str, Sequence[int]]) -> np.ndarray:
    """Computational basis vector; ``bits[0]`` is qubit 0 (the most significant bit).

    Example:
        >>> ket("10").real.tolist()
        [0.0, 0.0, 1.0, 0.0]
    """
    seq = list(bits)
    if not seq or any(b not in (0, 1, "0", "1") or isinstance(b, bool) for b in seq):
        raise _fail("bits", bits, "a non-empty string of '0'/'1' or sequence of 0/1")
    index = 0
    for b in seq:
        index = 2 * index + int(b)
    v = np.zeros(1 << len(seq), dtype=_DTYPE)
    v[index] = 1.0
    return v


def pure(psi) -> np.ndarray:
    """Density matrix ``|psi><psi|`` of a normalised state vector."""
    v, _ = _vector(psi)
    return np.outer(v, v.conj())


def bell_ket(index: int) -> np.ndarray:
    """Bell state vector ``index`` in the order (Phi+, Psi+, Psi-, Phi-).

    Phases are the usual ones: ``Psi- = (|01> - |10>)/sqrt(2)``, which is
    ``(I ⊗ Y)|Phi+>`` up to the global phase ``i``.
    """
    if isinstance(index, bool) or not isinstance(index, Integral) or not 0 <= index < 4:
        raise _fail("index", index, "a Bell-state index 0..3 (Phi+, Psi+, Psi-, Phi-)")
    amplitudes = ((1, 0, 0, 1), (0, 1, 1, 0), (0, 1, -1, 0), (1, 0, 0, -1))[int(index)]
    return np.array(amplitudes, dtype=_DTYPE) * _R2


def bell_state(index: int) -> np.ndarray:
    """Density matrix of Bell state ``index`` (0 Phi+, 1 Psi+, 2 Psi-, 3 Phi-)."""
    return pure(bell_ket(index))


def bell_diagonal(coefficients: Sequence[float]) -> np.ndarray:
    """``sum_k c_k |B_k><B_k|`` for Bell coefficients in the :mod:`bell` order.

    Raises:
        ConfigurationError: if the coefficients are not a probability vector of length 4.
    """
    c = check_coefficients(coefficients, "coefficients")
    return sum(ck * bell_state(k) for k, ck in enumerate(c))


def werner_state(F: float) -> np.ndarray:  # noqa: N803 - F is the usual symbol
    """Werner state ``F |Phi+><Phi+| + (1 - F)/3 (1 - |Phi+><Phi+|)`` (0 <= F <= 1)."""
    f = _probability(F, "F")
    r = (1.0 - f) / 3.0
    return bell_diagonal((f, r, r, r))


def maximally_mixed(n: int) -> np.ndarray:
    """``1 / 2**n``: the maximally mixed state of ``n >= 1`` qubits."""
    if isinstance(n, bool) or not isinstance(n, Integral) or n < 1:
        raise _fail("n", n, "a number of qubits >= 1")
    d = 1 << int(n)
    return np.eye(d, dtype=_DTYPE) / d


# ---------------------------------------------------------------- gates

def rx(theta: float) -> np.ndarray:
    """``exp(-i theta X / 2)``: rotation by ``theta`` radians about the x axis."""
    c, s = math.cos(theta / 2.0), math.sin(theta / 2.0)
    return np.array([[c, -1j * s], [-1j * s, c]], dtype=_DTYPE)


def ry(theta: float) -> np.ndarray:
    """``exp(-i theta Y / 2)``; ``ry(theta)|0> = cos(theta/2)|0> + sin(theta/2)|1>``."""
    c, s = math.cos(theta / 2.0), math.sin(theta / 2.0)
    return np.array([[c, -s], [s, c]], dtype=_DTYPE)


def rz(theta: float) -> np.ndarray:
    """``exp(-i theta Z / 2) = diag(exp(-i theta/2), exp(i theta/2))``."""
    return np.array([[np.exp(-0.5j * theta), 0], [0, np.exp(0.5j * theta)]], dtype=_DTYPE)


def _sandwich(rho: np.ndarray, n: int, a: np.ndarray, b: np.ndarray, targets: list[int]) -> np.ndarray:
    """``A rho B^dag`` with ``A``, ``B`` acting on ``targets`` (no validation)."""
    k = len(targets)
    t = rho.reshape((2,) * (2 * n))
    a_t = a.reshape((2,) * (2 * k))
    # rows: contract A's input axes with the target row axes; A's outputs come first
    t = np.tensordot(a_t, t, axes=(list(range(k, 2 * k)), targets))
    t = np.moveaxis(t, list(range(k)), targets)
    # columns: (rho B^dag)[.., j] = sum_m rho[.., m] conj(B[j, m]); B's outputs come last
    cols = [n + q for q in targets]
    t = np.tensordot(t, b.conj().reshape((2,) * (2 * k)), axes=(cols, list(range(k, 2 * k))))
    t = np.moveaxis(t, list(range(2 * n - k, 2 * n)), cols)
    return t.reshape(rho.shape)


def apply_unitary(rho, U, targets: Targets) -> np.ndarray:  # noqa: N803
    """``U rho U^dag`` with ``U`` (``2**k x 2**k``) acting on the ``k`` qubits ``targets``.

    ``targets[0]`` is the most significant bit of ``U``'s index.

    Raises:
        ConfigurationError: if a target is out of range or repeated, or ``U``
            has the wrong shape or is not unitary.

    Example:
        >>> rho = apply_unitary(pure(ket("10")), CNOT, [0, 1])
        >>> int(np.argmax(np.diag(rho).real))  # |11>
        3
    """
    a, n = _state(rho)
    qs = _targets(targets, n)
    u = _check_unitary(_operator(U, len(qs), "U"), "U")
    return _sandwich(a, n, u, u, qs)


# ---------------------------------------------------------------- channels

def amplitude_damping(gamma: float) -> list[np.ndarray]:
    """Kraus operators of amplitude damping: ``|1> -> |0>`` with probability ``gamma`` (0..1).

    ``K0 = diag(1, sqrt(1 - gamma))``, ``K1 = sqrt(gamma) |0><1|``
    (Nielsen & Chuang §8.3.5).  Coherences shrink by ``sqrt(1 - gamma)``.
    """
    g = _probability(gamma, "gamma")
    return [np.array([[1, 0], [0, math.sqrt(1.0 - g)]], dtype=_DTYPE),
            np.array([[0, math.sqrt(g)], [0, 0]], dtype=_DTYPE)]


def dephasing(e: float) -> list[np.ndarray]:
    """Kraus operators of dephasing: off-diagonal elements multiplied by ``e`` (0..1).

    ``sqrt((1 + e)/2) I`` and ``sqrt((1 - e)/2) Z``.
    """
    v = _probability(e, "e")
    return [math.sqrt((1.0 + v) / 2.0) * np.array(I), math.sqrt((1.0 - v) / 2.0) * np.array(Z)]


def depolarising(e: float) -> list[np.ndarray]:
    """Kraus operators of ``rho -> e rho + (1 - e) I/2`` (0 <= e <= 1).

    Equal to the Pauli channel ``p_I = (1 + 3e)/4``, ``p_X = p_Y = p_Z = (1 - e)/4``
    because ``sum_P P rho P = 2 tr(rho) I`` over the four Paulis.
    """
    v = _probability(e, "e")
    q = (1.0 - v) / 4.0
    return pauli_channel(v + q, q, q, q)


def pauli_channel(p_i: float, p_x: float, p_y: float, p_z: float) -> list[np.ndarray]:
    """Kraus operators ``sqrt(p_P) P`` of the Pauli channel with probabilities ``p_i..p_z``.

    Raises:
        ConfigurationError: if a probability is outside [0, 1] or they do not sum to 1.
    """
    p = [_probability(v, name) for v, name in ((p_i, "p_i"), (p_x, "p_x"), (p_y, "p_y"), (p_z, "p_z"))]
    if abs(sum(p) - 1.0) > _PROBABILITY_TOLERANCE:
        raise _fail("p_i + p_x + p_y + p_z", sum(p), "1")
    return [math.sqrt(pk) * np.array(P) for pk, P in zip(p, PAULIS) if pk > 0.0]


def t1_t2(duration_s: float, t1_s: float, t2_s: float) -> list[np.ndarray]:
    """Kraus operators of free decay for ``duration_s`` seconds with relaxation times T1, T2.

    Exact: amplitude damping with ``gamma = 1 - exp(-t/T1)`` (populations
    relax as ``exp(-t/T1)``), composed with pure dephasing that brings the
    coherence factor from ``exp(-t/(2 T1))`` to ``exp(-t/T2)``, i.e.
    ``e = exp(-t (1/T2 - 1/(2 T1)))`` (the two commute).  ``math.inf``
    switches a process off; physically ``T2 <= 2 T1``.

    Raises:
        ConfigurationError: if ``duration_s < 0``, a time is not ``> 0``, or ``t2_s > 2 t1_s``.

    Example:
        >>> rho = apply_kraus(pure(np.array([1, 1]) / np.sqrt(2)), t1_t2(1.0, 10.0, 2.0), [0])
        >>> bool(np.isclose(2 * rho[0, 1].real, np.exp(-1.0 / 2.0)))
        True
    """
    for name, v in (("t1_s", t1_s), ("t2_s", t2_s)):
        if isinstance(v, bool) or not (isinstance(v, Real) and v > 0):
            raise _fail(name, v, "a time > 0 seconds (math.inf for none)")
    if isinstance(duration_s, bool) or not (isinstance(duration_s, Real) and 0.0 <= duration_s < math.inf):
        raise _fail("duration_s", duration_s, "a finite time >= 0 seconds")
    if t2_s > 2.0 * t1_s * (1.0 + 1e-12):
        raise ConfigurationError(f"t2_s={t2_s!r} exceeds 2*t1_s={2.0 * t1_s!r}: physically T2 <= 2 T1",
                                 field="t2_s", value=t2_s)
    gamma = -math.expm1(-duration_s / t1_s)
    rate_phi = max(0.0, 1.0 / t2_s - 0.5 / t1_s)
    e = math.exp(-duration_s * rate_phi)
    return [k for k in (a @ d for a in amplitude_damping(gamma) for d in dephasing(e)) if np.any(k)]


def apply_kraus(rho, kraus: Sequence, targets: Targets) -> np.ndarray:
    """``sum_K K rho K^dag`` with the Kraus operators acting on ``targets``.

    Raises:
        ConfigurationError: if a target is out of range or repeated, an
            operator has the wrong shape, or ``sum K^dag K != 1``.
    """
    a, n = _state(rho)
    qs = _targets(targets, n)
    ops = _kraus(kraus, len(qs), "kraus")
    return sum(_sandwich(a, n, K, K, qs) for K in ops)


def apply_loss(rho, target: int, p_loss: float) -> tuple[float, np.ndarray]:
    """Photon loss of qubit ``target`` as a heralded erasure: ``(p_lost, rho_if_not_lost)``.

    A lost photon leaves the vacuum, which is outside the qubit's space; the
    loss is known (no detector click, or a missing herald), so it is a flag
    the caller records, not a qubit state (the erasure channel, Grassl, Beth
    and Pellizzari, PRA 56, 33, 1997).  Loss does not depend on the qubit's
    value, so the state given no loss is ``rho`` unchanged (a copy).  If the
    photon is lost, the caller discards the record or traces the qubit out
    with :func:`partial_trace`.

    Raises:
        ConfigurationError: if ``target`` is out of range or ``p_loss`` outside [0, 1].
    """
    a, n = _state(rho)
    _targets(target, n, "target")
    return _probability(p_loss, "p_loss"), a.copy()


# ---------------------------------------------------------------- measurement

def partial_trace(rho, keep: Sequence[int]) -> np.ndarray:
    """Reduced state of the qubits ``keep``, in the order given (the others traced out).

    Example:
        >>> partial_trace(bell_state(0), [1]).real.round(12).tolist()
        [[0.5, 0.0], [0.0, 0.5]]
    """
    a, n = _state(rho)
    qs = _targets(keep, n, "keep")
    rows = list(range(n))
    cols = [q if q not in qs else n + q for q in range(n)]
    out = np.einsum(a.reshape((2,) * (2 * n)), rows + cols, qs + [n + q for q in qs])
    d = 1 << len(qs)
    return out.reshape(d, d)


def probabilities(rho, target: int, basis: Basis = "Z") -> np.ndarray:
    """Outcome probabilities ``[p0, p1]`` of measuring qubit ``target`` in ``basis``.

    ``basis`` is 'X', 'Y', 'Z' or a 2x2 unitary whose columns are the basis
    vectors of outcomes 0 and 1.

    Example:
        >>> probabilities(pure(ket("0")), 0, ry(np.pi / 3)).round(12).tolist()  # cos^2(pi/6)
        [0.75, 0.25]
    """
    a, n = _state(rho)
    q = _targets(target, n, "target")
    b = _basis(basis)
    reduced = partial_trace(a, q)
    p = np.real(np.einsum("im,ij,jm->m", b.conj(), reduced, b))
    return np.clip(p, 0.0, 1.0)


def _outcome(outcome, count: int) -> int:
    if isinstance(outcome, bool) or not isinstance(outcome, Integral) or not 0 <= outcome < count:
        raise _fail("outcome", outcome, f"an outcome index in 0..{count - 1}")
    return int(outcome)


def _collapse(a: np.ndarray, n: int, m: np.ndarray, qs: list[int]) -> tuple[float, np.ndarray]:
    post = _sandwich(a, n, m, m, qs)
    p = float(np.real(np.trace(post)))
    if p <= _ZERO_PROBABILITY:
        return 0.0, np.zeros_like(a)
    return p, post / p


def measure(rho, target: int, basis: Basis, outcome: int) -> tuple[float, np.ndarray]:
    """Projective measurement of qubit ``target``: ``(probability, post-measurement state)``.

    The measured qubit stays in the basis vector of ``outcome`` (column
    ``outcome`` of the basis matrix); the state is renormalised.  If the
    outcome has probability 0 the state returned is the zero matrix, so
    sums ``p * state`` over outcomes stay correct.

    Example:
        >>> p, post = measure(bell_state(0), 0, "X", 1)
        >>> round(p, 12), round(fidelity_pure(post, np.kron([1, -1], [1, -1]) / 2), 12)  # |-->
        (0.5, 1.0)
    """
    a, n = _state(rho)
    q = _targets(target, n, "target")
    b = _basis(basis)
    v = b[:, _outcome(outcome, 2)]
    return _collapse(a, n, np.outer(v, v.conj()), q)


def measure_povm(rho, target: Targets, effects_kraus: Sequence, outcome: int) -> tuple[float, np.ndarray]:
    """Generalised measurement with operators ``M_m`` on ``target`` (one qubit or a list).

    ``effects_kraus[m]`` is the measurement operator of outcome ``m``; the
    POVM effects are ``M_m^dag M_m`` and must sum to the identity.  Returns
    ``(p_m, M_m rho M_m^dag / p_m)`` (zero matrix if ``p_m == 0``).

    Raises:
        ConfigurationError: if the operators are incomplete or of the wrong
            shape, or ``outcome`` or a target is out of range.
    """
    a, n = _state(rho)
    qs = _targets(target, n, "target")
    ops = _kraus(effects_kraus, len(qs), "effects_kraus")
    return _collapse(a, n, ops[_outcome(outcome, len(ops))], qs)


def sample_measure(rho, target: int, basis: Basis, rng: np.random.Generator) -> tuple[int, np.ndarray]:
    """Measure qubit ``target`` in ``basis``, drawing the outcome from ``rng``: ``(outcome, post state)``.

    One uniform number is drawn; outcome 0 if it is below ``p0``.
    """
    if not isinstance(rng, np.random.Generator):
        raise _fail("rng", rng, "a numpy.random.Generator")
    p0 = probabilities(rho, target, basis)[0]
    outcome = 0 if rng.random() < p0 else 1
    return outcome, measure(rho, target, basis, outcome)[1]


# ---------------------------------------------------------------- figures of merit

def fidelity_pure(rho, psi) -> float:
    """``<psi|rho|psi>``: fidelity of ``rho`` to a normalised pure state."""
    a, n = _state(rho)
    v, m = _vector(psi)
    if m != n:
        raise _fail("psi", f"vector of {m} qubit(s)", f"a state of the same {n} qubit(s) as rho")
    return float(np.real(np.vdot(v, a @ v)))


def _sqrtm_psd(a: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((a + a.conj().T) / 2.0)
    # eigenvalues at rounding level are zero: their square roots (~1e-8) would swamp the result
    w = np.where(w > a.shape[0] * np.finfo(float).eps * max(float(np.max(np.abs(w))), 1.0), w, 0.0)
    return (v * np.sqrt(w)) @ v.conj().T


def fidelity(rho, sigma) -> float:
    """Uhlmann fidelity ``(tr sqrt(sqrt(rho) sigma sqrt(rho)))**2`` (squared convention).

    Equals :func:`fidelity_pure` when either state is pure (A. Uhlmann, Rep.
    Math. Phys. 9, 273, 1976; R. Jozsa, J. Mod. Opt. 41, 2315, 1994).
    Computed as the squared sum of the singular values of
    ``sqrt(rho) sqrt(sigma)``, with the square roots taken through ``eigh``
    and eigenvalues at rounding level (below ``dim * machine epsilon``)
    set to zero, so that rank-deficient states keep full accuracy.
    """
    a, n = _state(rho)
    b, m = _state(sigma, "sigma")
    if m != n:
        raise _fail("sigma", f"state of {m} qubit(s)", f"a state of the same {n} qubit(s) as rho")
    s = np.linalg.svd(_sqrtm_psd(a) @ _sqrtm_psd(b), compute_uv=False)
    return float(np.sum(s) ** 2)


def bell_coefficients(rho_2q) -> tuple[float, float, float, float]:
    """Diagonal of a two-qubit state in the Bell basis, in the :mod:`bell` order.

    These are the coefficients of the Bell-diagonal state obtained by
    twirling ``rho_2q`` with random bilateral Paulis; off-diagonal elements
    are dropped.
    """
    a, n = _state(rho_2q, "rho_2q")
    if n != 2:
        raise _fail("rho_2q", f"state of {n} qubit(s)", "a two-qubit (4 x 4) state")
    return tuple(float(np.real(np.vdot(bell_ket(k), a @ bell_ket(k)))) for k in range(4))  # type: ignore


def teleport(rho_in, resource) -> np.ndarray:
    """Output of standard one-qubit teleportation (Bennett et al., PRL 70, 1895, 1993).

    Circuit on three qubits (0: input, 1: A, 2: B, with ``resource`` on
    A, B): CNOT 0 -> 1, H on 0, Z measurement of 0 and 1 with outcomes
    ``m0, m1`` (the Bell measurement; outcome ``(m0, m1)`` is Phi+, Psi+,
    Phi-, Psi- for 00, 01, 10, 11), then ``Z**m0 X**m1`` on B.  Returns B's
    state summed over the four outcomes (the unconditional channel).  With a
    Bell-diagonal resource ``c`` this is the Pauli channel ``c`` on the input.
    """
    a, n = _state(rho_in, "rho_in")
    if n != 1:
        raise _fail("rho_in", f"state of {n} qubits", "a one-qubit (2 x 2) state")
    r, m = _state(resource, "resource")
    if m != 2:
        raise _fail("resource", f"state of {m} qubit(s)", "a two-qubit (4 x 4) state")
    rho = _sandwich(np.kron(a, r), 3, np.asarray(CNOT), np.asarray(CNOT), [0, 1])
    rho = _sandwich(rho, 3, np.asarray(H), np.asarray(H), [0])
    out = np.zeros((2, 2), dtype=_DTYPE)
    for m0 in (0, 1):
        for m1 in (0, 1):
            proj = np.outer(ket((m0, m1)), ket((m0, m1)))
            branch = _sandwich(rho, 3, proj, proj, [0, 1])  # unnormalised: trace = probability
            fix = np.linalg.matrix_power(np.asarray(Z), m0) @ np.linalg.matrix_power(np.asarray(X), m1)
            branch = _sandwich(branch, 3, fix, fix, [2])
            out += partial_trace(branch, [2])
    return out


_SIX_STATES = tuple(np.asarray(BASES[b][:, k]) for b in ("X", "Y", "Z") for k in (0, 1))


def average_teleportation_fidelity(resource) -> float:
    """Teleportation fidelity averaged over all pure inputs, from the six Pauli eigenstates.

    The six states form a 2-design, so their average equals the average
    over the whole Bloch sphere (Bowdrey et al., Phys. Lett. A 294, 258,
    2002).  For a Bell-diagonal resource it is ``(2 c_Phi+ + 1) / 3``
    (Horodecki, Horodecki and Horodecki, PRA 60, 1888, 1999).
    """
    return float(np.mean([fidelity_pure(teleport(pure(v), resource), v) for v in _SIX_STATES]))


def correlation_matrix(rho) -> np.ndarray:
    """``T[i, j] = tr(rho sigma_i ⊗ sigma_j)`` for ``sigma = (X, Y, Z)`` of a two-qubit state."""
    a, n = _state(rho)
    if n != 2:
        raise _fail("rho", f"state of {n} qubit(s)", "a two-qubit (4 x 4) state")
    paulis = (X, Y, Z)
    return np.array([[float(np.real(np.trace(a @ np.kron(p, q)))) for q in paulis] for p in paulis])


def _direction(theta: float) -> np.ndarray:
    return np.array([math.sin(theta), 0.0, math.cos(theta)])  # (x, y, z) of cos(t) Z + sin(t) X


def chsh(rho, a0: float, a1: float, b0: float, b1: float) -> float:
    """CHSH value ``E(a0,b0) + E(a0,b1) + E(a1,b0) - E(a1,b1)`` (Clauser et al., PRL 23, 880, 1969).

    Qubit 0 is measured with the observable ``cos(a) Z + sin(a) X``, qubit 1
    with ``cos(b) Z + sin(b) X`` (angles in radians, in the X-Z plane).  For
    Phi+, ``E(a, b) = cos(a - b)``, so angles ``0, pi/2, pi/4, -pi/4`` give
    ``2 sqrt(2)``.
    """
    t = correlation_matrix(rho)

    def e(a: float, b: float) -> float:
        return float(_direction(a) @ t @ _direction(b))
    return e(a0, b0) + e(a0, b1) + e(a1, b0) - e(a1, b1)


def chsh_optimal(rho) -> float:
    """Largest CHSH value over all measurement directions: ``2 sqrt(u1 + u2)``.

    ``u1 >= u2`` are the two largest eigenvalues of ``T^T T``, ``T`` the
    correlation matrix (R., P. and M. Horodecki, Phys. Lett. A 200, 340,
    1995).  Above 2 the state violates the CHSH inequality.
    """
    t = correlation_matrix(rho)
    u = np.linalg.eigvalsh(t.T @ t)
    return float(2.0 * math.sqrt(max(0.0, u[-1] + u[-2])))
