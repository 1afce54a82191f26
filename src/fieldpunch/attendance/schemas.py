"""API shapes of the attendance rules; each rule that one body can break is checked here, so a
bad value is a 422 naming its field before any row is read."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, ValidationInfo, field_validator

from fieldpunch.kit.schemas import IdRef, In, Name, Out

DAY_MIN = 24 * 60
HHMM = Annotated[
    str,
    StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$"),
    Field(description='Local time of day, "HH:MM" (00:00–23:59)', examples=["09:00"]),
]
Minutes = Annotated[int, Field(ge=0, le=DAY_MIN)]
Weekday = Annotated[int, Field(ge=1, le=7, description="ISO weekday: 1 Monday … 7 Sunday")]
ShiftRef = Annotated[
    str,
    StringConstraints(min_length=1, max_length=40),
    Field(description='A shift id, or "rest"'),
]


def minute_of(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def timeline(periods: list[Period]) -> list[tuple[int, int]]:
    """The periods as minutes from the midnight before the first start, in order: a period
    ending at or before its start ends the next day; a second period starts after the first."""
    out: list[tuple[int, int]] = []
    for period in periods:
        start, end = minute_of(period.start), minute_of(period.end)
        if out:
            while start < out[-1][1]:
                start += DAY_MIN
        length = (end - start) % DAY_MIN
        out.append((start, start + length))
    return out


class Period(In):
    start: HHMM
    end: HHMM = Field(description="Before `start`: the period crosses midnight")

    @field_validator("end")
    @classmethod
    def _not_empty(cls, end: str, info: ValidationInfo) -> str:
        if info.data.get("start") == end:
            raise ValueError("a period ends at another time than it starts")
        return end


class ShiftCreate(In):
    name: Name
    periods: Annotated[list[Period], Field(min_length=1, max_length=2)]
    breaks: Annotated[list[Period], Field(max_length=2)] = Field(
        [], description="Unpaid breaks inside a period (e.g. 12:00–13:00 of 09:00–18:00)"
    )
    grace_late_min: Minutes = Field(0, description="Minutes late that still count as on time")
    grace_early_min: Minutes = Field(0, description="Minutes of early leave that still do")
    serious_late_min: Minutes | None = Field(
        None, description="Late by more than this: `serious_late` (above the grace)"
    )
    absent_late_min: Minutes | None = Field(
        None, description="Late by more than this: absent for the day (above serious late)"
    )
    flex_min: Minutes = Field(
        0, description="弹性: come up to this many minutes late, leave as much later"
    )
    earliest_in_min: Minutes = Field(
        120, description="A clock-in counts from this many minutes before its period's start"
    )
    latest_in_min: Minutes | None = Field(
        None, description="… until this many minutes after it (null: until the period's end)"
    )
    earliest_out_min: Minutes | None = Field(
        None,
        description="A clock-out counts from this many minutes before its period's end "
        "(null: from the period's start)",
    )
    latest_out_min: Minutes = Field(360, description="… until this many minutes after the end")

    @field_validator("periods")
    @classmethod
    def _within_a_day(cls, periods: list[Period]) -> list[Period]:
        spans = timeline(periods)
        if spans[-1][1] - spans[0][0] > DAY_MIN:
            raise ValueError(
                "the second period starts after the first ends; together within 24 hours"
            )
        return periods

    @field_validator("breaks")
    @classmethod
    def _inside(cls, breaks: list[Period], info: ValidationInfo) -> list[Period]:
        periods = info.data.get("periods")
        if not breaks or periods is None:
            return breaks
        spans = timeline(periods)
        for rest in breaks:
            # On the shift's timeline: at or after the first start, as a second period is.
            start = minute_of(rest.start)
            start += DAY_MIN if start < spans[0][0] else 0
            end = start + (minute_of(rest.end) - start) % DAY_MIN
            if not any(s <= start and end <= e for s, e in spans):
                raise ValueError("a break lies inside a period of the shift")
        return breaks

    @field_validator("serious_late_min")
    @classmethod
    def _above_grace(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and value <= info.data.get("grace_late_min", 0):
            raise ValueError("serious late is more than the late grace")
        return value

    @field_validator("absent_late_min")
    @classmethod
    def _above_serious(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None:
            return value
        floor = info.data.get("serious_late_min") or info.data.get("grace_late_min", 0)
        if value <= floor:
            raise ValueError("absent-when-late is more than serious late and the grace")
        return value

    @field_validator("latest_in_min")
    @classmethod
    def _in_first_period(cls, value: int | None, info: ValidationInfo) -> int | None:
        periods = info.data.get("periods")
        if value is not None and periods is not None:
            start, end = timeline(periods)[0]
            if value >= end - start:
                raise ValueError("a clock-in window closes before its period ends")
        return value

    @field_validator("earliest_out_min")
    @classmethod
    def _in_last_period(cls, value: int | None, info: ValidationInfo) -> int | None:
        periods = info.data.get("periods")
        if value is not None and periods is not None:
            start, end = timeline(periods)[-1]
            if value >= end - start:
                raise ValueError("a clock-out window opens after its period starts")
        return value

    @field_validator("latest_out_min")
    @classmethod
    def _one_day_window(cls, value: int, info: ValidationInfo) -> int:
        periods, before = info.data.get("periods"), info.data.get("earliest_in_min")
        if periods is None or before is None:
            return value
        spans = timeline(periods)
        if before + (spans[-1][1] - spans[0][0]) + value > DAY_MIN:
            raise ValueError(
                "the punch window (before the start, the shift, after the end) is at most "
                "24 hours, so that one day's punches never count for the next"
            )
        return value


class ShiftUpdate(In):
    name: Name | None = None
    periods: Annotated[list[Period], Field(min_length=1, max_length=2)] | None = None
    breaks: Annotated[list[Period], Field(max_length=2)] | None = None
    grace_late_min: Minutes | None = None
    grace_early_min: Minutes | None = None
    serious_late_min: Minutes | None = None
    absent_late_min: Minutes | None = None
    flex_min: Minutes | None = None
    earliest_in_min: Minutes | None = None
    latest_in_min: Minutes | None = None
    earliest_out_min: Minutes | None = None
    latest_out_min: Minutes | None = None


class PeriodOut(Out):
    start: str
    end: str


class ShiftOut(Out):
    id: str
    name: str
    periods: list[PeriodOut]
    breaks: list[PeriodOut]
    grace_late_min: int
    grace_early_min: int
    serious_late_min: int | None
    absent_late_min: int | None
    flex_min: int
    earliest_in_min: int
    latest_in_min: int | None
    earliest_out_min: int | None
    latest_out_min: int
    created_at: datetime
    updated_at: datetime


Schedule = Literal["fixed", "rostered", "free"]
FieldPunch = Literal["counts", "needs_approval", "no"]
Ids = Annotated[list[IdRef], Field(max_length=5000)]


def unique(values: list[Any]) -> list[Any]:
    if len(set(values)) != len(values):
        raise ValueError("each value once")
    return values


class GroupCreate(In):
    name: Name
    schedule: Schedule = Field(
        description="`fixed` (固定班制: `shift_id` on `workdays`), `rostered` (排班制: the "
        "roster's shift per person and day), `free` (自由工时: `required_min` a workday)"
    )
    shift_id: IdRef | None = Field(None, validate_default=True, description="For `fixed`")
    workdays: Annotated[list[Weekday], Field(max_length=7)] = Field(
        [1, 2, 3, 4, 5], description="ISO weekdays worked (`fixed`, `free`)"
    )
    required_min: Annotated[int, Field(ge=1, le=DAY_MIN)] | None = Field(
        None, validate_default=True, description="Minutes to work a workday (`free`)"
    )
    follows_calendar: bool = Field(
        True, description="Statutory holidays and make-up workdays (调休) apply"
    )
    user_ids: Ids = Field([], description="People (their own group wins over their team's)")
    team_ids: Ids = Field([], description="Teams, with their sub-teams that have no group")
    place_ids: Ids = Field([], description="Where punches count as on site")
    field_punch: FieldPunch = Field(
        "counts", description="Punches away from the places (外勤): count, need approval, or not"
    )
    overtime_after_shift: bool = Field(
        False, description="Time after the shift counts as overtime by itself (no request)"
    )
    overtime_after_min: Minutes = Field(
        30, description="… from this many minutes after the shift's end on"
    )
    overtime_on_rest_days: bool = Field(
        False, description="Work on rest days and holidays counts as overtime without a request"
    )

    @field_validator("shift_id")
    @classmethod
    def _shift_for_fixed(cls, value: str | None, info: ValidationInfo) -> str | None:
        schedule = info.data.get("schedule")
        if schedule == "fixed" and value is None:
            raise ValueError("a fixed schedule names its shift")
        if schedule in ("rostered", "free") and value is not None:
            raise ValueError(f"a {schedule} schedule takes no shift here")
        return value

    @field_validator("workdays")
    @classmethod
    def _workdays(cls, value: list[int]) -> list[int]:
        return sorted(unique(value))

    @field_validator("required_min")
    @classmethod
    def _required_for_free(cls, value: int | None, info: ValidationInfo) -> int | None:
        schedule = info.data.get("schedule")
        if schedule == "free" and value is None:
            raise ValueError("a free schedule says how many minutes make a workday")
        if schedule in ("fixed", "rostered") and value is not None:
            raise ValueError("only a free schedule takes required minutes")
        return value

    @field_validator("user_ids", "team_ids", "place_ids")
    @classmethod
    def _once(cls, value: list[str]) -> list[str]:
        return unique(value)


class GroupUpdate(In):
    name: Name | None = None
    schedule: Schedule | None = None
    shift_id: IdRef | None = None
    workdays: Annotated[list[Weekday], Field(max_length=7)] | None = None
    required_min: Annotated[int, Field(ge=1, le=DAY_MIN)] | None = None
    follows_calendar: bool | None = None
    user_ids: Ids | None = None
    team_ids: Ids | None = None
    place_ids: Ids | None = None
    field_punch: FieldPunch | None = None
    overtime_after_shift: bool | None = None
    overtime_after_min: Minutes | None = None
    overtime_on_rest_days: bool | None = None


class GroupOut(Out):
    id: str
    name: str
    schedule: Schedule
    shift_id: str | None
    workdays: list[int]
    required_min: int | None
    follows_calendar: bool
    user_ids: list[str]
    team_ids: list[str]
    place_ids: list[str]
    field_punch: FieldPunch
    overtime_after_shift: bool
    overtime_after_min: int
    overtime_on_rest_days: bool
    created_at: datetime
    updated_at: datetime
