"""Figures of merit computed from states: entropies, QKD key fractions, CHSH
values and teleportation fidelities.

Sources: Shor & Preskill, PRL 85, 441 (2000) for the BB84 key fraction
``1 - 2 h2(Q)``; Bennett, Brassard, Mermin, PRL 68, 557 (1992) for BBM92 with
the asymptotic fraction ``1 - h2(Q_Z) - h2(Q_X)``; Horodecki, Horodecki,
Horodecki, Phys. Lett. A 200, 340 (1995) for the largest CHSH value of a
two-qubit state; Horodecki, Horodecki, Horodecki, PRA 60, 1888 (1999) for the
teleportation fidelity ``(2F + 1)/3`` of a resource with singlet fraction F.

Prepare-and-measure BB84 with weak coherent pulses and decoy states follows
Ma, Qi, Zhao, Lo, PRA 72, 012326 (2005) [MQZL]: gains and error rates of a
fibre link with a background (dark-count) yield, the vacuum + weak decoy
bounds on the single-photon yield and error rate, and the GLLP key rate
(Gottesman, Lo, Lütkenhaus, Preskill, Quantum Inf. Comput. 4, 325 (2004))
``R = q {-Q_mu f h2(E_mu) + Q_1 [1 - h2(e_1)]}`` per pulse.  Decoy states:
Hwang, PRL 91, 057901 (2003); Lo, Ma, Chen, PRL 94, 230504 (2005).

E91 (Ekert, PRL 67, 661 (1991)) with the standard analyser angles, its CHSH
value (Clauser, Horne, Shimony, Holt, PRL 23, 880 (1969)) and the
device-independent key fraction against collective attacks
``1 - h2(Q) - h2((1 + sqrt((S/2)^2 - 1))/2)`` (Acín, Brunner, Gisin, Massar,
Pironio, Scarani, PRL 98, 230501 (2007)).
"""

from __future__ import annotations

import math
from typing import Sequence

from ..core import checks
from ..core.errors import ConfigurationError
from .bell import PHI_PLUS, correlation, correlation_xz

__all__ = ["binary_entropy", "bb84_key_fraction", "qber", "bbm92_key_fraction", "chsh_value",
           "teleportation_fidelity", "CLASSICAL_TELEPORTATION_LIMIT",
           "secret_fraction", "E91_ANGLES", "E91_ALICE", "E91_BOB", "E91_KEY_SETTINGS", "E91_CHSH_TERMS",
           "e91_correlation", "e91_chsh_value", "e91_qber", "di_key_fraction",
           "decoy_gain", "decoy_error_rate", "single_photon_bounds", "gllp_key_rate",
           "decoy_key_rate_from_gains", "decoy_key_rate", "infinite_decoy_key_rate"]

CLASSICAL_TELEPORTATION_LIMIT = 2.0 / 3.0


def binary_entropy(p: float) -> float:
    """``h2(p) = -p log2 p - (1-p) log2 (1-p)`` in bits (0 <= p <= 1)."""
    if not 0.0 <= p <= 1.0:
        raise ConfigurationError(f"binary_entropy needs a probability in [0, 1], got {p!r}", field="p", value=p)
    if p in (0.0, 1.0):
        return 0.0
    return -p * math.log2(p) - (1.0 - p) * math.log2(1.0 - p)


def bb84_key_fraction(q: float) -> float:
    """Asymptotic secret-key fraction of symmetric BB84 with equal bit and phase error
    rate ``q`` (one-way post-processing); negative above q = 0.110028 means no key."""
    return 1.0 - 2.0 * binary_entropy(q)


def qber(c: Sequence[float], basis: str = "Z") -> float:
    """Probability that both ends' outcomes differ when both measure a Bell-diagonal
    pair in ``basis`` (Phi+ convention: for 'Y' the ideal outcomes are opposite, and
    the error is counted against that)."""
    corr = correlation(c, basis)
    sign = -1.0 if basis == "Y" else 1.0
    return (1.0 - sign * corr) / 2.0


def bbm92_key_fraction(c: Sequence[float]) -> float:
    """Asymptotic BBM92 key fraction ``1 - h2(Q_Z) - h2(Q_X)`` of a Bell-diagonal pair."""
    return 1.0 - binary_entropy(qber(c, "Z")) - binary_entropy(qber(c, "X"))


