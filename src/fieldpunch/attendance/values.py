"""Plain values in and out of the attendance day (`day.compute_day`): no I/O, no ORM.

Inputs are frozen dataclasses the storage layer builds from its rows; the output, `DayResult`,
turns into JSON with `to_json()` and back with `DayResult.from_json()`, so it can be stored per
person and day. Times of day are local wall-clock times in the org's time zone; instants are
timezone-aware UTC datetimes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal


class Schedule(StrEnum):
    fixed = "fixed"  # 固定班制: the same shift on chosen weekdays
    rostered = "rostered"  # 排班制: a shift (or rest) per person per day
    free = "free"  # 自由工时: only a required duration per day


class FieldPunchRule(StrEnum):
    counts = "counts"
    needs_approval = "needs_approval"  # the caller passes only approved ones: they count
    no = "no"  # field punches never decide an edge


class DayKind(StrEnum):
    workday = "workday"
    rest = "rest"
    holiday = "holiday"  # a statutory holiday (法定节假日): overtime here is the holiday rate


class PunchKind(StrEnum):
    clock_in = "clock_in"
    clock_out = "clock_out"


class Method(StrEnum):
    """How a punch was placed, for the reports. The caller derives it: `correction` for a punch of
    `source: "correction"`, `field` for one matched to none of the group's places, `wifi` for one
    matched by a place's Wi-Fi, `gps` otherwise."""

    gps = "gps"
    wifi = "wifi"
    field = "field"  # 外勤: outside every punch place of the group
    correction = "correction"  # 补卡: a punch made by an approved correction


class RequestKind(StrEnum):
    leave = "leave"  # 请假
    trip = "trip"  # 出差
    out = "out"  # 外出
    overtime = "overtime"  # 加班


class LeaveUnit(StrEnum):
    day = "day"
    half_day = "half_day"
    hour = "hour"


class Status(StrEnum):
    normal = "normal"
    late = "late"
    serious_late = "serious_late"
    early_leave = "early_leave"
    absent = "absent"
    missing_clock_in = "missing_clock_in"
    missing_clock_out = "missing_clock_out"
    leave = "leave"
    trip = "trip"
    rest = "rest"
    holiday = "holiday"


# The order statuses are listed in a result: the most serious first, so statuses[0] is the one a
# one-word report column shows.
STATUS_ORDER: tuple[Status, ...] = (
    Status.absent,
    Status.missing_clock_in,
    Status.missing_clock_out,
    Status.serious_late,
    Status.late,
    Status.early_leave,
    Status.leave,
    Status.trip,
    Status.normal,
    Status.holiday,
    Status.rest,
)


class OvertimeKind(StrEnum):
    """The three rates of Chinese labour law (劳动法 第四十四条): 150 %, 200 %, 300 %."""

    workday = "workday"
    rest_day = "rest_day"
    holiday = "holiday"


class EdgeSide(StrEnum):
    clock_in = "in"
    clock_out = "out"


class EdgeState(StrEnum):
    ok = "ok"
    late = "late"  # the clock-in was later than the grace (and the flex) allow
    early = "early"  # the clock-out was earlier than the grace allows
    missing = "missing"
    excused = "excused"  # a leave, trip or out request covers the edge
    pending = "pending"  # no punch yet, but the edge's window is still open (`now`)


Roster = Literal["work", "rest"]


def _enums(obj: object, **fields: type[StrEnum]) -> None:
    # Rows hand over plain strings: make them the enum (a bad value fails here, not later).
    for name, enum in fields.items():
        value = getattr(obj, name)
        if value is not None and not isinstance(value, enum):
            object.__setattr__(obj, name, enum(value))


def _aware(t: dt.datetime, name: str) -> None:
    # A naive time would be read in whatever zone the machine has: refuse it at the door.
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC)")


@dataclass(frozen=True, slots=True)
class Period:
    """One work period in local time; an end at or before its start ends on the next day."""

    start: dt.time
    end: dt.time

    def __post_init__(self) -> None:
        # Shifts are stored as "HH:MM" text: Period(**row) takes it as it is.
        for name in ("start", "end"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, dt.time.fromisoformat(value))

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start


