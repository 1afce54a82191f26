"""Rosters (排班): a shift or rest per person and local date, set in bulk.

A person's entries matter while their group is rostered. Managers roster the people they see;
each person-day that changes is left for the recompute, in the same transaction.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.attendance.models import Shift
from fieldpunch.attendance.repository import AttendanceRepo
from fieldpunch.attendance.schemas_days import REST, RosterPut, RosterPutOut
from fieldpunch.auditlog.service import record
from fieldpunch.auth.principal import Principal
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.errors import Invalid, Loc, NotFound
from fieldpunch.kit.pagination import PageParams, encode_cursor
from fieldpunch.teams.service import get_visible as visible_team
from fieldpunch.users.models import User

MAX_READ_DAYS = 366
Cell = tuple[str, date]


def _shown(shift_id: str | None) -> str:
    return REST if shift_id is None else shift_id


async def read(
    session: AsyncSession,
    p: Principal,
    page: PageParams,
    start: date,
    end: date,
    *,
    user_id: str | None,
    team_id: str | None,
) -> dict[str, Any]:
    """People (a page of them, by id) with their entries between `start` and `end`."""
    if end < start:
        raise Invalid(["query", "to"], "on or after `from`")
    if (end - start).days >= MAX_READ_DAYS:
        raise Invalid(["query", "to"], f"at most {MAX_READ_DAYS} days from `from`")
    repo = AttendanceRepo(session)
    visible = p.user_filter(User.id, User.team_id)
    if user_id is not None and not await repo.visible_people(p.org_id, [user_id], visible):
        raise NotFound(f"user {user_id} not found")
    if team_id is not None:
        await visible_team(session, p, team_id)
    people = await repo.roster_people(
        p.org_id,
        start,
        end,
        visible=visible,
        user_id=user_id,
        team_id=team_id,
        after=page.after,
        limit=page.limit + 1,
    )
    more, people = len(people) > page.limit, people[: page.limit]
    days: dict[str, list[dict[str, Any]]] = {u: [] for u in people}
    for entry in await repo.roster(p.org_id, people, start, end):
        days[entry.user_id].append({"date": entry.day, "shift_id": _shown(entry.shift_id)})
    return {
        "items": [{"user_id": u, "days": days[u]} for u in people],
        "next_cursor": encode_cursor(people[-1]) if more and people else None,
    }


def _cells(body: RosterPut) -> tuple[dict[Cell, str | None], list[tuple[Loc, str, str]]]:
    """Every (person, day) → shift ref ("rest") or None (clear), later ones winning; and each
    id sent with where it was sent, `(loc, kind, id)`, to check."""
    cells: dict[Cell, str | None] = {}
    refs: list[tuple[Loc, str, str]] = []
    for i, fill in enumerate(body.fill):
        refs += [
            (["body", "fill", i, "user_ids", j], "user", u) for j, u in enumerate(fill.user_ids)
        ]
        refs += [
            (["body", "fill", i, "pattern", j], "shift", s)
            for j, s in enumerate(fill.pattern)
            if s != REST
        ]
        for day, shift in fill.days():
            cells.update({(u, day): shift for u in fill.user_ids})
    for i, entry in enumerate(body.entries):
        refs.append((["body", "entries", i, "user_id"], "user", entry.user_id))
        if entry.shift_id not in (None, REST):
            refs.append((["body", "entries", i, "shift_id"], "shift", entry.shift_id))
        cells[(entry.user_id, entry.date)] = entry.shift_id
    return cells, refs


async def put(session: AsyncSession, p: Principal, body: RosterPut) -> RosterPutOut:
    repo = AttendanceRepo(session)
    cells, refs = _cells(body)
    people = await repo.visible_people(
        p.org_id, {i for _, k, i in refs if k == "user"}, p.user_filter(User.id, User.team_id)
    )
    shifts = await repo.existing(Shift, p.org_id, {i for _, k, i in refs if k == "shift"})
    bad: list[tuple[Loc, str]] = [
        (loc, f"no such {kind}: {ref}")
        for loc, kind, ref in refs
        if ref not in (people if kind == "user" else shifts)
    ]
    if bad:
        raise Invalid.many(bad[:50])
    stored = await repo.roster_cells(p.org_id, cells)
    wanted = {c: (None if s == REST else s) for c, s in cells.items() if s is not None}
    changed = {c: s for c, s in wanted.items() if c not in stored or stored[c] != s}
    cleared = sorted(c for c, s in cells.items() if s is None and c in stored)
    now = utcnow()
    await repo.put_roster(p.org_id, changed, cleared, now, p.actor)
    await repo.mark_dirty(p.org_id, [*changed, *cleared], "roster", now)
    # One audit entry per person: what each changed day was, and became.
    by_person: dict[str, dict[str, Any]] = {}
    for user_id, day in sorted([*changed, *cleared]):
        before = _shown(stored[(user_id, day)]) if (user_id, day) in stored else None
        after = _shown(changed[(user_id, day)]) if (user_id, day) in changed else None
        by_person.setdefault(user_id, {})[day.isoformat()] = [before, after]
    for user_id, days in by_person.items():
        record(session, p.org_id, p.actor, "roster.updated", "roster", user_id, days=days)
    return RosterPutOut(set=len(wanted), cleared=len(cleared))
