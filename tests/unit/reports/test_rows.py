"""Stored days → daily and exception rows: words, edges, minutes (no I/O)."""

from __future__ import annotations

from datetime import date, datetime

from fieldpunch.attendance.values import DayKind, Method
from fieldpunch.reports.columns import DAILY, EXCEPTIONS, Lang
from fieldpunch.reports.rows import daily_row, exception_row
from tests.unit.attendance.kit import SH, i, o
from tests.unit.reports.kit import computed, stored

D = date(2026, 12, 1)  # a Tuesday


def test_a_late_day_in_chinese() -> None:
    day = stored(computed([i("09:12"), o("18:03")], D))
    row = daily_row(day, SH, Lang.zh, {"HQ": "总部"})
    assert set(row) == {c.key for c in DAILY}
    assert row["date"] == D
    assert row["weekday"] == "星期二"
    assert row["name"] == "张三" and row["team"] == "销售一部" and row["shift"] == "白班"
    assert row["in1_time"] == datetime(2026, 12, 1, 9, 12, tzinfo=SH)
    assert row["in1_place"] == "总部"  # the place id shown by its name
    assert row["in1_method"] == "GPS"
    assert row["in1_result"] == "迟到"
    assert row["out1_result"] == "正常"
    assert row["in2_time"] is None and row["in2_result"] == ""
    assert row["status"] == "迟到"
    assert row["late_min"] == 12
    assert row["early_leave_min"] == 0
    assert row["worked_min"] > 0
    assert row["day_kind"] == "工作日"


def test_methods_and_english_words() -> None:
    day = stored(computed([i("08:55", Method.wifi), o("17:40", Method.correction)], D))
    row = daily_row(day, SH, Lang.en)
    assert row["weekday"] == "Tue"
    assert row["in1_method"] == "Wi-Fi"
    assert row["out1_method"] == "Correction"
    assert row["out1_place"] == "HQ"  # an unknown place id shows as it is
    assert row["status"] == "Early leave"
    assert row["early_leave_min"] == 20


def test_several_statuses_are_joined() -> None:
    day = stored(computed([i("09:40"), o("17:00")], D))
    row = daily_row(day, SH, Lang.zh)
    assert row["status"] == "严重迟到、早退"


def test_rest_day_shows_rest_for_the_shift() -> None:
    day = stored(computed([], date(2026, 12, 6), kind=DayKind.rest))
    row = daily_row(day, SH, Lang.zh)
    assert row["shift"] == "休息"
    assert row["day_kind"] == "休息日"
    assert row["status"] == "休息"


def test_exception_row_names_missing_edges_and_corrections() -> None:
    missing = stored(computed([i("08:58")], D))
    assert missing.is_exception()
    row = exception_row(missing, SH, Lang.zh)
    assert set(row) == {c.key for c in EXCEPTIONS}
    assert row["exception"] == "下班缺卡"
    assert row["missing"] == "下班1"
    fixed = stored(computed([i("08:58", Method.correction), o("18:00")], D))
    assert fixed.is_exception()  # normal, but a correction was used
    row = exception_row(fixed, SH, Lang.zh)
    assert row["exception"] == ""
    assert row["corrections"] == 1
    assert row["correction_times"] == "08:58"
    normal = stored(computed([i("08:58"), o("18:00")], D))
    assert not normal.is_exception()


def test_an_absent_day_is_not_two_missing_punches() -> None:
    day = stored(computed([], D))
    assert "absent" in day.statuses
    assert day.missing_edges() == []
    assert exception_row(day, SH, Lang.en)["exception"] == "Absent"
