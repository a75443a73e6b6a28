"""Bell-diagonal pair records: the default quantum-state formalism.

A two-qubit state diagonal in the Bell basis is four probabilities
``c = (c_Phi+, c_Psi+, c_Psi-, c_Phi-)``.  Index ``k`` is also a Pauli frame:
the Bell state ``(I ⊗ P_k)|Phi+>`` with ``P = (I, X, Y, Z)``, so Pauli noise and
Clifford protocols act on the four numbers by permutations and convolutions
over the Klein group {I, X, Y, Z} (Pauli products up to phase):

* a Pauli channel ``p`` on either qubit: ``c'[j·k] += p[j] c[k]``;
* entanglement swapping with an ideal Bell-state measurement and Pauli
  correction: ``c_out[i·j] += c1[i] c2[j]`` (Briegel, Dür, Cirac, Zoller,
  PRL 81, 5932, 1998);
* recurrence purification, bilateral CNOT then Z measurement of the target
  pair: success iff the two frames agree in their bit-flip part
  (Bennett et al. PRL 76, 722, 1996 [BBPSSW]; Deutsch et al. PRL 77, 2818,
  1996 [DEJMPS]).

Pauli channels commute with each other and with operations on the other
qubit, so each end of a pair can compute the pair's state at any time from
its own memory's noise and the other end's, without asking (docs/architecture.md).
Amplitude damping enters as its Pauli twirl: exact for the Bell-state
fidelity of one damped qubit, an approximation for correlations between two
damped qubits (the density-matrix formalism is exact there).

All functions are pure and take/return tuples of four floats.
"""

from __future__ import annotations

import math
from typing import Sequence

from ..core.errors import ConfigurationError
from ..core.messages import Message, message

__all__ = [
    "BELL_LABELS", "PHI_PLUS", "PSI_PLUS", "PSI_MINUS", "PHI_MINUS", "Coefficients",
    "PauliChannel", "MemoryNoise", "PairEnd", "PairRecord",
    "check_coefficients", "werner", "werner_parameter", "fidelity", "twirl", "apply_channel",
    "apply_channel_both", "apply_pauli", "swap", "swap_outcome", "bbpssw", "dejmps", "pauli_product", "correlation",
    "measure_pair", "BASES", "chain_record", "correlation_xz", "measure_pair_xz",
]

BELL_LABELS = ("Phi+", "Psi+", "Psi-", "Phi-")
PHI_PLUS, PSI_PLUS, PSI_MINUS, PHI_MINUS = 0, 1, 2, 3
Coefficients = tuple[float, float, float, float]

# (x, z) bits of I, X, Y, Z; a Pauli product is the XOR of the bits
_BITS = ((0, 0), (1, 0), (1, 1), (0, 1))
_INDEX = {b: i for i, b in enumerate(_BITS)}
_PRODUCT = tuple(tuple(_INDEX[(_BITS[i][0] ^ _BITS[j][0], _BITS[i][1] ^ _BITS[j][1])] for j in range(4))
                 for i in range(4))
BASES = ("X", "Y", "Z")
_BASIS_PAULI = {"X": 1, "Y": 2, "Z": 3}
_TOLERANCE = 1e-9


def _correlations(c: Sequence[float]) -> tuple[float, float, float]:
    """Characters of the Klein group: ``T_s = sum_k c_k sign(k, s)``; a Pauli channel
    on either qubit multiplies ``T_s`` by its eigenvalue ``l_s``."""
    c0, c1, c2, c3 = c
    return (c0 + c1 - c2 - c3, c0 - c1 + c2 - c3, c0 - c1 - c2 + c3)


def _from_correlations(tx: float, ty: float, tz: float) -> Coefficients:
    return ((1.0 + tx + ty + tz) / 4.0, (1.0 + tx - ty - tz) / 4.0,
            (1.0 - tx + ty - tz) / 4.0, (1.0 - tx - ty + tz) / 4.0)


def pauli_product(i: int, j: int) -> int:
    """Index of ``P_i P_j`` (up to phase) for indices in the order I, X, Y, Z."""
    return _PRODUCT[i][j]


def check_coefficients(c: Sequence[float], what: str = "Bell coefficients") -> Coefficients:
    """Return ``c`` as a 4-tuple of floats if it is a probability vector, else raise ConfigurationError."""
    if len(c) != 4:
        raise ConfigurationError(f"{what} must have 4 entries (Phi+, Psi+, Psi-, Phi-), got {len(c)}: {c!r}",
                                 field=what, value=c)
    out = tuple(float(x) for x in c)
    if any(not (x >= -_TOLERANCE) or math.isnan(x) for x in out) or abs(sum(out) - 1.0) > 1e-6:
        raise ConfigurationError(f"{what} must be probabilities (each >= 0) summing to 1, got {out!r}",
                                 field=what, value=out)
    return tuple(max(0.0, x) for x in out)  # type: ignore[return-value]


