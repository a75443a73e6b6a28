"""Bell-state analysers: linear-optics (photonic) and deterministic (memory-based).

Both expose the same three things:

* ``success_probability(...)`` -- probability that the measurement gives a
  usable Bell-state outcome;
* ``output_pauli_probabilities`` -- the error on the pair the measurement
  produces (a swapped pair or a heralded link), as the probabilities
  ``(p_I, p_X, p_Y, p_Z)`` of a Pauli applied to the intended Bell state;
* ``output_fidelity`` (= ``p_I``) and ``output_werner_factor`` (the Werner
  parameter with the same fidelity, ``(4 F - 1)/3``: the state after twirling).

For a swap of two pairs the output pair's Bell coefficients are those of the
input pairs convolved with each other and then with this error channel.

Equations and sources are in ``docs/physics.md (section 5)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from qactors.core.errors import ConfigurationError

from qactors.core import checks as _checks
from qactors.core.checks import assign as _set
from .detectors import Detector

__all__ = ["LinearOpticsBSA", "DeterministicBSA"]


@dataclass(frozen=True, slots=True)
class LinearOpticsBSA:
    """A beam splitter and two (or four) detectors measuring two photons.

    With linear optics and no extra photons, at most two of the four Bell
    states can be told apart (Calsamiglia & Lutkenhaus, Appl. Phys. B 72, 67
    (2001)), so an ideal analyser succeeds with probability 1/2.  Both photons
    must also be detected, so with arm transmissivities ``t_a``, ``t_b`` and
    detector efficiency ``eta_d`` the success probability is
    ``(1/2) (t_a eta_d) (t_b eta_d)``.  Dark counts are left to
    :meth:`Detector.click_probability` in attempt-level simulations.

    Partial distinguishability.  Let ``V`` be the Hong-Ou-Mandel visibility of
    the two photons (the squared overlap of their modes; Hong, Ou, Mandel,
    PRL 59, 2044 (1987)).  A heralded outcome (one photon in each of two
    orthogonal polarisation modes) can come from either of two amplitudes,
    "photon a went here, b there" or the exchange; their coherence after
    integrating over the unresolved detection times is the mode overlap
    squared, ``V``.  The heralded pair is therefore
    ``(1 + V)/2`` the announced Bell state and ``(1 - V)/2`` the one with the
    opposite relative phase (Psi+ instead of Psi-): a Z error with probability
    ``(1 - V)/2``.  The success probability does not depend on ``V`` (the
    heralding patterns come from orthogonally polarised photons, which do not
    interfere).

    Args:
        visibility: HOM visibility V of the two photons, 0..1.
        detector: the detectors behind the beam splitter (identical).

    Raises:
        ConfigurationError: a field outside its range.

    >>> bsa = LinearOpticsBSA(visibility=0.9, detector=Detector(efficiency=0.8))
    >>> round(bsa.success_probability(), 6), [round(p, 6) for p in bsa.output_pauli_probabilities]
    (0.32, [0.95, 0.0, 0.0, 0.05])
    """

    visibility: float = 1.0
    detector: Detector = field(default_factory=Detector)

    def __post_init__(self) -> None:
        _set(self, "visibility", _checks.probability("LinearOpticsBSA.visibility", self.visibility))
        if not isinstance(self.detector, Detector):
            raise ConfigurationError(
                f"LinearOpticsBSA.detector = {self.detector!r} is not allowed; allowed: a Detector",
                field="LinearOpticsBSA.detector", value=self.detector)

    def success_probability(self, transmissivity_a: float = 1.0, transmissivity_b: float = 1.0) -> float:
        """``(1/2) (t_a eta_d) (t_b eta_d)``.

        Args:
            transmissivity_a: probability that photon a reaches the analyser, 0..1.
            transmissivity_b: probability that photon b reaches the analyser, 0..1.
        """
        ta = _checks.probability("transmissivity_a", transmissivity_a)
        tb = _checks.probability("transmissivity_b", transmissivity_b)
        eta = self.detector.efficiency
        return 0.5 * ta * eta * tb * eta

    @property
    def output_pauli_probabilities(self) -> tuple[float, float, float, float]:
        """``((1 + V)/2, 0, 0, (1 - V)/2)``: a phase flip from distinguishability."""
        v = self.visibility
        return ((1.0 + v) / 2.0, 0.0, 0.0, (1.0 - v) / 2.0)

    @property
    def output_fidelity(self) -> float:
        """``(1 + V)/2``."""
        return (1.0 + self.visibility) / 2.0

    @property
    def output_werner_factor(self) -> float:
        """Werner parameter with the same fidelity: ``(4 F - 1)/3 = (1 + 2 V)/3``."""
        return (4.0 * self.output_fidelity - 1.0) / 3.0


@dataclass(frozen=True, slots=True)
class DeterministicBSA:
    """A Bell measurement on two memory qubits: a CNOT, a Hadamard and two readouts.

    It always succeeds.  Errors:

    * the two-qubit gate is modelled as the ideal gate followed by a two-qubit
      depolarising channel ``rho -> l rho + (1 - l) I/4``.  ``gate_fidelity``
      is its average gate fidelity (what randomised benchmarking reports),
      ``F = l + (1 - l)/4``, so ``l = (4 F - 1)/3``.  With probability
      ``1 - l`` the measured qubits are maximally mixed, the outcome is random
      and the output pair is maximally mixed: the output Werner parameter is
      multiplied by ``l``.
    * each of the two readouts returns the wrong bit with probability
      ``1 - m`` (``m = measurement_fidelity``); a wrong parity bit makes the
      correction wrong by X, a wrong phase bit by Z, both by Y.

    Output error channel: ``l (m^2, m(1-m), (1-m)^2, m(1-m)) + (1 - l)/4``
    on (I, X, Y, Z).  Gate model as commonly used in repeater analyses, e.g.
    Briegel, Dur, Cirac, Zoller, PRL 81, 5932 (1998).

    Args:
        gate_fidelity: average gate fidelity of the two-qubit gate, in [0.25, 1].
        measurement_fidelity: probability that a readout is right, 0..1.

    Raises:
        ConfigurationError: a field outside its range.

    >>> bsa = DeterministicBSA(gate_fidelity=1.0, measurement_fidelity=0.99)
    >>> [round(p, 6) for p in bsa.output_pauli_probabilities]
    [0.9801, 0.0099, 0.0001, 0.0099]
    """

    gate_fidelity: float = 1.0
    measurement_fidelity: float = 1.0

    def __post_init__(self) -> None:
        _set(self, "gate_fidelity",
             _checks.real("DeterministicBSA.gate_fidelity", self.gate_fidelity, low=0.25, high=1.0))
        _set(self, "measurement_fidelity",
             _checks.probability("DeterministicBSA.measurement_fidelity", self.measurement_fidelity))

    def success_probability(self) -> float:
        """Always 1: a memory-based Bell measurement is deterministic."""
        return 1.0

    @property
    def depolarising_parameter(self) -> float:
        """``l = (4 F_gate - 1)/3``, the weight of the ideal gate."""
        return (4.0 * self.gate_fidelity - 1.0) / 3.0

    @property
    def output_pauli_probabilities(self) -> tuple[float, float, float, float]:
        """``l (m^2, m(1-m), (1-m)^2, m(1-m)) + (1 - l)/4``."""
        lam, m = self.depolarising_parameter, self.measurement_fidelity
        mixed = (1.0 - lam) / 4.0
        return (lam * m * m + mixed, lam * m * (1.0 - m) + mixed,
                lam * (1.0 - m) ** 2 + mixed, lam * m * (1.0 - m) + mixed)

    @property
    def output_fidelity(self) -> float:
        """``p_I`` of the output error channel."""
        return self.output_pauli_probabilities[0]

    @property
    def output_werner_factor(self) -> float:
        """Werner parameter with the same fidelity: ``(4 F - 1)/3`` (= ``l`` with perfect readout)."""
        return (4.0 * self.output_fidelity - 1.0) / 3.0
