"""Quantum memories: capacity, efficiencies, timing and T1/T2 decoherence;
absorptive (photon-echo, Raman, ORCA) memories whose efficiency fades with storage time.

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

from qactors.core import checks as _checks
from qactors.core.checks import assign as _set

__all__ = ["QuantumMemory", "AbsorptiveMemory", "MEMORY_DECAYS"]


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


MEMORY_DECAYS = ("exponential", "gaussian")
"""How an :class:`AbsorptiveMemory`'s efficiency fades with storage time."""


@dataclass(frozen=True, slots=True)
class AbsorptiveMemory:
    """An ensemble memory that absorbs a photon and gives it back on demand.

    Ensemble memories (off-resonant Raman, ORCA, EIT, gradient echo, atomic frequency
    combs) store a photon as a collective excitation and re-emit it into a light mode
    when read.  What matters to a network is the probability that a photon offered to
    the memory comes out again after a storage time ``t``:

        ``eta(t, linewidth) = efficiency * D(t) * A(linewidth)``

    * ``D(t)`` is the loss of the stored excitation: ``exp(-t/tau)`` (``decay =
      "exponential"``: relaxation at a fixed rate) or ``exp(-(t/tau)^2)`` (``decay =
      "gaussian"``: a thermal vapour's Doppler dephasing.  The atoms' velocity spread
      dephases the collective coherence as ``exp(-(dk sigma_v t)^2 / 2)``, and the
      efficiency goes as its square, so ``tau = 1/(dk sigma_v)``).  ``tau`` is the
      1/e time of the efficiency, ``lifetime_s``.
    * ``A(linewidth)`` is the share of the photon's spectrum the memory accepts.  The
      photon's spectrum is taken as a Lorentzian of FWHM ``linewidth``, and the
      acceptance as a Lorentzian window of FWHM ``bandwidth_ghz``.  The share of one
      Lorentzian inside another is ``B / (B + linewidth)``.  This is 1 for a photon much
      narrower than the memory, and 1/2 when the widths are equal.
    * ``efficiency`` is the storage-and-retrieval efficiency at zero storage time for a
      photon inside the acceptance (``linewidth`` much smaller than ``bandwidth_ghz``).

    A threshold detector after the memory also sees the memory's own noise:
    ``noise_photons`` photons per read-out on average (four-wave mixing, fluorescence;
    zero for ORCA, which has no noise process at read-out), Poisson distributed.

    Args:
        efficiency: storage-and-retrieval efficiency at zero storage time, in (0, 1].
        lifetime_s: 1/e time of the efficiency, s, > 0 (``math.inf``: no decay).
        decay: ``"exponential"`` (default) or ``"gaussian"``.
        bandwidth_ghz: acceptance FWHM, GHz, > 0 (``math.inf``: accepts any photon).
        noise_photons: mean noise photons per read-out, >= 0.

    Raises:
        ConfigurationError: a field outside its range, or an unknown ``decay``.

    >>> m = AbsorptiveMemory(0.2, lifetime_s=1e-9, decay="gaussian", bandwidth_ghz=1.0)
    >>> round(m.storage_efficiency(1e-9), 6), m.spectral_acceptance(1.0)
    (0.073576, 0.5)
    >>> round(m.retrieval_probability(0.5e-9, linewidth_ghz=0.25), 6)
    0.124608
    """

    efficiency: float
    lifetime_s: float = math.inf
    decay: str = "exponential"
    bandwidth_ghz: float = math.inf
    noise_photons: float = 0.0

    def __post_init__(self) -> None:
        _set(self, "efficiency", _checks.real("AbsorptiveMemory.efficiency", self.efficiency, low=0.0,
                                              low_open=True, high=1.0))
        for field in ("lifetime_s", "bandwidth_ghz"):
            _set(self, field, _checks.real(f"AbsorptiveMemory.{field}", getattr(self, field), low=0.0,
                                           low_open=True, allow_inf=True))
        if self.decay not in MEMORY_DECAYS:
            raise ConfigurationError(
                f"AbsorptiveMemory.decay = {self.decay!r} is not allowed; allowed: one of "
                f"{', '.join(repr(d) for d in MEMORY_DECAYS)}", field="AbsorptiveMemory.decay", value=self.decay)
        _set(self, "noise_photons", _checks.real("AbsorptiveMemory.noise_photons", self.noise_photons, low=0.0))

    def decay_factor(self, duration_s: float) -> float:
        """``D(t)``: the share of the stored excitation left after ``duration_s`` seconds."""
        x = _duration(duration_s) / self.lifetime_s
        return math.exp(-x * x) if self.decay == "gaussian" else math.exp(-x)

    def storage_efficiency(self, duration_s: float) -> float:
        """``efficiency * D(t)``: the efficiency for a photon inside the acceptance."""
        return self.efficiency * self.decay_factor(duration_s)

    def spectral_acceptance(self, linewidth_ghz: float) -> float:
        """``A``: the share of a Lorentzian photon of FWHM ``linewidth_ghz`` (GHz, >= 0) the memory accepts."""
        width = _checks.real("linewidth_ghz", linewidth_ghz, low=0.0)
        return 1.0 if math.isinf(self.bandwidth_ghz) else self.bandwidth_ghz / (self.bandwidth_ghz + width)

    def retrieval_probability(self, duration_s: float, linewidth_ghz: float = 0.0) -> float:
        """Probability that a photon offered to the memory comes out after ``duration_s`` seconds."""
        return self.storage_efficiency(duration_s) * self.spectral_acceptance(linewidth_ghz)


def _duration(duration_s: float) -> float:
    return _checks.real("duration_s", duration_s, low=0.0)
