"""Match a position to geofences (circles and GeoJSON polygons) among up to a million of them.

Distances are measured from the fence *edge*: a punch 120 m from the centre of a 100 m circle is
20 m outside it, and the caller decides with the position's accuracy as tolerance whether that
counts. This is what keeps GPS jitter at a fence edge from flipping the answer.

- Circles: haversine from the centre, minus the radius.
- Polygons: projected to a local plane around the query point (equirectangular, exact in scale at
  the point and an affine map of [lon, lat], so GeoJSON's straight edges stay straight and
  containment is preserved), then the planar distance from shapely. Containment itself is tested
  first on the prepared polygon in degrees, which is the common case and the cheap one.
- Index: one shapely STRtree per fence kind over each fence's extent in degrees (a circle's box
  widens in longitude with latitude). A query box is the point expanded by the tolerance; only the
  candidates it hits get exact distances. Boxes are conservative, so the index never misses a fence
  that a brute-force scan would find. Boxes crossing the antimeridian are split in two.

Polygons crossing the antimeridian are not supported (RFC 7946 asks producers to split them).
"""

from __future__ import annotations

import gc
import heapq
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely import STRtree

from fieldpunch.geo.distance import EARTH_RADIUS_M, haversine_m

M_PER_DEG = math.radians(1.0) * EARTH_RADIUS_M
"""Metres per degree of latitude (and of longitude at the equator) on the mean sphere."""

# Relative slack on every box: covers arcsin(x) > x for the longitude extent of a circle and
# floating-point rounding, so that a box test can only err on the side of a candidate too many.
_SLACK = 1.001
_SLACK_DEG = 1e-9
# `nearby`'s first ring and how much each next one reaches further.
_FIRST_RING_M = 250.0
_RING_GROWTH = 4.0
_ORIGIN = shapely.Point(0.0, 0.0)

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Fence:
    """A geofence: a circle around (lat, lon), or a polygon that replaces the circle."""

    id: str
    kind: str  # "place" | "customer"
    lat: float
    lon: float
    radius_m: float
    polygon: dict[str, Any] | None = None  # GeoJSON Polygon in WGS-84 ([lon, lat] rings)


@dataclass(frozen=True, slots=True)
class Match:
    fence: Fence
    distance_m: float  # 0 when inside, else metres from the fence edge
    centre_distance_m: float  # metres from the fence centre (lat/lon)


# --- geometry -----------------------------------------------------------------------------------


def _parts(polygon: Mapping[str, Any]) -> list[Any]:
    """The parts (lists of rings) of a GeoJSON Polygon or MultiPolygon; ValueError otherwise."""
    kind = polygon.get("type")
    coords = polygon.get("coordinates")
    if not isinstance(coords, list) or kind not in ("Polygon", "MultiPolygon"):
        raise ValueError(f"a fence polygon must be a GeoJSON Polygon, not {kind!r}")
    return [coords] if kind == "Polygon" else coords


def _geometries(polygons: Sequence[Mapping[str, Any]]) -> npt.NDArray[np.object_]:
    """Prepared shapely geometries (in degrees) for GeoJSON polygons, built in one vectorised call.

    Every polygon becomes a MultiPolygon so that Polygons and MultiPolygons share one ragged
    array; distance and containment do not care.
    """
    coords: list[tuple[float, float]] = []
    ring_ends: list[int] = [0]
    part_ends: list[int] = [0]
    geom_ends: list[int] = [0]
    try:
        for polygon in polygons:
            for rings in _parts(polygon):
                if not rings:
                    raise ValueError("a polygon needs an outer ring")
                for ring in rings:
                    pts = [(p[0], p[1]) for p in ring]
                    if pts and pts[0] != pts[-1]:
                        pts.append(pts[0])  # tolerate an unclosed ring rather than fail a punch
                    if len(pts) < 4:
                        raise ValueError("a polygon ring needs at least 3 distinct positions")
                    coords.extend(pts)
                    ring_ends.append(len(coords))
                part_ends.append(len(ring_ends) - 1)
            geom_ends.append(len(part_ends) - 1)
        xy = np.array(coords, dtype=np.float64).reshape(-1, 2)
    except (TypeError, IndexError, KeyError) as e:
        raise ValueError(f"malformed GeoJSON polygon: {e}") from e
    if not np.isfinite(xy).all():
        raise ValueError("polygon positions must be finite")
    geoms = shapely.from_ragged_array(
        shapely.GeometryType.MULTIPOLYGON,
        xy,
        (
            np.asarray(ring_ends, dtype=np.int64),
            np.asarray(part_ends, dtype=np.int64),
            np.asarray(geom_ends, dtype=np.int64),
        ),
    )
    # The API validates polygons; repair anything older or imported instead of failing a punch.
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    shapely.prepare(geoms)
    return geoms


