"""The visit and performance reports: what a caller may ask for, and its rows a partition at a
time.

`prepare` checks everything that can fail (range, person and team the caller may see, the
days of `not_visited`) before an answer starts, so a download never breaks off half-way.
`partition` then reads one keyset partition (repository.py) and shapes it (shape.py); the JSON
pages by it, the downloads loop over it, so nothing holds more than a partition's rows (and,
for the team view, one total per team).

Visibility is the API's: staff see themselves, managers their teams (and themselves), admins
and keys the org; a person or team outside it is a 404. `not_visited` lists the customers
whose owner the caller sees (admins: every customer, unowned ones too).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.auth.principal import Principal
from fieldpunch.kit.errors import Invalid, NotFound
from fieldpunch.reports.columns import Column, Lang
from fieldpunch.reports.repository import ReportsRepo
from fieldpunch.reports.service import MAX_DAYS, month_range
from fieldpunch.reports.words import org_language
from fieldpunch.reports.writers import json_value
from fieldpunch.teams.service import get_visible as visible_team
from fieldpunch.teams.tree import subtree_ids
from fieldpunch.users.models import User
from fieldpunch.visits.reports import shape
from fieldpunch.visits.reports.columns import (
    PERFORMANCE_COLUMNS,
    TITLES,
    VISIT_COLUMNS,
    PerformanceView,
    VisitView,
)
from fieldpunch.visits.reports.repository import Scope, VisitReportsRepo, tally
from fieldpunch.visits.repository import VisitRepo

CHUNK = 1000  # people or customers per partition of a download
MAX_NOT_VISITED_DAYS = 3660


@dataclass(frozen=True, slots=True)
class Ask:
    family: str  # visits | performance
    view: str
    start: date | None
    end: date | None
    month: str | None
    team_id: str | None
    user_id: str | None
    lang: Lang | None
    days: int | None = None  # not_visited: N
    status: str | None = None  # not_visited: the customers' status


@dataclass(frozen=True, slots=True)
class Report:
    family: str
    view: str
    lang: Lang
    tz: ZoneInfo
    title: str
    columns: tuple[Column, ...]
    scope: Scope
    outcomes: tuple[str, ...]  # the org's outcome keys (visit views)
    cutoff: datetime | None = None  # not_visited: last visit before this
    today: date | None = None
    status: str | None = None

    @property
    def name(self) -> str:
        return f"{self.family}.{self.view}"


def local_range(
    start: date | None, end: date | None, month: str | None, today: date
) -> tuple[date, date]:
    """`month`, or `from` and `to`, or this month (the org's) when neither is given."""
    if month is not None:
        if start is not None or end is not None:
            loc = "from" if start is not None else "to"
            raise Invalid(["query", loc], "give either `month` or `from` and `to`, not both")
        return month_range(month)
    if start is None and end is None:
        return month_range(today.strftime("%Y-%m"))
    if start is None:
        raise Invalid(["query", "from"], "required with `to`")
    if end is None:
        raise Invalid(["query", "to"], "required with `from`")
    if end < start:
        raise Invalid(["query", "to"], "on or after `from`")
    if (end - start).days >= MAX_DAYS:
        raise Invalid(["query", "to"], f"at most {MAX_DAYS} days from `from`")
    return start, end


def midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tz).astimezone(UTC)


