"""Distances and interpolation on the Earth's surface, taken as a sphere.

* :func:`great_circle_km` -- the haversine formula (R. W. Sinnott, "Virtues of
  the haversine", Sky and Telescope 68(2), 159, 1984), written with ``atan2`` so
  it stays accurate for nearby and for nearly antipodal points.
* :func:`interpolate_great_circle` -- a point a given fraction of the way along
  the shorter great-circle arc, by spherical linear interpolation of the two
  unit vectors (K. Shoemake, "Animating rotation with quaternion curves",
  SIGGRAPH 1985).

The radius is the IUGG mean Earth radius ``R1 = (2a + b) / 3`` of the Geodetic
Reference System 1980 (H. Moritz, J. Geodesy 74, 128-133, 2000):
6371.0088 km.  A sphere of that radius is within about 0.5 % of the
ellipsoidal (geodesic) distance everywhere, which is far below the difference
between a straight line and a real fibre route.

Latitudes and longitudes are in degrees (north and east positive).
"""

from __future__ import annotations

import math

from qactors.core.checks import fail, real

__all__ = ["MEAN_EARTH_RADIUS_KM", "great_circle_km", "interpolate_great_circle"]

MEAN_EARTH_RADIUS_KM = 6371.0088
"""IUGG mean Earth radius R1 (GRS 80), km."""


def _check(lat: object, lon: object, which: str) -> tuple[float, float]:
    return (real(f"lat{which}", lat, low=-90.0, high=90.0, unit="degrees"),
            real(f"lon{which}", lon, low=-180.0, high=180.0, unit="degrees"))


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two points given in degrees.

    Args:
        lat1, lon1: first point, latitude in [-90, 90], longitude in [-180, 180] degrees.
        lat2, lon2: second point, same ranges.

    Raises:
        ConfigurationError: a coordinate is not a finite number in its range.

    >>> round(great_circle_km(48.8566, 2.3522, 51.5074, -0.1278))  # Paris - London
    344
    """
    lat1, lon1 = _check(lat1, lon1, "1")
    lat2, lon2 = _check(lat2, lon2, "2")
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlam = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlam / 2) ** 2
    h = min(1.0, max(0.0, h))
    return 2.0 * MEAN_EARTH_RADIUS_KM * math.atan2(math.sqrt(h), math.sqrt(1.0 - h))


def _unit_vector(lat: float, lon: float) -> tuple[float, float, float]:
    phi, lam = math.radians(lat), math.radians(lon)
    return (math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi))


def interpolate_great_circle(lat1: float, lon1: float, lat2: float, lon2: float,
                             fraction: float) -> tuple[float, float]:
    """``(lat, lon)`` in degrees, ``fraction`` of the way from point 1 to point 2
    along the shorter great-circle arc.

    Args:
        lat1, lon1, lat2, lon2: the two ends, degrees (ranges as in :func:`great_circle_km`).
        fraction: 0 gives point 1, 1 gives point 2; in [0, 1].

    Raises:
        ConfigurationError: a coordinate or ``fraction`` out of range, or the two
            points are antipodal (every great circle through them is as short).

    >>> interpolate_great_circle(0.0, 0.0, 0.0, 90.0, 0.5)
    (0.0, 45.0)
    """
    lat1, lon1 = _check(lat1, lon1, "1")
    lat2, lon2 = _check(lat2, lon2, "2")
    f = real("fraction", fraction, low=0.0, high=1.0)
    a, b = _unit_vector(lat1, lon1), _unit_vector(lat2, lon2)
    cos_d = max(-1.0, min(1.0, sum(x * y for x, y in zip(a, b))))
    d = math.acos(cos_d)
    if d < 1e-12:
        return (lat1, lon1)
    if math.pi - d < 1e-9:
        raise fail("points (lat1, lon1), (lat2, lon2)", ((lat1, lon1), (lat2, lon2)),
                   "two points that are not antipodal (the great circle between antipodes is undefined)",
                   field="lat2")
    wa = math.sin((1.0 - f) * d) / math.sin(d)
    wb = math.sin(f * d) / math.sin(d)
    x, y, z = (wa * p + wb * q for p, q in zip(a, b))
    lat = math.degrees(math.atan2(z, math.hypot(x, y)))
    lon = math.degrees(math.atan2(y, x))
    return (round(lat, 12) + 0.0, round(lon, 12) + 0.0)
