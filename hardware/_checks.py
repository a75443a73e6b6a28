"""Argument checks shared by the hardware records (private).

Every check returns the value in its canonical type (``float`` for physical
quantities, ``int`` for clock durations) or raises
:class:`~qactors.core.errors.ConfigurationError` with a message that names
the field, the value and what would be accepted.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

from qactors.core.errors import ConfigurationError

__all__: list[str] = []


def _fail(where: str, value: object, allowed: str) -> ConfigurationError:
    return ConfigurationError(f"{where} = {value!r} is not allowed; allowed: {allowed}",
                              field=where, value=value)


def real(where: str, value: object, *, low: float = -math.inf, high: float = math.inf,
         low_open: bool = False, high_open: bool = False, allow_inf: bool = False) -> float:
    """``value`` as a float in the given interval.

    ``where`` names the field (``"Fibre.length_km"``).  Bools are refused
    (``True`` is an int to Python, never a length); NaN is always refused;
    infinity only with ``allow_inf`` and only where the interval includes it.
    """
    if isinstance(value, bool) or not isinstance(value, Real):
        raise _fail(where, value, _describe(low, high, low_open, high_open, allow_inf))
    x = float(value)
    bad = (math.isnan(x) or (math.isinf(x) and not allow_inf)
           or x < low or x > high or (low_open and x == low) or (high_open and x == high))
    if bad:
        raise _fail(where, value, _describe(low, high, low_open, high_open, allow_inf))
    return x


def probability(where: str, value: object) -> float:
    """``value`` as a float in [0, 1] (efficiencies, fidelities, probabilities)."""
    return real(where, value, low=0.0, high=1.0)


def integer(where: str, value: object, *, low: int) -> int:
    """``value`` as an int >= ``low`` (qubit counts, durations in picoseconds)."""
    if isinstance(value, bool) or not isinstance(value, Integral) or int(value) < low:
        raise _fail(where, value, f"an int >= {low}")
    return int(value)


def flag(where: str, value: object) -> bool:
    """``value`` if it is a bool (an int 0/1 is refused: say what you mean)."""
    if not isinstance(value, bool):
        raise _fail(where, value, "True or False")
    return value


def _describe(low: float, high: float, low_open: bool, high_open: bool, allow_inf: bool) -> str:
    kind = "a number" if allow_inf else "a finite number"
    if low == -math.inf and high == math.inf:
        return kind
    if high == math.inf:
        return f"{kind} {'>' if low_open else '>='} {low:g}" + (" (inf allowed)" if allow_inf else "")
    if low == -math.inf:
        return f"{kind} {'<' if high_open else '<='} {high:g}"
    return f"{kind} in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


def assign(record: object, field: str, value: object) -> None:
    """Store a checked value on a frozen dataclass from its ``__post_init__``."""
    object.__setattr__(record, field, value)
