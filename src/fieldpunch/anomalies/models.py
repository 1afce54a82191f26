from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fieldpunch.db.base import Base, OrgScoped
from fieldpunch.db.types import JSONType


class Anomaly(OrgScoped, Base):
    """One finding on one punch, and its review. `superseded` when later data explained it."""

    __tablename__ = "anomalies"
    __table_args__ = (
        UniqueConstraint("punch_id", "rule"),
        Index("ix_anomalies_org_status", "org_id", "status", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    punch_id: Mapped[str] = mapped_column(String(32), ForeignKey("punches.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32), index=True)
    rule: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="open")
    punch_time: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolved_by: Mapped[str | None] = mapped_column(String(48))
    comment: Mapped[str] = mapped_column(Text, default="")


class PolicyOverride(OrgScoped, Base):
    """Partial detector settings for the org, a team or a person (resolved person → team → org)."""

    __tablename__ = "policy_overrides"
    __table_args__ = (UniqueConstraint("org_id", "scope", "scope_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    scope: Mapped[str] = mapped_column(String(8))  # org | team | user
    scope_id: Mapped[str] = mapped_column(String(32))
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime] = mapped_column()
    updated_by: Mapped[str] = mapped_column(String(48))