def werner(fidelity_: float) -> Coefficients:
    """Werner state ``F|Phi+><Phi+| + (1-F)/3 (1 - |Phi+><Phi+|)`` (0 <= F <= 1)."""
    if not 0.0 <= fidelity_ <= 1.0:
        raise ConfigurationError(f"Werner fidelity must be in [0, 1], got {fidelity_!r}", field="fidelity",
                                 value=fidelity_)
    r = (1.0 - fidelity_) / 3.0
    return (float(fidelity_), r, r, r)


def werner_parameter(fidelity_: float) -> float:
    """``w = (4F - 1) / 3``: the weight of |Phi+> against the maximally mixed state."""
    return (4.0 * fidelity_ - 1.0) / 3.0


def fidelity(c: Sequence[float], target: int = PHI_PLUS) -> float:
    """Fidelity to the Bell state ``target`` (index into :data:`BELL_LABELS`)."""
    return float(c[target])


def twirl(c: Sequence[float], target: int = PHI_PLUS) -> Coefficients:
    """Werner form with the same fidelity to ``target`` (a random bilateral rotation)."""
    f = float(c[target])
    r = (1.0 - f) / 3.0
    out = [r, r, r, r]
    out[target] = f
    return tuple(out)  # type: ignore[return-value]


@message
class PauliChannel(Message):
    """A single-qubit Pauli channel: probabilities of I, X, Y, Z."""

    p_i: float
    p_x: float
    p_y: float
    p_z: float

    @staticmethod
    def identity() -> "PauliChannel":
        return PauliChannel(1.0, 0.0, 0.0, 0.0)

    @staticmethod
    def depolarising(e: float) -> "PauliChannel":
        """``rho -> e rho + (1 - e) I/2`` (0 <= e <= 1)."""
        q = (1.0 - e) / 4.0
        return PauliChannel(e + q, q, q, q)

    @staticmethod
    def dephasing(e: float) -> "PauliChannel":
        """Off-diagonal elements multiplied by ``e`` (0 <= e <= 1)."""
        return PauliChannel((1.0 + e) / 2.0, 0.0, 0.0, (1.0 - e) / 2.0)

    @staticmethod
    def twirled_amplitude_damping(gamma: float) -> "PauliChannel":
        """Pauli twirl of amplitude damping with decay probability ``gamma`` (0..1)."""
        s = math.sqrt(max(0.0, 1.0 - gamma))
        return PauliChannel((1.0 + s) ** 2 / 4.0, gamma / 4.0, gamma / 4.0, (1.0 - s) ** 2 / 4.0)

    def probabilities(self) -> Coefficients:
        return (self.p_i, self.p_x, self.p_y, self.p_z)

    def decay(self) -> tuple[float, float, float]:
        """Pauli-transfer eigenvalues: the factors by which ``<X>``, ``<Y>``, ``<Z>`` shrink."""
        return _correlations(self.probabilities())

    def then(self, other: "PauliChannel") -> "PauliChannel":
        """This channel followed by ``other`` (Pauli channels commute, so order is irrelevant)."""
        return PauliChannel(*_from_correlations(*(a * b for a, b in zip(self.decay(), other.decay()))))


