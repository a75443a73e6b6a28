"""A progress bar in simulated time, written to a terminal (or sparse lines to a log)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from .core.time import format_ps

__all__ = ["ProgressBar"]


class ProgressBar:
    """Callable usable as ``run(..., progress=ProgressBar())``.

    On a terminal it redraws one line at most ten times a second; otherwise
    it prints a line at every tenth of the run, so CI logs stay short.
    """

    def __init__(self, stream: TextIO | None = None, width: int = 30, label: str = "simulating"):
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.label = label
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.t0 = time.perf_counter()
        self._last_draw = 0.0
        self._last_decile = -1

    def __call__(self, now_ps: int, until_ps: int, events: int) -> None:
        frac = min(1.0, now_ps / until_ps) if until_ps else 1.0
        done = frac >= 1.0
        wall = time.perf_counter() - self.t0
        if self.tty:
            if not done and wall - self._last_draw < 0.1:
                return
            self._last_draw = wall
            filled = int(frac * self.width)
            bar = "#" * filled + "-" * (self.width - filled)
            self.stream.write(f"\r{self.label} [{bar}] {frac:6.1%}  {format_ps(now_ps)} / {format_ps(until_ps)}"
                              f"  {events:,} events  {wall:.1f} s")
            if done:
                self.stream.write("\n")
        else:
            decile = int(frac * 10)
            if decile == self._last_decile:
                return
            self._last_decile = decile
            self.stream.write(f"{self.label}: {frac:.0%} of {format_ps(until_ps)} simulated, "
                              f"{events:,} events, {wall:.1f} s\n")
        self.stream.flush()