@dataclass(frozen=True, slots=True)
class Shift:
    """班次. All durations in minutes.

    Windows (when a punch counts for an edge): a clock-in from `earliest_in_min` before its
    period's start until `latest_in_min` after it (None: until the period's end); a clock-out from
    `earliest_out_min` before its period's end (None: from the period's start) until
    `latest_out_min` after it. With two periods the first clock-out's window stops at the second
    start, so windows never overlap.
    """

    periods: tuple[Period, ...]
    grace_late_min: int = 0
    grace_early_min: int = 0
    serious_late_min: int | None = None  # late by more than this → serious_late
    absent_late_min: int | None = None  # late by more than this → absent
    flex_min: int = 0  # 弹性: come up to N late, leave as much later
    earliest_in_min: int = 120
    latest_in_min: int | None = None
    earliest_out_min: int | None = None
    latest_out_min: int = 360
    breaks: tuple[Period, ...] = ()  # rest inside a period, not counted as work
    name: str = ""

    def __post_init__(self) -> None:
        # Tuples, not lists: a shift is hashable, so its placement on a date is cached.
        object.__setattr__(self, "periods", tuple(self.periods))
        object.__setattr__(self, "breaks", tuple(self.breaks))
        if not 1 <= len(self.periods) <= 2:
            raise ValueError("a shift has one or two periods")


@dataclass(frozen=True, slots=True)
class GroupRule:
    """The attendance group's (考勤组) rules that the day computation needs."""

    schedule: Schedule = Schedule.fixed
    required_min: int = 0  # free schedule: minutes of work a workday asks for
    field_punch: FieldPunchRule = FieldPunchRule.counts
    # Time after the shift's end counts as workday overtime by itself, from this many minutes on.
    overtime_after_shift: bool = False
    overtime_after_min: int = 30
    # Punches on rest days and holidays count as overtime without an approved request.
    overtime_on_rest_days: bool = False

    def __post_init__(self) -> None:
        _enums(self, schedule=Schedule, field_punch=FieldPunchRule)


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    """One date of an org calendar: a holiday, a rest day of a holiday break, or a 调休 workday."""

    date: dt.date
    kind: DayKind
    name: str = ""

    def __post_init__(self) -> None:
        _enums(self, kind=DayKind)


@dataclass(frozen=True, slots=True)
class CalendarDay:
    """The day as it is for one person, resolved (`calendar_cn.resolve_day`)."""

    date: dt.date
    kind: DayKind
    name: str = ""  # the holiday's name, or the holiday a make-up workday (调休) belongs to

    def __post_init__(self) -> None:
        _enums(self, kind=DayKind)


@dataclass(frozen=True, slots=True)
class Punch:
    """A counting punch: accepted, approved on review, or made by an approved correction.
    Attendance punches only: visit punches (`visit_in`, `visit_out`) are not passed in."""

    id: str
    at: dt.datetime  # UTC, aware (the punch's trusted time)
    kind: PunchKind
    method: Method = Method.gps
    place: str = ""

    def __post_init__(self) -> None:
        _aware(self.at, "Punch.at")
        _enums(self, kind=PunchKind, method=Method)


@dataclass(frozen=True, slots=True)
class Request:
    """An approved request; it covers [start, end) (UTC, aware). A request by whole days (unit
    `day`) also covers the rest of each shift period that starts in it (a night shift); a half
    day comes as its half (local midnight–noon, noon–midnight, or `timeline.halves`)."""

    id: str
    kind: RequestKind
    start: dt.datetime
    end: dt.datetime
    leave_type: str = ""  # leave only: annual, sick, personal, ...
    unit: LeaveUnit | None = None

    def __post_init__(self) -> None:
        _aware(self.start, "Request.start")
        _aware(self.end, "Request.end")
        _enums(self, kind=RequestKind, unit=LeaveUnit)


