"""AbsorptiveMemory: efficiency after a storage time and the share of a photon's spectrum it accepts."""

from __future__ import annotations

import math

import pytest

from qactors.core.errors import ConfigurationError
from qactors.hardware import AbsorptiveMemory


def test_decay_shapes_reach_one_over_e_at_the_lifetime():
    for decay in ("exponential", "gaussian"):
        m = AbsorptiveMemory(0.5, lifetime_s=2e-9, decay=decay)
        assert m.decay_factor(0.0) == 1.0
        assert m.decay_factor(2e-9) == pytest.approx(math.exp(-1), rel=1e-12)
    # at half the lifetime the Gaussian (Doppler) decay has lost exp(-1/4), the exponential exp(-1/2)
    assert AbsorptiveMemory(0.5, 2e-9, "gaussian").storage_efficiency(1e-9) == pytest.approx(0.5 * math.exp(-0.25))
    assert AbsorptiveMemory(0.5, 2e-9, "exponential").storage_efficiency(1e-9) == pytest.approx(0.5 * math.exp(-0.5))
    assert AbsorptiveMemory(0.3).storage_efficiency(1.0) == 0.3  # no lifetime: no decay


def test_spectral_acceptance_of_a_lorentzian_photon():
    m = AbsorptiveMemory(1.0, bandwidth_ghz=2.0)
    assert m.spectral_acceptance(0.0) == 1.0
    assert m.spectral_acceptance(2.0) == pytest.approx(0.5)  # equal widths: half the spectrum
    # the share of a Lorentzian of FWHM g inside a Lorentzian window of FWHM B, by numerical integration
    g, b = 0.7, 2.0
    x = [i * 1e-3 - 400.0 for i in range(800_001)]
    lor = [(g / 2) / math.pi / (v * v + (g / 2) ** 2) for v in x]
    window = [1.0 / (1.0 + (2 * v / b) ** 2) for v in x]
    numeric = sum(p * w for p, w in zip(lor, window)) * 1e-3
    assert m.spectral_acceptance(g) == pytest.approx(numeric, abs=2e-3)
    assert AbsorptiveMemory(1.0).spectral_acceptance(100.0) == 1.0  # no bandwidth limit
    assert m.retrieval_probability(0.0, 2.0) == pytest.approx(0.5)


@pytest.mark.parametrize("kwargs, field", [
    (dict(efficiency=0.0), "efficiency"), (dict(efficiency=1.2), "efficiency"),
    (dict(efficiency=0.5, lifetime_s=0.0), "lifetime_s"), (dict(efficiency=0.5, decay="linear"), "decay"),
    (dict(efficiency=0.5, bandwidth_ghz=-1.0), "bandwidth_ghz"),
    (dict(efficiency=0.5, noise_photons=-0.1), "noise_photons")])
def test_bad_values_name_the_field(kwargs, field):
    with pytest.raises(ConfigurationError, match=f"AbsorptiveMemory.{field} = .* is not allowed; allowed: "):
        AbsorptiveMemory(**kwargs)
    with pytest.raises(ConfigurationError, match="linewidth_ghz"):
        AbsorptiveMemory(0.5).spectral_acceptance(-1.0)
