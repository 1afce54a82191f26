"""Geofence matching: edge distances with tolerance, polygons, an index that agrees with a scan."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from fieldpunch.geo.distance import EARTH_RADIUS_M
from fieldpunch.geo.geofence_index import (
    M_PER_DEG,
    Fence,
    GeofenceIndex,
    edge_distance_m,
)

LAT, LON = 31.2304, 121.4737  # People's Square, Shanghai


def offset(
    north_m: float, east_m: float, lat: float = LAT, lon: float = LON
) -> tuple[float, float]:
    """(lat, lon) `north_m` / `east_m` metres from (lat, lon)."""
    return lat + north_m / M_PER_DEG, lon + east_m / (M_PER_DEG * math.cos(math.radians(lat)))


def polygon_m(
    points_m: Sequence[tuple[float, float]], *holes: Sequence[tuple[float, float]]
) -> dict[str, Any]:
    """A GeoJSON Polygon from (east, north) metres around the reference point."""

    def ring(pts: Sequence[tuple[float, float]]) -> list[list[float]]:
        out = []
        for east, north in [*pts, pts[0]]:
            lat, lon = offset(north, east)
            out.append([lon, lat])
        return out

    return {"type": "Polygon", "coordinates": [ring(points_m), *(ring(h) for h in holes)]}


def circle(id_: str, north_m: float, east_m: float, radius_m: float, kind: str = "place") -> Fence:
    lat, lon = offset(north_m, east_m)
    return Fence(id_, kind, lat, lon, radius_m)


def test_the_edge_with_accuracy() -> None:
    index = GeofenceIndex([circle("office", 0, 0, 100)])
    lat, lon = offset(120, 0)
    m = index.match(lat, lon, tolerance_m=30)
    assert m is not None
    assert m.fence.id == "office"
    assert m.distance_m == pytest.approx(20, abs=0.01)
    assert m.centre_distance_m == pytest.approx(120, abs=0.01)
    assert index.match(lat, lon, tolerance_m=10) is None
    assert edge_distance_m(m.fence, lat, lon) == pytest.approx(20, abs=0.01)


def test_inside_wins_over_a_nearer_edge_outside() -> None:
    # 400 m from the centre of a 500 m campus (inside), 5 m outside a small shop next to it.
    index = GeofenceIndex([circle("campus", 0, 0, 500), circle("shop", 435, 0, 30)])
    lat, lon = offset(400, 0)
    m = index.match(lat, lon, tolerance_m=50)
    assert m is not None
    assert (m.fence.id, m.distance_m) == ("campus", 0.0)
    # Inside both: the nearer centre wins.
    lat, lon = offset(420, 0)
    m = index.match(lat, lon, tolerance_m=50)
    assert m is not None
    assert m.fence.id == "shop"


def test_ties_are_broken_by_id_not_by_insertion_order() -> None:
    fences = [circle("b", 0, 0, 100), circle("a", 0, 0, 100)]
    for order in (fences, fences[::-1]):
        m = GeofenceIndex(order).match(LAT, LON, 0)
        assert m is not None
        assert m.fence.id == "a"


L_SHAPE = [(0, 0), (200, 0), (200, 100), (100, 100), (100, 200), (0, 200)]  # (east, north) m


def test_concave_polygon_notch_is_outside_with_the_right_edge_distance() -> None:
    fence = Fence("yard", "customer", *offset(100, 100), 0, polygon_m(L_SHAPE))
    index = GeofenceIndex([fence])
    # In the notch: 30 m above the inner edge y = 100, 60 m right of the inner edge x = 100.
    lat, lon = offset(130, 160)
    assert edge_distance_m(fence, lat, lon) == pytest.approx(30, abs=0.05)
    m = index.match(lat, lon, tolerance_m=40)
    assert m is not None
    assert m.distance_m == pytest.approx(30, abs=0.05)
    assert index.match(lat, lon, tolerance_m=20) is None
    # In the leg, and on the far side, outside by 25 m from the outer edge x = 200.
    assert edge_distance_m(fence, *offset(150, 50)) == 0.0
    assert edge_distance_m(fence, *offset(50, 225)) == pytest.approx(25, abs=0.05)


def test_polygon_hole_is_outside() -> None:
    square = [(0, 0), (300, 0), (300, 300), (0, 300)]
    hole = [(100, 100), (200, 100), (200, 200), (100, 200)]
    fence = Fence("ring", "place", *offset(150, 150), 0, polygon_m(square, hole))
    assert edge_distance_m(fence, *offset(150, 150)) == pytest.approx(50, abs=0.05)
    assert edge_distance_m(fence, *offset(50, 150)) == 0.0


def test_a_self_intersecting_polygon_is_repaired_not_fatal() -> None:
    bowtie = polygon_m([(0, 0), (100, 100), (100, 0), (0, 100)])
    fence = Fence("bowtie", "place", LAT, LON, 0, bowtie)
    index = GeofenceIndex([fence])
    m = index.match(*offset(50, 90), tolerance_m=0)  # inside the right-hand lobe
    assert m is not None
    assert m.distance_m == 0.0
    assert edge_distance_m(fence, *offset(50, 90)) == 0.0


def test_kind_filter() -> None:
    index = GeofenceIndex(
        [circle("p", 0, 0, 100, "place"), circle("c", 10, 0, 100, kind="customer")]
    )
    place, customer = index.match(LAT, LON, 0, kind="place"), index.match(LAT, LON, 0, "customer")
    assert place is not None and place.fence.id == "p"
    assert customer is not None and customer.fence.id == "c"
    assert index.match(LAT, LON, 0, kind="warehouse") is None
    assert [m.fence.id for m in index.nearby(LAT, LON, 500)] == ["p", "c"]
    assert [m.fence.id for m in index.nearby(LAT, LON, 500, kind="customer")] == ["c"]


def test_nearby_is_ordered_by_edge_then_centre_distance() -> None:
    fences = [
        circle("far", 0, 900, 50),  # edge 850 m away
        circle("big", 0, 300, 280),  # edge 20 m away
        circle("small", 0, -60, 45),  # edge 15 m away
        circle("campus", 0, -50, 200),  # inside, centre 50 m away
        circle("home", 0, 10, 30),  # inside, centre 10 m away
        circle("gone", 0, 5000, 100),  # outside `within_m`
    ]
    index = GeofenceIndex(fences)
    found = index.nearby(LAT, LON, within_m=1000)
    assert [m.fence.id for m in found] == ["home", "campus", "small", "big", "far"]
    assert [m.fence.id for m in index.nearby(LAT, LON, 1000, limit=2)] == ["home", "campus"]
    assert index.nearby(LAT, LON, 1000, limit=0) == []
    assert (found[0].fence, found[0].distance_m) == (fences[4], 0.0)
    assert found[0].centre_distance_m == pytest.approx(10, abs=0.01)
    assert found[2].distance_m == pytest.approx(15, abs=0.01)


def test_lookup_and_validation() -> None:
    fences = [circle("a", 0, 0, 10), circle("b", 0, 50, 10)]
    index = GeofenceIndex(fences)
    assert len(index) == 2
    assert index.get("b") == fences[1]
    assert index.get("zzz") is None
    assert len(GeofenceIndex([])) == 0
    assert GeofenceIndex([]).match(LAT, LON, 100) is None
    with pytest.raises(ValueError, match="unique"):
        GeofenceIndex([*fences, fences[0]])
    with pytest.raises(ValueError):
        GeofenceIndex([Fence("x", "place", LAT, LON, 0, {"type": "Point", "coordinates": []})])
    with pytest.raises(ValueError):
        index.match(math.nan, LON, 10)


def test_across_the_antimeridian() -> None:
    index = GeofenceIndex([Fence("fiji", "place", -17.0, 179.9995, 100)])
    m = index.match(-17.0, -179.9995, tolerance_m=20)
    gap = 0.001 * M_PER_DEG * math.cos(math.radians(17.0))
    assert m is not None
    assert m.distance_m == pytest.approx(gap - 100, abs=0.01)


# --- the index agrees with a brute-force scan ---------------------------------------------------


def _haversine_np(lat: np.ndarray, lon: np.ndarray, qlat: float, qlon: float) -> np.ndarray:
    p1, p2 = np.radians(lat), math.radians(qlat)
    h = (
        np.sin((p2 - p1) / 2) ** 2
        + np.cos(p1) * math.cos(p2) * np.sin(np.radians(qlon - lon) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))


def _star(rng: np.random.Generator, lat: float, lon: float) -> dict[str, Any]:
    """A random star-shaped (often concave) polygon of 5–9 vertices around (lat, lon)."""
    k = int(rng.integers(5, 10))
    angles = (np.arange(k) + rng.uniform(0, 0.8, k)) * (2 * math.pi / k)  # gaps < 180°: simple
    radii = rng.uniform(20, 250, k)
    ring = []
    for a, r in zip(angles, radii, strict=True):
        vlat, vlon = offset(r * math.sin(a), r * math.cos(a), lat, lon)
        ring.append([vlon, vlat])
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def test_index_agrees_with_brute_force() -> None:
    rng = np.random.default_rng(7)
    n = 100_000
    lat = LAT + rng.uniform(-0.25, 0.25, n)
    lon = LON + rng.uniform(-0.25, 0.25, n)
    radius = rng.uniform(20, 300, n)
    is_poly = rng.random(n) < 0.05
    kinds = np.where(rng.random(n) < 0.7, "customer", "place")
    fences = [
        Fence(
            f"f{i:06d}",
            str(kinds[i]),
            float(lat[i]),
            float(lon[i]),
            float(radius[i]),
            _star(rng, float(lat[i]), float(lon[i])) if is_poly[i] else None,
        )
        for i in range(n)
    ]
    index = GeofenceIndex(fences)
    # A polygon lies within its circumradius of its centre: an exact lower bound for the scan.
    reach = np.zeros(n)
    for i in np.flatnonzero(is_poly):
        ring = np.asarray(fences[i].polygon["coordinates"][0])  # type: ignore[index]
        reach[i] = _haversine_np(ring[:, 1], ring[:, 0], lat[i], lon[i]).max()
    ids = np.array([f.id for f in fences])

    def scan(
        qlat: float, qlon: float, tol: float, kind: str | None
    ) -> list[tuple[float, float, str]]:
        dc = _haversine_np(lat, lon, qlat, qlon)
        d = np.maximum(0.0, dc - radius)
        d[is_poly] = np.inf
        ok = kinds == kind if kind else np.ones(n, bool)
        found = [(float(d[i]), float(dc[i]), str(ids[i])) for i in np.flatnonzero(ok & (d <= tol))]
        for i in np.flatnonzero(ok & is_poly & (dc - reach <= tol)):
            e = edge_distance_m(fences[i], qlat, qlon)
            if e <= tol:
                found.append((e, float(dc[i]), str(ids[i])))
        return sorted(found)

    matched = 0
    for q in range(500):
        if q % 5 == 0:  # aim at polygons too, which are rare
            j = int(rng.choice(np.flatnonzero(is_poly)))
            north, east = rng.uniform(-200, 200, 2).tolist()
            qlat, qlon = offset(north, east, float(lat[j]), float(lon[j]))
        else:
            qlat, qlon = (
                float(LAT + rng.uniform(-0.26, 0.26)),
                float(LON + rng.uniform(-0.26, 0.26)),
            )
        tol = float(rng.choice([0.0, rng.uniform(0, 150)]))
        kind = [None, "place", "customer"][q % 3]
        expected = scan(qlat, qlon, tol, kind)
        m = index.match(qlat, qlon, tol, kind)
        if not expected:
            assert m is None
            continue
        matched += 1
        assert m is not None
        assert m.fence.id == expected[0][2]
        assert m.distance_m == pytest.approx(expected[0][0], abs=1e-6)
        assert m.centre_distance_m == pytest.approx(expected[0][1], abs=1e-6)
        near = index.nearby(qlat, qlon, tol, kind, limit=1000)
        assert [x.fence.id for x in near] == [e[2] for e in expected]
    # The nearest few within a wide reach (searched ring by ring), against the full scan.
    for q in range(100):
        qlat = float(LAT + rng.uniform(-0.4, 0.4))
        qlon = float(LON + rng.uniform(-0.4, 0.4))
        within = float(rng.choice([300.0, 5_000.0, 50_000.0]))
        kind = [None, "place", "customer"][q % 3]
        limit = int(rng.integers(1, 4))
        expected = scan(qlat, qlon, within, kind)[:limit]
        near = index.nearby(qlat, qlon, within, kind, limit=limit)
        assert [(x.fence.id, x.distance_m) for x in near] == [
            (e[2], pytest.approx(e[0], abs=1e-6)) for e in expected
        ]
    assert matched > 200  # the check exercised real matches, not just empty answers
