"""Attendance groups (考勤组): a schedule, its people and teams, its places.

A person belongs to one group: their own assignment, else their team's (the nearest team up
the tree that has one). Whoever a change reaches (joining, leaving, or staying under new rules)
has today's day recomputed; past days keep the rules they were computed with.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.attendance.models import AttendanceGroup, Shift
from fieldpunch.attendance.repository import AttendanceRepo
from fieldpunch.attendance.schemas import GroupCreate, GroupOut, GroupUpdate
from fieldpunch.attendance.shifts import revalidate, today
from fieldpunch.auditlog.service import record
from fieldpunch.auth.principal import Principal
from fieldpunch.db.scoped import get_scoped, ref_scoped, scoped
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.errors import Conflict, Invalid, Loc
from fieldpunch.kit.ids import new_id
from fieldpunch.kit.pagination import PageParams, page_of, paginate
from fieldpunch.kit.schemas import apply
from fieldpunch.places.models import Place
from fieldpunch.teams.models import Team
from fieldpunch.users.models import User

MEMBERS = ("user_ids", "team_ids", "place_ids")
# What a PATCH may not null (shift_id and required_min follow the schedule instead).
NOT_NULL = tuple(f for f in GroupCreate.model_fields if f not in ("shift_id", "required_min"))
RULES = tuple(f for f in GroupCreate.model_fields if f not in ("name", *MEMBERS))


def _out(group: AttendanceGroup, members: tuple[list[str], ...]) -> GroupOut:
    fields = {k: getattr(group, k) for k in GroupOut.model_fields if k not in MEMBERS}
    return GroupOut.model_validate({**fields, **dict(zip(MEMBERS, members, strict=True))})


async def _check_refs(
    session: AsyncSession, p: Principal, group_id: str, body: GroupCreate
) -> None:
    """Every id names a row of the org (422 naming the item), and no person or team is in
    another group already (409: move them out of it first)."""
    repo = AttendanceRepo(session)
    await ref_scoped(session, Shift, p.org_id, body.shift_id, ["body", "shift_id"])
    problems: list[tuple[Loc, str]] = []
    for field, model in (("user_ids", User), ("team_ids", Team), ("place_ids", Place)):
        ids: list[str] = getattr(body, field)
        found = await repo.existing(model, p.org_id, ids) if ids else set()
        problems += [
            (["body", field, i], f"no such {model.__name__.lower()}: {v}")
            for i, v in enumerate(ids)
            if v not in found
        ]
    if problems:
        raise Invalid.many(problems)
    taken = await repo.taken(p.org_id, group_id, body.user_ids, body.team_ids)
    if taken:
        kind, member, name = taken[0]
        raise Conflict(
            f"{kind} {member} is in the attendance group {name!r} already "
            f"(and {len(taken) - 1} more): take them out of it first"
        )


async def _touch(session: AsyncSession, org_id: str, people: set[str]) -> None:
    repo = AttendanceRepo(session)
    now = utcnow()
    day = await today(repo, org_id, now)
    await repo.mark_dirty(org_id, [(u, day) for u in people], "group", now)


async def create(session: AsyncSession, p: Principal, body: GroupCreate) -> GroupOut:
    group_id = new_id("agp")
    await _check_refs(session, p, group_id, body)
    data = body.model_dump(exclude=set(MEMBERS))
    group = AttendanceGroup(id=group_id, org_id=p.org_id, **data)
    session.add(group)
    await session.flush()
    repo = AttendanceRepo(session)
    await repo.set_members(p.org_id, group.id, body.user_ids, body.team_ids, body.place_ids)
    await _touch(session, p.org_id, await repo.people_in_groups(p.org_id, [group.id]))
    record(
        session, p.org_id, p.actor, "attendance_group.created", "attendance_group", group.id,
        **body.model_dump(),
    )  # fmt: skip
    return _out(group, (body.user_ids, body.team_ids, body.place_ids))


async def get(session: AsyncSession, p: Principal, group_id: str) -> GroupOut:
    group = await get_scoped(session, AttendanceGroup, p.org_id, group_id, what="attendance group")
    return _out(group, (await AttendanceRepo(session).members([group.id]))[group.id])


async def list_(
    session: AsyncSession, p: Principal, page: PageParams, schedule: str | None
) -> dict[str, Any]:
    stmt = scoped(AttendanceGroup, p.org_id)
    if schedule is not None:
        stmt = stmt.where(AttendanceGroup.schedule == schedule)
    rows = list((await session.execute(paginate(stmt, AttendanceGroup.id, page))).scalars())
    members = await AttendanceRepo(session).members([r.id for r in rows[: page.limit]])
    return page_of(rows, page, lambda r: _out(r, members[r.id]))


async def update(session: AsyncSession, p: Principal, group_id: str, body: GroupUpdate) -> GroupOut:
    group = await get_scoped(session, AttendanceGroup, p.org_id, group_id, what="attendance group")
    repo = AttendanceRepo(session)
    members = (await repo.members([group.id]))[group.id]
    stored = {k: getattr(group, k) for k in GroupCreate.model_fields if k not in MEMBERS}
    stored |= dict(zip(MEMBERS, members, strict=True))
    changes = body.model_dump(exclude_unset=True)
    for key in NOT_NULL:
        if key in changes and changes[key] is None:
            raise Invalid(["body", key], "may not be null")
    merged: GroupCreate = revalidate(GroupCreate, {**stored, **changes})
    after = merged.model_dump()
    changed = {k: after[k] for k in after if after[k] != stored[k]}
    if not changed:
        return _out(group, members)
    await _check_refs(session, p, group.id, merged)
    reached = await repo.people_in_groups(p.org_id, [group.id])  # before: those who leave
    apply(group, {k: v for k, v in changed.items() if k not in MEMBERS})
    await session.flush()
    await repo.set_members(p.org_id, group.id, *(changed.get(k) for k in MEMBERS))
    after_people = await repo.people_in_groups(p.org_id, [group.id])
    if any(k in RULES for k in changed):
        reached |= after_people
    else:  # only the membership moved: those who joined or left
        reached ^= after_people
    await _touch(session, p.org_id, reached)
    record(
        session, p.org_id, p.actor, "attendance_group.updated", "attendance_group", group.id,
        before={k: stored[k] for k in changed}, after=changed,
    )  # fmt: skip
    return _out(group, tuple(after[k] for k in MEMBERS))


async def delete(session: AsyncSession, p: Principal, group_id: str) -> None:
    """Its people fall back to their team's group (or none) from today on."""
    group = await get_scoped(session, AttendanceGroup, p.org_id, group_id, what="attendance group")
    repo = AttendanceRepo(session)
    people = await repo.people_in_groups(p.org_id, [group.id])
    await repo.set_members(p.org_id, group.id, [], [], [])
    await session.delete(group)
    await session.flush()
    await _touch(session, p.org_id, people)
    record(
        session, p.org_id, p.actor, "attendance_group.deleted", "attendance_group", group.id,
        name=group.name,
    )  # fmt: skip
