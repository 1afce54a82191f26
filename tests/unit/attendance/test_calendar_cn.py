"""China's holiday notices as data, and how a day resolves for one person."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from fieldpunch.attendance.calendar_cn import VERIFIED_YEARS, china_calendar, resolve_day
from fieldpunch.attendance.day import compute_day
from fieldpunch.attendance.values import (
    CalendarDay,
    CalendarEntry,
    DayKind,
    GroupRule,
    Punch,
    Request,
    RequestKind,
    Roster,
    Status,
)
from tests.unit.attendance.kit import OFFICE, SH, i, o, req

H, R, W = DayKind.holiday, DayKind.rest, DayKind.workday
WEEK = (1, 2, 3, 4, 5)


def test_verified_years() -> None:
    assert VERIFIED_YEARS == (2023, 2024, 2025, 2026)


@pytest.mark.parametrize("year", [2022, 2027])
def test_an_unverified_year_is_refused_not_guessed(year: int) -> None:
    with pytest.raises(LookupError, match=str(year)):
        china_calendar(year)


@pytest.mark.parametrize(
    ("year", "statutory"),
    [(2023, 11), (2024, 11), (2025, 13), (2026, 13)],
    ids=["2023: 11 days", "2024: 11 days", "2025: 13 days (除夕 and 5-2 added)", "2026: 13 days"],
)
def test_statutory_days_per_year(year: int, statutory: int) -> None:
    """The 放假办法 gives 11 statutory days a year, 13 from 2025."""
    assert sum(e.kind is H for e in china_calendar(year)) == statutory


@pytest.mark.parametrize("year", VERIFIED_YEARS)
def test_make_up_workdays_are_weekends_and_dates_unique(year: int) -> None:
    entries = china_calendar(year)
    assert len({e.date for e in entries}) == len(entries)
    assert all(e.date.isoweekday() in (6, 7) for e in entries if e.kind is W)
    assert [e.date for e in entries] == sorted(e.date for e in entries)


BREAKS = [
    # (year, holiday name, days of the break as the notice counts them: 共N天)
    pytest.param(2023, "春节", 7, id="2023 春节 7"),
    pytest.param(2023, "中秋节、国庆节", 8, id="2023 中秋国庆 8"),
    pytest.param(2024, "春节", 8, id="2024 春节 8"),
    pytest.param(2024, "国庆节", 7, id="2024 国庆 7"),
    pytest.param(2025, "春节", 8, id="2025 春节 8"),
    pytest.param(2025, "劳动节", 5, id="2025 劳动节 5"),
    pytest.param(2025, "国庆节、中秋节", 8, id="2025 国庆中秋 8"),
    pytest.param(2026, "元旦", 3, id="2026 元旦 3"),
    pytest.param(2026, "春节", 9, id="2026 春节 9"),
    pytest.param(2026, "国庆节", 7, id="2026 国庆 7"),
]


@pytest.mark.parametrize(("year", "name", "days"), BREAKS)
def test_break_lengths_match_the_notice(year: int, name: str, days: int) -> None:
    off = [e for e in china_calendar(year) if e.name == name and e.kind is not W]
    assert len(off) == days
    assert max(e.date for e in off) - min(e.date for e in off) == timedelta(days=days - 1)


DATES = [
    pytest.param(date(2026, 2, 16), H, "春节", id="2026 除夕 is a statutory holiday"),
    pytest.param(date(2026, 2, 15), R, "春节", id="2026 腊月二十八 is a break rest day"),
    pytest.param(date(2026, 2, 23), R, "春节", id="2026 初七 is a break rest day"),
    pytest.param(date(2026, 2, 14), W, "春节", id="2026-02-14 Saturday is a make-up workday"),
    pytest.param(date(2026, 9, 20), W, "国庆节", id="2026-09-20 Sunday is a make-up workday"),
    pytest.param(date(2026, 10, 3), H, "国庆节", id="2026 国庆 3rd is statutory"),
    pytest.param(date(2026, 10, 5), R, "国庆节", id="2026 国庆 5th is a swapped rest day"),
    pytest.param(date(2025, 10, 6), H, "国庆节、中秋节", id="2025 中秋 inside 国庆"),
    pytest.param(date(2025, 5, 2), H, "劳动节", id="2025 May 2nd is statutory"),
    pytest.param(date(2024, 5, 2), R, "劳动节", id="2024 May 2nd was not"),
    pytest.param(date(2024, 2, 9), None, "", id="2024 除夕 was not a holiday"),
    pytest.param(date(2022, 12, 31), R, "元旦", id="2023's 元旦 break starts in 2022"),
]


@pytest.mark.parametrize(("d", "kind", "name"), DATES)
def test_dates(d: date, kind: DayKind | None, name: str) -> None:
    year = 2023 if d.year == 2022 else d.year
    entry = {e.date: e for e in china_calendar(year)}.get(d)
    assert (entry.kind, entry.name) == (kind, name) if entry else kind is None


CN2026 = {e.date: e for e in china_calendar(2026)}
RESOLVE = [
    # (date, workdays, roster entry, follows calendar, kind)
    pytest.param(date(2026, 12, 1), WEEK, None, True, W, id="a Tuesday"),
    pytest.param(date(2026, 12, 5), WEEK, None, True, R, id="a Saturday stays a rest day"),
    pytest.param(date(2026, 9, 20), WEEK, None, True, W, id="调休 Sunday is a workday"),
    pytest.param(date(2026, 10, 1), WEEK, None, True, H, id="statutory holiday"),
    pytest.param(date(2026, 10, 5), WEEK, None, True, R, id="break rest day on a Monday"),
    pytest.param(date(2026, 9, 20), WEEK, None, False, R, id="not following the calendar"),
    pytest.param(date(2026, 10, 5), WEEK, None, False, W, id="not following: Monday works"),
    pytest.param(date(2026, 12, 5), WEEK, "work", True, W, id="rostered on a Saturday"),
    pytest.param(date(2026, 12, 1), WEEK, "rest", True, R, id="rostered rest on a Tuesday"),
    pytest.param(date(2026, 10, 1), WEEK, "work", True, H, id="rostered on a statutory holiday"),
    pytest.param(date(2026, 10, 5), WEEK, "work", True, W, id="rostered in a break works"),
    pytest.param(date(2026, 12, 6), (1, 2, 3, 4, 5, 6, 7), None, True, W, id="seven-day week"),
]


@pytest.mark.parametrize(("d", "workdays", "roster", "follows", "kind"), RESOLVE)
def test_resolve_day(
    d: date, workdays: tuple[int, ...], roster: Roster | None, follows: bool, kind: DayKind
) -> None:
    got = resolve_day(d, workdays, roster, CN2026, follows_calendar=follows)
    assert got.date == d and got.kind is kind


def test_resolve_names_the_holiday() -> None:
    assert resolve_day(date(2026, 10, 1), WEEK, None, CN2026) == CalendarDay(
        date(2026, 10, 1), H, "国庆节"
    )


def test_an_org_entry_beats_the_weekday() -> None:
    entries = {date(2026, 12, 1): CalendarEntry(date(2026, 12, 1), R, "company day")}
    assert resolve_day(date(2026, 12, 1), WEEK, None, entries).kind is R


# From the calendar to the day: a 调休 Sunday is judged like any workday; a statutory holiday
# says only "holiday", and its punches are overtime only when approved.
def _day_of(
    d: date, punches: list[Punch], requests: tuple[Request, ...] = ()
) -> tuple[tuple[Status, ...], dict[str, int]]:
    cal = resolve_day(d, WEEK, None, CN2026)
    shift = OFFICE if cal.kind is W else None
    r = compute_day(GroupRule(), shift, cal, punches, requests, SH)
    return r.statuses, r.overtime_min


def test_make_up_sunday_is_a_workday() -> None:
    d = date(2026, 9, 20)
    assert _day_of(d, [i("08:59", d=d), o("18:00", d=d)]) == ((Status.normal,), {})
    assert _day_of(d, [i("09:10", d=d), o("18:00", d=d)])[0] == (Status.late,)
    assert _day_of(d, [])[0] == (Status.absent,)


def test_statutory_holiday_punches() -> None:
    d = date(2026, 10, 1)
    punches = [i("09:10", d=d), o("17:00", d=d)]
    assert _day_of(d, punches) == ((Status.holiday,), {})
    approved = (req(RequestKind.overtime, "09:00", "12:00", d=d),)
    assert _day_of(d, punches, approved) == ((Status.holiday,), {"holiday": 170})
    assert _day_of(d, []) == ((Status.holiday,), {})
    swapped = date(2026, 10, 5)  # a break rest day: the rest-day rate, not the holiday one
    approved = (req(RequestKind.overtime, "09:00", "12:00", d=swapped),)
    got = _day_of(swapped, [i("09:00", d=swapped), o("12:00", d=swapped)], approved)
    assert got == ((Status.rest,), {"rest_day": 180})
