"""Monthly (per person) and department (per team) totals as report rows (pure: no I/O).

The sums themselves are SQL over the days' tally columns (reports/repository.py `_TOTALS`,
attendance/tallies.py); `Totals` holds one person's or team's and names its cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fieldpunch.reports.columns import LEAVE_TYPES
from fieldpunch.reports.rows import Row

FULL_DAY_MIN = 480  # a leave on a day without a schedule counts in eight-hour days


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


def person_row(
    user_id: str, name: str, employee_no: str | None, team: str | None, totals: Totals
) -> Row:
    """月度汇总: one person's row."""
    return {
        "name": name,
        "employee_no": employee_no or "",
        "team": team or "",
        **totals.cells(),
        "user_id": user_id,
    }


def team_row(team_id: str | None, name: str, people: int, totals: Totals) -> Row:
    """部门考勤汇总: one team's row (`name`: the words for no team when `team_id` is None)."""
    return {"team": name, "people": people, **totals.cells(), "team_id": team_id or ""}
