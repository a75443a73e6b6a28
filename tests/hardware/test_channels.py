"""Channels: validation, physical sanity and closed forms (qactors.hardware.channels)."""

from __future__ import annotations

import dataclasses
import math
import pickle

import numpy as np
import pytest

from qactors.core.errors import ConfigurationError
from qactors.hardware import (EARTH_RADIUS_KM, SPEED_OF_LIGHT_M_PER_S, Channel, Fibre, FreeSpaceLink,
                              SatelliteDownlink, atmospheric_extinction_db_per_km, dual_downlink, plob_bound,
                              tgw_bound, transmissivity_to_db)


def expect_error(call, field: str, value: str, allowed: str) -> ConfigurationError:
    """Run ``call`` and check the error names the field, the value and what is allowed."""
    with pytest.raises(ConfigurationError) as info:
        call()
    msg = str(info.value)
    assert field in msg and value in msg and "allowed" in msg and allowed in msg, msg
    return info.value


# --- fibre -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, field, value, allowed", [
    ({"length_km": -1.0}, "Fibre.length_km", "-1.0", ">= 0"),
    ({"length_km": math.nan}, "Fibre.length_km", "nan", "finite"),
    ({"length_km": math.inf}, "Fibre.length_km", "inf", "finite"),
    ({"length_km": True}, "Fibre.length_km", "True", "number"),
    ({"length_km": "10"}, "Fibre.length_km", "'10'", "number"),
    ({"length_km": 1.0, "attenuation_db_per_km": -0.2}, "Fibre.attenuation_db_per_km", "-0.2", ">= 0"),
    ({"length_km": 1.0, "refractive_index": 0.9}, "Fibre.refractive_index", "0.9", ">= 1"),
    ({"length_km": 1.0, "depolarisation_per_km": -1e-3}, "Fibre.depolarisation_per_km", "-0.001", ">= 0"),
    ({"length_km": 1.0, "raman_coefficient_per_km_per_nm": -1e-9}, "Fibre.raman_coefficient_per_km_per_nm",
     "-1e-09", ">= 0"),
])
def test_fibre_rejects_bad_fields(kwargs, field, value, allowed):
    err = expect_error(lambda: Fibre(**kwargs), field, value, allowed)
    assert err.field == field


def test_fibre_closed_forms():
    """0.2 dB/km over 25 km is 5 dB, eta = 10^-0.5; 1 km at n = 1.47 takes
    1000 m x 1.47 / 299 792 458 m/s = 4.903 392 us."""
    f = Fibre(length_km=25)
    assert f.loss_db == pytest.approx(5.0, rel=1e-12)
    assert f.transmissivity == pytest.approx(10 ** -0.5, rel=1e-12)
    assert Fibre(length_km=1).delay_ps == 4_903_392
    assert Fibre(length_km=0).delay_ps == 1  # never zero: it is a message latency
    assert isinstance(Fibre(length_km=1e-9).delay_ps, int)


def test_fibre_loss_grows_with_length():
    lengths = [0, 1, 10, 50, 100, 400]
    etas = [Fibre(length_km=length).transmissivity for length in lengths]
    losses = [Fibre(length_km=length).loss_db for length in lengths]
    delays = [Fibre(length_km=length).delay_ps for length in lengths]
    assert etas == sorted(etas, reverse=True) and len(set(etas)) == len(etas)
    assert losses == sorted(losses) and delays == sorted(delays)


def test_fibre_depolarisation_composes_over_length():
    """w = exp(-d L): two spans in series multiply, so w(L1 + L2) = w(L1) w(L2)."""
    d = 0.01
    assert Fibre(30, depolarisation_per_km=d).depolarising_parameter == pytest.approx(
        Fibre(10, depolarisation_per_km=d).depolarising_parameter
        * Fibre(20, depolarisation_per_km=d).depolarising_parameter, rel=1e-12)
    assert Fibre(100).depolarising_parameter == 1.0


