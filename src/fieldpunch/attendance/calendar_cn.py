"""China's statutory holidays and make-up working days (调休) as data, and `resolve_day`.

Each year below was checked against the text of the State Council General Office's notice
(国务院办公厅关于20XX年部分节假日安排的通知), as republished by these pages:

- 2023 (国办发明电〔2022〕16号, 2022-12-08):
  https://zh.m.wikisource.org/zh/国务院办公厅关于2023年部分节假日安排的通知
  http://big5.china.com.cn/gate/big5/news.china.com.cn/2022-12/09/content_85004315.htm
- 2024 (国办发明电〔2023〕7号, 2023-10-25):
  https://zh.wikisource.org/wiki/国务院办公厅关于2024年部分节假日安排的通知
  http://paper.people.com.cn/rmrb/html/2023-10/26/nw.D110000renmrb_20231026_3-06.htm
- 2025 (国办发明电〔2024〕12号, 2024-11-12): https://m.gmw.cn/2024-11/12/content_1303894933.htm
- 2026 (2025-11-04): https://politics.gmw.cn/2025-11/04/content_38391083.htm

Years before 2023 are left out (not checked here), and so is 2027: no notice for it could be
found when this was written. `china_calendar` refuses a year it does not hold rather than guess;
an admin enters such a year by hand.

A notice's break (放假调休) mixes two kinds of day, and labour law pays them differently: the
statutory holidays themselves (法定节假日, 300 % overtime) are `holiday`; the other days of the
break are swapped rest days (`rest`, 200 %). The statutory days are those of the 全国年节及纪念日
放假办法: 元旦 1 day, 春节 3 days (初一–初三; 4 with 除夕 from 2025), 清明 1, 劳动节 1 (2 from 2025:
5-1 and 5-2), 端午 1, 中秋 1, 国庆 3 (10-1 to 10-3); the 2024 revision is at
https://mzfsra.com/PolicyInformation/info.aspx?itemid=886 (a copy of the State Council text).
The lunar dates inside each break (除夕, 清明, 端午, 中秋) are those of the Chinese calendar.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, timedelta

from fieldpunch.attendance.values import CalendarDay, CalendarEntry, DayKind, Roster

# (name, first and last day of the break, its statutory days, its make-up workdays), as "MM-DD";
# a break that begins in December of the year before carries the full date.
_Break = tuple[str, str, str, tuple[str, ...], tuple[str, ...]]

_NOTICES: dict[int, tuple[_Break, ...]] = {
    2023: (
        ("元旦", "2022-12-31", "01-02", ("01-01",), ()),
        ("春节", "01-21", "01-27", ("01-22", "01-23", "01-24"), ("01-28", "01-29")),
        ("清明节", "04-05", "04-05", ("04-05",), ()),
        ("劳动节", "04-29", "05-03", ("05-01",), ("04-23", "05-06")),
        ("端午节", "06-22", "06-24", ("06-22",), ("06-25",)),
        (
            "中秋节、国庆节",
            "09-29",
            "10-06",
            ("09-29", "10-01", "10-02", "10-03"),
            ("10-07", "10-08"),
        ),
    ),
    2024: (
        ("元旦", "01-01", "01-01", ("01-01",), ()),
        ("春节", "02-10", "02-17", ("02-10", "02-11", "02-12"), ("02-04", "02-18")),
        ("清明节", "04-04", "04-06", ("04-04",), ("04-07",)),
        ("劳动节", "05-01", "05-05", ("05-01",), ("04-28", "05-11")),
        ("端午节", "06-10", "06-10", ("06-10",), ()),
        ("中秋节", "09-15", "09-17", ("09-17",), ("09-14",)),
        ("国庆节", "10-01", "10-07", ("10-01", "10-02", "10-03"), ("09-29", "10-12")),
    ),
    2025: (
        ("元旦", "01-01", "01-01", ("01-01",), ()),
        ("春节", "01-28", "02-04", ("01-28", "01-29", "01-30", "01-31"), ("01-26", "02-08")),
        ("清明节", "04-04", "04-06", ("04-04",), ()),
        ("劳动节", "05-01", "05-05", ("05-01", "05-02"), ("04-27",)),
        ("端午节", "05-31", "06-02", ("05-31",), ()),
        (
            "国庆节、中秋节",
            "10-01",
            "10-08",
            ("10-01", "10-02", "10-03", "10-06"),
            ("09-28", "10-11"),
        ),
    ),
    2026: (
        ("元旦", "01-01", "01-03", ("01-01",), ("01-04",)),
        ("春节", "02-15", "02-23", ("02-16", "02-17", "02-18", "02-19"), ("02-14", "02-28")),
        ("清明节", "04-04", "04-06", ("04-05",), ()),
        ("劳动节", "05-01", "05-05", ("05-01", "05-02"), ("05-09",)),
        ("端午节", "06-19", "06-21", ("06-19",), ()),
        ("中秋节", "09-25", "09-27", ("09-25",), ()),
        ("国庆节", "10-01", "10-07", ("10-01", "10-02", "10-03"), ("09-20", "10-10")),
    ),
}

VERIFIED_YEARS: tuple[int, ...] = tuple(sorted(_NOTICES))


def _day(year: int, text: str) -> date:
    return date.fromisoformat(text if len(text) == 10 else f"{year}-{text}")


def china_calendar(year: int) -> tuple[CalendarEntry, ...]:
    """The calendar entries of one year's notice, in date order: `holiday` for the statutory
    days, `rest` for the other days of each break, `workday` for the make-up workdays (调休).
    Raises LookupError for a year whose notice was not verified (see the module's docstring)."""
    if year not in _NOTICES:
        raise LookupError(f"no verified State Council holiday notice for {year}")
    entries: list[CalendarEntry] = []
    for name, first, last, statutory, makeup in _NOTICES[year]:
        holidays = {_day(year, s) for s in statutory}
        d, end = _day(year, first), _day(year, last)
        while d <= end:
            kind = DayKind.holiday if d in holidays else DayKind.rest
            entries.append(CalendarEntry(d, kind, name))
            d += timedelta(days=1)
        entries.extend(CalendarEntry(_day(year, s), DayKind.workday, name) for s in makeup)
    return tuple(sorted(entries, key=lambda e: e.date))


def resolve_day(
    day: date,
    workdays: Collection[int],
    roster_entry: Roster | None,
    calendar_entries: Mapping[date, CalendarEntry],
    *,
    follows_calendar: bool = True,
) -> CalendarDay:
    """The kind of `day` for one person.

    `workdays` are the group's ISO weekdays (1 = Monday) for fixed and free schedules;
    `roster_entry` is the person's 排班 for the day ("work" or "rest"), or None when not rostered.
    A statutory holiday is a holiday for everyone (it sets the overtime rate). Otherwise a roster
    entry decides; without one, the org calendar decides where it has an entry (a holiday
    break's rest day, or a make-up workday: 调休), and the weekday otherwise: a rest day stays a
    rest day unless the calendar says otherwise. A group that does not follow the calendar
    (`follows_calendar=False`) goes by weekdays and roster alone.
    """
    entry = calendar_entries.get(day) if follows_calendar else None
    if entry is not None and entry.kind is DayKind.holiday:
        return CalendarDay(day, DayKind.holiday, entry.name)
    if roster_entry is not None:
        kind = DayKind.workday if roster_entry == "work" else DayKind.rest
        return CalendarDay(day, kind, entry.name if entry else "")
    if entry is not None:
        return CalendarDay(day, entry.kind, entry.name)
    kind = DayKind.workday if day.isoweekday() in workdays else DayKind.rest
    return CalendarDay(day, kind)
