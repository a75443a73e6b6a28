"""Argument checks every layer uses: numbers, probabilities, lengths, times, counts and names.

Each check returns the value in its canonical type (``float`` for physical
quantities, ``int`` for counts and clock durations in picoseconds) or raises
:class:`~qactors.core.errors.ConfigurationError` with one message shape::

    WHERE = VALUE is not allowed; allowed: WHAT

``WHERE`` names the field (``"Fibre.length_km"``, ``"request 'r' pairs"``);
the error's ``field`` and ``value`` attributes carry the same, so that the
scenario loader can map it back to the key of a file.  Bools are never
numbers here (``True`` is an int to Python, never a length), NaN is always
refused, infinity only where a check says so.

The limits below are the simulator's stated bounds (docs/scenario-format.md
lists them): anything past them would overflow the 64-bit picosecond clock or
exhaust memory long before it produced a result.
"""

from __future__ import annotations

import math
import unicodedata
from numbers import Integral, Real

from qactors.core.errors import ConfigurationError

__all__ = ["MAX_PS", "MAX_LENGTH_KM", "MAX_COUNT", "MAX_NODES", "MAX_MEMORIES", "fail", "real", "probability", "integer",
           "flag", "name", "positive_km", "seed", "profile", "to_ps", "off_the_clock", "assign", "describe"]

MAX_PS = 2 ** 63 - 1
"""The last instant of the kernel's clock (signed 64-bit picoseconds, about 106 days)."""
MAX_LENGTH_KM = 1.0e6
"""The longest link or distance (km): beyond the Moon, past any channel the models describe."""
MAX_COUNT = 10 ** 12
"""The most pairs, pulses, key bits or requests one run may ask for."""
MAX_NODES = 10 ** 6
"""The most nodes one network may have, repeaters included (each is an actor with its own state)."""
MAX_MEMORIES = 10 ** 4
"""The most memories per link one node may have (each is an actor's slot, held in memory)."""


def fail(where: str, value: object, allowed: str, *, field: str | None = None, **details) -> ConfigurationError:
    """The error for ``where = value``; ``field`` defaults to ``where``."""
    return ConfigurationError(f"{where} = {value!r} is not allowed; allowed: {allowed}",
                              field=field or where, value=value, **details)


def describe(low: float = -math.inf, high: float = math.inf, low_open: bool = False, high_open: bool = False,
             allow_inf: bool = False, unit: str = "") -> str:
    """What :func:`real` accepts, in words (``"a finite number > 0 (km)"``)."""
    kind = "a number" if allow_inf else "a finite number"
    suffix = f" ({unit})" if unit else ""
    if low == -math.inf and high == math.inf:
        return kind + suffix
    if high == math.inf:
        return (f"{kind} {'>' if low_open else '>='} {low:g}{suffix}"
                + (" (inf allowed)" if allow_inf else ""))
    if low == -math.inf:
        return f"{kind} {'<' if high_open else '<='} {high:g}{suffix}"
    return f"{kind} in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}{suffix}"


def real(where: str, value: object, *, low: float = -math.inf, high: float = math.inf, low_open: bool = False,
         high_open: bool = False, allow_inf: bool = False, unit: str = "", allowed: str | None = None,
         field: str | None = None) -> float:
    """``value`` as a float in the given interval (infinity only with ``allow_inf``).

    ``allowed`` replaces the interval's description in the message (say what the bound means);
    ``field`` the error's field, if it is not ``where``."""
    ok = not isinstance(value, bool) and isinstance(value, Real)
    if ok:
        try:
            x = float(value)
        except OverflowError:  # an int too large for a float
            ok = False
        else:
            ok = not (math.isnan(x) or (math.isinf(x) and not allow_inf) or x < low or x > high
                      or (low_open and x == low) or (high_open and x == high))
    if not ok:
        raise fail(where, value, allowed or describe(low, high, low_open, high_open, allow_inf, unit), field=field)
    return x


def probability(where: str, value: object, *, field: str | None = None) -> float:
    """``value`` as a float in [0, 1] (efficiencies, fidelities, probabilities)."""
    return real(where, value, low=0.0, high=1.0, allowed="a number in [0, 1]", field=field)


def integer(where: str, value: object, *, low: int, high: int | None = None, field: str | None = None) -> int:
    """``value`` as an int in ``[low, high]`` (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, Integral) or int(value) < low \
            or (high is not None and int(value) > high):
        raise fail(where, value, f"an int >= {low}" if high is None else f"an int in [{low}, {high}]", field=field)
    return int(value)


def flag(where: str, value: object) -> bool:
    """``value`` if it is a bool (an int 0/1 is refused: say what you mean)."""
    if not isinstance(value, bool):
        raise fail(where, value, "True or False")
    return value


def name(where: str, value: object, what: str = "a name", *, field: str | None = None) -> str:
    """A non-blank string without control characters (node ids, request ids, profile names)."""
    if not isinstance(value, str) or not value.strip() or any(
            unicodedata.category(c).startswith("C") for c in value):
        raise fail(where, value, f"{what}: a non-empty string of printable characters, not only spaces", field=field)
    return value


def positive_km(where: str, value: object) -> float:
    """A length in km, finite, > 0 and at most :data:`MAX_LENGTH_KM`."""
    return real(where, value, low=0.0, low_open=True, high=MAX_LENGTH_KM,
                allowed=f"a finite number > 0 (km), at most {MAX_LENGTH_KM:g}")


def seed(value: object) -> int:
    """A seed for :func:`numpy.random.default_rng`: an int in [0, 2**63 - 1]."""
    if isinstance(value, bool) or not isinstance(value, Integral) or not 0 <= int(value) <= 2 ** 63 - 1:
        raise fail("seed", value, "an int >= 0, below 2**63 (every random builder needs an explicit seed)")
    return int(value)


def profile(where: str, value: object) -> str:
    """A hardware profile name: a non-empty string."""
    if not isinstance(value, str) or not value:
        raise fail(where, value, "a non-empty string naming a hardware profile")
    return value


def to_ps(where: str, value: object, unit_ps: float, *, zero: bool = False, unit: str = "") -> int:
    """A time of ``value`` units of ``unit_ps`` picoseconds as an int of picoseconds on the clock.

    Refused: a time that overflows :data:`MAX_PS`, and, unless ``zero``, one
    that rounds to 0 ps (it would mean "never" or "at once" by accident)."""
    x = real(where, value, low=0.0, low_open=not zero, unit=unit)
    wrong = off_the_clock(x, unit_ps, zero=zero, unit=unit)
    if wrong:
        raise fail(where, value, wrong)
    return round(x * unit_ps)


def off_the_clock(x: float, unit_ps: float, *, zero: bool = False, unit: str = "") -> str:
    """What is allowed instead of ``x`` units of ``unit_ps`` ps, if it overflows the clock or (unless
    ``zero``) rounds to 0 ps; ``""`` if it fits."""
    name = f" {unit}" if unit else ""
    if x * unit_ps > MAX_PS:
        return (f"at most {MAX_PS / unit_ps:.6g}{name} (the 64-bit picosecond clock ends at {MAX_PS} ps, about "
                f"106 days)")
    if round(x * unit_ps) == 0 and not zero:
        return f"at least {0.5 / unit_ps:.3g}{name} (it rounds to 0 ps; the clock's resolution is 1 ps)"
    return ""


def assign(record: object, field: str, value: object) -> None:
    """Store a checked value on a frozen dataclass from its ``__post_init__``."""
    object.__setattr__(record, field, value)
