"""A person's day as a route in GeoJSON (RFC 7946), and visit heat maps on H3 cells (pure).

Route: the day's punches in trusted-time order as a LineString (when there are two or more
positions; RFC 7946 requires two) and a Point per punch (kind, local time, customer, status),
with the distance travelled along the line and the stops (each visit's time at its customer).
Rejected punches are drawn as points but left out of the line and the distance: their
position is not trusted. Positions are `[lon, lat]`, WGS-84 unless `?crs=` asks for a Chinese
map's datum (then the collection says so in its `crs_name` member, outside the standard).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import h3  # type: ignore[import-untyped]

from fieldpunch.geo.crs import CRS, from_wgs84
from fieldpunch.geo.distance import haversine_m

MIN_RESOLUTION, MAX_RESOLUTION = 3, 10  # ~12,000 km² to ~15,000 m² a cell


@dataclass(frozen=True, slots=True)
class RoutePunch:
    id: str
    kind: str
    status: str
    at: datetime  # trusted time, UTC
    lat: float
    lon: float
    accuracy_m: float
    customer_id: str | None
    customer: str | None


@dataclass(frozen=True, slots=True)
class Stop:
    visit_id: str
    customer_id: str
    customer: str
    started_at: datetime
    ended_at: datetime | None
    duration_min: float | None


def _position(lat: float, lon: float, crs: CRS) -> list[float]:
    x, y = from_wgs84(lon, lat, crs)
    return [round(x, 7), round(y, 7)]


def distance_m(punches: Sequence[RoutePunch]) -> float:
    kept = [p for p in punches if p.status != "rejected"]
    return sum(haversine_m(a.lat, a.lon, b.lat, b.lon) for a, b in itertools.pairwise(kept))


def route(
    user_id: str, day: str, punches: Sequence[RoutePunch], stops: Sequence[Stop], tz: ZoneInfo,
    crs: CRS = CRS.wgs84,
) -> dict[str, Any]:  # fmt: skip
    """The FeatureCollection of one person's day (punches sorted by the caller)."""
    kept = [p for p in punches if p.status != "rejected"]
    travelled = round(distance_m(punches), 1)
    features: list[dict[str, Any]] = []
    if len(kept) >= 2:
        features.append({
            "type": "Feature",
            "geometry": {"type": "LineString",
                         "coordinates": [_position(p.lat, p.lon, crs) for p in kept]},
            "properties": {"kind": "track", "distance_m": travelled, "punches": len(kept)},
        })  # fmt: skip
    for i, p in enumerate(punches):
        features.append({
            "type": "Feature",
            "id": p.id,
            "geometry": {"type": "Point", "coordinates": _position(p.lat, p.lon, crs)},
            "properties": {
                "kind": p.kind, "seq": i + 1, "time": p.at.astimezone(tz).isoformat(),
                "status": p.status, "accuracy_m": round(p.accuracy_m, 1),
                "customer_id": p.customer_id, "customer": p.customer,
            },
        })  # fmt: skip
    stops_out = [
        {"visit_id": s.visit_id, "customer_id": s.customer_id, "customer": s.customer,
         "started_at": s.started_at.astimezone(tz).isoformat(),
         "ended_at": s.ended_at.astimezone(tz).isoformat() if s.ended_at else None,
         "duration_min": s.duration_min}
        for s in stops
    ]  # fmt: skip
    at_customers = sum(s.duration_min or 0.0 for s in stops)
    return {
        "type": "FeatureCollection",
        "features": features,
        # Foreign members (RFC 7946 §6.1): what the day adds up to.
        "user_id": user_id,
        "date": day,
        "crs_name": crs.value,
        "distance_m": travelled,
        "stops": stops_out,
        "minutes_at_customers": round(at_customers, 1),
    }


def cells(points: Iterable[tuple[float, float, int]], resolution: int) -> dict[str, int]:
    """(lat, lon, weight) → H3 cell → summed weight."""
    out: dict[str, int] = {}
    for lat, lon, weight in points:
        cell = h3.latlng_to_cell(lat, lon, resolution)
        out[cell] = out.get(cell, 0) + weight
    return out


def cell_features(counts: dict[str, int], crs: CRS = CRS.wgs84) -> dict[str, Any]:
    """Each cell as a Polygon Feature (a closed, counter-clockwise ring per RFC 7946)."""
    features = []
    for cell, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        ring = [_position(lat, lon, crs) for lat, lon in h3.cell_to_boundary(cell)]
        if _signed_area(ring) < 0:
            ring.reverse()
        ring.append(ring[0])
        features.append({
            "type": "Feature", "id": cell,
            "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {"cell": cell, "count": count},
        })  # fmt: skip
    return {"type": "FeatureCollection", "features": features, "crs_name": crs.value}


def cell_items(counts: dict[str, int], crs: CRS = CRS.wgs84) -> list[dict[str, Any]]:
    out = []
    for cell, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        lat, lon = h3.cell_to_latlng(cell)
        x, y = _position(lat, lon, crs)
        out.append({"cell": cell, "count": count, "lat": y, "lon": x})
    return out


def _signed_area(ring: Sequence[Sequence[float]]) -> float:
    return sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, [*ring[1:], ring[0]], strict=True))
