from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from fieldpunch.db.base import Base, OrgScoped
from fieldpunch.db.types import JSONType


class Punch(OrgScoped, Base):
    """One punch as received and judged. The claim itself is kept verbatim in `payload`."""

    __tablename__ = "punches"
    __table_args__ = (
        UniqueConstraint(
            "org_id", "client_id"
        ),  # idempotency, enforced inside the punch's transaction
        Index("ix_punches_org_user_time", "org_id", "user_id", "trusted_time"),
        Index("ix_punches_org_time", "org_id", "trusted_time"),
        # too_perfect: the same coordinates elsewhere since a time. With the time in the index
        # SQLite (no statistics) plans on it rather than reading the org's 30 days by time.
        Index("ix_punches_org_raw_time", "org_id", "raw_lat", "raw_lon", "trusted_time"),
        # shared_device: other people on a device, skipping the owner's own punches.
        Index("ix_punches_org_device_user_time", "org_id", "device_id", "user_id", "trusted_time"),
        # The punch citing a photo (its watermark); partial: punches without a photo skip it.
        Index(
            "ix_punches_org_photo",
            "org_id",
            "photo_id",
            postgresql_where=text("photo_id IS NOT NULL"),
            sqlite_where=text("photo_id IS NOT NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="RESTRICT"))
    client_id: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    source: Mapped[str] = mapped_column(String(16), default="app")
    captured_at: Mapped[datetime] = mapped_column()
    received_at: Mapped[datetime] = mapped_column()
    trusted_time: Mapped[datetime] = mapped_column()
    time_source: Mapped[str] = mapped_column(String(16))
    lat: Mapped[float] = mapped_column()
    lon: Mapped[float] = mapped_column()
    accuracy_m: Mapped[float] = mapped_column()
    # The main fix exactly as sent (its own CRS): identical values elsewhere betray replayed fixes.
    raw_lat: Mapped[float] = mapped_column()
    raw_lon: Mapped[float] = mapped_column()
    mock: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    fusion: Mapped[dict[str, Any]] = mapped_column(JSONType)
    place_id: Mapped[str | None] = mapped_column(String(32))
    customer_id: Mapped[str | None] = mapped_column(String(32))
    distance_m: Mapped[float | None] = mapped_column()
    visit_id: Mapped[str | None] = mapped_column(String(40))
    photo_id: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text, default="")
    offline: Mapped[bool] = mapped_column(default=False)
    device_id: Mapped[str | None] = mapped_column(String(40))
    signature_ok: Mapped[bool | None] = mapped_column()
    anomalies: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    # Inputs of the detectors that do not depend on other punches (anomalies/engine.py).
    facts: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class LedgerHead(Base):
    """The latest entry of one person's chain; its row lock orders that person's punches."""

    __tablename__ = "ledger_heads"

    org_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column()
    # The anomaly detectors' state after this person's latest punch (anomalies/memory.py).
    detector_memory: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)


class LedgerEntry(Base):
    """One link of a person's hash chain: a punch, or later a decision about one."""

    __tablename__ = "ledger_entries"

    org_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_kind: Mapped[str] = mapped_column(String(16))
    ref_id: Mapped[str] = mapped_column(String(32), index=True)
    content: Mapped[dict[str, Any]] = mapped_column(JSONType)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column()


class LedgerCheckpoint(OrgScoped, Base):
    """A signed Merkle root over every chain head of an org at one moment."""

    __tablename__ = "ledger_checkpoints"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    created_at: Mapped[datetime] = mapped_column()
    heads: Mapped[dict[str, Any]] = mapped_column(JSONType)
    root: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(64))
