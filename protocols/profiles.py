"""Link profiles: the hardware of a kind of link, from which the physics of a link of any length follows.

A :class:`LinkProfile` holds what a deployment's links have in common (the
heralding scheme, detectors, fibre or free-space optics, Raman noise from
classical light in the same fibre); :meth:`LinkProfile.physics` gives the
per-attempt physics of one link of ``length_km``, ready for the ``physics``
attribute of an edge of :func:`~qactors.protocols.network.quantum_network`.
The scenario files' ``[profiles.links.NAME]`` tables are read into this record,
so a scenario and a script describe the same link the same way.

>>> p = LinkProfile("double_click", detection_efficiency=0.9, visibility=0.95)
>>> round(p.physics(20.0).eta_arm, 4)    # 10 km of 0.2 dB/km fibre to the midpoint, then the detector
0.5679
"""

from __future__ import annotations

import dataclasses
import math

from qactors.core import checks
from qactors.core.checks import assign
from qactors.hardware.channels import Fibre, FreeSpaceLink, SatelliteDownlink, dual_downlink

from .link import ALL_SCHEMES, SCHEMES, LinkPhysics, MidpointSourcePhysics, SenderReceiverPhysics

__all__ = ["LinkProfile", "CHANNELS", "NEEDED_ON"]

CHANNELS = ("fibre", "free_space", "satellite")
"""What carries a link's photons."""
_FREE_SPACE_OPTIONAL = ("extinction_db_per_km", "pointing_error_urad", "divergence_urad")
_SATELLITE_OPTIONAL = ("zenith_atmospheric_transmission", "pointing_error_urad", "divergence_urad")
NEEDED_ON = {"free_space": ("wavelength_nm", "tx_aperture_m", "rx_aperture_m"),
             "satellite": ("altitude_km", "elevation_deg", "wavelength_nm", "tx_aperture_m", "rx_aperture_m")}
"""The fields a channel needs."""