def test_raman_closed_forms_without_loss():
    """With no attenuation both directions scatter P beta L d_lambda.  1 mW,
    beta = 1e-9 /(km nm), 1 nm, 1 km: 1e-12 W; at 1550 nm a photon carries
    h c / lambda = 1.2816e-19 J, so 7.80e6 photons/s."""
    f = Fibre(1.0, attenuation_db_per_km=0.0, raman_coefficient_per_km_per_nm=1e-9)
    photon_j = 6.62607015e-34 * 299_792_458 / 1550e-9
    expected = 1e-12 / photon_j
    assert f.raman_noise_rate_per_s(1.0, 1.0) == pytest.approx(expected, rel=1e-12)
    assert f.raman_noise_rate_per_s(1.0, 1.0, counter_propagating=True) == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(7.80e6, rel=1e-3)


def test_raman_forward_peaks_at_one_over_alpha_and_backward_saturates():
    """Forward: L exp(-a L) is largest at L = 1/a (21.7 km for 0.2 dB/km).
    Backward: (1 - exp(-2 a L)) / (2 a) grows with L towards 1/(2 a)."""
    a = 0.2 * math.log(10) / 10
    peak = 1 / a

    def rate(length, **kw):
        return Fibre(length).raman_noise_rate_per_s(1.0, 1.0, **kw)

    assert rate(peak) > rate(0.5 * peak) and rate(peak) > rate(2 * peak)
    back = [rate(length, counter_propagating=True) for length in (1, 10, 50, 100, 300)]
    assert back == sorted(back)
    long = rate(1000, counter_propagating=True)
    assert long == pytest.approx(Fibre(1.0, attenuation_db_per_km=0).raman_noise_rate_per_s(1.0, 1.0) / (2 * a),
                                 rel=1e-9)
    assert rate(50, counter_propagating=True) > rate(50)


def test_raman_is_linear_in_power_and_bandwidth():
    f = Fibre(40)
    base = f.raman_noise_rate_per_s(0.1, 0.5)
    assert f.raman_noise_rate_per_s(0.2, 0.5) == pytest.approx(2 * base, rel=1e-12)
    assert f.raman_noise_rate_per_s(0.1, 1.5) == pytest.approx(3 * base, rel=1e-12)
    assert f.raman_noise_rate_per_s(0.0, 0.5) == 0.0
    assert f.raman_noise_mean_photons(0.1, 0.5, 1e-9) == pytest.approx(base * 1e-9, rel=1e-12)
    expect_error(lambda: f.raman_noise_rate_per_s(-1.0, 0.5), "launch_power_mw", "-1.0", ">= 0")
    expect_error(lambda: f.raman_noise_rate_per_s(1.0, 0.5, quantum_wavelength_nm=0), "quantum_wavelength_nm",
                 "0", "> 0")
    expect_error(lambda: f.raman_noise_mean_photons(1.0, 0.5, -1e-9), "window_s", "-1e-09", ">= 0")


# --- repeaterless bounds ------------------------------------------------------------------------------

def test_bounds_limits():
    """For small eta, -log2(1 - eta) ~ eta/ln 2 and log2((1+eta)/(1-eta)) ~ 2 eta/ln 2;
    both are 0 at eta = 0 and infinite at eta = 1, and TGW >= PLOB."""
    for eta in (1e-12, 1e-8):
        assert plob_bound(eta) == pytest.approx(eta / math.log(2), rel=1e-6)
        assert tgw_bound(eta) == pytest.approx(2 * eta / math.log(2), rel=1e-6)
    assert plob_bound(0.0) == 0.0 and tgw_bound(0.0) == 0.0
    assert plob_bound(1.0) == math.inf and tgw_bound(1.0) == math.inf
    for eta in np.linspace(0.01, 0.99, 25):
        assert tgw_bound(float(eta)) >= plob_bound(float(eta))


