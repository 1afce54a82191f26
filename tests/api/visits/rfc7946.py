"""A strict check of a GeoJSON object against RFC 7946 (the parts the reports emit): types,
members, positions `[lon, lat]` in range, a LineString of two or more positions, closed linear
rings of four or more with the exterior counter-clockwise (§3.1.6), no `crs` member (§4)."""

from __future__ import annotations

import itertools
from typing import Any

GEOMETRIES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}


def _position(p: Any, where: str) -> None:
    assert isinstance(p, list) and len(p) in (2, 3), f"{where}: a position is 2 or 3 numbers"
    assert all(isinstance(x, int | float) and not isinstance(x, bool) for x in p), where
    assert -180 <= p[0] <= 180 and -90 <= p[1] <= 90, f"{where}: [lon, lat] in range"


def _ring(ring: Any, where: str, exterior: bool) -> None:
    assert isinstance(ring, list) and len(ring) >= 4, f"{where}: a ring has 4+ positions"
    for i, p in enumerate(ring):
        _position(p, f"{where}[{i}]")
    assert ring[0] == ring[-1], f"{where}: a ring is closed"
    area = sum(a[0] * b[1] - b[0] * a[1] for a, b in itertools.pairwise(ring))
    assert (area > 0) == exterior, f"{where}: exterior rings counter-clockwise"


def geometry(g: Any, where: str = "geometry") -> None:
    assert isinstance(g, dict) and g.get("type") in GEOMETRIES, f"{where}: a geometry type"
    c = g["coordinates"]
    if g["type"] == "Point":
        _position(c, where)
    elif g["type"] == "LineString":
        assert isinstance(c, list) and len(c) >= 2, f"{where}: a LineString has 2+ positions"
        for i, p in enumerate(c):
            _position(p, f"{where}[{i}]")
    elif g["type"] == "Polygon":
        for i, ring in enumerate(c):
            _ring(ring, f"{where}[{i}]", exterior=i == 0)
    else:
        raise AssertionError(f"{where}: not emitted by the reports")


def feature_collection(fc: Any) -> None:
    assert isinstance(fc, dict) and fc.get("type") == "FeatureCollection"
    assert "crs" not in fc, "RFC 7946 §4: no crs member"
    assert isinstance(fc.get("features"), list)
    for i, f in enumerate(fc["features"]):
        assert f.get("type") == "Feature", f"features[{i}]"
        assert "geometry" in f and "properties" in f, f"features[{i}]: geometry and properties"
        assert f["properties"] is None or isinstance(f["properties"], dict)
        if "id" in f:
            assert isinstance(f["id"], str | int), f"features[{i}].id: a string or number"
        if f["geometry"] is not None:
            geometry(f["geometry"], f"features[{i}].geometry")
