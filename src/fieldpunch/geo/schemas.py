"""API shapes for coordinates: a point with its CRS and a GeoJSON polygon."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from shapely.geometry import Polygon as ShapelyPolygon

from fieldpunch.geo.crs import CRS, from_wgs84, to_wgs84

Lat = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Lon = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Position = Annotated[
    list[Annotated[float, Field(allow_inf_nan=False)]], Field(min_length=2, max_length=3)
]
MAX_POLYGON_VERTICES = 2000


class PointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: Lat
    lon: Lon
    crs: CRS = CRS.wgs84

    def wgs84(self) -> tuple[float, float]:
        """(lat, lon) in WGS-84."""
        lon, lat = to_wgs84(self.lon, self.lat, self.crs)
        return lat, lon


class PointOut(BaseModel):
    lat: float
    lon: float
    crs: CRS

    @classmethod
    def of(cls, lat: float, lon: float, crs: CRS) -> PointOut:
        olon, olat = from_wgs84(lon, lat, crs)
        return cls(lat=round(olat, 7), lon=round(olon, 7), crs=crs)


class GeoPolygon(BaseModel):
    """A GeoJSON Polygon (RFC 7946): [lon, lat] rings, the first the outer boundary."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["Polygon"]
    coordinates: Annotated[
        list[Annotated[list[Position], Field(min_length=4)]], Field(min_length=1, max_length=50)
    ]

    @field_validator("coordinates")
    @classmethod
    def _valid(cls, rings: list[list[list[float]]]) -> list[list[list[float]]]:
        if sum(len(r) for r in rings) > MAX_POLYGON_VERTICES:
            raise ValueError(f"at most {MAX_POLYGON_VERTICES} vertices")
        for ring in rings:
            for p in ring:
                if not (-180 <= p[0] <= 180 and -90 <= p[1] <= 90):
                    raise ValueError("positions are [lon, lat] within ±180, ±90")
            if ring[0][:2] != ring[-1][:2]:
                raise ValueError("each ring must be closed (first position == last)")
        shape = ShapelyPolygon(rings[0], rings[1:])
        if not shape.is_valid or shape.area == 0:
            raise ValueError("polygon is not valid (self-intersecting or empty)")
        return rings

    def to_wgs84(self, crs: CRS) -> dict[str, Any]:
        return _move(self.coordinates, to_wgs84, crs)


def _move(rings: list[list[list[float]]], fn: Any, crs: CRS) -> dict[str, Any]:
    moved = [[[round(c, 7) for c in fn(p[0], p[1], crs)] for p in ring] for ring in rings]
    return {"type": "Polygon", "coordinates": moved}


def polygon_out(stored: dict[str, Any] | None, crs: CRS) -> dict[str, Any] | None:
    """A stored WGS-84 polygon expressed in `crs`."""
    return None if stored is None else _move(stored["coordinates"], from_wgs84, crs)


def _bssid(v: str) -> str:
    norm = v.strip().lower().replace("-", ":")
    if not _BSSID_RE.fullmatch(norm):
        raise ValueError("a BSSID looks like a4:5e:60:c1:22:01")
    return norm


_BSSID_RE = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")
BSSID = Annotated[str, Field(max_length=17 + 4), AfterValidator(_bssid)]


def fence_columns(
    changes: dict[str, Any], location: PointIn | None, polygon: GeoPolygon | None, default_crs: CRS
) -> dict[str, Any]:
    """Replace `location` / `polygon` in a change set by their WGS-84 storage columns.

    A polygon's coordinates use the CRS of the location sent with it, else `default_crs`
    (the request's `?crs=`): GeoJSON itself has no CRS member.
    """
    out = {k: v for k, v in changes.items() if k not in ("location", "polygon")}
    if "location" in changes:
        out["lat"], out["lon"] = location.wgs84() if location else (None, None)
    if "polygon" in changes:
        crs = location.crs if location else default_crs
        out["polygon"] = polygon.to_wgs84(crs) if polygon else None
    return out


def fence_out(row: Any, crs: CRS) -> dict[str, Any]:
    """`location` and `polygon` of a stored row, expressed in `crs`."""
    location = None if row.lat is None else PointOut.of(row.lat, row.lon, crs)
    return {"location": location, "polygon": polygon_out(row.polygon, crs)}


def response_crs(query: CRS | None, location: PointIn | None) -> CRS:
    """Answer in the CRS asked for, else in the one the client wrote in."""
    return query or (location.crs if location else CRS.wgs84)
