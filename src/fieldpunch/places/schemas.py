from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from fieldpunch.geo.schemas import BSSID, GeoPolygon, PointIn, PointOut
from fieldpunch.kit.schemas import In, Kind, Name, Out, ShortText

Radius = Annotated[float, Field(gt=0, le=50_000, allow_inf_nan=False)]
Bssids = Annotated[list[BSSID], Field(max_length=100)]


class PlaceCreate(In):
    name: Name
    location: PointIn
    radius_m: Radius = 100.0
    polygon: GeoPolygon | None = Field(
        default=None, description="Instead of the circle; coordinates in location.crs"
    )
    wifi_bssids: Bssids = []
    kind: Kind = "office"
    address: ShortText = ""


class PlaceUpdate(In):
    name: Name | None = None
    location: PointIn | None = None
    radius_m: Radius | None = None
    polygon: GeoPolygon | None = None
    wifi_bssids: Bssids | None = None
    kind: Kind | None = None
    address: ShortText | None = None


class PlaceOut(Out):
    id: str
    name: str
    kind: str
    address: str
    location: PointOut
    radius_m: float
    polygon: dict[str, Any] | None
    wifi_bssids: list[str]
    created_at: datetime
    updated_at: datetime
