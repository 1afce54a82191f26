"""The attendance reports: what a caller may ask for, and its rows a chunk at a time.

`prepare` checks everything that can fail (the range, the person and team the caller may see)
before an answer starts, so a download never breaks off with an error half-way. `rows` then
reads the stored days in partitions and shapes them (rows.py, aggregate.py): nothing here
holds more than one partition of days, one person's month, or one total per team.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.auth.principal import Principal
from fieldpunch.kit.errors import Invalid, NotFound
from fieldpunch.reports import words
from fieldpunch.reports.aggregate import person_row, team_row
from fieldpunch.reports.columns import COLUMNS, TITLES, Column, Lang, View
from fieldpunch.reports.repository import DayFilter, ReportsRepo
from fieldpunch.reports.rows import Row, daily_row, exception_row
from fieldpunch.reports.writers import json_value
from fieldpunch.teams.service import get_visible as visible_team
from fieldpunch.teams.tree import subtree_ids
from fieldpunch.users.models import User

MAX_DAYS = 366  # a year, leap day included
PEOPLE_PER_PART = 1000  # a download's monthly rows: people summed per statement


@dataclass(frozen=True, slots=True)
class Ask:
    """The query string, parsed (endpoints.py); checked by `prepare`."""

    view: View
    start: date | None
    end: date | None
    month: str | None
    team_id: str | None
    user_id: str | None
    status: str | None
    lang: Lang | None


@dataclass(frozen=True, slots=True)
class Report:
    """A checked request: what to read and how to show it."""

    view: View
    lang: Lang
    tz: ZoneInfo
    title: str
    columns: tuple[Column, ...]
    days: DayFilter
    places: dict[str, str]

    @property
    def start(self) -> date:
        return self.days.start

    @property
    def end(self) -> date:
        return self.days.end


def month_range(month: str) -> tuple[date, date]:
    try:
        first = datetime.strptime(month, "%Y-%m").date()
        following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    except (ValueError, OverflowError):
        raise Invalid(["query", "month"], "a month as YYYY-MM") from None
    return first, following - timedelta(days=1)


def date_range(ask: Ask, today: date) -> tuple[date, date]:
    """`month`, or `from` and `to`, or this month (in the org's zone) when neither is given."""
    if ask.month is not None:
        if ask.start is not None or ask.end is not None:
            loc = "from" if ask.start is not None else "to"
            raise Invalid(["query", loc], "give either `month` or `from` and `to`, not both")
        return month_range(ask.month)
    if ask.start is None and ask.end is None:
        return month_range(today.strftime("%Y-%m"))
    if ask.start is None:
        raise Invalid(["query", "from"], "required with `to`")
    if ask.end is None:
        raise Invalid(["query", "to"], "required with `from`")
    if ask.end < ask.start:
        raise Invalid(["query", "to"], "on or after `from`")
    if (ask.end - ask.start).days >= MAX_DAYS:
        raise Invalid(["query", "to"], f"at most {MAX_DAYS} days from `from`")
    return ask.start, ask.end


def title(view: View, lang: Lang, org: str, start: date, end: date) -> str:
    zh, en = TITLES[view]
    if lang is Lang.zh:
        return f"{org} {zh}（{start.isoformat()} 至 {end.isoformat()}）"
    return f"{org} — {en}, {start.isoformat()} to {end.isoformat()}"


async def prepare(session: AsyncSession, p: Principal, ask: Ask) -> Report:
    repo = ReportsRepo(session)
    org = await repo.org(p.org_id)
    tz = ZoneInfo(org.timezone)
    start, end = date_range(ask, datetime.now(tz).date())
    visible = p.user_filter(User.id, User.team_id)
    if ask.user_id is not None and not await repo.visible_user(p.org_id, ask.user_id, visible):
        raise NotFound(f"user {ask.user_id} not found")
    team_ids = None
    if ask.team_id is not None:
        await visible_team(session, p, ask.team_id)  # 404 for a team the caller may not see
        team_ids = await subtree_ids(session, p.org_id, [ask.team_id])
    lang = ask.lang or words.org_language(org.settings, org.timezone)
    days = DayFilter(
        org_id=p.org_id,
        start=start,
        end=end,
        visible=visible,
        user_id=ask.user_id,
        team_ids=team_ids,
        status=ask.status,
        # A summary sums whole months: the status picks the people who had such a day.
        status_people=ask.view in (View.monthly, View.department),
    )
    return Report(
        view=ask.view,
        lang=lang,
        tz=tz,
        title=title(ask.view, lang, org.name, start, end),
        columns=COLUMNS[ask.view],
        days=days,
        places=await repo.place_names(p.org_id) if ask.view is View.daily else {},
    )


def no_team(lang: Lang) -> str:
    return "未分配部门" if lang is Lang.zh else "No team"


async def rows(session: AsyncSession, r: Report) -> AsyncGenerator[list[Row], None]:
    """The report's rows: a partition of days at a time (daily, exceptions), a page of people
    at a time (monthly), or every team at once (department)."""
    repo = ReportsRepo(session)
    if r.view is View.monthly:
        after: tuple[str, str, date] | None = None
        while True:
            part, after = await _monthly_rows(repo, r, PEOPLE_PER_PART, after)
            yield part
            if after is None:
                return
    if r.view is View.department:
        yield await _department_rows(repo, r)
        return
    async with aclosing(repo.stream_days(r.days)) as parts:
        async for days in parts:
            if r.view is View.daily:
                yield [daily_row(d, r.tz, r.lang, r.places) for d in days]
            else:
                yield [exception_row(d, r.tz, r.lang) for d in days if d.is_exception()]


async def _monthly_rows(
    repo: ReportsRepo, r: Report, limit: int, after: tuple[str, str, date] | None
) -> tuple[list[Row], tuple[str, str, date] | None]:
    """One row per person for a page of people (by name) after `after`; and where the next
    page starts (None: this was the last)."""
    people = await repo.people_page(replace(r.days, after=after), limit + 1)
    more = len(people) > limit
    people = people[:limit]
    if not people:
        return [], None
    found = await repo.person_totals(r.days, [user_id for _, user_id in people])
    out = [person_row(t.user_id, t.name, t.employee_no, t.team_name, t.totals) for t in found]
    return out, (people[-1][0], people[-1][1], date.max) if more else None


async def _department_rows(repo: ReportsRepo, r: Report) -> list[Row]:
    """By team name, people without a team last."""
    teams = sorted(
        await repo.team_totals(r.days),
        key=lambda t: (t.team_id is None, t.team_name or "", t.team_id or ""),
    )
    return [team_row(t.team_id, t.team_name or no_team(r.lang), t.people, t.totals) for t in teams]


# JSON: pages by keyset (person name, person, date); the department view answers whole.


def _encode(key: tuple[str, str, date]) -> str:
    raw = orjson.dumps([key[0], key[1], key[2].isoformat()])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[str, str, date]:
    try:
        name, user_id, day = orjson.loads(
            base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        )
        return str(name), str(user_id), date.fromisoformat(day)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise Invalid(["query", "cursor"], "not a cursor this API issued") from None


def _item(row: Row, extra: dict[str, Any]) -> dict[str, Any]:
    return {k: json_value(v) for k, v in row.items()} | extra


async def page(session: AsyncSession, r: Report, limit: int, cursor: str | None) -> dict[str, Any]:
    after = _decode(cursor) if cursor is not None else None
    head = {
        "view": r.view.value,
        "lang": r.lang.value,
        "title": r.title,
        "from": r.start.isoformat(),
        "to": r.end.isoformat(),
        "timezone": str(r.tz),
        "columns": [{"key": c.key, "header": c.header(r.lang), "type": c.kind} for c in r.columns],
    }
    if r.view is View.department:
        whole = [_item(row, {}) for row in await _department_rows(ReportsRepo(session), r)]
        return head | {"items": whole, "next_cursor": None}
    repo = ReportsRepo(session)
    if r.view is View.monthly:
        part, following = await _monthly_rows(repo, r, limit, after)
        return head | {
            "items": [_item(row, {}) for row in part],
            "next_cursor": _encode(following) if following else None,
        }
    items: list[dict[str, Any]] = []
    last: tuple[str, str, date] | None = None
    more = False
    async with aclosing(repo.stream_days(replace(r.days, after=after), chunk=limit + 1)) as parts:
        async for days in parts:
            for d in days:
                if r.view is View.exceptions and not d.is_exception():
                    continue
                if len(items) == limit:
                    more = True
                    break
                shaped = (
                    daily_row(d, r.tz, r.lang, r.places)
                    if r.view is View.daily
                    else exception_row(d, r.tz, r.lang)
                )
                items.append(_item(shaped, {"statuses": list(d.statuses)}))
                last = (d.user_name, d.user_id, d.day)
            if more:
                break
    return head | {"items": items, "next_cursor": _encode(last) if more and last else None}
