"""Quantum memories: capacity, efficiencies, timing and T1/T2 decoherence.

A :class:`QuantumMemory` is a validated parameter record.  Its methods are
pure functions of a storage duration in seconds and give the per-qubit decay
of a stored qubit, either as the physical factors (amplitude damping
``gamma``, pure-dephasing and total coherence factors) or as the
Pauli-twirled single-qubit channel ``(p_I, p_X, p_Y, p_Z)`` that the
Bell-diagonal pair records of ``qactors.quantum`` use.

Noise model (standard T1/T2 model, e.g. Nielsen & Chuang 2000, ch. 8):

* energy relaxation with time constant T1: amplitude damping with
  ``gamma = 1 - exp(-t/T1)``;
* total coherence decay with time constant T2: the off-diagonal element of
  the qubit shrinks by ``exp(-t/T2)``.  Amplitude damping alone already
  shrinks it by ``sqrt(1 - gamma) = exp(-t/(2 T1))``, so the remaining pure
  dephasing has rate ``1/T_phi = 1/T2 - 1/(2 T1)``, which must be >= 0:
  physically ``T2 <= 2 T1``.

Equations and the twirling derivation are in ``docs/physics.md (section 5)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from qactors.quantum.bell import MemoryNoise
from qactors.core.errors import ConfigurationError

from . import _checks
from ._checks import assign as _set

__all__ = ["QuantumMemory"]


@dataclass(frozen=True, slots=True)
class QuantumMemory:
    """A register of ``num_qubits`` memory qubits with T1/T2 decoherence.

    Args:
        num_qubits: number of qubits the memory holds, int >= 1.
        t1_s: energy-relaxation time T1, s, > 0 (``math.inf``: none).
        t2_s: coherence time T2, s, > 0 and <= 2 T1 (``math.inf``: none,
            only allowed when T1 is infinite too).
        write_efficiency: probability that a qubit offered is stored, 0..1.
        read_efficiency: probability that a stored qubit is retrieved, 0..1.
        storage_fidelity: entanglement fidelity of the write-and-read operation
            itself, 0..1, applied once per stored qubit as a depolarising
            channel ``(F, (1-F)/3, (1-F)/3, (1-F)/3)``; see
            :attr:`storage_pauli_probabilities`.
        access_time_ps: time to write or read a qubit, integer ps, > 0 (it is
            a message latency, so it can never be zero).  Default 1 us.
        dead_time_ps: time after an access before the next one, integer ps, >= 0.

    Raises:
        ConfigurationError: a field outside its range, or ``t2_s > 2 t1_s``.

    >>> m = QuantumMemory(num_qubits=2, t1_s=10.0, t2_s=1.0)
    >>> round(m.coherence_factor(0.5), 6), round(m.amplitude_damping_gamma(0.5), 6)
    (0.606531, 0.048771)
    """

    num_qubits: int
    t1_s: float = math.inf
    t2_s: float = math.inf
    write_efficiency: float = 1.0
    read_efficiency: float = 1.0
    storage_fidelity: float = 1.0
    access_time_ps: int = 1_000_000
    dead_time_ps: int = 0

    def __post_init__(self) -> None:
        _set(self, "num_qubits", _checks.integer("QuantumMemory.num_qubits", self.num_qubits, low=1))
        _set(self, "t1_s", _checks.real("QuantumMemory.t1_s", self.t1_s, low=0.0, low_open=True, allow_inf=True))
        _set(self, "t2_s", _checks.real("QuantumMemory.t2_s", self.t2_s, low=0.0, low_open=True, allow_inf=True))
        if self.t2_s > 2.0 * self.t1_s:
            raise ConfigurationError(
                f"QuantumMemory.t2_s = {self.t2_s!r} is not allowed; allowed: t2_s <= 2 * t1_s "
                f"= {2.0 * self.t1_s!r} s (coherence cannot outlive twice the energy relaxation time)",
                field="QuantumMemory.t2_s", value=self.t2_s)
        for field in ("write_efficiency", "read_efficiency", "storage_fidelity"):
            _set(self, field, _checks.probability(f"QuantumMemory.{field}", getattr(self, field)))
        _set(self, "access_time_ps", _checks.integer("QuantumMemory.access_time_ps", self.access_time_ps, low=1))
        _set(self, "dead_time_ps", _checks.integer("QuantumMemory.dead_time_ps", self.dead_time_ps, low=0))

    @property
    def efficiency(self) -> float:
        """Probability that a qubit offered is later retrieved: write x read."""
        return self.write_efficiency * self.read_efficiency

    @property
    def pure_dephasing_rate_per_s(self) -> float:
        """``1/T_phi = 1/T2 - 1/(2 T1)``, per second (0 when T2 = 2 T1)."""
        return max(0.0, 1.0 / self.t2_s - 0.5 / self.t1_s)

    def amplitude_damping_gamma(self, duration_s: float) -> float:
        """Amplitude-damping probability after ``duration_s`` seconds: ``1 - exp(-t/T1)``.

        Args:
            duration_s: storage time, s, finite and >= 0.

        Raises:
            ConfigurationError: negative or non-finite duration.
        """
        t = _duration(duration_s)
        return -math.expm1(-t / self.t1_s)

    def dephasing_factor(self, duration_s: float) -> float:
        """Coherence left by pure dephasing alone: ``exp(-t/T_phi)``.

        ``1/T_phi = 1/T2 - 1/(2 T1)``; 1 when T2 = 2 T1.
        """
        t = _duration(duration_s)
        return math.exp(-t * self.pure_dephasing_rate_per_s)

    def coherence_factor(self, duration_s: float) -> float:
        """Total shrinking of the qubit's off-diagonal element: ``exp(-t/T2)``.

        Equal to ``sqrt(1 - gamma) * dephasing_factor``.
        """
        t = _duration(duration_s)
        return math.exp(-t / self.t2_s)

    def noise(self) -> MemoryNoise:
        """This memory's decoherence as the record that travels with stored pairs
        (:class:`qactors.quantum.bell.MemoryNoise`)."""
        return MemoryNoise(t1_s=self.t1_s, t2_s=self.t2_s)

    def twirled_pauli_probabilities(self, duration_s: float) -> tuple[float, float, float, float]:
        """Pauli-twirled single-qubit channel after ``duration_s`` seconds, as (p_I, p_X, p_Y, p_Z).

        Amplitude damping enters as its Pauli twirl (``p_X = p_Y = gamma/4``,
        ``p_Z = (1 - s)^2/4``, ``s = sqrt(1 - gamma)``), composed with the pure
        dephasing; the Bloch vector's x/y contraction is ``exp(-t/T2)`` and its z
        contraction ``exp(-t/T1)``.  Computed by :meth:`noise`, the same model the
        Bell-diagonal pair records use.

        >>> m = QuantumMemory(1, t1_s=1.0, t2_s=2.0)
        >>> [round(p, 6) for p in m.twirled_pauli_probabilities(1.0)]
        [0.645235, 0.15803, 0.15803, 0.038705]
        """
        return self.noise().channel(_duration(duration_s)).probabilities()

    @property
    def storage_pauli_probabilities(self) -> tuple[float, float, float, float]:
        """The one-off write/read error as a depolarising channel, (p_I, p_X, p_Y, p_Z).

        ``(F, (1-F)/3, (1-F)/3, (1-F)/3)`` with ``F = storage_fidelity``: the
        entanglement fidelity of a Pauli channel is its ``p_I``.
        """
        f = self.storage_fidelity
        rest = (1.0 - f) / 3.0
        return (f, rest, rest, rest)


def _duration(duration_s: float) -> float:
    return _checks.real("duration_s", duration_s, low=0.0)