@pytest.mark.parametrize("bound", [plob_bound, tgw_bound])
@pytest.mark.parametrize("eta", [-0.1, 1.1, math.nan])
def test_bounds_reject_eta_outside_unit_interval(bound, eta):
    expect_error(lambda: bound(eta), "eta", repr(eta), "[0, 1]")


def test_transmissivity_to_db():
    assert transmissivity_to_db(0.5) == pytest.approx(3.0103, rel=1e-4)
    assert transmissivity_to_db(0.0) == math.inf
    expect_error(lambda: transmissivity_to_db(2.0), "transmissivity", "2.0", "[0, 1]")


# --- free space --------------------------------------------------------------------------------------

def _link(**kw) -> FreeSpaceLink:
    args = dict(distance_m=10_000.0, wavelength_nm=1550.0, tx_aperture_m=0.1, rx_aperture_m=0.2)
    args.update(kw)
    return FreeSpaceLink(**args)


@pytest.mark.parametrize("kwargs, field, value, allowed", [
    ({"distance_m": -5.0}, "FreeSpaceLink.distance_m", "-5.0", "> 0"),
    ({"tx_aperture_m": 0.0}, "FreeSpaceLink.tx_aperture_m", "0.0", "> 0"),
    ({"rx_aperture_m": -0.1}, "FreeSpaceLink.rx_aperture_m", "-0.1", "> 0"),
    ({"wavelength_nm": 0}, "FreeSpaceLink.wavelength_nm", "0", "> 0"),
    ({"extinction_db_per_km": -1.0}, "FreeSpaceLink.extinction_db_per_km", "-1.0", ">= 0"),
    ({"pointing_error_urad": -1.0}, "FreeSpaceLink.pointing_error_urad", "-1.0", ">= 0"),
    ({"divergence_urad": 0.0}, "FreeSpaceLink.divergence_urad", "0.0", "> 0"),
    ({"optics_efficiency": 1.5}, "FreeSpaceLink.optics_efficiency", "1.5", "[0, 1]"),
])
def test_free_space_rejects_bad_fields(kwargs, field, value, allowed):
    expect_error(lambda: _link(**kwargs), field, value, allowed)


def test_gaussian_beam_closed_forms():
    """w0 = D/2 = 0.05 m; theta = lambda/(pi w0) = 1.55e-6/(0.05 pi) = 9.868 urad;
    at 10 km w = sqrt(w0^2 + (theta z)^2); a 0.2 m receiver (r = 0.1 m) collects
    1 - exp(-2 r^2 / w^2)."""
    link = _link(extinction_db_per_km=0.0)
    theta = 1550e-9 / (math.pi * 0.05)
    w = math.sqrt(0.05 ** 2 + (theta * 1e4) ** 2)
    assert link.far_field_divergence_urad == pytest.approx(theta * 1e6, rel=1e-12)
    assert link.beam_radius_m == pytest.approx(w, rel=1e-12)
    assert link.transmissivity == pytest.approx(1 - math.exp(-2 * 0.1 ** 2 / w ** 2), rel=1e-12)
    assert link.delay_ps == round(1e4 / SPEED_OF_LIGHT_M_PER_S * 1e12)


def test_free_space_huge_receiver_collects_everything_but_the_atmosphere():
    link = _link(rx_aperture_m=100.0, extinction_db_per_km=0.5)
    assert link.diffraction_efficiency == pytest.approx(1.0, abs=1e-12)
    assert link.loss_db == pytest.approx(0.5 * 10.0, rel=1e-9)


def test_pointing_small_aperture_limit():
    """For a receiver much smaller than the spot, the collected fraction is
    proportional to exp(-2 d^2 / w^2) at displacement d.  With d^2 = x^2 + y^2,
    x, y ~ N(0, s^2): E[exp(-2 d^2/w^2)] = 1 / (1 + 4 s^2 / w^2)."""
    link = _link(rx_aperture_m=1e-4, pointing_error_urad=5.0, distance_m=20_000.0)
    s = 5e-6 * 20_000.0
    w = link.beam_radius_m
    assert link.pointing_efficiency == pytest.approx(1 / (1 + 4 * s * s / w / w), rel=1e-6)