@dataclass(frozen=True, slots=True)
class DecidingPunch:
    id: str
    at: dt.datetime
    method: Method
    place: str = ""


@dataclass(frozen=True, slots=True)
class Edge:
    """One edge of the day (period × in/out) and what decided it."""

    period: int  # 0 or 1
    side: EdgeSide
    # UTC: when the edge was due (moved by flex and by a covering request). None off schedule
    # (rest days, holidays, free schedules): there the edges are the first in and the last out.
    expected: dt.datetime | None
    state: EdgeState
    punch: DecidingPunch | None = None
    minutes: int = 0  # late minutes for an in edge, early minutes for an out edge
    request_id: str | None = None  # the request that excused or moved the edge


@dataclass(frozen=True, slots=True)
class DayResult:
    date: dt.date
    kind: DayKind
    holiday_name: str
    schedule: Schedule
    statuses: tuple[Status, ...]
    complete: bool  # False: computed before the day's windows closed (`now`), may change
    scheduled_min: int = 0
    worked_min: int = 0
    late_min: int = 0
    early_leave_min: int = 0
    overtime_min: dict[str, int] = field(default_factory=dict)  # OvertimeKind → minutes
    leave_min: dict[str, int] = field(default_factory=dict)  # leave_type → minutes
    trip_min: int = 0
    out_min: int = 0
    field_day: bool = False  # a deciding (off schedule: a counting) punch was a field punch (外勤)
    edges: tuple[Edge, ...] = ()

    @property
    def status(self) -> Status | None:
        """The most serious status (a daily report's one-word column); None: nothing known yet."""
        return self.statuses[0] if self.statuses else None

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "kind": self.kind.value,
            "holiday_name": self.holiday_name,
            "schedule": self.schedule.value,
            "statuses": [s.value for s in self.statuses],
            "complete": self.complete,
            "scheduled_min": self.scheduled_min,
            "worked_min": self.worked_min,
            "late_min": self.late_min,
            "early_leave_min": self.early_leave_min,
            "overtime_min": dict(self.overtime_min),
            "leave_min": dict(self.leave_min),
            "trip_min": self.trip_min,
            "out_min": self.out_min,
            "field_day": self.field_day,
            "edges": [_edge_json(e) for e in self.edges],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DayResult:
        return cls(
            date=dt.date.fromisoformat(data["date"]),
            kind=DayKind(data["kind"]),
            holiday_name=data["holiday_name"],
            schedule=Schedule(data["schedule"]),
            statuses=tuple(Status(s) for s in data["statuses"]),
            complete=data["complete"],
            scheduled_min=data["scheduled_min"],
            worked_min=data["worked_min"],
            late_min=data["late_min"],
            early_leave_min=data["early_leave_min"],
            overtime_min=dict(data["overtime_min"]),
            leave_min=dict(data["leave_min"]),
            trip_min=data["trip_min"],
            out_min=data["out_min"],
            field_day=data["field_day"],
            edges=tuple(_edge_from(e) for e in data["edges"]),
        )


def _edge_json(e: Edge) -> dict[str, Any]:
    p = e.punch
    return {
        "period": e.period,
        "side": e.side.value,
        "expected": None if e.expected is None else e.expected.isoformat(),
        "state": e.state.value,
        "punch": None
        if p is None
        else {"id": p.id, "at": p.at.isoformat(), "method": p.method.value, "place": p.place},
        "minutes": e.minutes,
        "request_id": e.request_id,
    }


def _edge_from(d: dict[str, Any]) -> Edge:
    p = d["punch"]
    return Edge(
        period=d["period"],
        side=EdgeSide(d["side"]),
        expected=None if d["expected"] is None else dt.datetime.fromisoformat(d["expected"]),
        state=EdgeState(d["state"]),
        punch=None
        if p is None
        else DecidingPunch(
            id=p["id"],
            at=dt.datetime.fromisoformat(p["at"]),
            method=Method(p["method"]),
            place=p["place"],
        ),
        minutes=d["minutes"],
        request_id=d["request_id"],
    )