@dataclasses.dataclass(frozen=True)
class LinkProfile:
    """The hardware of a kind of entanglement link (docs/scenario-format.md describes each field).

    ``scheme``: ``"double_click"``, ``"single_click"`` (needs ``bright_state_population``),
    ``"midpoint_source"`` or ``"sender_receiver"``.  ``channel``: ``"fibre"`` (loss
    ``attenuation_db_per_km``), ``"free_space"`` (a Gaussian beam between two telescopes:
    ``wavelength_nm``, ``tx_aperture_m``, ``rx_aperture_m``) or ``"satellite"`` (a pair
    source on a satellite at ``altitude_km`` seen at ``elevation_deg``; scheme
    ``"midpoint_source"`` only).  ``rx_aperture_m`` and ``elevation_deg`` may be a pair,
    one per end.  With ``classical_launch_power_dbm`` set, Raman photons from classical
    light in the fibre raise the dark-count probability (``filter_bandwidth_nm`` and
    ``detection_window_ns`` are then needed).

    Raises:
        ConfigurationError: an unknown scheme or channel, a value out of range, or a
            field the channel needs left out.
    """

    scheme: str
    detection_efficiency: float = 1.0
    attenuation_db_per_km: float = 0.2
    visibility: float = 1.0
    dark_count_probability: float = 0.0
    bright_state_population: float | None = None
    mean_photon_number: float = 0.0
    emission_probability: float = 1.0
    refractive_index: float = 1.47
    cycle_ns: float = 0.0
    pipelined: bool = False
    channel: str = "fibre"
    wavelength_nm: float | None = None
    tx_aperture_m: float | None = None
    rx_aperture_m: float | tuple | list | None = None
    pointing_error_urad: float | None = None
    divergence_urad: float | None = None
    extinction_db_per_km: float | None = None
    altitude_km: float | None = None
    elevation_deg: float | tuple | list | None = None
    zenith_atmospheric_transmission: float | None = None
    classical_launch_power_dbm: float | None = None
    raman_coefficient_per_km_per_nm: float = 3e-9
    filter_bandwidth_nm: float | None = None
    detection_window_ns: float | None = None
    quantum_wavelength_nm: float = 1550.0
    counter_propagating: bool = False
    noise_detection_efficiency: float = 1.0

    def __post_init__(self) -> None:
        if self.scheme not in ALL_SCHEMES:
            raise checks.fail("LinkProfile.scheme", self.scheme, f"one of {ALL_SCHEMES}", field="scheme")
        if self.channel not in CHANNELS:
            raise checks.fail("LinkProfile.channel", self.channel, f"one of {CHANNELS}", field="channel")
        for name in ("detection_efficiency", "visibility", "dark_count_probability", "emission_probability",
                     "noise_detection_efficiency"):
            assign(self, name, checks.probability(f"LinkProfile.{name}", getattr(self, name), field=name))
        assign(self, "attenuation_db_per_km", checks.real("LinkProfile.attenuation_db_per_km",
                                                          self.attenuation_db_per_km, low=0.0,
                                                          field="attenuation_db_per_km"))
        assign(self, "cycle_ns", checks.real("LinkProfile.cycle_ns", self.cycle_ns, low=0.0, field="cycle_ns"))
        for name in NEEDED_ON.get(self.channel, ()):
            if getattr(self, name) is None:
                raise checks.fail(f"LinkProfile.{name}", None, f"a number: channel {self.channel!r} needs it",
                                  field=name)
        if self.channel == "satellite" and self.scheme != "midpoint_source":
            raise checks.fail("LinkProfile.channel", self.channel, "'satellite' only with scheme 'midpoint_source'",
                              field="channel")
        if self.scheme == "single_click" and self.bright_state_population is None:
            raise checks.fail("LinkProfile.bright_state_population", None, "a number in (0, 1] for scheme "
                              "'single_click'", field="bright_state_population")
        if self.classical_launch_power_dbm is not None:
            for name in ("filter_bandwidth_nm", "detection_window_ns"):
                if getattr(self, name) is None:
                    raise checks.fail(f"LinkProfile.{name}", None, "a number > 0 with classical_launch_power_dbm",
                                      field=name)

    def transmissivity(self, length_km: float) -> float:
        """The probability that a photon crosses its part of a link of ``length_km``: the whole link for
        ``sender_receiver``, half of it to the midpoint otherwise (a satellite: the geometric mean of its
        two downlinks), before the detector."""
        km = checks.positive_km("length_km", length_km)
        if self.scheme != "sender_receiver":
            km /= 2.0
        if self.channel == "satellite":
            ends = [SatelliteDownlink(self.altitude_km, elevation, self.wavelength_nm, self.tx_aperture_m, aperture,
                                      **self._optional(_SATELLITE_OPTIONAL))
                    for elevation, aperture in zip(_two(self.elevation_deg), _two(self.rx_aperture_m))]
            return math.sqrt(dual_downlink(*ends).transmissivity)
        if self.channel == "free_space":
            return FreeSpaceLink(km * 1e3, self.wavelength_nm, self.tx_aperture_m, self.rx_aperture_m,
                                 **self._optional(_FREE_SPACE_OPTIONAL)).transmissivity
        return self._fibre(km).transmissivity

    def physics(self, length_km: float) -> LinkPhysics | MidpointSourcePhysics | SenderReceiverPhysics:
        """The per-attempt physics of one link of ``length_km`` with this profile."""
        eta = self.detection_efficiency * self.transmissivity(length_km)
        dark = self.dark_count_probability
        if self.channel == "fibre" and self.classical_launch_power_dbm is not None:
            km = length_km if self.scheme == "sender_receiver" else length_km / 2.0
            noise = self._fibre(km).raman_noise_mean_photons(
                10.0 ** (self.classical_launch_power_dbm / 10.0), self.filter_bandwidth_nm,
                self.detection_window_ns * 1e-9, counter_propagating=self.counter_propagating,
                quantum_wavelength_nm=self.quantum_wavelength_nm)
            # a Raman photon in the window clicks with the noise detection efficiency (filter and detector)
            dark = 1.0 - (1.0 - dark) * math.exp(-self.noise_detection_efficiency * noise)
        noise = {"visibility": self.visibility, "dark_count_probability": dark,
                 "cycle_ps": round(self.cycle_ns * 1e3), "pipelined": self.pipelined}
        if self.scheme == "sender_receiver":
            return SenderReceiverPhysics(eta_link=eta, **noise)
        if self.scheme in SCHEMES:
            return LinkPhysics(self.scheme, eta_arm=eta, bright_state_population=self.bright_state_population or 0.0,
                               **noise)
        return MidpointSourcePhysics(eta_arm=eta, emission_probability=self.emission_probability,
                                     mean_photon_number=self.mean_photon_number, **noise)

    def _fibre(self, km: float) -> Fibre:
        return Fibre(km, attenuation_db_per_km=self.attenuation_db_per_km,
                     raman_coefficient_per_km_per_nm=self.raman_coefficient_per_km_per_nm)

    def _optional(self, names: tuple) -> dict:
        return {k: getattr(self, k) for k in names if getattr(self, k) is not None}


def _two(x) -> list:
    return list(x) if isinstance(x, (list, tuple)) else [x, x]