def _geometry_distance_m(geom: shapely.Geometry, lat: float, lon: float) -> float:
    """Metres from (lat, lon) to a geometry in degrees; 0 inside."""
    if shapely.contains_xy(geom, lon, lat):
        return 0.0
    kx = M_PER_DEG * math.cos(math.radians(lat))

    def to_local(c: FloatArray) -> FloatArray:
        out = np.empty_like(c)
        out[:, 0] = ((c[:, 0] - lon + 180.0) % 360.0 - 180.0) * kx
        out[:, 1] = (c[:, 1] - lat) * M_PER_DEG
        return out

    return float(shapely.distance(shapely.transform(geom, to_local), _ORIGIN))


def edge_distance_m(fence: Fence, lat: float, lon: float) -> float:
    """Metres from (lat, lon) to the edge of `fence`; 0 inside (or on the edge)."""
    if fence.polygon:
        return _geometry_distance_m(_geometries([fence.polygon])[0], lat, lon)
    return max(0.0, haversine_m(fence.lat, fence.lon, lat, lon) - fence.radius_m)


def _wrap_deg(d: float) -> float:
    return d if -180.0 <= d < 180.0 else (d + 180.0) % 360.0 - 180.0


def _lon_half_width(half_height_deg: FloatArray, lat: FloatArray, metres: FloatArray) -> FloatArray:
    """Degrees of longitude covering `metres` anywhere within `half_height_deg` of `lat`.

    Uses the cosine at the latitude furthest from the equator; ∞ where that reaches a pole.
    """
    far = np.minimum(np.abs(lat) + half_height_deg, 90.0)
    cos = np.cos(np.radians(far))
    with np.errstate(divide="ignore"):
        return np.where(cos > 1e-9, metres * _SLACK / (M_PER_DEG * cos), np.inf) + _SLACK_DEG


def _split_antimeridian(
    b: FloatArray, owner: npt.NDArray[np.int64]
) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """Boxes (minx, miny, maxx, maxy) clipped to ±180, the overflow re-entering on the far side."""
    wide = (b[:, 2] - b[:, 0]) >= 360.0
    b[wide, 0], b[wide, 2] = -180.0, 180.0
    lo, hi = b[:, 0] < -180.0, b[:, 2] > 180.0
    extra_lo = np.column_stack([b[lo, 0] + 360.0, b[lo, 1], np.full(lo.sum(), 180.0), b[lo, 3]])
    extra_hi = np.column_stack([np.full(hi.sum(), -180.0), b[hi, 1], b[hi, 2] - 360.0, b[hi, 3]])
    b[lo, 0], b[hi, 2] = -180.0, 180.0
    return (
        np.concatenate([b, extra_lo, extra_hi]),
        np.concatenate([owner, owner[lo], owner[hi]]),
    )


# --- index --------------------------------------------------------------------------------------


_ID, _KIND, _LAT, _LON, _RADIUS, _POLYGON = (
    attrgetter(a) for a in ("id", "kind", "lat", "lon", "radius_m", "polygon")
)


