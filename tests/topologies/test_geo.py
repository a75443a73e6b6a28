"""Great-circle distance and interpolation against known distances."""

from __future__ import annotations

import pytest

from qactors.core.errors import ConfigurationError
from qactors.topologies import MEAN_EARTH_RADIUS_KM, great_circle_km, interpolate_great_circle

PARIS = (48.8566, 2.3522)
LONDON = (51.5074, -0.1278)
NEW_YORK = (40.7128, -74.0060)


def test_paris_london_is_about_344_km():
    assert great_circle_km(*PARIS, *LONDON) == pytest.approx(344.0, rel=0.01)


def test_new_york_london_matches_an_independent_haversine():
    # the geo crate (docs.rs, HaversineLength) gives 5 570 230 m for these points with R = 6371.0088 km
    assert great_circle_km(*NEW_YORK, *LONDON) == pytest.approx(5570.23, abs=0.01)


def test_symmetry_zero_and_half_circumference():
    assert great_circle_km(*PARIS, *LONDON) == great_circle_km(*LONDON, *PARIS)
    assert great_circle_km(*PARIS, *PARIS) == 0.0
    import math
    assert great_circle_km(0, 0, 0, 180) == pytest.approx(math.pi * MEAN_EARTH_RADIUS_KM)
    assert great_circle_km(0, 179.5, 0, -179.5) == pytest.approx(great_circle_km(0, 0, 0, 1))  # across the date line


def test_interpolation_stays_on_the_great_circle():
    for f in (0.0, 0.25, 0.5, 0.9, 1.0):
        lat, lon = interpolate_great_circle(*PARIS, *NEW_YORK, f)
        whole = great_circle_km(*PARIS, *NEW_YORK)
        assert great_circle_km(*PARIS, lat, lon) == pytest.approx(f * whole, abs=1e-6)
        assert great_circle_km(lat, lon, *NEW_YORK) == pytest.approx((1 - f) * whole, abs=1e-6)
    # the midpoint of a transatlantic arc lies north of both ends (great circles bow towards the pole)
    assert interpolate_great_circle(*PARIS, *NEW_YORK, 0.5)[0] > PARIS[0]
    assert interpolate_great_circle(*PARIS, *PARIS, 0.3) == PARIS


@pytest.mark.parametrize("call, field", [
    (lambda: great_circle_km(91, 0, 0, 0), "lat1"),
    (lambda: great_circle_km(0, 0, 0, -181), "lon2"),
    (lambda: great_circle_km("48", 0, 0, 0), "lat1"),
    (lambda: interpolate_great_circle(0, 0, 0, 10, 1.5), "fraction"),
    (lambda: interpolate_great_circle(0, 0, 0, 180, 0.5), "lat2"),
])
def test_bad_coordinates_are_refused(call, field):
    with pytest.raises(ConfigurationError, match="allowed") as err:
        call()
    assert err.value.field == field
