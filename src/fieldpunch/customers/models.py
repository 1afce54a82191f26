from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from fieldpunch.db.base import Base, OrgScoped, Timestamps
from fieldpunch.db.types import JSONType


class Customer(OrgScoped, Timestamps, Base):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    address: Mapped[str] = mapped_column(String(500), default="")
    lat: Mapped[float | None] = mapped_column()
    lon: Mapped[float | None] = mapped_column()
    radius_m: Mapped[float] = mapped_column(default=150.0)
    polygon: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    owner_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(32), default="active")
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    deleted_at: Mapped[datetime | None] = mapped_column()
