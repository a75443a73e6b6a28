"""Heralded entanglement generation between two emitters and a midpoint station.

Geometry (the reference convention of ``tests/validation/cases.json``): two
nodes ``length_km`` apart, a Bell-state analyser half-way.  Each node's photon
crosses ``length_km / 2`` of fibre to the station; the herald comes back the
same distance, so one attempt takes ``L / c`` and the heralded rate is
``p c / L``.  ``eta_arm`` is the probability that a photon emitted at a node
is detected at the station: fibre transmissivity over ``L/2`` times every
other efficiency (collection, conversion, detector), see
:func:`midpoint_arm_efficiency`.

Two schemes:

* double click (Barrett & Kok, PRA 71, 060310(R) (2005)): each spin is in an
  equal superposition, emits, is flipped and emits again; success needs one
  click in each round, ``p = eta_arm^2 / 2``, ideal fidelity 1.
* single click (Cabrillo et al., PRA 59, 1025 (1999); as run by Humphreys et
  al., Nature 558, 268 (2018) and Hermans et al., Nature 605, 663 (2022)):
  each spin is bright with population alpha; one click heralds,
  ``p ~ 2 alpha eta_arm`` and ``F ~ 1 - alpha``.

Results are a :class:`HeraldedLink`: the success probability per attempt and
the error on the heralded pair as Pauli probabilities (I, X, Y, Z) relative to
the Bell state the herald announces.  ``double_click(..., initial_fidelity=F)``
gives the pair as a Werner state of fidelity F instead, for links whose pair
fidelity is a measured input.

Attempt timing (:func:`attempt_duration_s`): one round trip ``L / c`` per
attempt (``timing="one-round"``, the default), or the two-round Barrett-Kok
timing of NIST's random-topology study (``timing="two-round"``), in which each
of the scheme's two emissions waits for a negotiation between the nodes:
``5 tau + 2 tau0`` per attempt, the herald ``4 tau + 2 tau0`` after the qubits
were prepared, ``tau = L / c`` the one-way delay over the whole link and
``tau0`` a local operation time.

Equations and derivations are in ``docs/physics.md (section 5)``.
"""

from __future__ import annotations

from typing import NamedTuple

from qactors.core.time import to_ps

from qactors.core import checks as _checks
from .channels import Fibre

__all__ = [
    "HeraldedLink",
    "DEFAULT_FIBRE_C_M_PER_S",
    "midpoint_arm_efficiency",
    "double_click_success_probability",
    "double_click",
    "single_click_success_probability",
    "single_click",
    "attempt_duration_s",
    "attempt_duration_ps",
    "heralded_rate_hz",
    "TIMINGS",
]

DEFAULT_FIBRE_C_M_PER_S = 2e8
"""Speed of light in fibre used by the reference convention, m/s (n = 1.5).

:attr:`Fibre.delay_ps` uses the fibre's own refractive index (1.47 by
default, 2.04e8 m/s); pass ``c_m_per_s`` to make the two agree."""


class HeraldedLink(NamedTuple):
    """Outcome model of one heralded-generation scheme."""

    success_probability: float
    """Probability per attempt that the station heralds success."""
    pauli_probabilities: tuple[float, float, float, float]
    """(p_I, p_X, p_Y, p_Z) of the error on the heralded pair."""

    @property
    def fidelity(self) -> float:
        """Fidelity with the announced Bell state: ``p_I``."""
        return self.pauli_probabilities[0]


def midpoint_arm_efficiency(length_km: float, *, detection_efficiency: float = 1.0,
                            attenuation_db_per_km: float = 0.2) -> float:
    """``eta_arm``: detection probability of one node's photon at the midpoint station.

    ``detection_efficiency * 10^(-attenuation_db_per_km * (length_km / 2) / 10)``:
    the photon crosses half the node-to-node distance.

    Args:
        length_km: node-to-node distance L, km, >= 0.
        detection_efficiency: every efficiency other than fibre loss
            (collection, detector, ...), 0..1.
        attenuation_db_per_km: fibre loss, dB/km, >= 0.

    >>> round(midpoint_arm_efficiency(50, detection_efficiency=0.9) ** 2, 12)
    0.081
    """
    eta_d = _checks.probability("detection_efficiency", detection_efficiency)
    length = _checks.real("length_km", length_km, low=0.0)
    alpha = _checks.real("attenuation_db_per_km", attenuation_db_per_km, low=0.0)
    return eta_d * Fibre(length / 2.0, attenuation_db_per_km=alpha).transmissivity


