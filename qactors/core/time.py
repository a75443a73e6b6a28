"""Simulated time: an integer number of picoseconds.

No floats ever reach the clock.  Use these constants to write durations
readably, e.g. ``5 * US`` for five microseconds, and :func:`to_ps` to convert a
float number of seconds once, at the edge.
"""

from __future__ import annotations

__all__ = ["PS", "NS", "US", "MS", "S", "to_ps", "format_ps"]

PS = 1
NS = 1_000
US = 1_000_000
MS = 1_000_000_000
S = 1_000_000_000_000


def to_ps(seconds: float) -> int:
    """Round a duration in seconds to the nearest integer picosecond.

    >>> to_ps(4.9e-6)
    4900000
    """
    return int(round(seconds * S))


def format_ps(t_ps: int) -> str:
    """Render a time in picoseconds with a readable unit.

    >>> format_ps(1_500_000)
    '1.5 us'
    """
    for unit, scale in (("s", S), ("ms", MS), ("us", US), ("ns", NS)):
        if abs(t_ps) >= scale:
            return f"{t_ps / scale:.4g} {unit}"
    return f"{t_ps} ps"
