"""Argument checks shared by the topology builders and loaders (private).

Each check returns the value in its canonical type or raises
:class:`~qactors.core.errors.ConfigurationError` whose message names the
argument, the value and what would be accepted.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

from qactors.core.errors import ConfigurationError

__all__: list[str] = []


def fail(where: str, value: object, allowed: str, *, field: str | None = None, **details) -> ConfigurationError:
    """The error for ``where = value``; ``field`` defaults to ``where``."""
    return ConfigurationError(f"{where} = {value!r} is not allowed; allowed: {allowed}",
                              field=field or where, value=value, **details)


def integer(where: str, value: object, *, low: int, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]`` (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, Integral) or int(value) < low \
            or (high is not None and int(value) > high):
        allowed = f"an int >= {low}" if high is None else f"an int in [{low}, {high}]"
        raise fail(where, value, allowed)
    return int(value)


def real(where: str, value: object, *, low: float = -math.inf, low_open: bool = False,
         high: float = math.inf, high_open: bool = False, unit: str = "") -> float:
    """``value`` as a finite float in the interval (bools and NaN refused)."""
    ok = not isinstance(value, bool) and isinstance(value, Real) and math.isfinite(float(value))
    if ok:
        x = float(value)
        ok = (x > low if low_open else x >= low) and (x < high if high_open else x <= high)
    if not ok:
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        suffix = f" ({unit})" if unit else ""
        if high == math.inf:
            allowed = f"a finite number {'>' if low_open else '>='} {low:g}{suffix}"
        elif low == -math.inf:
            allowed = f"a finite number {'<' if high_open else '<='} {high:g}{suffix}"
        else:
            allowed = f"a finite number in {lo}{low:g}, {high:g}{hi}{suffix}"
        raise fail(where, value, allowed)
    return float(value)


def positive_km(where: str, value: object) -> float:
    """A length in km, finite and > 0."""
    return real(where, value, low=0.0, low_open=True, unit="km")


def seed(value: object) -> int:
    """A seed for :func:`numpy.random.default_rng`: an int >= 0."""
    if isinstance(value, bool) or not isinstance(value, Integral) or int(value) < 0:
        raise fail("seed", value, "an int >= 0 (every random builder needs an explicit seed)")
    return int(value)


def profile(where: str, value: object) -> str:
    """A hardware profile name: a non-empty string."""
    if not isinstance(value, str) or not value:
        raise fail(where, value, "a non-empty string naming a hardware profile")
    return value