def test_pointing_efficiency_matches_numerical_average_for_a_finite_aperture():
    """Average, by quadrature, of the exact power that an off-centre circular
    aperture collects from a Gaussian spot, over a Rayleigh-distributed offset
    (Gaussian jitter in x and y): must equal the convolution result used by the model."""
    link = _link(rx_aperture_m=0.3, pointing_error_urad=4.0, distance_m=20_000.0)
    w, a, s = link.beam_radius_m, 0.15, 4e-6 * 20_000.0
    rho = (np.arange(200) + 0.5) * a / 200
    phi = (np.arange(128) + 0.5) * 2 * np.pi / 128
    rr, pp = np.meshgrid(rho, phi, indexing="ij")
    area = rr * (a / 200) * (2 * np.pi / 128)

    def collected(d):
        dist2 = rr ** 2 + d ** 2 - 2 * rr * d * np.cos(pp)
        return float(np.sum(2 / (np.pi * w * w) * np.exp(-2 * dist2 / (w * w)) * area))

    d = (np.arange(200) + 0.5) * 8 * s / 200
    weights = d / s ** 2 * np.exp(-d ** 2 / (2 * s ** 2)) * (8 * s / 200)
    mean = sum(wt * collected(x) for wt, x in zip(weights, d))
    assert mean / collected(0.0) == pytest.approx(link.pointing_efficiency, rel=2e-3)


def test_free_space_monotonic_in_distance_and_jitter():
    etas = [_link(distance_m=z).transmissivity for z in (100, 1e3, 1e4, 1e5)]
    assert etas == sorted(etas, reverse=True)
    jit = [_link(pointing_error_urad=e).pointing_efficiency for e in (0, 1, 5, 20)]
    assert jit[0] == 1.0 and jit == sorted(jit, reverse=True)


def test_divergence_override():
    """A 10 urad beam at 100 km has w ~ theta z = 1 m when w0 << theta z."""
    link = _link(distance_m=1e5, divergence_urad=10.0, tx_aperture_m=0.01)
    assert link.beam_radius_m == pytest.approx(1.0, rel=1e-4)


def test_atmospheric_extinction_from_visibility():
    """At 550 nm the Kim model is 3.91/V per km whatever q: 3.91/23 x 10 log10(e) = 0.7383 dB/km."""
    assert atmospheric_extinction_db_per_km(23.0, 550.0) == pytest.approx(3.91 / 23 * 10 * math.log10(math.e))
    clear = [atmospheric_extinction_db_per_km(v, 1550.0) for v in (0.3, 0.8, 3.0, 10.0, 30.0, 80.0)]
    assert clear == sorted(clear, reverse=True)
    assert atmospheric_extinction_db_per_km(10.0, 1550.0) < atmospheric_extinction_db_per_km(10.0, 800.0)
    # dense fog (V < 0.5 km): q = 0, no wavelength dependence
    assert atmospheric_extinction_db_per_km(0.2, 1550.0) == atmospheric_extinction_db_per_km(0.2, 800.0)
    expect_error(lambda: atmospheric_extinction_db_per_km(0.0, 800.0), "visibility_km", "0.0", "> 0")


# --- satellite ---------------------------------------------------------------------------------------

def _down(elevation_deg=60.0, **kw) -> SatelliteDownlink:
    args = dict(altitude_km=500.0, elevation_deg=elevation_deg, wavelength_nm=810.0, tx_aperture_m=0.3,
                rx_aperture_m=1.0)
    args.update(kw)
    return SatelliteDownlink(**args)