def double_click_success_probability(eta_arm: float) -> float:
    """Barrett-Kok success probability per attempt: ``eta_arm^2 / 2``.

    One photon must be detected in each of two rounds, and linear optics
    identifies two of the four Bell states.

    >>> double_click_success_probability(0.5)
    0.125
    """
    eta = _checks.probability("eta_arm", eta_arm)
    return eta * eta / 2.0


def double_click(eta_arm: float, visibility: float = 1.0, *, initial_fidelity: float | None = None) -> HeraldedLink:
    """Barrett-Kok scheme: success ``eta_arm^2 / 2``, phase-flip error ``(1 - V)/2``.

    ``visibility`` is the HOM visibility V of the two nodes' photons; the
    error follows as for :class:`~qactors.hardware.bsa.LinearOpticsBSA`.
    Ideal (V = 1): fidelity 1.  Dark counts are neglected.

    ``initial_fidelity`` F (0..1) replaces that error model: the heralded pair
    is the Werner state ``F |Phi+><Phi+| + (1-F)/3 (1 - |Phi+><Phi+|)``, the
    announced Bell state after depolarising noise, Pauli error ``(F, (1-F)/3,
    (1-F)/3, (1-F)/3)``; ``visibility`` must then be 1.  None (default): the
    visibility model.

    >>> [round(p, 12) for p in double_click(0.5, initial_fidelity=0.97).pauli_probabilities]
    [0.97, 0.01, 0.01, 0.01]
    """
    v = _checks.probability("visibility", visibility)
    p = double_click_success_probability(eta_arm)
    if initial_fidelity is None:
        return HeraldedLink(p, ((1.0 + v) / 2.0, 0.0, 0.0, (1.0 - v) / 2.0))
    f = _checks.real("initial_fidelity", initial_fidelity, low=0.0, high=1.0,
                     allowed="None (the visibility model) or a number in [0, 1] (a Werner pair of that fidelity)")
    if v != 1.0:
        raise _checks.fail("visibility", visibility, f"1 with initial_fidelity = {f!r} (the Werner pair replaces the "
                           f"visibility model), or initial_fidelity = None")
    r = (1.0 - f) / 3.0
    return HeraldedLink(p, (f, r, r, r))


def single_click(bright_state_population: float, eta_arm: float, visibility: float = 1.0) -> HeraldedLink:
    """Single-click scheme with bright-state population alpha.

    Each node emits with probability alpha; the station accepts exactly one
    detector click (threshold detectors, no dark counts).  Two cases herald:

    * one node bright: probability ``2 alpha (1 - alpha) eta`` and the right
      state, ``(|01> +- |10>)/sqrt2``, with coherence reduced to V by photon
      distinguishability (a Z error with probability ``(1 - V)/2``);
    * both bright: probability ``alpha^2 eta (2 - eta)`` (at least one of the
      two photons detected; interfering photons bunch onto one detector) and
      the wrong state |11>, which twirls into equal X and Y errors.

    So ``p = 2 alpha eta - alpha^2 eta^2`` and, with ``q = 2 (1 - alpha) /
    (2 - alpha eta)`` the share of good heralds, the Pauli error is
    ``(q (1+V)/2, (1-q)/2, (1-q)/2, q (1-V)/2)``.  For ``alpha eta << 1``:
    ``p ~ 2 alpha eta`` and ``F ~ (1 - alpha)`` (Humphreys et al. 2018).
    Optical phase drift between the arms also lowers the coherence; fold it
    into ``visibility``.

    Args:
        bright_state_population: alpha, 0..1.
        eta_arm: detection probability of an emitted photon at the station, 0..1.
        visibility: coherence factor V of the heralded state, 0..1.

    >>> link = single_click(0.1, 1e-3)
    >>> round(link.success_probability, 9), round(link.fidelity, 6)
    (0.00019999, 0.900045)
    """
    alpha = _checks.probability("bright_state_population", bright_state_population)
    eta = _checks.probability("eta_arm", eta_arm)
    v = _checks.probability("visibility", visibility)
    good = 2.0 * alpha * (1.0 - alpha) * eta
    bad = alpha * alpha * eta * (2.0 - eta)
    p = good + bad
    q = good / p if p > 0 else 1.0
    return HeraldedLink(p, (q * (1.0 + v) / 2.0, (1.0 - q) / 2.0, (1.0 - q) / 2.0, q * (1.0 - v) / 2.0))