async def prepare(session: AsyncSession, p: Principal, ask: Ask) -> Report:
    reports = ReportsRepo(session)
    org = await reports.org(p.org_id)
    tz = ZoneInfo(org.timezone)
    today = datetime.now(tz).date()
    visible = p.user_filter(User.id, User.team_id)
    if ask.user_id is not None and not await reports.visible_user(p.org_id, ask.user_id, visible):
        raise NotFound(f"user {ask.user_id} not found")
    team_ids = None
    if ask.team_id is not None:
        await visible_team(session, p, ask.team_id)  # 404 for a team the caller may not see
        team_ids = await subtree_ids(session, p.org_id, [ask.team_id])
    lang = ask.lang or org_language(org.settings, org.timezone)
    cutoff = None
    if ask.view == VisitView.not_visited:
        if ask.days is None:
            raise Invalid(["query", "days"], "required with view=not_visited")
        if ask.start is not None or ask.end is not None or ask.month is not None:
            raise Invalid(["query", "days"], "not_visited counts days back from today, not a range")
        start = end = today
        cutoff = midnight(today - timedelta(days=ask.days - 1), tz)
    else:
        start, end = local_range(ask.start, ask.end, ask.month, today)
    scope = Scope(
        org_id=p.org_id,
        start=start,
        end=end,
        since=midnight(start, tz),
        until=midnight(end + timedelta(days=1), tz),
        visible=visible,
        user_id=ask.user_id,
        team_ids=team_ids,
    )
    outcomes: tuple[str, ...] = ()
    if ask.family == "visits":
        columns = VISIT_COLUMNS[VisitView(ask.view)]
        if ask.view != VisitView.not_visited:
            listed = await VisitRepo(session).outcomes(p.org_id)
            outcomes = tuple(o.key for o in listed)
            extra = tuple(Column(f"outcome_{o.key}", o.label, o.label, "int", 10) for o in listed)
            columns = columns[:-1] + extra + columns[-1:]  # the id stays last
    else:
        columns = PERFORMANCE_COLUMNS[PerformanceView(ask.view)]
    zh, en = TITLES[f"{ask.family}.{ask.view}"]
    span = f"{start.isoformat()} 至 {end.isoformat()}" if lang is Lang.zh else f"{start} to {end}"
    if cutoff is not None:
        span = f"{ask.days} 天未拜访" if lang is Lang.zh else f"no visit in {ask.days} days"
    title = f"{org.name} {zh}（{span}）" if lang is Lang.zh else f"{org.name} — {en}, {span}"
    return Report(ask.family, ask.view, lang, tz, title, columns, scope, outcomes, cutoff,
                  today, ask.status)  # fmt: skip


