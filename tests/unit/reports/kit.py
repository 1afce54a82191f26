"""Builders for the report tests: a day computed by the real day function, as a stored row."""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from datetime import UTC, date, datetime
from typing import Any

from fieldpunch.attendance.day import compute_day
from fieldpunch.attendance.recompute import day_row
from fieldpunch.attendance.values import (
    CalendarDay,
    DayKind,
    DayResult,
    GroupRule,
    Punch,
    Request,
    Shift,
)
from fieldpunch.reports.rows import DayRow
from tests.unit.attendance.kit import SH, shift


def computed(
    punches: list[Punch],
    d: date,
    *,
    kind: DayKind = DayKind.workday,
    the_shift: Shift | None = None,
    requests: tuple[Request, ...] = (),
    rule: GroupRule | None = None,
) -> DayResult:
    """A finished day (no `now`): what the recompute stores."""
    s = the_shift or shift("09:00-18:00", grace_late_min=5, serious_late_min=30)
    return compute_day(rule or GroupRule(), s, CalendarDay(d, kind), punches, requests, SH)


def fields(r: DayResult) -> dict[str, Any]:
    """The `attendance_days` columns of a result, as the recompute fills them (who, which rules
    and when left to the caller)."""
    row = day_row("", "", "", None, r, datetime.now(UTC))
    for key in ("org_id", "user_id", "group_id", "shift_id", "computed_at"):
        row.pop(key)
    return row


def stored(
    r: DayResult,
    user_id: str = "u1",
    name: str = "张三",
    team: tuple[str | None, str | None] = ("t1", "销售一部"),
    shift_name: str | None = "白班",
) -> DayRow:
    known = {f.name for f in dataclass_fields(DayRow)}
    f = {k: v for k, v in fields(r).items() if k in known}
    f["statuses"] = tuple(f["statuses"])
    return DayRow(
        user_id=user_id,
        user_name=name,
        employee_no=f"E-{user_id}",
        team_id=team[0],
        team_name=team[1],
        shift_name=shift_name if r.kind is DayKind.workday else None,
        **f,
    )
