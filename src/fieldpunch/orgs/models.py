from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from fieldpunch.db.base import Base, Timestamps
from fieldpunch.db.types import JSONType


class Org(Timestamps, Base):
    __tablename__ = "orgs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Bumped with every place or customer change, so each process knows when its geofence
    # index for this org is stale.
    geo_version: Mapped[int] = mapped_column(default=0, server_default="0")

    @property
    def map_provider(self) -> str:
        """The console's map tiles (orgs.schemas.MapProvider), `osm` unless set."""
        return str((self.settings or {}).get("map_provider") or "osm")
