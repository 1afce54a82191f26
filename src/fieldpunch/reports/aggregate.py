"""Monthly (per person) and department (per team) totals of stored days (pure: no I/O).

`Totals` folds days one at a time, so a person's month, or a team's, is summed as the rows
stream past without holding them. `monthly_rows` turns a stream of days ordered by person into
one row per person, holding one person's totals at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from fieldpunch.reports.columns import LEAVE_TYPES
from fieldpunch.reports.rows import DayRow, Row

_FULL_DAY_MIN = 480  # a leave on a day without a schedule counts in eight-hour days


def hours(minutes: int) -> float:
    return round(minutes / 60, 2)


@dataclass(slots=True)
class Totals:
    scheduled_days: int = 0
    attended_days: int = 0
    rest_days: int = 0
    worked_min: int = 0
    late_count: int = 0
    late_min: int = 0
    serious_late_count: int = 0
    serious_late_min: int = 0
    early_leave_count: int = 0
    early_leave_min: int = 0
    missing_punches: int = 0
    absent_days: int = 0
    field_days: int = 0
    leave_days: float = 0.0
    leave_min: dict[str, int] = field(default_factory=dict)
    trip_days: int = 0
    out_min: int = 0
    overtime_workday_min: int = 0
    overtime_rest_day_min: int = 0
    overtime_holiday_min: int = 0
    corrections: int = 0

    def add(self, d: DayRow) -> None:
        s = set(d.statuses)
        if d.kind == "workday" and d.scheduled_min > 0:
            self.scheduled_days += 1
        if d.kind != "workday":
            self.rest_days += 1
        if d.punched():
            self.attended_days += 1
        self.worked_min += d.worked_min
        if s & {"late", "serious_late"}:
            self.late_count += 1
            self.late_min += d.late_min
        if "serious_late" in s:
            self.serious_late_count += 1
            self.serious_late_min += d.late_min
        if "early_leave" in s:
            self.early_leave_count += 1
            self.early_leave_min += d.early_leave_min
        self.missing_punches += len(d.missing_edges())
        self.absent_days += "absent" in s
        self.field_days += d.field_day
        if d.leave_min:
            # A day's share of its schedule (a half-day leave is 0.5), never more than one day.
            self.leave_days += min(1.0, d.leave_min / (d.scheduled_min or _FULL_DAY_MIN))
        for kind, minutes in d.leave_by_type.items():
            self.leave_min[kind] = self.leave_min.get(kind, 0) + minutes
        self.trip_days += d.trip_min > 0
        self.out_min += d.out_min
        self.overtime_workday_min += d.overtime_workday_min
        self.overtime_rest_day_min += d.overtime_rest_day_min
        self.overtime_holiday_min += d.overtime_holiday_min
        self.corrections += len(d.corrections())

    def cells(self) -> Row:
        known = {key for key, _, _ in LEAVE_TYPES}
        leave = {
            f"leave_{key}_hours": hours(self.leave_min.get(key, 0)) for key, _, _ in LEAVE_TYPES
        }
        # A type this version does not know still counts, as "other".
        stray = sum(v for k, v in self.leave_min.items() if k not in known)
        leave["leave_other_hours"] = hours(self.leave_min.get("other", 0) + stray)
        return {
            "scheduled_days": self.scheduled_days,
            "attended_days": self.attended_days,
            "rest_days": self.rest_days,
            "worked_hours": hours(self.worked_min),
            "late_count": self.late_count,
            "late_min": self.late_min,
            "serious_late_count": self.serious_late_count,
            "serious_late_min": self.serious_late_min,
            "early_leave_count": self.early_leave_count,
            "early_leave_min": self.early_leave_min,
            "missing_punches": self.missing_punches,
            "absent_days": self.absent_days,
            "field_days": self.field_days,
            "leave_days": round(self.leave_days, 2),
            **leave,
            "trip_days": self.trip_days,
            "out_hours": hours(self.out_min),
            "overtime_workday_hours": hours(self.overtime_workday_min),
            "overtime_rest_day_hours": hours(self.overtime_rest_day_min),
            "overtime_holiday_hours": hours(self.overtime_holiday_min),
            "corrections": self.corrections,
        }


def _person_row(first: DayRow, totals: Totals) -> Row:
    return {
        "name": first.user_name,
        "employee_no": first.employee_no or "",
        "team": first.team_name or "",
        **totals.cells(),
        "user_id": first.user_id,
    }


class MonthlyFolder:
    """月度汇总: one row per person, from days ordered by person (each person's consecutive),
    fed in chunks; holds one person's totals at a time."""

    def __init__(self) -> None:
        self.first: DayRow | None = None
        self.totals = Totals()

    def feed(self, days: Iterable[DayRow]) -> list[Row]:
        done: list[Row] = []
        for d in days:
            if self.first is None or d.user_id != self.first.user_id:
                if self.first is not None:
                    done.append(_person_row(self.first, self.totals))
                self.first, self.totals = d, Totals()
            self.totals.add(d)
        return done

    def finish(self) -> list[Row]:
        if self.first is None:
            return []
        row, self.first, self.totals = _person_row(self.first, self.totals), None, Totals()
        return [row]


def monthly_rows(days: Iterable[DayRow]) -> Iterator[Row]:
    """All of `monthly` at once (tests, small inputs)."""
    folder = MonthlyFolder()
    yield from folder.feed(days)
    yield from folder.finish()


@dataclass(slots=True)
class _Team:
    name: str
    people: set[str] = field(default_factory=set)
    totals: Totals = field(default_factory=Totals)


class DepartmentFolder:
    """部门考勤汇总: days summed per person's team (people without one under `no_team`);
    holds one total per team, never the days."""

    def __init__(self, no_team: str) -> None:
        self.no_team = no_team
        self.teams: dict[str, _Team] = {}

    def feed(self, days: Iterable[DayRow]) -> None:
        for d in days:
            team = self.teams.get(d.team_id or "")
            if team is None:
                team = self.teams[d.team_id or ""] = _Team(d.team_name or self.no_team)
            team.people.add(d.user_id)
            team.totals.add(d)

    def rows(self) -> list[Row]:
        """By team name, people without a team last."""
        ordered = sorted(self.teams.items(), key=lambda kv: (kv[0] == "", kv[1].name, kv[0]))
        return [
            {"team": t.name, "people": len(t.people), **t.totals.cells(), "team_id": team_id}
            for team_id, t in ordered
        ]


def department_rows(days: Iterable[DayRow], no_team: str) -> list[Row]:
    folder = DepartmentFolder(no_team)
    folder.feed(days)
    return folder.rows()
