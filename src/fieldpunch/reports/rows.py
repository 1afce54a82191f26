"""Stored attendance days → report rows (pure: no I/O).

A `DayRow` is one `attendance_days` row with the names a report shows (person, team, shift),
as the reports repository reads it. Rows are dicts keyed by `columns.Column.key`, holding typed
values (dates, aware local datetimes, ints, floats, text); the writers format them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fieldpunch.attendance import tallies
from fieldpunch.reports import words
from fieldpunch.reports.columns import EDGES, LEAVE_TYPES, Lang

Row = dict[str, Any]

# Statuses that make a day an exception (异常); leave, trip, rest and holiday do not.
EXCEPTION_STATUSES = frozenset(
    {"late", "serious_late", "early_leave", "absent", "missing_clock_in", "missing_clock_out"}
)


@dataclass(frozen=True, slots=True)
class DayRow:
    user_id: str
    day: date
    user_name: str = ""
    employee_no: str | None = None
    team_id: str | None = None
    team_name: str | None = None
    shift_name: str | None = None
    kind: str = "workday"
    holiday_name: str = ""
    statuses: tuple[str, ...] = ()
    scheduled_min: int = 0
    worked_min: int = 0
    late_min: int = 0
    early_leave_min: int = 0
    overtime_workday_min: int = 0
    overtime_rest_day_min: int = 0
    overtime_holiday_min: int = 0
    leave_min: int = 0
    leave_by_type: dict[str, int] = field(default_factory=dict)
    trip_min: int = 0
    out_min: int = 0
    field_day: bool = False
    complete: bool = True
    result: dict[str, Any] = field(default_factory=dict)  # DayResult.to_json()

    @property
    def edges(self) -> list[dict[str, Any]]:
        return list(self.result.get("edges") or [])

    def corrections(self) -> list[dict[str, Any]]:
        return tallies.correction_punches(self.edges)

    def missing_edges(self) -> list[dict[str, Any]]:
        return [dict(e) for e in tallies.missing_edges(self.statuses, self.edges)]

    def is_exception(self) -> bool:
        return bool(EXCEPTION_STATUSES.intersection(self.statuses)) or bool(self.corrections())


def local(at: str | datetime | None, tz: ZoneInfo) -> datetime | None:
    """A stored UTC instant (ISO text in the result JSON) in the org's zone, to the minute."""
    if at is None:
        return None
    t = datetime.fromisoformat(at) if isinstance(at, str) else at
    return t.astimezone(tz).replace(second=0, microsecond=0)


def _person(d: DayRow) -> Row:
    return {"name": d.user_name, "employee_no": d.employee_no or "", "team": d.team_name or ""}


def _shift(d: DayRow, lang: Lang) -> str:
    if d.shift_name:
        return d.shift_name
    return words.rest_shift(lang) if d.kind != "workday" else ""


def _edge_cells(d: DayRow, tz: ZoneInfo, lang: Lang, places: Mapping[str, str]) -> Row:
    by_slot = {(e.get("period"), e.get("side")): e for e in d.edges}
    out: Row = {}
    for key, period, side, _, _ in EDGES:
        edge = by_slot.get((period, side))
        punch = (edge or {}).get("punch") or {}
        out[f"{key}_time"] = local(punch.get("at"), tz)
        place = punch.get("place") or ""  # the matched place's id: shown by its name
        out[f"{key}_place"] = places.get(place, place)
        out[f"{key}_method"] = words.method(punch.get("method"), lang)
        out[f"{key}_result"] = words.edge_state(edge.get("state"), lang) if edge else ""
    return out


def _leave_types(d: DayRow, lang: Lang) -> str:
    names = {k: (zh if lang is Lang.zh else en) for k, zh, en in LEAVE_TYPES}
    return words.separator(lang).join(
        names.get(t, t) for t, minutes in sorted(d.leave_by_type.items()) if minutes
    )


def daily_row(d: DayRow, tz: ZoneInfo, lang: Lang, places: Mapping[str, str] | None = None) -> Row:
    """员工考勤明细: one person's day, each edge with the punch that decided it."""
    return {
        "date": d.day,
        "weekday": words.weekday(d.day.isoweekday(), lang),
        **_person(d),
        "day_kind": words.day_kind(d.kind, d.holiday_name, lang),
        "shift": _shift(d, lang),
        **_edge_cells(d, tz, lang, places or {}),
        "status": words.statuses(d.statuses, lang),
        "late_min": d.late_min,
        "early_leave_min": d.early_leave_min,
        "worked_min": d.worked_min,
        "overtime_workday_min": d.overtime_workday_min,
        "overtime_rest_day_min": d.overtime_rest_day_min,
        "overtime_holiday_min": d.overtime_holiday_min,
        "leave_min": d.leave_min,
        "leave_types": _leave_types(d, lang),
        "trip_min": d.trip_min,
        "out_min": d.out_min,
        "field_day": words.yes(d.field_day, lang),
        "user_id": d.user_id,
    }


def _edge_name(edge: dict[str, Any], lang: Lang) -> str:
    for _, period, side, zh, en in EDGES:
        if edge.get("period") == period and edge.get("side") == side:
            return zh if lang is Lang.zh else en
    return ""


def exception_row(d: DayRow, tz: ZoneInfo, lang: Lang) -> Row:
    """异常与补卡: a day with an exception (late, early, missing, absent) or a correction."""
    fixes = d.corrections()
    times = [t.strftime("%H:%M") for p in fixes if (t := local(p.get("at"), tz))]
    return {
        "date": d.day,
        "weekday": words.weekday(d.day.isoweekday(), lang),
        **_person(d),
        "shift": _shift(d, lang),
        "exception": words.statuses([s for s in d.statuses if s in EXCEPTION_STATUSES], lang),
        "late_min": d.late_min,
        "early_leave_min": d.early_leave_min,
        "missing": words.separator(lang).join(_edge_name(e, lang) for e in d.missing_edges()),
        "corrections": len(fixes),
        "correction_times": words.separator(lang).join(times),
        "status": words.statuses(d.statuses, lang),
        "user_id": d.user_id,
    }