def chsh_value(c: Sequence[float]) -> float:
    """The largest CHSH value reachable with a Bell-diagonal pair: ``2 sqrt(t1^2 + t2^2)``
    with t1, t2 the two largest of |<XX>|, |<YY>|, |<ZZ>|."""
    t = sorted((abs(correlation(c, b)) for b in ("X", "Y", "Z")), reverse=True)
    return 2.0 * math.sqrt(t[0] ** 2 + t[1] ** 2)


def teleportation_fidelity(c: Sequence[float], target: int = PHI_PLUS) -> float:
    """Average fidelity of teleporting a qubit over a Bell-diagonal resource with the
    standard protocol matched to Bell state ``target``: ``(2 F + 1) / 3``."""
    return (2.0 * c[target] + 1.0) / 3.0


def _number(name: str, value: object, low: float, high: float, allowed: str, low_open: bool = False) -> float:
    return checks.real(name, value, low=low, high=high, low_open=low_open, allowed=allowed)


def _probability(name: str, value: object) -> float:
    return _number(name, value, 0.0, 1.0, "a number in [0, 1]")


def secret_fraction(bit_error_rate: float, phase_error_rate: float, ec_efficiency: float = 1.0) -> float:
    """Asymptotic secret bits per sifted bit with one-way post-processing,
    ``1 - f h2(e_bit) - h2(e_phase)`` (Shor & Preskill; ``f >= 1`` is the error-correction
    inefficiency, 1 at the Shannon limit).  Negative means no key.

    >>> round(secret_fraction(0.05, 0.05), 7)
    0.4272061
    """
    f = _number("ec_efficiency", ec_efficiency, 1.0, math.inf, "a number >= 1 (1: Shannon limit)")
    return 1.0 - f * binary_entropy(_probability("bit_error_rate", bit_error_rate)) \
        - binary_entropy(_probability("phase_error_rate", phase_error_rate))


# -- E91 -------------------------------------------------------------------------------------------
#: Analyser angles (radians, X-Z plane of the Bloch sphere) of the E91 settings, by name.
E91_ANGLES = {"Z": 0.0, "D": math.pi / 4, "X": math.pi / 2, "A": 3 * math.pi / 4}
#: Ekert's settings: Alice at 0, pi/4, pi/2 and Bob at pi/4, pi/2, 3 pi/4.
E91_ALICE = ("Z", "D", "X")
E91_BOB = ("D", "X", "A")
#: Settings both ends share: their outcomes form the key.
E91_KEY_SETTINGS = ("D", "X")
#: The four CHSH terms as (Alice's setting, Bob's setting, sign) in
#: ``S = E(Z,D) - E(Z,A) + E(X,D) + E(X,A)``.
E91_CHSH_TERMS = (("Z", "D", 1), ("Z", "A", -1), ("X", "D", 1), ("X", "A", 1))


def e91_correlation(c: Sequence[float], alice: str, bob: str) -> float:
    """``<A ⊗ B>`` of a Bell-diagonal pair for the E91 settings named ``alice`` and ``bob``."""
    for name, setting in (("alice", alice), ("bob", bob)):
        if setting not in E91_ANGLES:
            raise ConfigurationError(f"E91 setting {name} = {setting!r} is not known; allowed: "
                                     f"{tuple(E91_ANGLES)}", field=name, value=setting)
    return correlation_xz(c, E91_ANGLES[alice], E91_ANGLES[bob])


def e91_chsh_value(c: Sequence[float]) -> float:
    """CHSH value of a Bell-diagonal pair at the fixed E91 angles: ``sqrt(2) (<ZZ> + <XX>)``
    (Phi+ signs).  Equal to :func:`chsh_value`, the optimum, when ``<ZZ> = <XX>`` are the two
    largest correlations (a Werner state: ``2 sqrt(2) w``)."""
    return sum(sign * e91_correlation(c, a, b) for a, b, sign in E91_CHSH_TERMS)


def e91_qber(c: Sequence[float], setting: str) -> float:
    """Probability that the two key outcomes differ when both ends use E91 ``setting`` ('D' or 'X')."""
    if setting not in E91_KEY_SETTINGS:
        raise ConfigurationError(f"E91 key setting {setting!r} is not known; allowed: {E91_KEY_SETTINGS}",
                                 field="setting", value=setting)
    return (1.0 - e91_correlation(c, setting, setting)) / 2.0