@message
class MemoryNoise(Message):
    """Continuous-time Pauli noise of a stored qubit.

    ``t1_s``: energy relaxation (entered as twirled amplitude damping);
    ``t2_s``: total coherence time (T2 <= 2 T1; the pure-dephasing part is
    ``1/T_phi = 1/T2 - 1/(2 T1)``; left at infinity it means T2 = 2 T1); ``depolarising_s``: time constant of an
    extra depolarising process.  ``math.inf`` switches a process off.
    """

    t1_s: float = math.inf
    t2_s: float = math.inf
    depolarising_s: float = math.inf

    def decay(self, duration_s: float) -> tuple[float, float, float]:
        """Pauli-transfer eigenvalues ``(l_x, l_y, l_z)`` of the channel accumulated over
        ``duration_s``: ``<X>`` and ``<Y>`` shrink by ``exp(-t/T2)``, ``<Z>`` by
        ``exp(-t/T1)`` (the twirl keeps amplitude damping's diagonal), and all three
        by ``exp(-t/T_dep)``."""
        if duration_s <= 0.0:
            return (1.0, 1.0, 1.0)
        # coherence never outlives 2 T1: an unset (infinite) T2 means pure amplitude damping
        rate_xy = max(1.0 / self.t2_s, 0.5 / self.t1_s) + 1.0 / self.depolarising_s  # 1/inf == 0.0
        rate_z = 1.0 / self.t1_s + 1.0 / self.depolarising_s
        lxy = math.exp(-duration_s * rate_xy)
        return (lxy, lxy, math.exp(-duration_s * rate_z))

    def channel(self, duration_s: float) -> PauliChannel:
        """The Pauli channel accumulated over ``duration_s`` seconds of storage."""
        return PauliChannel(*_from_correlations(*self.decay(duration_s)))

    def check(self) -> "MemoryNoise":
        for name in ("t1_s", "t2_s", "depolarising_s"):
            v = getattr(self, name)
            if not v > 0:
                raise ConfigurationError(f"MemoryNoise.{name} must be > 0 seconds (math.inf for none), got {v!r}",
                                         field=name, value=v)
        if self.t2_s > 2 * self.t1_s * (1 + 1e-12):
            raise ConfigurationError(f"MemoryNoise.t2_s={self.t2_s} exceeds 2*t1_s={2 * self.t1_s}: physically "
                                     f"T2 <= 2 T1", field="t2_s", value=self.t2_s)
        return self


def apply_channel(c: Sequence[float], channel: PauliChannel) -> Coefficients:
    """Apply a Pauli channel to one qubit of the pair (either: the result is the same)."""
    tx, ty, tz = _correlations(c)
    lx, ly, lz = channel.decay()
    return _from_correlations(tx * lx, ty * ly, tz * lz)


def apply_channel_both(c: Sequence[float], a: PauliChannel, b: PauliChannel) -> Coefficients:
    """Apply ``a`` to one qubit and ``b`` to the other."""
    return apply_channel(apply_channel(c, a), b)


def swap(c1: Sequence[float], c2: Sequence[float]) -> Coefficients:
    """Entanglement swapping of pairs A-B1 and B2-C with an ideal Bell-state measurement
    on B1, B2 and the Pauli correction on C: the coefficients of A-C.

    The output is the convolution of the inputs over the Pauli frames, i.e. the
    product of their correlations ``<XX>, <YY>, <ZZ>`` (up to the Phi+ signs)."""
    ax, ay, az = _correlations(c1)
    bx, by, bz = _correlations(c2)
    return _from_correlations(ax * bx, ay * by, az * bz)


def apply_pauli(c: Sequence[float], pauli: int) -> Coefficients:
    """Apply the Pauli ``pauli`` (0..3 for I, X, Y, Z) to one qubit: permutes the frames."""
    out = [0.0, 0.0, 0.0, 0.0]
    row = _PRODUCT[pauli]
    for k in range(4):
        out[row[k]] = c[k]
    return tuple(out)  # type: ignore[return-value]


def swap_outcome(c1: Sequence[float], c2: Sequence[float], outcome: int) -> Coefficients:
    """A-C coefficients right after a Bell-state measurement on B1, B2 that found Bell
    state ``outcome``, before any correction.  Every outcome has probability 1/4 for
    Bell-diagonal inputs; applying ``apply_pauli(state, outcome)`` (the correction the
    outcome calls for) gives :func:`swap`."""
    return apply_pauli(swap(c1, c2), outcome)


def _bilateral_cnot(c1: Sequence[float], c2: Sequence[float]) -> tuple[float, Coefficients]:
    """Bilateral CNOT (pair 1 source, pair 2 target), Z measurement of the target pair on
    both sides, keep if the outcomes agree: success probability and kept pair."""
    out = [0.0, 0.0, 0.0, 0.0]
    for s in range(4):
        xs, zs = _BITS[s]
        for t in range(4):
            xt, zt = _BITS[t]
            if xs == xt:
                out[_INDEX[(xs, zs ^ zt)]] += c1[s] * c2[t]
    p = sum(out)
    if p <= 0.0:
        return 0.0, (1.0, 0.0, 0.0, 0.0)
    return p, tuple(x / p for x in out)  # type: ignore[return-value]


def bbpssw(c1: Sequence[float], c2: Sequence[float]) -> tuple[float, Coefficients]:
    """One BBPSSW round: both inputs twirled to Werner form, bilateral CNOT, Z measurement,
    and the kept pair twirled again.  Returns ``(success probability, coefficients)``."""
    p, out = _bilateral_cnot(twirl(c1), twirl(c2))
    return p, twirl(out)


