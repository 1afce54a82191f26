from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from fieldpunch.db.base import Base


class AlertSettings(Base):
    """An org's alert settings; no row means the defaults (`alerts.service.DEFAULTS`)."""

    __tablename__ = "alert_settings"

    org_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column()
    # An open critical anomaly nobody reviewed this long goes one level up; 0: never.
    escalate_after_min: Mapped[int] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()
    updated_by: Mapped[str] = mapped_column(String(48))
