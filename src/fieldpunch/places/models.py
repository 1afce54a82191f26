from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from fieldpunch.db.base import Base, OrgScoped, Timestamps
from fieldpunch.db.types import JSONType


class Place(OrgScoped, Timestamps, Base):
    """An office, warehouse or site with a geofence: a circle, or a polygon instead."""

    __tablename__ = "places"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), default="office")
    address: Mapped[str] = mapped_column(String(500), default="")
    lat: Mapped[float] = mapped_column()
    lon: Mapped[float] = mapped_column()
    radius_m: Mapped[float] = mapped_column(default=100.0)
    polygon: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    wifi_bssids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    deleted_at: Mapped[datetime | None] = mapped_column()
