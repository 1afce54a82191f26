"""The columns of each attendance report, with their Chinese and English headers (pure data).

One list per view; the CSV, the XLSX and the JSON `columns` all come from it, and so does the
column reference in docs/reports.md (tests check they agree). Keys are stable: payroll systems
map them; headers follow the language.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

Kind = Literal["date", "datetime", "text", "int", "number"]


class View(StrEnum):
    daily = "daily"  # 员工考勤明细: one row per person and day
    monthly = "monthly"  # 月度汇总: one row per person
    department = "department"  # 部门考勤汇总: one row per team
    exceptions = "exceptions"  # 异常与补卡: the days with an exception or a correction


class Lang(StrEnum):
    zh = "zh"
    en = "en"


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    zh: str
    en: str
    kind: Kind  # date: a date cell; datetime: local time; int: minutes or counts; number: 2 dp
    width: int  # XLSX width in characters (Chinese glyphs count about two)

    def header(self, lang: Lang) -> str:
        return self.zh if lang is Lang.zh else self.en


TITLES: dict[View, tuple[str, str]] = {
    View.daily: ("员工考勤明细", "Daily attendance detail"),
    View.monthly: ("月度汇总", "Monthly attendance summary"),
    View.department: ("部门考勤汇总", "Department attendance summary"),
    View.exceptions: ("考勤异常与补卡", "Attendance exceptions and corrections"),
}

# The four edges of a day (two periods × in/out); off schedule only the first pair is used
# (the first clock-in and the last clock-out).
EDGES: tuple[tuple[str, int, str, str, str], ...] = (
    ("in1", 0, "in", "上班1", "Clock-in 1"),
    ("out1", 0, "out", "下班1", "Clock-out 1"),
    ("in2", 1, "in", "上班2", "Clock-in 2"),
    ("out2", 1, "out", "下班2", "Clock-out 2"),
)

LEAVE_TYPES: tuple[tuple[str, str, str], ...] = (
    ("annual", "年假", "Annual leave"),
    ("sick", "病假", "Sick leave"),
    ("personal", "事假", "Personal leave"),
    ("marriage", "婚假", "Marriage leave"),
    ("maternity", "产假", "Maternity leave"),
    ("paternity", "陪产假", "Paternity leave"),
    ("bereavement", "丧假", "Bereavement leave"),
    ("compensatory", "调休假", "Compensatory leave"),
    ("other", "其他假", "Other leave"),
)

_PERSON = (
    Column("name", "姓名", "Name", "text", 14),
    Column("employee_no", "工号", "Employee no.", "text", 12),
    Column("team", "部门", "Team", "text", 16),
)


def _edge_columns() -> tuple[Column, ...]:
    cols: list[Column] = []
    for key, _, _, zh, en in EDGES:
        cols += [
            Column(f"{key}_time", f"{zh}打卡时间", f"{en} time", "datetime", 17),
            Column(f"{key}_place", f"{zh}打卡地点", f"{en} place", "text", 16),
            Column(f"{key}_method", f"{zh}打卡方式", f"{en} method", "text", 10),
            Column(f"{key}_result", f"{zh}打卡结果", f"{en} result", "text", 10),
        ]
    return tuple(cols)


DAILY: tuple[Column, ...] = (
    Column("date", "日期", "Date", "date", 11),
    Column("weekday", "星期", "Weekday", "text", 8),
    *_PERSON,
    Column("day_kind", "日期类型", "Day type", "text", 10),
    Column("shift", "班次", "Shift", "text", 14),
    *_edge_columns(),
    Column("status", "考勤结果", "Status", "text", 18),
    Column("late_min", "迟到时长(分钟)", "Late (min)", "int", 10),
    Column("early_leave_min", "早退时长(分钟)", "Early leave (min)", "int", 10),
    Column("worked_min", "工作时长(分钟)", "Worked (min)", "int", 10),
    Column("overtime_workday_min", "工作日加班(分钟)", "Overtime workday (min)", "int", 10),
    Column("overtime_rest_day_min", "休息日加班(分钟)", "Overtime rest day (min)", "int", 10),
    Column("overtime_holiday_min", "节假日加班(分钟)", "Overtime holiday (min)", "int", 10),
    Column("leave_min", "请假时长(分钟)", "Leave (min)", "int", 10),
    Column("leave_types", "请假类型", "Leave types", "text", 12),
    Column("trip_min", "出差时长(分钟)", "Trip (min)", "int", 10),
    Column("out_min", "外出时长(分钟)", "Out (min)", "int", 10),
    Column("field_day", "外勤", "Field day", "text", 6),
    Column("user_id", "用户ID", "User id", "text", 14),
)

_TOTALS: tuple[Column, ...] = (
    Column("scheduled_days", "应出勤天数", "Scheduled days", "int", 10),
    Column("attended_days", "出勤天数", "Days attended", "int", 10),
    Column("rest_days", "休息天数", "Rest days", "int", 10),
    Column("worked_hours", "工作时长(小时)", "Worked (h)", "number", 10),
    Column("late_count", "迟到次数", "Late count", "int", 8),
    Column("late_min", "迟到时长(分钟)", "Late (min)", "int", 10),
    Column("serious_late_count", "严重迟到次数", "Serious late count", "int", 10),
    Column("serious_late_min", "严重迟到时长(分钟)", "Serious late (min)", "int", 10),
    Column("early_leave_count", "早退次数", "Early leave count", "int", 8),
    Column("early_leave_min", "早退时长(分钟)", "Early leave (min)", "int", 10),
    Column("missing_punches", "缺卡次数", "Missing punches", "int", 8),
    Column("absent_days", "旷工天数", "Absent days", "int", 8),
    Column("field_days", "外勤天数", "Field days", "int", 8),
    Column("leave_days", "请假天数", "Leave days", "number", 8),
    *(
        Column(f"leave_{key}_hours", f"{zh}(小时)", f"{en} (h)", "number", 9)
        for key, zh, en in LEAVE_TYPES
    ),
    Column("trip_days", "出差天数", "Trip days", "int", 8),
    Column("out_hours", "外出(小时)", "Out (h)", "number", 8),
    Column("overtime_workday_hours", "工作日加班(小时)", "Overtime workday (h)", "number", 10),
    Column("overtime_rest_day_hours", "休息日加班(小时)", "Overtime rest day (h)", "number", 10),
    Column("overtime_holiday_hours", "节假日加班(小时)", "Overtime holiday (h)", "number", 10),
    Column("corrections", "补卡次数", "Corrections used", "int", 8),
)

MONTHLY: tuple[Column, ...] = (
    *_PERSON,
    *_TOTALS,
    Column("user_id", "用户ID", "User id", "text", 14),
)

DEPARTMENT: tuple[Column, ...] = (
    Column("team", "部门", "Team", "text", 16),
    Column("people", "人数", "People", "int", 6),
    *_TOTALS,
    Column("team_id", "部门ID", "Team id", "text", 14),
)

EXCEPTIONS: tuple[Column, ...] = (
    Column("date", "日期", "Date", "date", 11),
    Column("weekday", "星期", "Weekday", "text", 8),
    *_PERSON,
    Column("shift", "班次", "Shift", "text", 14),
    Column("exception", "异常类型", "Exception", "text", 18),
    Column("late_min", "迟到时长(分钟)", "Late (min)", "int", 10),
    Column("early_leave_min", "早退时长(分钟)", "Early leave (min)", "int", 10),
    Column("missing", "缺卡", "Missing punches", "text", 16),
    Column("corrections", "补卡次数", "Corrections", "int", 8),
    Column("correction_times", "补卡时间", "Correction times", "text", 18),
    Column("status", "考勤结果", "Status", "text", 18),
    Column("user_id", "用户ID", "User id", "text", 14),
)

COLUMNS: dict[View, tuple[Column, ...]] = {
    View.daily: DAILY,
    View.monthly: MONTHLY,
    View.department: DEPARTMENT,
    View.exceptions: EXCEPTIONS,
}
