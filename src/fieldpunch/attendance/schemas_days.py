"""API shapes of what is set per day: roster entries, the calendar, requests that cover time."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, ValidationInfo, field_validator

from fieldpunch.attendance.schemas import ShiftRef, unique
from fieldpunch.kit.schemas import EventTime, IdRef, In, Out, ShortText

REST = "rest"
MAX_ROSTER_DAYS = 366
MAX_REQUEST_DAYS = 366


def _range(start: date, end: date, days: int) -> None:
    if end < start:
        raise ValueError("`to` is on or after `from`")
    if (end - start).days >= days:
        raise ValueError(f"at most {days} days")


class RosterEntryIn(In):
    user_id: IdRef
    date: date
    shift_id: ShiftRef | None = Field(description='A shift id, "rest", or null to clear the day')


class RosterFill(In):
    """The same people, a date range, and a pattern repeated over it from `from` on
    (e.g. 早-早-晚-晚-休-休: `[early, early, late, late, "rest", "rest"]`)."""

    user_ids: Annotated[list[IdRef], Field(min_length=1, max_length=1000)]
    from_: date = Field(alias="from")
    to: date
    pattern: Annotated[list[ShiftRef], Field(min_length=1, max_length=62)]

    @field_validator("user_ids")
    @classmethod
    def _once(cls, value: list[str]) -> list[str]:
        return unique(value)

    @field_validator("to")
    @classmethod
    def _span(cls, value: date, info: ValidationInfo) -> date:
        if (start := info.data.get("from_")) is not None:
            _range(start, value, MAX_ROSTER_DAYS)
        return value

    def days(self) -> list[tuple[date, str]]:
        count = (self.to - self.from_).days + 1
        return [
            (self.from_ + timedelta(days=i), self.pattern[i % len(self.pattern)])
            for i in range(count)
        ]


MAX_ROSTER_CELLS = 50_000


class RosterPut(In):
    """Fills first, in order, then single entries: a later one wins for a person and date."""

    entries: Annotated[list[RosterEntryIn], Field(max_length=MAX_ROSTER_CELLS)] = []
    fill: Annotated[list[RosterFill], Field(max_length=50)] = Field([], validate_default=True)

    @field_validator("fill")
    @classmethod
    def _bounded(cls, fills: list[RosterFill], info: ValidationInfo) -> list[RosterFill]:
        entries: list[RosterEntryIn] = info.data.get("entries", [])
        cells = len(entries) + sum(len(f.user_ids) * len(f.days()) for f in fills)
        if cells == 0:
            raise ValueError("nothing to set: send `fill` or `entries`")
        if cells > MAX_ROSTER_CELLS:
            raise ValueError(f"at most {MAX_ROSTER_CELLS} person-days at once")
        return fills


class RosterDay(Out):
    date: date
    shift_id: str = Field(description='A shift id, or "rest"')


class RosterPerson(Out):
    user_id: str
    days: list[RosterDay]


class RosterPutOut(Out):
    set: int = Field(description="Person-days given a shift or rest")
    cleared: int = Field(description="Person-days cleared (they had an entry)")


CalendarKind = Literal["holiday", "rest", "workday"]


class CalendarDayIn(In):
    date: date
    kind: CalendarKind = Field(
        description="`holiday`: a statutory holiday (法定节假日); `rest`: a day off of a holiday "
        "break that is not itself statutory; `workday`: a make-up workday (调休) on a rest day"
    )
    name: ShortText = ""


class CalendarDayOut(Out):
    date: date
    kind: CalendarKind
    name: str


CalendarPut = Annotated[list[CalendarDayIn], Field(max_length=366)]

RequestKind = Literal["leave", "trip", "out", "overtime"]
LeaveType = Literal[
    "annual",
    "sick",
    "personal",
    "marriage",
    "maternity",
    "paternity",
    "bereavement",
    "compensatory",
    "other",
]
Unit = Literal["day", "half_day", "hour"]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class RequestCreate(In):
    kind: RequestKind = Field(description="请假 leave, 出差 trip, 外出 out, 加班 overtime")
    leave_type: LeaveType | None = Field(None, validate_default=True)
    unit: Unit | None = Field(
        None,
        validate_default=True,
        description="How it is counted: `day` and `half_day` start and end at local midnight "
        "(or noon for half days); default `day` for leave and trips, `hour` otherwise",
    )
    start: EventTime
    end: EventTime = Field(description="After `start` (exclusive)")
    reason: Reason

    @field_validator("leave_type")
    @classmethod
    def _for_leave(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if kind == "leave" and value is None:
            raise ValueError("leave says its type")
        if kind is not None and kind != "leave" and value is not None:
            raise ValueError("only leave has a type")
        return value

    @field_validator("unit")
    @classmethod
    def _unit(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if value is None:
            return None if kind is None else ("day" if kind in ("leave", "trip") else "hour")
        if kind in ("out", "overtime") and value != "hour":
            raise ValueError(f"{kind} is counted in hours")
        return value

    @field_validator("end")
    @classmethod
    def _after_start(cls, value: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("start")
        if start is not None:
            if value <= start:
                raise ValueError("the end is after the start")
            if value - start > timedelta(days=MAX_REQUEST_DAYS):
                raise ValueError(f"at most {MAX_REQUEST_DAYS} days at once")
        return value


class RequestDecision(In):
    comment: Annotated[str, StringConstraints(max_length=2000)] = ""


RequestStatus = Literal["pending", "approved", "rejected", "cancelled"]


class RequestOut(Out):
    id: str
    user_id: str
    kind: RequestKind
    leave_type: LeaveType | None
    unit: Unit
    start: datetime = Field(validation_alias="start_at")
    end: datetime = Field(validation_alias="end_at")
    reason: str
    status: RequestStatus
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    comment: str
    cancelled_by: str | None
    cancelled_at: datetime | None