def _dejmps_rotation(c: Sequence[float]) -> Coefficients:
    # Alice's Rx(pi/2) and Bob's Rx(-pi/2) exchange Psi- and Phi-
    return (c[PHI_PLUS], c[PSI_PLUS], c[PHI_MINUS], c[PSI_MINUS])


def dejmps(c1: Sequence[float], c2: Sequence[float]) -> tuple[float, Coefficients]:
    """One DEJMPS round (no twirl).  Returns ``(success probability, coefficients)``."""
    return _bilateral_cnot(_dejmps_rotation(c1), _dejmps_rotation(c2))


_PHI_PLUS_SIGN = {"X": 1, "Y": -1, "Z": 1}


def correlation(c: Sequence[float], basis: str) -> float:
    """``<sigma ⊗ sigma>`` for both qubits measured in the Pauli ``basis`` ('X', 'Y' or 'Z')."""
    return _PHI_PLUS_SIGN[basis] * _correlations(c)["XYZ".index(basis)]


def measure_pair(c: Sequence[float], basis_a: str, basis_b: str, u_a: float, u_b: float) -> tuple[int, int]:
    """Outcomes (0/1) of measuring both qubits of a Bell-diagonal pair in Pauli bases.

    ``u_a`` and ``u_b`` are two uniform numbers in [0, 1) that both ends draw
    from the keyed shared generator, so each end computes the same outcome
    pair without a shared object.  Marginals are uniform; in equal bases the
    outcomes agree with probability ``(1 + correlation) / 2``; in different
    bases they are independent.
    """
    if basis_a not in _BASIS_PAULI or basis_b not in _BASIS_PAULI:
        raise ConfigurationError(f"measurement bases must be one of {BASES}, got {basis_a!r}, {basis_b!r}",
                                 field="basis", value=(basis_a, basis_b))
    a = int(u_a < 0.5)
    if basis_a != basis_b:
        return a, int(u_b < 0.5)
    agree = (1.0 + correlation(c, basis_a)) / 2.0
    return a, a if u_b < agree else 1 - a


def correlation_xz(c: Sequence[float], theta_a: float, theta_b: float) -> float:
    """``<A ⊗ B>`` with ``A = cos(theta_a) Z + sin(theta_a) X`` on one qubit and ``B`` likewise
    at ``theta_b`` on the other (angles in radians, in the X-Z plane of the Bloch sphere).

    A Bell-diagonal state has no cross correlations (``<ZX> = <XZ> = 0``) and no
    local Bloch vectors, so ``<A ⊗ B> = cos a cos b <ZZ> + sin a sin b <XX>``;
    for Phi+ that is ``cos(a - b)``.
    """
    return (math.cos(theta_a) * math.cos(theta_b) * correlation(c, "Z")
            + math.sin(theta_a) * math.sin(theta_b) * correlation(c, "X"))


def measure_pair_xz(c: Sequence[float], theta_a: float, theta_b: float, u_a: float, u_b: float) -> tuple[int, int]:
    """Outcomes (0 for eigenvalue +1, 1 for -1) of measuring the two qubits of a Bell-diagonal
    pair along angles ``theta_a`` and ``theta_b`` in the X-Z plane (see :func:`correlation_xz`).

    As in :func:`measure_pair`, ``u_a`` and ``u_b`` are uniform numbers in [0, 1)
    from the keyed shared generator: the first outcome depends on ``u_a`` only
    (marginals are uniform), and the second agrees with it with probability
    ``(1 + <A ⊗ B>) / 2``.  Angles 0 and pi/2 are the Z and X measurements of
    :func:`measure_pair`.
    """
    for name, theta in (("theta_a", theta_a), ("theta_b", theta_b)):
        if not (isinstance(theta, (int, float)) and math.isfinite(theta)):
            raise ConfigurationError(f"measurement angle {name} = {theta!r} is not allowed; allowed: a finite "
                                     f"number of radians", field=name, value=theta)
    a = int(u_a < 0.5)
    agree = (1.0 + correlation_xz(c, theta_a, theta_b)) / 2.0
    return a, a if u_b < agree else 1 - a


@message
class PairEnd(Message):
    """One end of a stored pair: where it sits, its memory's noise, and when it was stored (ps)."""

    node: str
    noise: MemoryNoise
    stored_ps: int


