"""The org calendar: holidays, rest days of a holiday break and make-up workdays (调休), a
year at a time. A date whose kind changes changes everyone's day: it is left for the recompute
as one EVERYONE row, not one row per person."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.attendance.calendar_cn import china_calendar
from fieldpunch.attendance.repository import AttendanceRepo, everyone
from fieldpunch.attendance.schemas_days import CalendarDayIn, CalendarDayOut
from fieldpunch.auditlog.service import record
from fieldpunch.auth.principal import Principal
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.errors import Invalid, Loc


def _bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


async def read(session: AsyncSession, p: Principal, year: int) -> list[CalendarDayOut]:
    rows = await AttendanceRepo(session).calendar(p.org_id, *_bounds(year))
    return [CalendarDayOut(date=r.day, kind=r.kind, name=r.name) for r in rows]  # type: ignore[arg-type]


async def replace(
    session: AsyncSession, p: Principal, year: int, days: list[CalendarDayIn], *, source: str = ""
) -> list[CalendarDayOut]:
    """The year's calendar becomes `days`; dates not sent go back to the plain week."""
    seen: dict[date, int] = {}
    problems: list[tuple[Loc, str]] = []
    for i, day in enumerate(days):
        if day.date.year != year:
            problems.append((["body", i, "date"], f"not in {year}"))
        elif day.date in seen:
            problems.append((["body", i, "date"], f"the same date as item {seen[day.date]}"))
        seen.setdefault(day.date, i)
    if problems:
        raise Invalid.many(problems)
    repo = AttendanceRepo(session)
    before = {r.day: (r.kind, r.name) for r in await repo.calendar(p.org_id, *_bounds(year))}
    after = {d.date: (d.kind, d.name) for d in days}
    await repo.replace_calendar(
        p.org_id,
        *_bounds(year),
        [{"day": d.date, "kind": d.kind, "name": d.name} for d in sorted(days, key=_date)],
    )
    # A changed name alone changes no one's day; a new, gone or changed kind does.
    moved = sorted(
        d for d in before.keys() | after.keys() if before.get(d, ("",))[0] != after.get(d, ("",))[0]
    )
    await repo.mark_dirty(p.org_id, everyone(moved), "calendar", utcnow())
    changes = {
        d.isoformat(): [_shown(before.get(d)), _shown(after.get(d))]
        for d in sorted(before.keys() | after.keys())
        if before.get(d) != after.get(d)
    }
    if changes:
        extra = {"source": source} if source else {}
        record(
            session, p.org_id, p.actor, "calendar.updated", "calendar", str(year),
            changes=changes, **extra,
        )  # fmt: skip
    return await read(session, p, year)


async def load_china(session: AsyncSession, p: Principal, year: int) -> list[CalendarDayOut]:
    """The year becomes China's statutory calendar (State Council notices, calendar_cn.py):
    its own notice's days, and the days in late December of a break the next year's notice
    starts early (load the year again once that notice is out)."""
    found: dict[date, CalendarDayIn] = {}
    for notice in (year, year + 1):
        try:
            entries = china_calendar(notice)
        except LookupError:
            if notice == year:
                raise Invalid(
                    ["path", "year"],
                    f"no verified State Council holiday notice for {year}: enter it with PUT",
                ) from None
            continue
        for e in entries:
            if e.date.year == year:
                found[e.date] = CalendarDayIn(date=e.date, kind=e.kind.value, name=e.name)
    return await replace(session, p, year, list(found.values()), source="china")


def _date(day: CalendarDayIn) -> date:
    return day.date


def _shown(entry: tuple[str, str] | None) -> dict[str, str] | None:
    return None if entry is None else {"kind": entry[0], "name": entry[1]}