async def partition(
    session: AsyncSession, r: Report, after: str | None, n: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Up to `n` rows after the key `after`, and the last row's key (None: no more rows)."""
    repo = VisitReportsRepo(session)
    s = r.scope
    if r.name == "visits.person":
        rows = await repo.person_partition(s, after, n)
        found = await repo.outcomes(s, "user", [x.id for x in rows]) if r.outcomes else {}
        out = [
            {"name": x.name, "employee_no": x.employee_no or "", "team": x.team or "",
             **shape.counts(tally(x)), "customers": x.customers,
             **shape.outcome_cells(found.get(x.id, {}), r.outcomes), "user_id": x.id}
            for x in rows
        ]  # fmt: skip
    elif r.name == "visits.customer":
        rows, last = await _customers(repo, s, after, n)
        found = await repo.outcomes(s, "customer", [x.id for x in rows]) if r.outcomes else {}
        out = [
            {"customer": x.name, "owner": x.owner or "", "status": x.status,
             **shape.counts(tally(x)), "people": x.people,
             "last_visit_at": _local(x.last_visit_at, r.tz),
             **shape.outcome_cells(found.get(x.id, {}), r.outcomes), "customer_id": x.id}
            for x in rows
        ]  # fmt: skip
    elif r.name == "visits.not_visited":
        assert r.cutoff is not None
        assert r.today is not None
        owners = s.visible
        if s.user_id is not None:
            owners = User.id == s.user_id if owners is None else owners & (User.id == s.user_id)
        if s.team_ids is not None:
            in_team = User.team_id.in_(s.team_ids)
            owners = in_team if owners is None else owners & in_team
        rows = await repo.not_visited(s.org_id, owners, r.cutoff, r.status, after, n)
        out = [_not_visited(x, r.tz, r.today) for x in rows]
    else:
        rows = await repo.people(s, after, n)
        out = [p | {"team_id": x.team_id} for x, p in await _performance(repo, s, rows, after)]
    if r.name != "visits.customer":
        last = rows[-1].id if len(rows) == n else None
    return out, last


async def _customers(
    repo: VisitReportsRepo, s: Scope, after: str | None, n: int
) -> tuple[list[Any], str | None]:
    """Up to `n` visited customers after `after`, reading chunks of customer ids until found
    (most customers have no visit in a range); the key to go on from, None at the end."""
    rows: list[Any] = []
    while len(rows) < n:
        ids = await repo.customer_ids(s.org_id, after, CHUNK)
        rows += await repo.customer_partition(s, ids) if ids else []
        if len(ids) < CHUNK:
            return rows[:n], (rows[n - 1].id if len(rows) > n else None)
        after = ids[-1]
    return rows[:n], rows[n - 1].id if len(rows) > n else after


def _local(t: datetime | None, tz: ZoneInfo) -> datetime | None:
    return None if t is None else t.astimezone(tz)


def _not_visited(x: Any, tz: ZoneInfo, today: date) -> dict[str, Any]:
    last = _local(x.last_visit_at, tz)
    return {
        "customer": x.name, "address": x.address, "owner": x.owner or "",
        "owner_team": x.owner_team or "", "status": x.status, "last_visit_at": last,
        "days_since": None if last is None else (today - last.date()).days,
        "customer_id": x.id,
    }  # fmt: skip


async def _performance(
    repo: VisitReportsRepo, s: Scope, people: list[Any], after: str | None
) -> list[tuple[Any, dict[str, Any]]]:
    if not people:
        return []
    ids = (after or "", people[-1].id)
    visits = await repo.visit_counts(s, ids)
    tasks, punches, flagged = (
        await repo.tasks_done(s, ids),
        await repo.punches(s, ids),
        await repo.flagged(s, ids),
    )
    days: dict[str, list[shape.DaySpan]] = {}
    for user_id, day, first_in, last_out, at_s in await repo.person_days(s, ids):
        days.setdefault(user_id, []).append(shape.DaySpan(day, first_in, last_out, int(at_s)))
    out = []
    for x in people:
        v = visits.get(x.id)
        figures = shape.Performance(
            tally(v) if v is not None else shape.Tally(),
            customers=int(v.customers) if v is not None else 0,
            tasks_done=tasks.get(x.id, 0),
            punches=punches.get(x.id, 0),
            flagged=flagged.get(x.id, 0),
            travel_s=shape.travel_s(days.get(x.id, ())),
        )
        row = {"name": x.name, "employee_no": x.employee_no or "", "team": x.team or "",
               **figures.row(), "user_id": x.id, "_figures": figures}  # fmt: skip
        out.append((x, row))
    return out


def no_team(lang: Lang) -> str:
    return "未分配部门" if lang is Lang.zh else "No team"


async def rows(session: AsyncSession, r: Report) -> AsyncIterator[list[dict[str, Any]]]:
    """Every row of the report, a partition at a time (the team view: all at the end)."""
    if r.name == "performance.team":
        folder = shape.TeamFolder(no_team(r.lang))
        after: str | None = None
        while True:
            people = await VisitReportsRepo(session).people(r.scope, after, CHUNK)
            for x, row in await _performance(VisitReportsRepo(session), r.scope, people, after):
                folder.feed(x.team_id, x.team, row["_figures"])
            if len(people) < CHUNK:
                break
            after = people[-1].id
        yield folder.rows()
        return
    after = None
    while True:
        part, after = await partition(session, r, after, CHUNK)
        yield [_clean(x) for x in part]
        if after is None:
            return


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if not k.startswith("_")}


def _encode(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def _decode(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Invalid(["query", "cursor"], "not a cursor this API issued") from None


async def page(session: AsyncSession, r: Report, limit: int, cursor: str | None) -> dict[str, Any]:
    head = {
        "report": r.name,
        "view": r.view,
        "lang": r.lang.value,
        "title": r.title,
        "from": r.scope.start.isoformat(),
        "to": r.scope.end.isoformat(),
        "timezone": str(r.tz),
        "columns": [{"key": c.key, "header": c.header(r.lang), "type": c.kind} for c in r.columns],
    }
    if r.name == "performance.team":
        whole = [row async for part in rows(session, r) for row in part]
        return head | {"items": _json(whole), "next_cursor": None}
    after = _decode(cursor) if cursor is not None else None
    part, _ = await partition(session, r, after, limit + 1)  # one more: is there a next page?
    more, part = len(part) > limit, part[:limit]
    key = "customer_id" if r.view in ("customer", "not_visited") else "user_id"
    return head | {
        "items": _json([_clean(x) for x in part]),
        "next_cursor": _encode(part[-1][key]) if more else None,
    }


def _json(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: json_value(v) for k, v in row.items()} for row in items]
