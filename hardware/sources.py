"""Photon sources: SPDC pair sources, quantum dots and spin-photon emitters.

* :class:`SPDCSource` -- spontaneous parametric down-conversion with thermal
  pair statistics and the entanglement visibility lost to multi-pair emission.
* :class:`QuantumDotSource` -- a deterministic (triggered) emitter of single
  photons or entangled pairs, with Hong-Ou-Mandel visibility between photons
  of two *different* dots.
* :class:`EmitterNode` -- a matter qubit (NV, SiV, trapped ion) that emits a
  photon entangled with its spin, with named constructors carrying
  illustrative published-order parameters.

Equations, assumptions and sources are collected in ``docs/physics.md (section 5)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from qactors.core.errors import ConfigurationError

from qactors.core import checks as _checks
from qactors.core.checks import assign as _set
from .channels import SPEED_OF_LIGHT_M_PER_S

__all__ = ["SPDCSource", "QuantumDotSource", "EmitterNode", "EMITTER_KINDS"]

EMITTER_KINDS = ("NV", "SiV", "trapped_ion")
"""The emitter kinds :class:`EmitterNode` accepts."""


@dataclass(frozen=True, slots=True)
class SPDCSource:
    """A pulsed SPDC photon-pair source.

    ``mean_photon_number`` (mu) is the mean number of pairs per pulse in one
    signal-idler mode pair.  In a single spectral-temporal mode the pair
    number is thermal, ``P(n) = mu^n / (1 + mu)^(n + 1)`` (a multimode source
    tends to Poisson statistics; this model keeps the single-mode case, which
    is the worst for multi-pair emission).  A polarisation-entangled source is
    two such mode pairs (H and V) pumped coherently, each with mean ``mu``.

    Args:
        mean_photon_number: mean pairs per pulse per mode pair, >= 0.
        heralding_efficiency: probability that the partner photon of a
            detected one reaches its output fibre (Klyshko efficiency), 0..1.
        repetition_rate_hz: pump pulse rate, Hz, > 0.
        wavelength_nm: wavelength of the photons sent out, nm, > 0.

    Raises:
        ConfigurationError: a field outside its range.

    >>> s = SPDCSource(mean_photon_number=0.1, heralding_efficiency=0.8, repetition_rate_hz=1e8)
    >>> round(s.single_pair_probability, 6), round(s.multi_pair_probability, 6)
    (0.082645, 0.008264)
    >>> round(s.entanglement_visibility, 6)
    0.846154
    """

    mean_photon_number: float
    heralding_efficiency: float
    repetition_rate_hz: float
    wavelength_nm: float = 1550.0

    def __post_init__(self) -> None:
        _set(self, "mean_photon_number",
             _checks.real("SPDCSource.mean_photon_number", self.mean_photon_number, low=0.0))
        _set(self, "heralding_efficiency",
             _checks.probability("SPDCSource.heralding_efficiency", self.heralding_efficiency))
        _set(self, "repetition_rate_hz",
             _checks.real("SPDCSource.repetition_rate_hz", self.repetition_rate_hz, low=0.0, low_open=True))
        _set(self, "wavelength_nm",
             _checks.real("SPDCSource.wavelength_nm", self.wavelength_nm, low=0.0, low_open=True))

    def pair_number_probability(self, n: int) -> float:
        """Probability of exactly ``n`` pairs (int >= 0) in a pulse: ``mu^n/(1+mu)^(n+1)``."""
        n = _checks.integer("n", n, low=0)
        mu = self.mean_photon_number
        return (mu / (1.0 + mu)) ** n / (1.0 + mu)

    @property
    def vacuum_probability(self) -> float:
        """Probability of no pair: ``1/(1 + mu)``."""
        return 1.0 / (1.0 + self.mean_photon_number)

    @property
    def single_pair_probability(self) -> float:
        """Probability of exactly one pair: ``mu/(1 + mu)^2``."""
        mu = self.mean_photon_number
        return mu / (1.0 + mu) ** 2

    @property
    def multi_pair_probability(self) -> float:
        """Probability of two or more pairs: ``(mu/(1 + mu))^2``."""
        mu = self.mean_photon_number
        return (mu / (1.0 + mu)) ** 2

    @property
    def pair_rate_hz(self) -> float:
        """Mean pairs per second: ``mu * repetition_rate_hz``."""
        return self.mean_photon_number * self.repetition_rate_hz

    def herald_probability(self, detector_efficiency: float) -> float:
        """Probability per pulse that a threshold detector of efficiency 0..1 heralds.

        ``1 - sum_n P(n) (1 - eta)^n = eta mu / (1 + eta mu)`` for thermal statistics.
        """
        eta = _checks.probability("detector_efficiency", detector_efficiency)
        x = eta * self.mean_photon_number
        return x / (1.0 + x)

    @property
    def entanglement_visibility(self) -> float:
        """Two-photon interference visibility of the polarisation-entangled source.

        ``V = (1 + mu) / (1 + 3 mu)``, about ``1 - 2 mu`` for small ``mu``.
        Derived for coherently pumped H and V mode pairs (each a two-mode
        squeezed vacuum with mean ``mu``) and coincidence detection in the
        low-efficiency limit: ``<n_a n_b>`` is ``mu + 2 mu^2`` for correlated
        and ``mu^2`` for anticorrelated outcomes, in every basis.  Agrees with
        ``V = 1 - 2 rho`` of Scarani et al., Eur. Phys. J. D 32, 129 (2005)
        and with the low-efficiency limit of Takesue & Shimizu, Opt. Commun.
        283, 276 (2010), who also treat finite detection efficiency.
        """
        mu = self.mean_photon_number
        return (1.0 + mu) / (1.0 + 3.0 * mu)

    @property
    def werner_factor(self) -> float:
        """Werner parameter w of the delivered pair: equal to :attr:`entanglement_visibility`.

        The multi-pair background is the same in every basis, so the
        post-selected two-photon state is a Werner state whose visibility is
        ``w`` in all bases.
        """
        return self.entanglement_visibility

    @property
    def fidelity(self) -> float:
        """Fidelity with the target Bell state: ``(1 + 3 w)/4``."""
        return (1.0 + 3.0 * self.werner_factor) / 4.0


@dataclass(frozen=True, slots=True)
class QuantumDotSource:
    """A triggered quantum-dot source of single photons or entangled pairs.

    Args:
        brightness: probability per trigger that a photon (or pair) reaches the
            first fibre, 0..1.
        entanglement_fidelity: fidelity of an emitted pair with the target Bell
            state, in [0.25, 1] (1 for a single-photon source).
        indistinguishability: HOM visibility M of two photons from this same
            dot (includes dephasing, spectral diffusion, multi-photon), 0..1.
        repetition_rate_hz: trigger rate, Hz, > 0.
        linewidth_ghz: Lorentzian FWHM of the transform-limited (radiative)
            line, GHz, > 0; ``1/(2 pi T1)``.  Default 0.64 GHz (T1 about 250 ps).
        central_frequency_thz: emission frequency, THz, > 0.  Default 384.2 THz
            (780 nm, GaAs dots near the Rb D2 line).

    Raises:
        ConfigurationError: a field outside its range.
    """

    brightness: float
    entanglement_fidelity: float
    indistinguishability: float
    repetition_rate_hz: float
    linewidth_ghz: float = 0.64
    central_frequency_thz: float = 384.2

    def __post_init__(self) -> None:
        _set(self, "brightness", _checks.probability("QuantumDotSource.brightness", self.brightness))
        _set(self, "entanglement_fidelity",
             _checks.real("QuantumDotSource.entanglement_fidelity", self.entanglement_fidelity,
                          low=0.25, high=1.0))
        _set(self, "indistinguishability",
             _checks.probability("QuantumDotSource.indistinguishability", self.indistinguishability))
        for field in ("repetition_rate_hz", "linewidth_ghz", "central_frequency_thz"):
            _set(self, field, _checks.real(f"QuantumDotSource.{field}", getattr(self, field), low=0.0,
                                           low_open=True))

    @property
    def photon_rate_hz(self) -> float:
        """Photons (or pairs) per second into the first fibre: brightness x rate."""
        return self.brightness * self.repetition_rate_hz

    @property
    def werner_factor(self) -> float:
        """Werner parameter of an emitted pair: ``(4 F - 1)/3``."""
        return (4.0 * self.entanglement_fidelity - 1.0) / 3.0

    @property
    def radiative_lifetime_ps(self) -> float:
        """``1 / (2 pi linewidth)``, ps."""
        return 1.0 / (2.0 * math.pi * self.linewidth_ghz * 1e9) * 1e12

    @property
    def wavelength_nm(self) -> float:
        """Vacuum wavelength of the emission, nm."""
        return SPEED_OF_LIGHT_M_PER_S / (self.central_frequency_thz * 1e12) * 1e9

    def spectral_overlap(self, other: QuantumDotSource) -> float:
        """|<xi_1|xi_2>|^2 of two transform-limited photons, 0..1.

        For photons emitted at the same instant with exponential envelopes of
        FWHM linewidths G1, G2 (Hz) and centre frequencies detuned by D (Hz),
        ``4 G1 G2 / ((G1 + G2)^2 + 4 D^2)``.  1 for identical lines; at
        ``D = G`` (equal widths) it is 1/2.  Timing jitter between the two
        triggers is not included.
        """
        _require_dot(other)
        g1, g2 = self.linewidth_ghz, other.linewidth_ghz
        detuning_ghz = (self.central_frequency_thz - other.central_frequency_thz) * 1e3
        return 4.0 * g1 * g2 / ((g1 + g2) ** 2 + 4.0 * detuning_ghz ** 2)

    def two_photon_interference_visibility(self, other: QuantumDotSource) -> float:
        """HOM visibility of one photon from this dot and one from ``other``.

        ``V = sqrt(M1 M2) * spectral_overlap`` with M each dot's own
        indistinguishability: a model that treats each dot's imperfections as
        independent and multiplies in the spectral mismatch of their radiative
        lines (overlap of exponentially decaying wavepackets: e.g. Kambs &
        Becher, NJP 20, 115003 (2018)).  With the same dot on both sides it
        returns M.

        >>> a = QuantumDotSource(0.5, 0.95, 0.9, 8e7, linewidth_ghz=0.5, central_frequency_thz=384.0)
        >>> b = QuantumDotSource(0.5, 0.95, 0.8, 8e7, linewidth_ghz=0.5, central_frequency_thz=384.0005)
        >>> round(a.two_photon_interference_visibility(b), 6)
        0.424264
        """
        return math.sqrt(self.indistinguishability * other.indistinguishability) * self.spectral_overlap(other)


def _require_dot(other: object) -> None:
    if not isinstance(other, QuantumDotSource):
        raise ConfigurationError(
            f"other = {other!r} is not allowed; allowed: a QuantumDotSource", field="other", value=other)


@dataclass(frozen=True, slots=True)
class EmitterNode:
    """A spin qubit that emits a photon entangled with it.

    Args:
        kind: one of ``"NV"``, ``"SiV"``, ``"trapped_ion"`` (a label; the
            physics is in the numbers).
        bright_state_population: alpha, probability that the spin is in the
            state that emits, 0..1: small (a few per cent) for single-click
            generation, 1/2 for Barrett-Kok, 1 where a photon is always emitted
            (polarisation or time-bin encoding).
        emission_efficiency: probability that the excited emitter sends a
            photon into the useful optical mode (zero-phonon line, cavity mode),
            0..1.
        collection_efficiency: probability that such a photon reaches the
            node's output fibre, 0..1.
        wavelength_nm: emission wavelength, nm, > 0.

    Raises:
        ConfigurationError: unknown kind or a field outside its range.
    """

    kind: str
    bright_state_population: float
    emission_efficiency: float
    collection_efficiency: float
    wavelength_nm: float

    def __post_init__(self) -> None:
        if self.kind not in EMITTER_KINDS:
            raise ConfigurationError(
                f"EmitterNode.kind = {self.kind!r} is not allowed; allowed: {', '.join(map(repr, EMITTER_KINDS))}",
                field="EmitterNode.kind", value=self.kind)
        for field in ("bright_state_population", "emission_efficiency", "collection_efficiency"):
            _set(self, field, _checks.probability(f"EmitterNode.{field}", getattr(self, field)))
        _set(self, "wavelength_nm",
             _checks.real("EmitterNode.wavelength_nm", self.wavelength_nm, low=0.0, low_open=True))

    @property
    def photon_emission_probability(self) -> float:
        """Probability per attempt that a photon reaches the output fibre: alpha x emission x collection."""
        return self.bright_state_population * self.emission_efficiency * self.collection_efficiency

    @classmethod
    def nv(cls, bright_state_population: float = 0.05) -> EmitterNode:
        """NV centre in diamond, 637 nm zero-phonon line, single-click defaults.

        About 3 % of the emission goes into the zero-phonon line (Debye-Waller
        factor); with a solid-immersion lens the probability of a ZPL photon in
        the fibre per excitation is of order 10^-3 to 10^-4, as in the Delft
        network experiments (Pompili et al., Science 372, 259 (2021); Hermans
        et al., Nature 605, 663 (2022)), where alpha was a few per cent to 0.1.
        Illustrative, not fitted: check the papers for quantitative work.

        >>> EmitterNode.nv().photon_emission_probability < 1e-4
        True
        """
        return cls("NV", bright_state_population, emission_efficiency=0.03, collection_efficiency=0.015,
                   wavelength_nm=637.0)

    @classmethod
    def siv(cls, bright_state_population: float = 1.0) -> EmitterNode:
        """SiV centre in a diamond nanophotonic cavity, 737 nm.

        About 70 % of SiV emission is in the zero-phonon line, and a
        nanophotonic cavity with a tapered-fibre coupler delivers a large
        fraction of it to the fibre (Nguyen et al., Phys. Rev. B 100, 165428
        (2019); Bhaskar et al., Nature 580, 60 (2020)).  Collection 0.3 is an
        illustrative end-to-end value.  alpha = 1: time-bin encoding, a photon
        every attempt.
        """
        return cls("SiV", bright_state_population, emission_efficiency=0.7, collection_efficiency=0.3,
                   wavelength_nm=737.0)

    @classmethod
    def trapped_ion(cls, bright_state_population: float = 1.0) -> EmitterNode:
        """40Ca+ ion in an optical cavity, 854 nm (before conversion to 1550 nm).

        A cavity-mediated Raman process puts a photon, polarisation-entangled
        with the ion, into the cavity mode with probability of order 0.5, and
        of order half of those reach the fibre (Krutyanskiy et al., npj
        Quantum Inf. 5, 72 (2019); Krutyanskiy et al., PRL 130, 050803
        (2023)).  Illustrative values.  alpha = 1: a photon every attempt.
        """
        return cls("trapped_ion", bright_state_population, emission_efficiency=0.5, collection_efficiency=0.5,
                   wavelength_nm=854.0)
