"""The attendance days as computed: one row per person and local date (`day.compute_day`'s
`DayResult`, flattened into columns the reports sum, with the whole result kept as JSON)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fieldpunch.db.base import Base
from fieldpunch.db.types import JSONType


class AttendanceDay(Base):
    """考勤日: written only by the recompute (`attendance/recompute.py`), read by the days API and
    the reports. Minutes are real elapsed minutes; `first_in` / `last_out` are UTC instants (the
    reports show them in the org's time zone)."""

    __tablename__ = "attendance_days"
    __table_args__ = (
        # The org's days in a date range (reports, the days list); by person is the primary key,
        # by team joins users (ix_users_team_id) to the key.
        Index("ix_attendance_days_org_day", "org_id", "day"),
        # Days computed while in progress, to complete once they end.
        Index("ix_attendance_days_incomplete", "complete", "day"),
    )

    org_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    # The most serious status (statuses[0]); null: nothing known yet (a day in progress).
    status: Mapped[str | None] = mapped_column(String(24))
    statuses: Mapped[list[str]] = mapped_column(JSONType)
    kind: Mapped[str] = mapped_column(String(16))  # workday | rest | holiday
    holiday_name: Mapped[str] = mapped_column(String(200), default="")
    schedule: Mapped[str] = mapped_column(String(16))  # fixed | rostered | free
    scheduled_min: Mapped[int] = mapped_column(Integer, default=0)
    worked_min: Mapped[int] = mapped_column(Integer, default=0)
    late_min: Mapped[int] = mapped_column(Integer, default=0)
    early_leave_min: Mapped[int] = mapped_column(Integer, default=0)
    # Overtime by the three legal rates, as columns so reports sum them in SQL.
    overtime_workday_min: Mapped[int] = mapped_column(Integer, default=0)
    overtime_rest_day_min: Mapped[int] = mapped_column(Integer, default=0)
    overtime_holiday_min: Mapped[int] = mapped_column(Integer, default=0)
    leave_min: Mapped[int] = mapped_column(Integer, default=0)  # all types together
    leave_by_type: Mapped[dict[str, int]] = mapped_column(JSONType)  # leave_type → minutes
    trip_min: Mapped[int] = mapped_column(Integer, default=0)
    out_min: Mapped[int] = mapped_column(Integer, default=0)
    field_day: Mapped[bool] = mapped_column(default=False)
    # Tallies (tallies.py), so a month's summary is summed in SQL and reads no JSON.
    attended: Mapped[bool] = mapped_column(default=False)
    late: Mapped[bool] = mapped_column(default=False)  # late or serious_late
    serious_late: Mapped[bool] = mapped_column(default=False)
    early_leave: Mapped[bool] = mapped_column(default=False)
    absent: Mapped[bool] = mapped_column(default=False)
    missing_punches: Mapped[int] = mapped_column(Integer, default=0)
    corrections: Mapped[int] = mapped_column(Integer, default=0)
    # False: computed before the day's windows closed; recomputed after it ends.
    complete: Mapped[bool] = mapped_column(default=True)
    first_in: Mapped[datetime | None] = mapped_column()
    last_out: Mapped[datetime | None] = mapped_column()
    # The rules used (no foreign keys: a past day keeps naming a group or shift since removed).
    group_id: Mapped[str | None] = mapped_column(String(32))
    shift_id: Mapped[str | None] = mapped_column(String(32))
    # DayResult.to_json(): the edges with the punch that decided each.
    result: Mapped[dict[str, Any]] = mapped_column(JSONType)
    computed_at: Mapped[datetime] = mapped_column()


__all__ = ["AttendanceDay"]
