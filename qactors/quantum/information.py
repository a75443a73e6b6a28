"""Figures of merit computed from states: entropies, QKD key fractions, CHSH
values and teleportation fidelities.

Sources: Shor & Preskill, PRL 85, 441 (2000) for the BB84 key fraction
``1 - 2 h2(Q)``; Bennett, Brassard, Mermin, PRL 68, 557 (1992) for BBM92 with
the asymptotic fraction ``1 - h2(Q_Z) - h2(Q_X)``; Horodecki, Horodecki,
Horodecki, Phys. Lett. A 200, 340 (1995) for the largest CHSH value of a
two-qubit state; Horodecki, Horodecki, Horodecki, PRA 60, 1888 (1999) for the
teleportation fidelity ``(2F + 1)/3`` of a resource with singlet fraction F.
"""

from __future__ import annotations

import math
from typing import Sequence

from ..core.errors import ConfigurationError
from .bell import PHI_PLUS, correlation

__all__ = ["binary_entropy", "bb84_key_fraction", "qber", "bbm92_key_fraction", "chsh_value",
           "teleportation_fidelity", "CLASSICAL_TELEPORTATION_LIMIT"]

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
