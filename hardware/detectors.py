"""Single-photon detectors: efficiency, dark counts, dead time and jitter.

A :class:`Detector` turns a mean number of photons arriving in a detection
window into click probabilities.  Input light is taken as Poissonian (a
coherent state or a strongly multimode field); dark counts are an independent
Poisson process of rate ``dark_count_rate_hz``.  Detector loss thins a
Poisson distribution into another one, so the number of registered events in
a window is Poisson with mean ``eta * n + rate * window``.

A threshold (non-number-resolving) detector only says "click" or "no click":
it cannot tell one photon from two, so a multi-photon event looks exactly
like a single photon.  A number-resolving detector reports the count.

Equations and sources are in ``docs/physics.md (section 5)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from qactors.core import checks as _checks
from qactors.core.checks import assign as _set

__all__ = ["Detector"]


@dataclass(frozen=True, slots=True)
class Detector:
    """A single-photon detector.

    Args:
        efficiency: system detection efficiency, 0..1.
        dark_count_rate_hz: rate of clicks without light, Hz, >= 0.
        dead_time_ps: time after a click during which the detector is blind,
            integer ps, >= 0.
        timing_jitter_ps: FWHM of the click-time distribution, ps, >= 0.
        number_resolving: True if the detector reports how many photons it saw.

    The defaults describe an ideal detector.

    Raises:
        ConfigurationError: a field outside its range.

    >>> d = Detector(efficiency=0.8, dark_count_rate_hz=100.0)
    >>> round(d.click_probability(1.0, window_s=1e-9), 6)
    0.550671
    """

    efficiency: float = 1.0
    dark_count_rate_hz: float = 0.0
    dead_time_ps: int = 0
    timing_jitter_ps: float = 0.0
    number_resolving: bool = False

    def __post_init__(self) -> None:
        _set(self, "efficiency", _checks.probability("Detector.efficiency", self.efficiency))
        _set(self, "dark_count_rate_hz",
             _checks.real("Detector.dark_count_rate_hz", self.dark_count_rate_hz, low=0.0))
        _set(self, "dead_time_ps", _checks.integer("Detector.dead_time_ps", self.dead_time_ps, low=0))
        _set(self, "timing_jitter_ps", _checks.real("Detector.timing_jitter_ps", self.timing_jitter_ps, low=0.0))
        _checks.flag("Detector.number_resolving", self.number_resolving)

    def dark_count_probability(self, window_s: float) -> float:
        """Probability of at least one dark count in ``window_s`` seconds: ``1 - exp(-rate * window)``."""
        window = _checks.real("window_s", window_s, low=0.0)
        return -math.expm1(-self.dark_count_rate_hz * window)

    def _mean_counts(self, mean_photons: float, window_s: float) -> float:
        n = _checks.real("mean_photons", mean_photons, low=0.0)
        window = _checks.real("window_s", window_s, low=0.0)
        return self.efficiency * n + self.dark_count_rate_hz * window

    def click_probability(self, mean_photons: float, window_s: float) -> float:
        """Probability of a click for Poissonian light of mean ``mean_photons`` in ``window_s`` seconds.

        ``1 - (1 - p_dark) exp(-eta n)`` with ``p_dark = 1 - exp(-rate window)``.

        Args:
            mean_photons: mean photon number arriving in the window, >= 0.
            window_s: detection window, s, >= 0.

        Raises:
            ConfigurationError: a negative or non-finite argument.
        """
        return -math.expm1(-self._mean_counts(mean_photons, window_s))

    def single_count_probability(self, mean_photons: float, window_s: float) -> float:
        """Probability that the detector's output reads as "one photon".

        Number-resolving: exactly one registered event, ``m exp(-m)`` with
        ``m = eta n + rate window``.  Threshold detector: every click reads as
        one photon, so this equals :meth:`click_probability` -- two photons
        are mistaken for one.
        """
        m = self._mean_counts(mean_photons, window_s)
        if self.number_resolving:
            return m * math.exp(-m)
        return -math.expm1(-m)

    @property
    def max_count_rate_hz(self) -> float:
        """Upper bound on the click rate set by the dead time, Hz (``inf`` without one)."""
        if self.dead_time_ps == 0:
            return math.inf
        return 1e12 / self.dead_time_ps

    @classmethod
    def snspd(cls) -> Detector:
        """A superconducting nanowire detector at 1550 nm, typical of current systems.

        Efficiency 0.9, 10 Hz dark counts, 20 ns dead time (reset), 50 ps
        FWHM jitter.  Record values are higher: 98 % system efficiency
        (Reddy et al., Optica 7, 1649 (2020)) and under 3 ps jitter (Korzh et
        al., Nat. Photonics 14, 250 (2020)); review: Hadfield, Nat. Photonics
        3, 696 (2009).
        """
        return cls(efficiency=0.9, dark_count_rate_hz=10.0, dead_time_ps=20_000, timing_jitter_ps=50.0)

    @classmethod
    def spad(cls) -> Detector:
        """A gated InGaAs/InP avalanche photodiode at 1550 nm.

        Efficiency 0.2, 1 kHz equivalent dark count rate, 10 us dead time
        (to limit afterpulsing), 150 ps jitter: typical of the systems reviewed
        by Zhang, Itzler, Zbinden, Pan, Light Sci. Appl. 4, e286 (2015).
        """
        return cls(efficiency=0.2, dark_count_rate_hz=1000.0, dead_time_ps=10_000_000, timing_jitter_ps=150.0)

    @classmethod
    def silicon_spad(cls) -> Detector:
        """A silicon avalanche photodiode for visible and near-infrared light (600-800 nm).

        Efficiency 0.65, 50 Hz dark counts, 25 ns dead time, 350 ps jitter,
        typical of commercial modules (Hadfield, Nat. Photonics 3, 696 (2009)).
        """
        return cls(efficiency=0.65, dark_count_rate_hz=50.0, dead_time_ps=25_000, timing_jitter_ps=350.0)
