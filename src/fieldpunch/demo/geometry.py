"""Flat-earth geometry for the demo's made-up city: metres between points, offsets, GPS-like
jitter and a building's frontage on a street. Good to a few metres over a city, which is all
the demo needs (the product's own geometry is in fieldpunch.geo)."""

from __future__ import annotations

import math
import random
from itertools import pairwise

from fieldpunch.demo import data

_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQUATOR = 111_320.0


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> tuple[float, float]:
    """(east, north) metres from the first point to the second."""
    east = (lon2 - lon1) * _M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat1))
    return east, (lat2 - lat1) * _M_PER_DEG_LAT


def offset(lat: float, lon: float, east: float, north: float) -> tuple[float, float]:
    """The point `east` and `north` metres from (lat, lon)."""
    lat2 = lat + north / _M_PER_DEG_LAT
    return lat2, lon + east / (_M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat)))


def jitter(rng: random.Random, lat: float, lon: float, sigma_m: float) -> tuple[float, float]:
    """A fix scattered around (lat, lon) with `sigma_m` of noise on each axis."""
    return offset(lat, lon, rng.gauss(0, sigma_m), rng.gauss(0, sigma_m))


def _leg(a: data.LatLon, b: data.LatLon) -> tuple[float, float]:
    return metres(a[0], a[1], b[0], b[1])


def street_length(street: data.Street) -> float:
    return sum(math.hypot(*_leg(a, b)) for a, b in pairwise(street.path))


def frontage(street: data.Street, rng: random.Random) -> tuple[float, float, int]:
    """A random building on `street`: (lat, lon, house number).

    Odd numbers on one side, even on the other, set back 10-25 m from the centre line,
    with a few metres of jitter.
    """
    legs = [(a, b, math.hypot(*_leg(a, b))) for a, b in pairwise(street.path)]
    total = sum(leg[2] for leg in legs)
    along = rng.uniform(0, total)
    a, b, leg_m = legs[-1]
    walked = total - leg_m
    start = 0.0
    for leg in legs:  # the leg that holds `along`
        if start + leg[2] >= along:
            (a, b, leg_m), walked = leg, start
            break
        start += leg[2]
    t = (along - walked) / leg_m if leg_m else 0.0
    east, north = _leg(a, b)
    ue, un = (east / leg_m, north / leg_m) if leg_m else (1.0, 0.0)
    side = rng.choice((1, -1))
    setback = side * rng.uniform(10, 25)
    d_east = setback * -un + rng.gauss(0, 3)
    d_north = setback * ue + rng.gauss(0, 3)
    lat = a[0] + t * (b[0] - a[0]) + d_north / _M_PER_DEG_LAT
    lon = a[1] + t * (b[1] - a[1]) + d_east / (_M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat)))
    first, last = street.numbers
    number = max(1, round(first + (last - first) * along / total))
    if (number % 2 == 1) != (side == 1):
        number += 1 if number < max(first, last) else -1
    return lat, lon, number
