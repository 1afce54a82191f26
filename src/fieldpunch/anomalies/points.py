"""Stored points a made-up fix lands on: place and customer centres and polygon vertices.

A fake-location app puts the phone wherever the cheater taps on a map, or types in: the office's
coordinates as fieldpunch answers them (7 decimals, in WGS-84, GCJ-02 or BD-09), or picked on the
same AMap/Baidu map the admin used to create the place. A receiver's fix does not land on such a
point: GPS noise is metres, and 5e-8° is half a centimetre.

Each point is kept in all three systems (the forward conversions are closed formulas), and a fix
is compared *as sent* with every one of them, whatever its own `crs` says: a GCJ-02 pick sent
as `gcj02` (or converted by the app and sent as `wgs84`, or mislabelled) is caught the same way,
with no inverse conversion per punch. Pure: built from the fences, queried with plain numbers.
"""

from __future__ import annotations

import asyncio
import math
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from fieldpunch.geo.crs import CRS, from_wgs84
from fieldpunch.geo.geofence_index import Fence, GeofenceIndex

# Coordinates within this of a stored point on both axes land on it: half a unit in the 7th
# decimal (the API's rounding), plus the float error of writing such a number.
TOLERANCE_DEG = 5e-8 + 1e-12
_CELL_DEG = 1e-5  # grid cells of ~1 m; a query looks at its cell and the 8 around it
_SYSTEMS = (CRS.wgs84, CRS.gcj02, CRS.bd09)


@dataclass(frozen=True, slots=True)
class Point:
    fence_id: str
    point: str  # "centre" | "vertex"
    crs: str
    lat: float
    lon: float


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat / _CELL_DEG), math.floor(lon / _CELL_DEG)


def _vertices(polygon: dict[str, Any] | None) -> Iterator[tuple[float, float]]:
    """(lon, lat) of every vertex of a GeoJSON Polygon or MultiPolygon."""
    if not polygon:
        return
    coords = polygon.get("coordinates") or []
    parts = coords if polygon.get("type") == "MultiPolygon" else [coords]
    for part in parts:
        for ring in part:
            for vertex in ring:
                yield float(vertex[0]), float(vertex[1])


class StoredPoints:
    """Every centre and vertex of the fences, in each CRS, on a grid of ~1 m cells."""

    def __init__(self, fences: Iterable[Fence]) -> None:
        self._grid: dict[tuple[int, int], list[Point]] = {}
        for fence in fences:
            self._add(fence.id, "centre", fence.lon, fence.lat)
            for lon, lat in _vertices(fence.polygon):
                self._add(fence.id, "vertex", lon, lat)

    def _add(self, fence_id: str, what: str, lon: float, lat: float) -> None:
        for crs in _SYSTEMS:
            x, y = from_wgs84(lon, lat, crs)
            self._grid.setdefault(_cell(y, x), []).append(Point(fence_id, what, crs.value, y, x))

    def __len__(self) -> int:
        return sum(map(len, self._grid.values()))

    def landing(self, lat: float, lon: float) -> Point | None:
        """The stored point these coordinates (in any of the three systems) land on, if any."""
        if not (math.isfinite(lat) and math.isfinite(lon)):
            return None
        row, col = _cell(lat, lon)
        grid = self._grid
        for r in (row - 1, row, row + 1):
            for c in (col - 1, col, col + 1):
                for p in grid.get((r, c), ()):
                    if abs(p.lat - lat) <= TOLERANCE_DEG and abs(p.lon - lon) <= TOLERANCE_DEG:
                        return p
        return None


_built: weakref.WeakKeyDictionary[GeofenceIndex, StoredPoints] = weakref.WeakKeyDictionary()
# A large organization's points are built off the event loop (three conversions per point).
_IN_THREAD_FROM = 2_000


async def of(index: GeofenceIndex) -> StoredPoints:
    """The index's points, built once per index (an index is rebuilt when fences change)."""
    points = _built.get(index)
    if points is None:
        fences = list(index)
        if len(fences) >= _IN_THREAD_FROM:
            points = await asyncio.to_thread(StoredPoints, fences)
        else:
            points = StoredPoints(fences)
        _built[index] = points
    return points
