"""Small builders for attendance day tests: punches and requests from local "HH:MM" times."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fieldpunch.attendance.day import compute_day
from fieldpunch.attendance.values import (
    CalendarDay,
    DayKind,
    DayResult,
    GroupRule,
    LeaveUnit,
    Method,
    Period,
    Punch,
    PunchKind,
    Request,
    RequestKind,
    Shift,
    Status,
)

SH = ZoneInfo("Asia/Shanghai")
D = date(2026, 12, 1)  # a Tuesday


def at(hhmm: str, d: date = D, tz: ZoneInfo = SH) -> datetime:
    """Local "HH:MM[:SS]" (or "+1 HH:MM" for the next day, "-1 HH:MM" for the day before) → UTC."""
    shift = 0
    if " " in hhmm:
        days, hhmm = hhmm.split(" ")
        shift = int(days)
    local = datetime.combine(d + timedelta(days=shift), time.fromisoformat(hhmm), tzinfo=tz)
    return local.astimezone(UTC)


def i(hhmm: str, method: Method = Method.gps, d: date = D, tz: ZoneInfo = SH) -> Punch:
    return Punch(f"in {hhmm} {d}", at(hhmm, d, tz), PunchKind.clock_in, method, "HQ")


def o(hhmm: str, method: Method = Method.gps, d: date = D, tz: ZoneInfo = SH) -> Punch:
    return Punch(f"out {hhmm} {d}", at(hhmm, d, tz), PunchKind.clock_out, method, "HQ")


def req(
    kind: RequestKind,
    start: str,
    end: str,
    leave_type: str = "",
    unit: LeaveUnit | None = None,
    d: date = D,
) -> Request:
    return Request(f"{kind} {start}", kind, at(start, d), at(end, d), leave_type, unit)


def shift(*periods: str, brk: str | None = None, **rules: Any) -> Shift:
    """shift("09:00-18:00", brk="12:00-13:00", grace_late_min=5)."""

    def period(text: str) -> Period:
        a, b = text.split("-")
        return Period(time.fromisoformat(a), time.fromisoformat(b))

    breaks = (period(brk),) if brk else ()
    return Shift(periods=tuple(period(p) for p in periods), breaks=breaks, **rules)


# The office shift most cases use: 09:00–18:00 with lunch not counted, 5 minutes of grace.
OFFICE = Shift(
    periods=(Period(time(9), time(18)),),
    grace_late_min=5,
    grace_early_min=5,
    serious_late_min=30,
    absent_late_min=120,
    breaks=(Period(time(12), time(13)),),
)


def run(
    punches: list[Punch],
    *,
    shift: Shift | None = OFFICE,
    rule: GroupRule | None = None,
    kind: DayKind = DayKind.workday,
    d: date = D,
    requests: tuple[Request, ...] = (),
    tz: ZoneInfo = SH,
    now: datetime | None = None,
    next_day_start: datetime | None = None,
) -> DayResult:
    return compute_day(
        rule or GroupRule(),
        shift,
        CalendarDay(d, kind),
        punches,
        requests,
        tz,
        now=now,
        next_day_start=next_day_start,
    )


# Two periods with a lunch between; a night shift; a flexible start.
TWO = shift("09:00-12:00", "13:30-18:00", grace_late_min=5, grace_early_min=5)
NIGHT = shift("22:00-06:00", grace_late_min=5)
FLEX = shift("09:00-18:00", brk="12:00-13:00", flex_min=30)

# Statuses, short, for the tables.
N, L, SL, E, A = Status.normal, Status.late, Status.serious_late, Status.early_leave, Status.absent
MI, MO = Status.missing_clock_in, Status.missing_clock_out
