"""WGS-84 / GCJ-02 / BD-09 conversions against published points, and round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fieldpunch.geo.crs import (
    CRS,
    bd09_to_gcj02,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    to_wgs84,
    wgs84_to_gcj02,
)
from fieldpunch.geo.distance import haversine_m

# Reference values published with the widely used coordtransform library (Tiananmen area).
KNOWN = [
    (wgs84_to_gcj02, (116.404, 39.915), (116.41024449916938, 39.91640428150164)),
    (gcj02_to_bd09, (116.404, 39.915), (116.41036949371029, 39.92133699351021)),
]


@pytest.mark.parametrize(("fn", "given_", "expected"), KNOWN)
def test_forward_matches_published_values(fn, given_, expected) -> None:
    lon, lat = fn(*given_)
    assert lon == pytest.approx(expected[0], abs=1e-9)
    assert lat == pytest.approx(expected[1], abs=1e-9)


def test_gcj02_shift_in_shanghai_is_hundreds_of_metres() -> None:
    lon, lat = wgs84_to_gcj02(121.4737, 31.2304)
    shift = haversine_m(31.2304, 121.4737, lat, lon)
    assert 300 < shift < 700


def test_outside_china_unchanged() -> None:
    for crs in CRS:
        assert from_wgs84(-0.1276, 51.5072, crs) == (-0.1276, 51.5072)
        assert to_wgs84(-0.1276, 51.5072, crs) == (-0.1276, 51.5072)


mainland = st.tuples(
    st.floats(min_value=98.0, max_value=134.0), st.floats(min_value=18.5, max_value=53.0)
)


@given(mainland)
def test_gcj02_inverse_error_below_half_metre(point: tuple[float, float]) -> None:
    lon, lat = point
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert haversine_m(lat, lon, back[1], back[0]) < 0.5


@given(mainland)
def test_bd09_inverse_error_below_half_metre(point: tuple[float, float]) -> None:
    lon, lat = point
    back = bd09_to_gcj02(*gcj02_to_bd09(lon, lat))
    assert haversine_m(lat, lon, back[1], back[0]) < 0.5


@given(mainland, st.sampled_from(list(CRS)))
def test_round_trip_every_crs(point: tuple[float, float], crs: CRS) -> None:
    lon, lat = point
    back = to_wgs84(*from_wgs84(lon, lat, crs), crs)
    assert haversine_m(lat, lon, back[1], back[0]) < 0.5