def single_click_success_probability(bright_state_population: float, eta_arm: float) -> float:
    """``2 alpha eta - alpha^2 eta^2``, about ``2 alpha eta_arm``; see :func:`single_click`."""
    return single_click(bright_state_population, eta_arm).success_probability


TIMINGS = ("one-round", "two-round")
"""Attempt timings of a midpoint link (:func:`attempt_duration_s`)."""


def attempt_duration_s(length_km: float, c_m_per_s: float = DEFAULT_FIBRE_C_M_PER_S, *, timing: str = "one-round",
                       local_delay_s: float = 0.0) -> float:
    """Duration of one attempt with a midpoint station, s: ``L / c`` (one-round) or ``5 L/c + 2 tau0`` (two-round).

    One-round (default): photons travel ``L/2`` to the station and the herald
    ``L/2`` back, and the next attempt follows; the herald reaches the nodes
    ``tau = L / c`` after the emission.

    Two-round (Barrett-Kok as NIST's MQNS times it): each of the scheme's two
    emissions is preceded by a negotiation between the nodes (a round trip,
    ``2 tau``) and followed by the station's verdict on it (photon to the
    station and result back, ``tau``), with a local operation ``tau0`` per
    emission.  A success takes ``6 tau + 2 tau0``; a failure ends after the
    first emission (``3 tau + tau0``) or the second (``6 tau + 2 tau0``), and
    the period is taken as ``5 tau + 2 tau0``, between the two.  The qubits
    are prepared when the first negotiation ends, so a success is heralded
    ``4 tau + 2 tau0`` after their preparation (the negotiation of the first
    attempt of a round overlaps the set-up of the round).

    Args:
        length_km: node-to-node distance L, km, > 0.
        c_m_per_s: signal speed, m/s, > 0 (2e8 in fibre by the reference convention).
        timing: ``"one-round"`` or ``"two-round"``.
        local_delay_s: tau0 of the two-round timing, s, >= 0 (0 with one-round timing).

    >>> attempt_duration_s(50)
    0.00025
    >>> round(attempt_duration_s(30, timing="two-round") * 1e6, 9)   # 5 x 150 us
    750.0
    """
    length = _checks.real("length_km", length_km, low=0.0, low_open=True)
    c = _checks.real("c_m_per_s", c_m_per_s, low=0.0, low_open=True)
    if timing not in TIMINGS:
        raise _checks.fail("timing", timing, f"one of {TIMINGS}")
    tau0 = _checks.real("local_delay_s", local_delay_s, low=0.0, unit="s")
    if tau0 and timing == "one-round":
        raise _checks.fail("local_delay_s", local_delay_s, "0 with timing = 'one-round' (tau0 is a term of the "
                           "two-round timing), or timing = 'two-round'")
    tau = length * 1e3 / c
    return tau if timing == "one-round" else 5.0 * tau + 2.0 * tau0


def attempt_duration_ps(length_km: float, c_m_per_s: float = DEFAULT_FIBRE_C_M_PER_S, *, timing: str = "one-round",
                        local_delay_s: float = 0.0) -> int:
    """:func:`attempt_duration_s` in whole picoseconds (at least 1), for the clock."""
    return max(1, to_ps(attempt_duration_s(length_km, c_m_per_s, timing=timing, local_delay_s=local_delay_s)))


def heralded_rate_hz(success_probability: float, length_km: float,
                     c_m_per_s: float = DEFAULT_FIBRE_C_M_PER_S) -> float:
    """Mean heralded pairs per second when attempts follow back to back: ``p c / L``.

    Args:
        success_probability: probability per attempt, 0..1.
        length_km: node-to-node distance, km, > 0.
        c_m_per_s: signal speed, m/s, > 0.

    >>> heralded_rate_hz(0.0405, 50)
    162.0
    """
    p = _checks.probability("success_probability", success_probability)
    return p / attempt_duration_s(length_km, c_m_per_s)