def di_key_fraction(chsh: float, qber_: float, ec_efficiency: float = 1.0) -> float:
    """Device-independent key fraction against collective attacks (Acín et al. 2007):
    ``1 - f h2(Q) - h2((1 + sqrt((S/2)^2 - 1)) / 2)``.

    ``chsh`` is clamped to [2, 2 sqrt 2] (a measured S can fluctuate outside); at
    S <= 2 Eve may know everything and the result is ``-f h2(Q)`` (no key).

    >>> round(di_key_fraction(2 * math.sqrt(2), 0.0), 12)
    1.0
    """
    s = min(max(_number("chsh", chsh, -4.0, 4.0, "a number in [-4, 4]"), 2.0), 2.0 * math.sqrt(2.0))
    eve = binary_entropy(min(1.0, (1.0 + math.sqrt(max(0.0, (s / 2.0) ** 2 - 1.0))) / 2.0))
    f = _number("ec_efficiency", ec_efficiency, 1.0, math.inf, "a number >= 1 (1: Shannon limit)")
    return 1.0 - f * binary_entropy(_probability("qber", qber_)) - eve


# -- BB84 with weak coherent pulses and decoy states [MQZL] --------------------------------------------
def _channel(mu: float, eta: float, y0: float) -> tuple[float, float, float]:
    mu = _number("mu", mu, 0.0, math.inf, "a mean photon number >= 0")
    return mu, _probability("eta", eta), _probability("y0", y0)


def decoy_gain(mu: float, eta: float, y0: float) -> float:
    """Gain ``Q_mu``: probability that a pulse of mean photon number ``mu`` gives a click.

    ``eta`` is the overall transmittance (channel x detector, 0..1) and ``y0`` the
    background yield (dark-count probability per gate, 0..1).  A signal photon and a
    dark count click independently, so ``Q_mu = 1 - (1 - Y0) exp(-eta mu)``; MQZL's
    ``Y0 + 1 - exp(-eta mu)`` drops the product ``Y0 (1 - exp(-eta mu))``.
    """
    mu, eta, y0 = _channel(mu, eta, y0)
    return 1.0 - (1.0 - y0) * math.exp(-eta * mu)


def decoy_error_rate(mu: float, eta: float, y0: float, misalignment: float, e0: float = 0.5) -> float:
    """Error rate ``E_mu`` of the clicks of pulses of mean photon number ``mu``.

    A click with a signal photon has the misalignment error ``e_d``; a click with a
    dark count only has ``e0`` (1/2: a random bit):
    ``E_mu Q_mu = e_d (1 - exp(-eta mu)) + e0 Y0 exp(-eta mu)`` (MQZL Eq. (7)-(9) up to
    the same product term as :func:`decoy_gain`).  0 when ``Q_mu`` is 0.
    """
    mu, eta, y0 = _channel(mu, eta, y0)
    e_d, e0 = _probability("misalignment", misalignment), _probability("e0", e0)
    q = decoy_gain(mu, eta, y0)
    if q == 0.0:
        return 0.0
    x = math.exp(-eta * mu)
    return (e_d * (1.0 - x) + e0 * y0 * x) / q


def single_photon_bounds(mu: float, nu: float, gain_mu: float, gain_nu: float, y0: float, error_nu: float,
                         e0: float = 0.5) -> tuple[float, float]:
    """Vacuum + weak decoy estimates ``(Y1_lower, e1_upper)`` of the single-photon yield and
    error rate (MQZL Eqs. (34), (35)), from the gains of signal ``mu`` and decoy ``nu``
    pulses, the vacuum gain ``y0`` and the decoy error rate::

        Y1 >= mu / (mu nu - nu^2) (Q_nu e^nu - Q_mu e^mu nu^2/mu^2 - (mu^2 - nu^2)/mu^2 Y0)
        e1 <= (E_nu Q_nu e^nu - e0 Y0) / (Y1_lower nu)

    ``Y1_lower`` is clipped to [0, 1] and ``e1_upper`` to [0, 1/2] (a value above 1/2
    would lower ``h2``; with ``Y1_lower = 0`` nothing is known and it is 1/2).

    Raises:
        ConfigurationError: unless ``0 < nu < mu``, or a rate is outside [0, 1].
    """
    mu = _number("mu", mu, 0.0, math.inf, "a mean photon number > nu")
    nu = _number("nu", nu, 0.0, mu, f"a mean photon number in (0, mu = {mu})")
    if not 0.0 < nu < mu:
        raise ConfigurationError(f"decoy intensities need 0 < nu < mu, got nu = {nu!r}, mu = {mu!r}",
                                 field="nu", value=nu)
    gain_mu, gain_nu = _probability("gain_mu", gain_mu), _probability("gain_nu", gain_nu)
    y0, error_nu, e0 = _probability("y0", y0), _probability("error_nu", error_nu), _probability("e0", e0)
    y1 = mu / (mu * nu - nu * nu) * (gain_nu * math.exp(nu) - gain_mu * math.exp(mu) * nu * nu / (mu * mu)
                                     - (mu * mu - nu * nu) / (mu * mu) * y0)
    if y1 <= 0.0:
        return 0.0, 0.5
    y1 = min(1.0, y1)  # measured gains can push the estimate above 1
    e1 = (error_nu * gain_nu * math.exp(nu) - e0 * y0) / (y1 * nu)
    return y1, min(0.5, max(0.0, e1))