@message
class PairRecord(Message):
    """An entangled pair as both ends know it.

    ``coefficients`` hold at ``ref_ps``; from then on each end's qubit decays
    by its own memory's noise, from ``max(ref_ps, stored_ps)``.  Either end
    computes the state at any time with :meth:`at` and nothing else.
    """

    pair_id: str
    coefficients: tuple
    ref_ps: int
    a: PairEnd
    b: PairEnd

    def at(self, t_ps: int) -> Coefficients:
        """The pair's Bell coefficients at simulated time ``t_ps`` (>= ``ref_ps``)."""
        if t_ps < self.ref_ps:
            raise ConfigurationError(f"pair {self.pair_id!r} is known from t={self.ref_ps} ps; asked for its "
                                     f"state at t={t_ps} ps", field="t_ps", value=t_ps)
        tx, ty, tz = _correlations(self.coefficients)
        for end in (self.a, self.b):
            start = max(self.ref_ps, end.stored_ps)
            if t_ps > start:
                lx, ly, lz = end.noise.decay((t_ps - start) * 1e-12)
                tx, ty, tz = tx * lx, ty * ly, tz * lz
        return _from_correlations(tx, ty, tz)

    def at_ends(self, t_a_ps: int, t_b_ps: int) -> Coefficients:
        """The pair's coefficients when end ``a``'s qubit stopped decaying at ``t_a_ps`` and
        end ``b``'s at ``t_b_ps`` (each measured or used at its own time)."""
        tx, ty, tz = _correlations(self.coefficients)
        for end, t in ((self.a, t_a_ps), (self.b, t_b_ps)):
            if t < self.ref_ps:
                raise ConfigurationError(f"pair {self.pair_id!r} is known from t={self.ref_ps} ps; asked for "
                                         f"end {end.node!r} at t={t} ps", field="t_ps", value=t)
            start = max(self.ref_ps, end.stored_ps)
            if t > start:
                lx, ly, lz = end.noise.decay((t - start) * 1e-12)
                tx, ty, tz = tx * lx, ty * ly, tz * lz
        return _from_correlations(tx, ty, tz)

    def fidelity_at(self, t_ps: int, target: int = PHI_PLUS) -> float:
        """Fidelity to Bell state ``target`` at ``t_ps``."""
        return self.at(t_ps)[target]

    def advanced(self, t_ps: int) -> "PairRecord":
        """The same pair with its coefficients brought forward to ``t_ps``."""
        return PairRecord(self.pair_id, self.at(t_ps), t_ps, self.a, self.b)


def chain_record(pair_id: str, links: Sequence[PairRecord], swap_times_ps: Sequence[int]) -> PairRecord:
    """The end-to-end pair left after ideal swaps of ``links`` (in chain order) at the
    inner nodes, swap ``j`` joining ``links[j]`` and ``links[j + 1]`` at ``swap_times_ps[j]``.

    Each inner qubit decays in its memory from when it was stored until its
    swap; the two outer qubits keep decaying from when they were stored (the
    returned record's ends), so ``at(t)`` gives the pair's state at any later
    time.  Every factor commutes, so the order the swaps happened in does not
    matter and both ends compute the same record from the same inputs.
    """
    if len(swap_times_ps) != len(links) - 1 or not links:
        raise ConfigurationError(f"chain_record needs one swap time per inner node: {len(links)} links, "
                                 f"{len(swap_times_ps)} swap times", field="swap_times_ps", value=len(swap_times_ps))
    tx = ty = tz = 1.0
    for link in links:
        cx, cy, cz = _correlations(link.coefficients)
        tx, ty, tz = tx * cx, ty * cy, tz * cz
    for j, t_swap in enumerate(swap_times_ps):
        for qubit, record in ((links[j].b, links[j]), (links[j + 1].a, links[j + 1])):
            start = max(record.ref_ps, qubit.stored_ps)
            if t_swap > start:
                lx, ly, lz = qubit.noise.decay((t_swap - start) * 1e-12)
                tx, ty, tz = tx * lx, ty * ly, tz * lz
    first, last = links[0], links[-1]
    # an outer link known from a later time than its qubit was stored has that decay in its coefficients
    # already: the end decays on from the later of the two
    a = PairEnd(first.a.node, first.a.noise, max(first.ref_ps, first.a.stored_ps))
    b = PairEnd(last.b.node, last.b.noise, max(last.ref_ps, last.b.stored_ps))
    return PairRecord(pair_id, _from_correlations(tx, ty, tz), min(a.stored_ps, b.stored_ps), a, b)
