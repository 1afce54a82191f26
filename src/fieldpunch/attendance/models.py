"""Attendance rules as stored: shifts, groups and who is in them, rosters, the org calendar,
requests that cover time, and the person-days those changes leave to recompute."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fieldpunch.db.base import Base, OrgScoped, Timestamps
from fieldpunch.db.types import JSONType

# `attendance_dirty.user_id` for a day of every person in the org (a calendar change): one row
# instead of one per person; the recompute expands it to the org's people.
EVERYONE = "*"


class Shift(OrgScoped, Timestamps, Base):
    """班次: one or two periods ("HH:MM" local times; an end before its start crosses midnight)."""

    __tablename__ = "shifts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    periods: Mapped[list[dict[str, str]]] = mapped_column(JSONType)
    # Unpaid breaks inside a period (two periods also rest between them).
    breaks: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)
    grace_late_min: Mapped[int] = mapped_column(Integer, default=0)
    grace_early_min: Mapped[int] = mapped_column(Integer, default=0)
    serious_late_min: Mapped[int | None] = mapped_column(Integer)
    absent_late_min: Mapped[int | None] = mapped_column(Integer)
    flex_min: Mapped[int] = mapped_column(Integer, default=0)
    # When a punch counts for an edge (as attendance.values.Shift reads them).
    earliest_in_min: Mapped[int] = mapped_column(Integer, default=120)
    latest_in_min: Mapped[int | None] = mapped_column(Integer)
    earliest_out_min: Mapped[int | None] = mapped_column(Integer)
    latest_out_min: Mapped[int] = mapped_column(Integer, default=360)
    # Soft delete: roster entries and computed days of the past keep pointing at it.
    deleted_at: Mapped[datetime | None] = mapped_column()


class AttendanceGroup(OrgScoped, Timestamps, Base):
    """考勤组: a schedule (fixed, rostered, free) and where its people may punch."""

    __tablename__ = "attendance_groups"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    schedule: Mapped[str] = mapped_column(String(16))
    shift_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("shifts.id", ondelete="RESTRICT"), index=True
    )
    workdays: Mapped[list[int]] = mapped_column(JSONType, default=list)
    required_min: Mapped[int | None] = mapped_column(Integer)
    follows_calendar: Mapped[bool] = mapped_column(default=True)
    field_punch: Mapped[str] = mapped_column(String(16), default="counts")
    overtime_after_shift: Mapped[bool] = mapped_column(default=False)
    overtime_after_min: Mapped[int] = mapped_column(Integer, default=30)
    overtime_on_rest_days: Mapped[bool] = mapped_column(default=False)


class GroupUser(Base):
    """A person's own assignment (wins over their team's); one group per person."""

    __tablename__ = "attendance_group_users"
    __table_args__ = (Index("ix_attendance_group_users_group", "group_id"),)

    org_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("attendance_groups.id", ondelete="CASCADE")
    )


class GroupTeam(Base):
    """A whole team (and its sub-teams that have no group of their own); one group per team."""

    __tablename__ = "attendance_group_teams"
    __table_args__ = (Index("ix_attendance_group_teams_group", "group_id"),)

    org_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("attendance_groups.id", ondelete="CASCADE")
    )


class GroupPlace(Base):
    """A place (office, Wi-Fi) where the group's punches count as on site."""

    __tablename__ = "attendance_group_places"
    __table_args__ = (Index("ix_attendance_group_places_place", "place_id"),)

    org_id: Mapped[str] = mapped_column(String(32), ForeignKey("orgs.id", ondelete="CASCADE"))
    group_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("attendance_groups.id", ondelete="CASCADE"), primary_key=True
    )
    place_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("places.id", ondelete="CASCADE"), primary_key=True
    )


class RosterEntry(Base):
    """排班: one person's shift (or rest, `shift_id` null) on one local date."""

    __tablename__ = "roster_entries"
    __table_args__ = (
        Index("ix_roster_entries_org_day", "org_id", "day"),
        Index("ix_roster_entries_shift_day", "shift_id", "day"),
    )

    org_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    shift_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("shifts.id", ondelete="RESTRICT")
    )
    updated_at: Mapped[datetime] = mapped_column()
    updated_by: Mapped[str] = mapped_column(String(48))


class CalendarDay(Base):
    """The org calendar: a statutory holiday, a rest day of a holiday break, or a make-up
    workday (调休) on a weekend."""

    __tablename__ = "calendar_days"

    org_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200), default="")


class AttendanceRequest(OrgScoped, Base):
    """Leave, business trip, going out or overtime, filed by the person, decided by a manager."""

    __tablename__ = "attendance_requests"
    __table_args__ = (
        Index("ix_attendance_requests_org_user_start", "org_id", "user_id", "start_at"),
        Index("ix_attendance_requests_org_status", "org_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(16))
    leave_type: Mapped[str | None] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(16))
    start_at: Mapped[datetime] = mapped_column()
    end_at: Mapped[datetime] = mapped_column()
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column()
    decided_by: Mapped[str | None] = mapped_column(String(48))
    decided_at: Mapped[datetime | None] = mapped_column()
    comment: Mapped[str] = mapped_column(Text, default="")
    cancelled_by: Mapped[str | None] = mapped_column(String(48))
    cancelled_at: Mapped[datetime | None] = mapped_column()


class DirtyDay(Base):
    """A person-day whose stored attendance is out of date: written in the transaction of the
    change (a roster entry, a group rule, a calendar day, a decided request), removed by the
    recompute. The key makes repeated changes to one day one row."""

    __tablename__ = "attendance_dirty"
    __table_args__ = (Index("ix_attendance_dirty_marked", "marked_at"),)

    org_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)  # or EVERYONE
    marked_at: Mapped[datetime] = mapped_column()
    # What made it dirty last ("roster", "calendar", "group", "shift", "request"): for logs.
    cause: Mapped[str] = mapped_column(String(16))


__all__ = [
    "EVERYONE",
    "AttendanceGroup",
    "AttendanceRequest",
    "CalendarDay",
    "DirtyDay",
    "GroupPlace",
    "GroupTeam",
    "GroupUser",
    "RosterEntry",
    "Shift",
]
