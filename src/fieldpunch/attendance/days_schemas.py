"""API shapes of the computed days: the rows of the attendance report's daily view."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from fieldpunch.kit.schemas import IdRef, In, Out

MAX_DAYS = 366
DayStatus = Literal[
    "normal",
    "late",
    "serious_late",
    "early_leave",
    "absent",
    "missing_clock_in",
    "missing_clock_out",
    "leave",
    "trip",
    "rest",
    "holiday",
]


class EdgePunch(Out):
    id: str
    at: datetime
    method: Literal["gps", "wifi", "field", "correction"]
    place: str = Field(description="The matched place id, or empty")


class DayEdge(Out):
    """One edge of the day (period × in/out) and the punch that decided it."""

    period: int = Field(description="0 or 1")
    side: Literal["in", "out"]
    expected: datetime | None = Field(
        description="When the edge was due (null off schedule: rest days, holidays, free hours)"
    )
    state: Literal["ok", "late", "early", "missing", "excused", "pending"]
    punch: EdgePunch | None
    minutes: int = Field(description="Late minutes of an in edge, early minutes of an out edge")
    request_id: str | None = Field(description="The request that excused or moved the edge")


class DayOut(Out):
    user_id: str
    user_name: str
    date: date
    status: DayStatus | None = Field(description="The most serious status; null: nothing yet")
    statuses: list[DayStatus] = Field(description="Every status, the most serious first")
    kind: Literal["workday", "rest", "holiday"]
    holiday_name: str
    schedule: Literal["fixed", "rostered", "free"]
    complete: bool = Field(description="False: computed while the day was in progress")
    first_in: datetime | None
    last_out: datetime | None
    scheduled_min: int
    worked_min: int
    late_min: int
    early_leave_min: int
    overtime_workday_min: int
    overtime_rest_day_min: int
    overtime_holiday_min: int
    leave_min: int
    leave_by_type: dict[str, int] = Field(description="Minutes by leave type")
    trip_min: int
    out_min: int
    field_day: bool = Field(description="A deciding punch was a field punch (外勤)")
    group_id: str | None
    shift_id: str | None
    edges: list[DayEdge]
    computed_at: datetime


class RecomputeIn(In):
    """Days to recompute: one person's, one team's, or everyone's in a group."""

    from_: date = Field(alias="from")
    to: date = Field(description=f"On or after `from`, at most {MAX_DAYS} days on")
    user_id: IdRef | None = None
    team_id: IdRef | None = None

    @field_validator("to")
    @classmethod
    def _span(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("from_")
        if start is not None:
            if value < start:
                raise ValueError("`to` is on or after `from`")
            if value - start >= timedelta(days=MAX_DAYS):
                raise ValueError(f"at most {MAX_DAYS} days")
        return value


class RecomputeOut(Out):
    marked: int = Field(description="Person-days (or whole-org days) left for the recompute")