@pytest.mark.parametrize("kwargs, field, value, allowed", [
    ({"elevation_deg": 0.0}, "SatelliteDownlink.elevation_deg", "0.0", "(0, 90]"),
    ({"elevation_deg": 91.0}, "SatelliteDownlink.elevation_deg", "91.0", "(0, 90]"),
    ({"altitude_km": -10.0}, "SatelliteDownlink.altitude_km", "-10.0", "> 0"),
    ({"zenith_atmospheric_transmission": 1.2}, "SatelliteDownlink.zenith_atmospheric_transmission", "1.2",
     "[0, 1]"),
    ({"pointing_error_urad": -0.5}, "SatelliteDownlink.pointing_error_urad", "-0.5", ">= 0"),
])
def test_satellite_rejects_bad_fields(kwargs, field, value, allowed):
    expect_error(lambda: _down(**kwargs), field, value, allowed)


def test_slant_range_geometry():
    """Law of cosines in the triangle Earth centre - station - satellite: the
    angle at the station is 90 deg + elevation, so
    (R + h)^2 = R^2 + d^2 + 2 R d sin(e)."""
    assert _down(90.0).slant_range_km == 500.0
    for e in (5.0, 20.0, 45.0, 80.0):
        d = _down(e).slant_range_km
        r, h = EARTH_RADIUS_KM, 500.0
        assert (r + h) ** 2 == pytest.approx(r ** 2 + d ** 2 + 2 * r * d * math.sin(math.radians(e)), rel=1e-12)
        assert d > 500.0


def test_air_mass():
    """1 at zenith; close to the plane-parallel 1/sin(e) high in the sky; finite at the horizon."""
    assert _down(90.0).air_mass == pytest.approx(1.0, rel=1e-12)
    assert _down(30.0).air_mass == pytest.approx(2.0, rel=5e-3)
    assert 30.0 < _down(1e-6).air_mass < 45.0
    assert _down(90.0, zenith_atmospheric_transmission=0.7).atmospheric_transmission == pytest.approx(0.7)


def test_downlink_worsens_as_the_satellite_sinks():
    links = [_down(e) for e in (90.0, 60.0, 30.0, 15.0, 5.0)]
    etas = [d.transmissivity for d in links]
    assert etas == sorted(etas, reverse=True)
    assert [d.delay_ps for d in links] == sorted(d.delay_ps for d in links)
    assert links[0].delay_ps == round(500e3 / SPEED_OF_LIGHT_M_PER_S * 1e12)


def test_dual_downlink_multiplies_and_adds_db():
    a, b = _down(70.0), _down(25.0)
    budget = dual_downlink(a, b)
    assert budget.transmissivity == pytest.approx(a.transmissivity * b.transmissivity, rel=1e-12)
    assert budget.loss_db == pytest.approx(a.loss_db + b.loss_db, rel=1e-12)
    eta, loss = budget
    assert eta == budget.transmissivity and loss == budget.loss_db


def test_dual_downlink_rejects_mismatched_links():
    expect_error(lambda: dual_downlink(_down(), _down(altitude_km=600.0)), "b.altitude_km", "600.0",
                 "same satellite altitude")
    expect_error(lambda: dual_downlink(_down(), Fibre(10)), "b", "Fibre", "SatelliteDownlink")


# --- shared behaviour --------------------------------------------------------------------------------

@pytest.mark.parametrize("channel", [Fibre(10), _link(), _down()])
def test_every_channel_offers_the_channel_interface(channel):
    assert isinstance(channel, Channel)
    assert 0.0 <= channel.transmissivity <= 1.0
    assert channel.loss_db == pytest.approx(-10 * math.log10(channel.transmissivity), rel=1e-12)
    assert type(channel.delay_ps) is int and channel.delay_ps >= 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(channel, dataclasses.fields(channel)[0].name, 1.0)
    assert pickle.loads(pickle.dumps(channel)) == channel


def test_fields_are_canonical_floats():
    f = Fibre(np.float64(10.0), attenuation_db_per_km=np.int64(1))
    assert type(f.length_km) is float and type(f.attenuation_db_per_km) is float