def gllp_key_rate(gain_mu: float, error_mu: float, gain_1: float, error_1: float, *, basis_factor: float = 0.5,
                  ec_efficiency: float = 1.22) -> float:
    """GLLP secret bits per signal pulse: ``q {-Q_mu f h2(E_mu) + Q_1 [1 - h2(e_1)]}``.

    ``basis_factor`` q is the fraction of clicks kept by sifting (1/2 for BB84 with
    unbiased bases); ``ec_efficiency`` f >= 1 the error-correction inefficiency (MQZL
    use 1.22).  ``gain_1 = Y1 mu exp(-mu)`` is the gain of single-photon pulses.
    Negative means no key.
    """
    q = _number("basis_factor", basis_factor, 0.0, 1.0, "a number in (0, 1]", low_open=True)
    f = _number("ec_efficiency", ec_efficiency, 1.0, math.inf, "a number >= 1 (1: Shannon limit)")
    gain_mu, error_mu = _probability("gain_mu", gain_mu), _probability("error_mu", error_mu)
    gain_1, error_1 = _probability("gain_1", gain_1), _probability("error_1", error_1)
    return q * (-gain_mu * f * binary_entropy(error_mu) + gain_1 * (1.0 - binary_entropy(error_1)))


def decoy_key_rate_from_gains(mu: float, nu: float, gain_mu: float, error_mu: float, gain_nu: float,
                              error_nu: float, y0: float, *, basis_factor: float = 0.5,
                              ec_efficiency: float = 1.22, e0: float = 0.5) -> float:
    """GLLP rate per signal pulse with ``Y1`` and ``e1`` from the vacuum + weak decoy bounds:
    what Alice and Bob compute from their measured gains and error rates."""
    y1, e1 = single_photon_bounds(mu, nu, gain_mu, gain_nu, y0, error_nu, e0)
    return gllp_key_rate(gain_mu, error_mu, y1 * mu * math.exp(-mu), e1, basis_factor=basis_factor,
                         ec_efficiency=ec_efficiency)


def decoy_key_rate(mu: float, nu: float, eta: float, y0: float, misalignment: float, *, basis_factor: float = 0.5,
                   ec_efficiency: float = 1.22, e0: float = 0.5) -> float:
    """Expected vacuum + weak decoy key rate per signal pulse of a link with overall
    transmittance ``eta``, background yield ``y0`` and misalignment ``misalignment``
    (the gains and error rates of :func:`decoy_gain` and :func:`decoy_error_rate`)."""
    return decoy_key_rate_from_gains(
        mu, nu, decoy_gain(mu, eta, y0), decoy_error_rate(mu, eta, y0, misalignment, e0),
        decoy_gain(nu, eta, y0), decoy_error_rate(nu, eta, y0, misalignment, e0), y0,
        basis_factor=basis_factor, ec_efficiency=ec_efficiency, e0=e0)


def infinite_decoy_key_rate(mu: float, eta: float, y0: float, misalignment: float, *, basis_factor: float = 0.5,
                            ec_efficiency: float = 1.22, e0: float = 0.5) -> float:
    """Key rate per signal pulse with the exact single-photon yield and error rate (the limit of
    infinitely many decoy intensities, MQZL Sec. II):
    ``Y1 = 1 - (1 - Y0)(1 - eta)``, ``e1 Y1 = e_d eta + e0 Y0 (1 - eta)``.
    Any decoy estimate gives at most this."""
    mu, eta, y0 = _channel(mu, eta, y0)
    e_d, e0 = _probability("misalignment", misalignment), _probability("e0", e0)
    y1 = 1.0 - (1.0 - y0) * (1.0 - eta)
    e1 = (e_d * eta + e0 * y0 * (1.0 - eta)) / y1 if y1 > 0.0 else 0.5
    return gllp_key_rate(decoy_gain(mu, eta, y0), decoy_error_rate(mu, eta, y0, e_d, e0), y1 * mu * math.exp(-mu),
                         e1, basis_factor=basis_factor, ec_efficiency=ec_efficiency)