@contextmanager
def _gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True, slots=True)
class _Tree:
    tree: STRtree
    owner: npt.NDArray[np.int64]  # box position in the tree → fence position in the index


class GeofenceIndex:
    """An immutable spatial index of fences; build a new one when fences change.

    Fence ids must be unique (places and customers share one index). Queries do not mutate
    it, but GEOS builds a prepared polygon's internals lazily, so share one index between
    tasks of an event loop rather than between OS threads.
    """

    def __init__(self, fences: Iterable[Fence]) -> None:
        # Creating a million shapely objects while a million fences are alive would otherwise
        # trigger full garbage collections that cost more than the build itself.
        with _gc_paused():
            self._build(list(fences))

    def _build(self, fences: list[Fence]) -> None:
        self._fences = fences
        n = len(fences)
        self._by_id: dict[str, int] = dict(zip(map(_ID, fences), range(n), strict=True))
        if len(self._by_id) != n:
            raise ValueError("fence ids must be unique")
        lat = np.fromiter(map(_LAT, fences), np.float64, n)
        lon = np.fromiter(map(_LON, fences), np.float64, n)
        radius = np.fromiter(map(_RADIUS, fences), np.float64, n)
        if not (np.isfinite(lat).all() and np.isfinite(lon).all()):
            raise ValueError("fence centres must be finite")
        radius = np.where(np.isfinite(radius), np.maximum(radius, 0.0), 0.0)
        self._radius: list[float] = radius.tolist()  # sanitised copy used for matching

        # Circles: the box of the circle. Polygons: their bounds, replaced below.
        dlat = radius * _SLACK / M_PER_DEG + _SLACK_DEG
        dlon = _lon_half_width(dlat, lat, radius)
        lon = np.where((lon >= -180.0) & (lon < 180.0), lon, (lon + 180.0) % 360.0 - 180.0)
        boxes = np.column_stack([lon - dlon, lat - dlat, lon + dlon, lat + dlat])
        self._geoms: list[shapely.Geometry | None] = [None] * n
        poly_at = [i for i, p in enumerate(map(_POLYGON, fences)) if p]
        if poly_at:
            geoms = _geometries([fences[i].polygon or {} for i in poly_at])
            for i, g in zip(poly_at, geoms.tolist(), strict=True):
                self._geoms[i] = g
            boxes[poly_at] = shapely.bounds(geoms)
        # The query box grows with the largest circle (see _query_boxes).
        is_circle = np.ones(n, dtype=bool)
        is_circle[poly_at] = False
        self._max_radius = float(radius[is_circle].max(initial=0.0))

        boxes, owner = _split_antimeridian(boxes, np.arange(n, dtype=np.int64))
        kinds: dict[str, int] = {}
        codes = np.fromiter(
            (kinds.setdefault(k, len(kinds)) for k in map(_KIND, fences)), np.int64, n
        )
        owner_codes = codes[owner]
        self._trees: dict[str, _Tree] = {}
        for kind, code in kinds.items():
            sel = np.flatnonzero(owner_codes == code) if len(kinds) > 1 else np.arange(len(owner))
            b = np.ascontiguousarray(boxes[sel].T)
            self._trees[kind] = _Tree(STRtree(shapely.box(b[0], b[1], b[2], b[3])), owner[sel])

    def __len__(self) -> int:
        return len(self._fences)

    def __iter__(self) -> Iterator[Fence]:
        return iter(self._fences)

    def get(self, fence_id: str) -> Fence | None:
        i = self._by_id.get(fence_id)
        return None if i is None else self._fences[i]

    def match(
        self, lat: float, lon: float, tolerance_m: float, kind: str | None = None
    ) -> Match | None:
        """The fence whose edge is within `tolerance_m` of the point, or None.

        Several candidates: those containing the point first, then the nearest edge, then the
        nearest centre, then the id, so that the answer never depends on insertion order.
        """
        best: tuple[float, float, str] | None = None
        best_i = -1
        for i, d, dc in self._within(lat, lon, tolerance_m, kind):
            key = (d, dc, self._fences[i].id)
            if best is None or key < best:
                best, best_i = key, i
        if best is None:
            return None
        return Match(self._fences[best_i], best[0], best[1])

    def nearby(
        self, lat: float, lon: float, within_m: float, kind: str | None = None, limit: int = 20
    ) -> list[Match]:
        """Fences whose edge is within `within_m`, nearest edge first, then nearest centre."""
        if limit <= 0:
            return []
        # Rings of growing reach: the `limit` nearest are within the first ring that holds
        # `limit` fences (any fence outside it is further than all of them). One pass over the
        # whole reach would measure every fence in it: 10,000 within 50 km of a city's punch.
        reach = within_m
        if math.isfinite(within_m) and within_m > _FIRST_RING_M:
            reach = _FIRST_RING_M
        while True:
            found = list(self._within(lat, lon, reach, kind))
            if len(found) >= limit or reach >= within_m or not math.isfinite(within_m):
                break
            reach = min(within_m, reach * _RING_GROWTH)
        best = heapq.nsmallest(limit, found, key=lambda t: (t[1], t[2], self._fences[t[0]].id))
        return [Match(self._fences[i], d, dc) for i, d, dc in best]

    # --- internals --------------------------------------------------------------------------

    def _within(
        self, lat: float, lon: float, tolerance_m: float, kind: str | None
    ) -> Iterator[tuple[int, float, float]]:
        """(fence position, edge distance, centre distance) of fences within `tolerance_m`."""
        if not (math.isfinite(lat) and math.isfinite(lon)):
            raise ValueError("the position must be finite")
        tol = tolerance_m if math.isfinite(tolerance_m) and tolerance_m > 0 else 0.0
        lon = _wrap_deg(lon)
        if kind is None:
            trees: Iterable[_Tree] = self._trees.values()
        else:
            tree = self._trees.get(kind)
            trees = () if tree is None else (tree,)
        queries = self._query_boxes(lat, lon, tol)
        seen: set[int] = set()
        for t in trees:
            for q in queries:
                hits = t.tree.query(q)
                if hits.size:
                    seen.update(t.owner[hits].tolist())
        fences, geoms, radius = self._fences, self._geoms, self._radius
        for i in seen:
            f = fences[i]
            dc = haversine_m(f.lat, f.lon, lat, lon)
            g = geoms[i]
            d = max(0.0, dc - radius[i]) if g is None else _geometry_distance_m(g, lat, lon)
            if d <= tol:
                yield i, d, dc

    def _query_boxes(self, lat: float, lon: float, tol: float) -> list[shapely.Polygon]:
        """The point's box expanded by `tol` metres, split at the antimeridian if needed.

        A circle within `tol` of the point may have its centre up to `tol + radius` away, so the
        longitude scale is taken at the latitude furthest from the equator it could have.
        """
        dlat = tol * _SLACK / M_PER_DEG + _SLACK_DEG
        reach = (tol + self._max_radius) * _SLACK / M_PER_DEG
        cos = math.cos(math.radians(min(abs(lat) + reach, 90.0)))
        dlon = tol * _SLACK / (M_PER_DEG * cos) + _SLACK_DEG if cos > 1e-9 else math.inf
        south, north = lat - dlat, lat + dlat
        if dlon >= 180.0:
            return [shapely.box(-180.0, south, 180.0, north)]
        west, east = lon - dlon, lon + dlon
        boxes = [shapely.box(max(west, -180.0), south, min(east, 180.0), north)]
        if west < -180.0:
            boxes.append(shapely.box(west + 360.0, south, 180.0, north))
        if east > 180.0:
            boxes.append(shapely.box(-180.0, south, east - 360.0, north))
        return boxes
