from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fieldpunch.db.base import Base, OrgScoped
from fieldpunch.db.types import JSONType


class OutboxEvent(OrgScoped, Base):
    """An event written in the same transaction as the data it describes; published after commit."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_unpublished", "published_at", "id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[str] = mapped_column(String(32), unique=True)
    topic: Mapped[str] = mapped_column(String(64))
    subject_user_id: Mapped[str | None] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column()
    published_at: Mapped[datetime | None] = mapped_column()


class Job(Base):
    """A unit of background work, enqueued in the caller's transaction and run at least once.

    `run_at` is when the job next needs a worker: its due time while queued, its lease expiry
    while running (so one index finds both due jobs and jobs whose worker died).
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_run_at", "status", "run_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Null for work that belongs to no organization (ledger checkpoints of every org, pruning).
    org_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("orgs.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16))  # queued | running | done | dead
    run_at: Mapped[datetime] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer)
    max_attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    locked_by: Mapped[str | None] = mapped_column(String(100))
    locked_until: Mapped[datetime | None] = mapped_column()
    # Enqueuing the same key twice is a no-op: producers may retry without doubling work.
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column()
    done_at: Mapped[datetime | None] = mapped_column()


class Schedule(Base):
    """One periodic task; the worker that locks its row when due enqueues its one job."""

    __tablename__ = "schedules"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    interval_s: Mapped[int] = mapped_column(Integer)
    next_run_at: Mapped[datetime] = mapped_column()
    last_run_at: Mapped[datetime | None] = mapped_column()


class OutboxCursor(Base):
    """How far one follower (jobs/follow.py) has read the outbox: every id up to `last_id` was
    handed to it, except the `holes` ([id, give-up time] pairs) that may still commit."""

    __tablename__ = "outbox_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    holes: Mapped[list[Any]] = mapped_column(JSONType, default=list, server_default="[]")
    updated_at: Mapped[datetime] = mapped_column()
