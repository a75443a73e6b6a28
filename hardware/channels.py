"""Optical channels: fibre, free-space links and satellite downlinks.

Every channel is a frozen, validated parameter record with the same three
read-only properties, so a protocol can treat them alike (see
:class:`Channel`):

* ``transmissivity`` -- probability that a photon sent in arrives (0..1),
* ``loss_db`` -- the same as a loss in decibels, ``-10 log10(transmissivity)``,
* ``delay_ps`` -- one-way propagation time in whole picoseconds (at least 1).
  Classical messages that travel along the same path take this long too, so
  ``delay_ps`` is also the classical latency a protocol should use.

Also here: the repeaterless capacity bounds of a pure-loss channel
(:func:`plob_bound`, :func:`tgw_bound`), the two-photon budget of a
satellite that sends one photon of a pair to each of two ground stations
(:func:`dual_downlink`) and a visibility-based atmospheric extinction
estimate (:func:`atmospheric_extinction_db_per_km`).

Equations, assumptions and sources are collected in ``docs/physics.md (section 5)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple, Protocol, runtime_checkable

from qactors.core.errors import ConfigurationError
from qactors.core.time import to_ps

from qactors.core import checks as _checks
from qactors.core.checks import assign as _set

__all__ = [
    "SPEED_OF_LIGHT_M_PER_S",
    "EARTH_RADIUS_KM",
    "Channel",
    "Fibre",
    "FreeSpaceLink",
    "SatelliteDownlink",
    "DualDownlinkBudget",
    "dual_downlink",
    "plob_bound",
    "tgw_bound",
    "transmissivity_to_db",
    "atmospheric_extinction_db_per_km",
]

SPEED_OF_LIGHT_M_PER_S = 299_792_458.0
"""Speed of light in vacuum, m/s (exact, SI)."""

EARTH_RADIUS_KM = 6371.0
"""Mean Earth radius used for slant ranges, km."""

_PLANCK_J_S = 6.626_070_15e-34
_NEPER_PER_DB = math.log(10.0) / 10.0  # alpha [1/km] = alpha [dB/km] * ln(10)/10


@runtime_checkable
class Channel(Protocol):
    """What every channel model offers: a transmissivity, its loss in dB and
    the one-way propagation delay in integer picoseconds."""

    @property
    def transmissivity(self) -> float: ...

    @property
    def loss_db(self) -> float: ...

    @property
    def delay_ps(self) -> int: ...


def transmissivity_to_db(transmissivity: float) -> float:
    """Loss in dB of a channel with the given transmissivity (``inf`` for 0).

    >>> transmissivity_to_db(0.01)
    20.0
    """
    eta = _checks.probability("transmissivity", transmissivity)
    if eta == 0.0:
        return math.inf
    return -10.0 * math.log10(eta)


def plob_bound(eta: float) -> float:
    """Repeaterless PLOB bound of a pure-loss channel, bits per channel use.

    ``-log2(1 - eta)``: the two-way assisted capacity of a pure-loss bosonic
    channel with transmissivity ``eta`` -- the most entanglement or secret key
    per use that any protocol without a repeater can reach.  For small
    ``eta`` it is about ``1.44 eta``; it is infinite at ``eta = 1``.

    Source: Pirandola, Laurenza, Ottaviani, Banchi, Nat. Commun. 8, 15043 (2017).

    Args:
        eta: transmissivity, 0..1.

    Raises:
        ConfigurationError: ``eta`` outside [0, 1].

    >>> round(plob_bound(0.1), 7)
    0.1520031
    """
    eta = _checks.probability("eta", eta)
    if eta == 1.0:
        return math.inf
    return -math.log1p(-eta) / math.log(2.0)


def tgw_bound(eta: float) -> float:
    """Takeoka-Guha-Wilde bound of a pure-loss channel, bits per channel use.

    ``log2((1 + eta) / (1 - eta))``, the earlier (squashed-entanglement)
    upper bound on repeaterless key rates; about ``2.89 eta`` for small
    ``eta``, so twice the PLOB bound there.

    Source: Takeoka, Guha, Wilde, Nat. Commun. 5, 5235 (2014).

    Args:
        eta: transmissivity, 0..1.

    Raises:
        ConfigurationError: ``eta`` outside [0, 1].

    >>> round(tgw_bound(0.1), 7)
    0.2895066
    """
    eta = _checks.probability("eta", eta)
    if eta == 1.0:
        return math.inf
    return (math.log1p(eta) - math.log1p(-eta)) / math.log(2.0)


def _photon_energy_j(wavelength_nm: float) -> float:
    return _PLANCK_J_S * SPEED_OF_LIGHT_M_PER_S / (wavelength_nm * 1e-9)


@dataclass(frozen=True, slots=True)
class Fibre:
    """A span of single-mode optical fibre.

    Args:
        length_km: span length, km, >= 0.
        attenuation_db_per_km: loss coefficient, dB/km, >= 0.  0.2 dB/km is
            standard single-mode fibre at 1550 nm (ITU-T G.652).
        refractive_index: group index, >= 1; 1.47 gives about 4.9 us/km.
        depolarisation_per_km: rate, per km, >= 0, at which the polarisation
            (or other photonic) qubit is depolarised in transit; see
            :attr:`depolarising_parameter`.
        raman_coefficient_per_km_per_nm: spontaneous Raman scattering
            coefficient beta, per km per nm of filter bandwidth, >= 0: the
            fraction of a co-existing classical channel's power scattered into
            the quantum channel's band.  The default, 3e-9, is the order of
            magnitude measured for a C-band pump and a quantum channel a few to
            tens of nm away (Peters et al., NJP 11, 045012 (2009); Eraerds et
            al., NJP 12, 063027 (2010)); the real value depends strongly on the
            pump-signal detuning, so set it for your wavelength plan.

    Raises:
        ConfigurationError: a field outside its range.

    >>> f = Fibre(length_km=50)
    >>> round(f.transmissivity, 12), f.loss_db, f.delay_ps
    (0.1, 10.0, 245169610)
    """

    length_km: float
    attenuation_db_per_km: float = 0.2
    refractive_index: float = 1.47
    depolarisation_per_km: float = 0.0
    raman_coefficient_per_km_per_nm: float = 3e-9

    def __post_init__(self) -> None:
        _set(self, "length_km", _checks.real("Fibre.length_km", self.length_km, low=0.0))
        _set(self, "attenuation_db_per_km",
             _checks.real("Fibre.attenuation_db_per_km", self.attenuation_db_per_km, low=0.0))
        _set(self, "refractive_index", _checks.real("Fibre.refractive_index", self.refractive_index, low=1.0))
        _set(self, "depolarisation_per_km",
             _checks.real("Fibre.depolarisation_per_km", self.depolarisation_per_km, low=0.0))
        _set(self, "raman_coefficient_per_km_per_nm",
             _checks.real("Fibre.raman_coefficient_per_km_per_nm", self.raman_coefficient_per_km_per_nm,
                          low=0.0))

    @property
    def loss_db(self) -> float:
        """Total loss, dB: ``attenuation_db_per_km * length_km``."""
        return self.attenuation_db_per_km * self.length_km

    @property
    def transmissivity(self) -> float:
        """Probability that a photon crosses the span: ``10^(-loss_db/10)``."""
        return 10.0 ** (-self.loss_db / 10.0)

    @property
    def delay_ps(self) -> int:
        """One-way propagation delay, integer ps (at least 1): ``L n / c``."""
        return max(1, to_ps(self.length_km * 1e3 * self.refractive_index / SPEED_OF_LIGHT_M_PER_S))

    @property
    def depolarising_parameter(self) -> float:
        """Werner-type factor ``w = exp(-depolarisation_per_km * length_km)``.

        The transmitted qubit undergoes ``rho -> w rho + (1 - w) I/2``; a
        Bell pair with one photon sent through the span keeps a Werner
        parameter multiplied by ``w``.  1 when ``depolarisation_per_km`` is 0.
        """
        return math.exp(-self.depolarisation_per_km * self.length_km)

    def raman_noise_rate_per_s(self, launch_power_mw: float, filter_bandwidth_nm: float, *,
                               counter_propagating: bool = False,
                               quantum_wavelength_nm: float = 1550.0) -> float:
        """Raman noise photons per second reaching the far end in the quantum band.

        Spontaneous Raman scattering of a classical channel launched with
        ``launch_power_mw`` into the same fibre adds noise photons to the
        quantum channel.  This is an *added* noise rate at the output of the
        span, before the receiver's own filter loss and detector efficiency;
        multiply by a detection window to get a mean photon number (see
        :meth:`raman_noise_mean_photons`).  With beta the Raman coefficient,
        ``a`` the attenuation in 1/km (same at both wavelengths), L the length
        and d_lambda the filter bandwidth, the scattered power is

        * co-propagating (classical light travels with the quantum signal):
          ``P_in exp(-a L) beta L d_lambda`` -- every slice dz scatters
          ``P_in exp(-a z) beta dz d_lambda`` and the scattered light loses
          ``exp(-a (L - z))`` on the rest of the way;
        * counter-propagating (classical light launched at the receiver end):
          ``P_in beta d_lambda (1 - exp(-2 a L)) / (2 a)``.

        and the photon rate is that power over ``h c / quantum_wavelength``.
        Model as in Eraerds et al., NJP 12, 063027 (2010) and Patel et al.,
        Phys. Rev. X 2, 041010 (2012).  Linear in power: stimulated Raman and
        four-wave mixing are neglected.

        Args:
            launch_power_mw: classical launch power, mW, >= 0.
            filter_bandwidth_nm: quantum-channel filter bandwidth, nm, >= 0.
            counter_propagating: classical light travels against the quantum
                signal (default: with it).
            quantum_wavelength_nm: wavelength of the quantum channel, nm, > 0.

        Raises:
            ConfigurationError: an argument outside its range.

        >>> f = Fibre(length_km=25, raman_coefficient_per_km_per_nm=3e-9)
        >>> f"{f.raman_noise_rate_per_s(0.01, 0.8):.3g}"
        '1.48e+06'
        """
        p_w = _checks.real("launch_power_mw", launch_power_mw, low=0.0) * 1e-3
        bw = _checks.real("filter_bandwidth_nm", filter_bandwidth_nm, low=0.0)
        lam = _checks.real("quantum_wavelength_nm", quantum_wavelength_nm, low=0.0, low_open=True)
        a = self.attenuation_db_per_km * _NEPER_PER_DB
        length = self.length_km
        if counter_propagating:
            path_km = -math.expm1(-2.0 * a * length) / (2.0 * a) if a > 0 else length
        else:
            path_km = math.exp(-a * length) * length
        power_w = p_w * self.raman_coefficient_per_km_per_nm * bw * path_km
        return power_w / _photon_energy_j(lam)

    def raman_noise_mean_photons(self, launch_power_mw: float, filter_bandwidth_nm: float, window_s: float,
                                 *, counter_propagating: bool = False,
                                 quantum_wavelength_nm: float = 1550.0) -> float:
        """Mean Raman noise photons in a detection window of ``window_s`` seconds.

        :meth:`raman_noise_rate_per_s` times ``window_s`` (>= 0).  Feed it to
        :meth:`Detector.click_probability` as (part of) the mean photon number.
        """
        window = _checks.real("window_s", window_s, low=0.0)
        return window * self.raman_noise_rate_per_s(
            launch_power_mw, filter_bandwidth_nm, counter_propagating=counter_propagating,
            quantum_wavelength_nm=quantum_wavelength_nm)


def atmospheric_extinction_db_per_km(visibility_km: float, wavelength_nm: float) -> float:
    """Clear-air to fog extinction estimated from the meteorological visibility, dB/km.

    Kim, McArthur, Korevaar, Proc. SPIE 4214, 26 (2001): the extinction
    coefficient is ``(3.91 / V) (lambda / 550 nm)^-q`` per km, with ``q`` =
    1.6 (V > 50 km), 1.3 (6 < V <= 50), 0.16 V + 0.34 (1 < V <= 6),
    V - 0.5 (0.5 < V <= 1) and 0 below, converted to dB with ``10 log10(e)``.

    Args:
        visibility_km: visibility, km, > 0 (about 23 km is "clear").
        wavelength_nm: wavelength, nm, > 0.

    >>> round(atmospheric_extinction_db_per_km(23.0, 1550.0), 3)
    0.192
    """
    v = _checks.real("visibility_km", visibility_km, low=0.0, low_open=True)
    lam = _checks.real("wavelength_nm", wavelength_nm, low=0.0, low_open=True)
    if v > 50:
        q = 1.6
    elif v > 6:
        q = 1.3
    elif v > 1:
        q = 0.16 * v + 0.34
    elif v > 0.5:
        q = v - 0.5
    else:
        q = 0.0
    per_km = 3.91 / v * (lam / 550.0) ** (-q)
    return 10.0 * math.log10(math.e) * per_km


def _gaussian_beam(distance_m: float, wavelength_nm: float, tx_aperture_m: float, rx_aperture_m: float,
                   divergence_urad: float | None, pointing_error_urad: float) -> tuple[float, float, float]:
    """(beam radius at the receiver in m, diffraction efficiency, pointing efficiency)."""
    waist = tx_aperture_m / 2.0
    theta = (divergence_urad * 1e-6 if divergence_urad is not None
             else wavelength_nm * 1e-9 / (math.pi * waist))
    w2 = waist * waist + (theta * distance_m) ** 2
    a2 = (rx_aperture_m / 2.0) ** 2
    sigma = pointing_error_urad * 1e-6 * distance_m
    diffraction = -math.expm1(-2.0 * a2 / w2)
    # Averaging the Gaussian spot over Gaussian jitter of sigma per axis is a
    # convolution of two Gaussians: a spot of radius^2 w^2 + 4 sigma^2.
    jittered = -math.expm1(-2.0 * a2 / (w2 + 4.0 * sigma * sigma))
    return math.sqrt(w2), diffraction, jittered / diffraction


class _GaussianBeamLink:
    """What free-space and satellite links share: a Gaussian beam over a path of
    ``_path_m`` metres, collected by the receiver's aperture, with pointing jitter,
    atmospheric transmission and optics losses."""

    __slots__ = ()

    def _check_beam(self, *path_fields: str) -> None:
        """Validate the path fields given and the optics every beam link has."""
        name = type(self).__name__
        for field in (*path_fields, "wavelength_nm", "tx_aperture_m", "rx_aperture_m"):
            _set(self, field, _checks.real(f"{name}.{field}", getattr(self, field), low=0.0, low_open=True))
        _set(self, "pointing_error_urad",
             _checks.real(f"{name}.pointing_error_urad", self.pointing_error_urad, low=0.0))
        if self.divergence_urad is not None:
            _set(self, "divergence_urad",
                 _checks.real(f"{name}.divergence_urad", self.divergence_urad, low=0.0, low_open=True))
        _set(self, "optics_efficiency", _checks.probability(f"{name}.optics_efficiency", self.optics_efficiency))

    def _beam(self) -> tuple[float, float, float]:
        return _gaussian_beam(self._path_m, self.wavelength_nm, self.tx_aperture_m, self.rx_aperture_m,
                              self.divergence_urad, self.pointing_error_urad)

    @property
    def beam_radius_m(self) -> float:
        """1/e^2 intensity radius of the beam at the receiver, m."""
        return self._beam()[0]

    @property
    def diffraction_efficiency(self) -> float:
        """Fraction of a perfectly pointed beam that the receiver collects."""
        return self._beam()[1]

    @property
    def pointing_efficiency(self) -> float:
        """Mean collected fraction with jitter over that without, 0..1."""
        return self._beam()[2]

    @property
    def transmissivity(self) -> float:
        """Product of diffraction, pointing, atmospheric and optics efficiencies."""
        _, diffraction, pointing = self._beam()
        return diffraction * pointing * self.atmospheric_transmission * self.optics_efficiency

    @property
    def loss_db(self) -> float:
        """``-10 log10(transmissivity)``, dB."""
        return transmissivity_to_db(self.transmissivity)

    @property
    def delay_ps(self) -> int:
        """One-way delay over the path at the vacuum speed of light, integer ps (at least 1)."""
        return max(1, to_ps(self._path_m / SPEED_OF_LIGHT_M_PER_S))


@dataclass(frozen=True, slots=True)
class FreeSpaceLink(_GaussianBeamLink):
    """A horizontal free-space optical link between two telescopes.

    Loss has three independent parts, multiplied together with the optics'
    own throughput:

    * diffraction: a Gaussian beam with waist ``w0 = tx_aperture_m / 2`` at
      the transmitter spreads to ``w(z) = sqrt(w0^2 + (theta z)^2)`` with the
      far-field half-angle ``theta = lambda / (pi w0)`` (or ``divergence_urad``
      when the optics are not diffraction limited); a circular receiver of
      radius ``r = rx_aperture_m / 2`` collects ``1 - exp(-2 r^2 / w^2)``.
      Exact for a Gaussian beam in near and far field; truncation of the beam
      by the transmitter aperture and turbulence are not modelled.
    * pointing: random pointing errors, Gaussian with RMS
      ``pointing_error_urad`` per axis, displace the spot by ``sigma = err z``
      per axis.  The mean collected fraction is that of a spot of radius
      ``sqrt(w^2 + 4 sigma^2)`` (the average of a Gaussian spot over Gaussian
      jitter is their convolution), so the pointing efficiency is
      ``(1 - exp(-2 r^2/(w^2 + 4 sigma^2))) / (1 - exp(-2 r^2/w^2))``.
    * atmosphere: ``extinction_db_per_km`` over the path.  The default 0.2
      dB/km is clear air (visibility about 23 km) at 1550 nm; see
      :func:`atmospheric_extinction_db_per_km`.

    Args:
        distance_m: link length, m, > 0.
        wavelength_nm: wavelength, nm, > 0.
        tx_aperture_m: transmitter aperture *diameter*, m, > 0.
        rx_aperture_m: receiver aperture *diameter*, m, > 0.
        extinction_db_per_km: atmospheric extinction, dB/km, >= 0.
        pointing_error_urad: RMS pointing jitter per axis, microradians, >= 0.
        divergence_urad: far-field half-angle divergence (1/e^2 intensity),
            microradians, > 0; ``None`` (default) for a diffraction-limited beam.
        optics_efficiency: throughput of transmit and receive optics, 0..1.

    Raises:
        ConfigurationError: a field outside its range.

    Source for the Gaussian-beam link budget: e.g. Bourgoin et al., NJP 15,
    023006 (2013).

    >>> link = FreeSpaceLink(distance_m=270, wavelength_nm=780, tx_aperture_m=0.05, rx_aperture_m=0.1)
    >>> round(link.transmissivity, 4), link.delay_ps
    (0.9873, 900623)
    """

    distance_m: float
    wavelength_nm: float
    tx_aperture_m: float
    rx_aperture_m: float
    extinction_db_per_km: float = 0.2
    pointing_error_urad: float = 0.0
    divergence_urad: float | None = None
    optics_efficiency: float = 1.0

    def __post_init__(self) -> None:
        self._check_beam("distance_m")
        _set(self, "extinction_db_per_km",
             _checks.real(f"{type(self).__name__}.extinction_db_per_km", self.extinction_db_per_km, low=0.0))

    @property
    def _path_m(self) -> float:
        return self.distance_m

    @property
    def far_field_divergence_urad(self) -> float:
        """Far-field half-angle divergence used, microradians."""
        if self.divergence_urad is not None:
            return self.divergence_urad
        return self.wavelength_nm * 1e-9 / (math.pi * self.tx_aperture_m / 2.0) * 1e6

    @property
    def atmospheric_transmission(self) -> float:
        """``10^(-extinction_db_per_km * distance_km / 10)``."""
        return 10.0 ** (-self.extinction_db_per_km * self.distance_m * 1e-3 / 10.0)


# Kasten & Young (1989) relative optical air mass, elevation h in degrees:
# 1 / (sin h + a (h + b)^-c).  Normalised below so that the zenith value is 1.
_KY_A, _KY_B, _KY_C = 0.50572, 6.07995, 1.6364


def _kasten_young(elevation_deg: float) -> float:
    return 1.0 / (math.sin(math.radians(elevation_deg)) + _KY_A * (elevation_deg + _KY_B) ** (-_KY_C))


_KY_ZENITH = _kasten_young(90.0)


@dataclass(frozen=True, slots=True)
class SatelliteDownlink(_GaussianBeamLink):
    """A downlink from a satellite to one ground station, at one instant.

    * slant range on a spherical Earth of radius R = 6371 km, for altitude h
      and elevation e: ``d = sqrt((R + h)^2 - (R cos e)^2) - R sin e``;
    * diffraction and pointing losses as in :class:`FreeSpaceLink`, over ``d``,
      with the satellite's telescope as transmitter (turbulence matters little
      on a downlink, where the beam meets the atmosphere only at the end);
    * atmospheric transmission ``T0^X`` with ``T0`` the zenith transmission and
      X the relative air mass of Kasten & Young, Appl. Opt. 28, 4735 (1989),
      ``1 / (sin e + 0.50572 (e + 6.07995 deg)^-1.6364)``, divided by its
      zenith value (0.9997) so that X = 1 exactly at zenith.  Unlike the
      plane-parallel ``1/sin e`` it stays finite at the horizon (X ~ 38).

    Args:
        altitude_km: satellite altitude above the surface, km, > 0.
        elevation_deg: elevation of the satellite seen from the station,
            degrees, in (0, 90].
        wavelength_nm: wavelength, nm, > 0.
        tx_aperture_m: satellite telescope diameter, m, > 0.
        rx_aperture_m: ground telescope diameter, m, > 0.
        zenith_atmospheric_transmission: clear-sky transmission straight up,
            0..1.  The default 0.8 is an illustrative clear-sky value (typically
            0.7-0.9 at 800-1550 nm); use a radiative-transfer model for studies.
        pointing_error_urad: RMS pointing jitter of the satellite per axis,
            microradians, >= 0 (default 1, sub- to few-microradian class).
        divergence_urad: far-field half-angle divergence, microradians, > 0,
            or ``None`` for diffraction limited.
        optics_efficiency: throughput of both telescopes' optics, 0..1.

    Raises:
        ConfigurationError: a field outside its range.

    >>> d = SatelliteDownlink(altitude_km=500, elevation_deg=90, wavelength_nm=810,
    ...                       tx_aperture_m=0.3, rx_aperture_m=1.0)
    >>> d.slant_range_km, round(d.loss_db, 2)
    (500.0, 7.04)
    """

    altitude_km: float
    elevation_deg: float
    wavelength_nm: float
    tx_aperture_m: float
    rx_aperture_m: float
    zenith_atmospheric_transmission: float = 0.8
    pointing_error_urad: float = 1.0
    divergence_urad: float | None = None
    optics_efficiency: float = 1.0

    def __post_init__(self) -> None:
        name = type(self).__name__
        self._check_beam("altitude_km")
        _set(self, "elevation_deg",
             _checks.real(f"{name}.elevation_deg", self.elevation_deg, low=0.0, high=90.0, low_open=True))
        _set(self, "zenith_atmospheric_transmission",
             _checks.probability(f"{name}.zenith_atmospheric_transmission", self.zenith_atmospheric_transmission))

    @property
    def slant_range_km(self) -> float:
        """Distance from the satellite to the station, km."""
        r, h = EARTH_RADIUS_KM, self.altitude_km
        e = math.radians(self.elevation_deg)
        if self.elevation_deg == 90.0:
            return h  # avoid cos(pi/2) rounding
        return math.sqrt((r + h) ** 2 - (r * math.cos(e)) ** 2) - r * math.sin(e)

    @property
    def air_mass(self) -> float:
        """Relative air mass (1 at zenith), Kasten & Young (1989), normalised."""
        return _kasten_young(self.elevation_deg) / _KY_ZENITH

    @property
    def atmospheric_transmission(self) -> float:
        """``zenith_atmospheric_transmission ** air_mass``."""
        return self.zenith_atmospheric_transmission ** self.air_mass

    @property
    def _path_m(self) -> float:
        return self.slant_range_km * 1e3

class DualDownlinkBudget(NamedTuple):
    """Two-photon budget of a satellite sending one photon of a pair to each of two stations."""

    transmissivity: float
    """Probability that both photons arrive: ``eta_a * eta_b``."""
    loss_db: float
    """``-10 log10(transmissivity)`` = the sum of the two downlink losses, dB."""


def dual_downlink(a: SatelliteDownlink, b: SatelliteDownlink) -> DualDownlinkBudget:
    """Coincidence transmissivity and loss for entanglement distribution from one satellite.

    A source on the satellite sends one photon of each pair down ``a`` and the
    other down ``b``; the pair is distributed only if both arrive, so the
    two-photon transmissivity is the product and the losses in dB add (as in
    the Micius experiment, Yin et al., Science 356, 1140 (2017)).

    Raises:
        ConfigurationError: ``a`` or ``b`` is not a :class:`SatelliteDownlink`,
            or they give the one satellite two different altitudes.

    >>> a = SatelliteDownlink(500, 60, 810, 0.3, 1.0)
    >>> b = SatelliteDownlink(500, 30, 810, 0.3, 1.0)
    >>> budget = dual_downlink(a, b)
    >>> round(budget.loss_db, 6) == round(a.loss_db + b.loss_db, 6)
    True
    """
    for field, link in (("a", a), ("b", b)):
        if not isinstance(link, SatelliteDownlink):
            raise ConfigurationError(
                f"dual_downlink {field} = {link!r} is not allowed; allowed: a SatelliteDownlink",
                field=field, value=link)
    if not math.isclose(a.altitude_km, b.altitude_km, rel_tol=1e-9):
        raise ConfigurationError(
            f"dual_downlink b.altitude_km = {b.altitude_km!r} is not allowed; allowed: the same satellite "
            f"altitude as a ({a.altitude_km!r} km)", field="b.altitude_km", value=b.altitude_km)
    eta = a.transmissivity * b.transmissivity
    return DualDownlinkBudget(eta, transmissivity_to_db(eta))
