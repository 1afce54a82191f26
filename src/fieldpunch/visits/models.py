"""Customer visits (拜访) as stored: the plan and its record, the org's outcomes and visit form,
and the visit punches already applied (which makes applying a punch happen once)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fieldpunch.db.base import Base, OrgScoped, Timestamps
from fieldpunch.db.types import JSONType

STATES = ("planned", "in_progress", "done", "missed", "cancelled")


class Visit(OrgScoped, Timestamps, Base):
    """One visit of a person to a customer: planned (or not), then started and ended by punches."""

    __tablename__ = "visits"
    __table_args__ = (
        # A person's day, a customer's history, and the plans the punches match against.
        Index("ix_visits_org_user_day", "org_id", "user_id", "day"),
        Index("ix_visits_org_customer_day", "org_id", "customer_id", "day"),
        # The missed-visits job: plans whose window has closed.
        Index("ix_visits_state_due", "state", "due_by"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("customers.id", ondelete="RESTRICT")
    )
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="RESTRICT"))
    planned: Mapped[bool] = mapped_column(default=True)  # false: started by a punch, unplanned
    planned_start: Mapped[datetime | None] = mapped_column()
    planned_end: Mapped[datetime | None] = mapped_column()
    expected_min: Mapped[int | None] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(Text, default="")
    # The local date (org time zone) of the plan or, unplanned, of the check-in; null for a plan
    # with no date yet (the person's next check-in at the customer starts it).
    day: Mapped[date | None] = mapped_column(Date)
    # When a still-planned visit counts as missed (the window's end); null: never.
    due_by: Mapped[datetime | None] = mapped_column()
    state: Mapped[str] = mapped_column(String(16), default="planned")
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    cancelled_by: Mapped[str | None] = mapped_column(String(48))
    cancelled_at: Mapped[datetime | None] = mapped_column()
    started_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    in_punch_id: Mapped[str | None] = mapped_column(String(32))
    out_punch_id: Mapped[str | None] = mapped_column(String(32))
    duration_s: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str | None] = mapped_column(String(32))
    next_follow_up: Mapped[date | None] = mapped_column(Date)
    answers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    photo_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_by: Mapped[str] = mapped_column(String(48))


class VisitOutcome(Base):
    """One entry of the org's outcome list (order taken, follow-up needed, no one there, ...)."""

    __tablename__ = "visit_outcomes"

    org_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)


class VisitField(Base):
    """One field of the org's visit form: text, number, choice (of `options`) or photo."""

    __tablename__ = "visit_form_fields"

    org_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16))
    required: Mapped[bool] = mapped_column(default=False)
    options: Mapped[list[str]] = mapped_column(JSONType, default=list)
    position: Mapped[int] = mapped_column(Integer)


class VisitPunch(Base):
    """A visit punch the follower has applied, and what it did. Its key is the punch: a punch
    read twice (a retried job, two workers) finds its row and changes nothing again."""

    __tablename__ = "visit_punches"
    __table_args__ = (
        # Check-outs that found no visit, waiting for a check-in that arrives late (offline).
        Index("ix_visit_punches_pairing", "org_id", "user_id", "customer_id", "at"),
    )

    punch_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(32), ForeignKey("orgs.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column()
    visit_id: Mapped[str | None] = mapped_column(String(32), index=True)
    # started | ended | repeat | unmatched | ignored
    effect: Mapped[str] = mapped_column(String(16))
    applied_at: Mapped[datetime] = mapped_column()


__all__ = ["STATES", "Visit", "VisitField", "VisitOutcome", "VisitPunch"]
