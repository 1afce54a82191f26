"""Shifts (班次): create, read, change, delete; a change reaches the days of whoever works it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.attendance.models import Shift
from fieldpunch.attendance.repository import AttendanceRepo
from fieldpunch.attendance.schemas import ShiftCreate, ShiftOut, ShiftUpdate
from fieldpunch.auditlog.service import record, record_changes
from fieldpunch.auth.principal import Principal
from fieldpunch.db.scoped import get_scoped, scoped
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.errors import Conflict, Invalid
from fieldpunch.kit.ids import new_id
from fieldpunch.kit.pagination import PageParams, page_of, paginate
from fieldpunch.kit.schemas import apply

RULES = tuple(f for f in ShiftCreate.model_fields if f != "name")
NOT_NULL = (
    "name",
    "periods",
    "grace_late_min",
    "grace_early_min",
    "flex_min",
    "clock_in_window_min",
    "clock_out_window_min",
)


def revalidate(model: type[Any], merged: dict[str, Any]) -> Any:
    """A PATCH merged into the stored row, checked as a whole by the create model: a rule
    across fields (serious late above the grace, …) holds after any partial change too."""
    try:
        return model.model_validate(merged)
    except ValidationError as exc:
        raise Invalid.many(
            [(["body", *e["loc"]], e["msg"].removeprefix("Value error, ")) for e in exc.errors()]
        ) from None


def columns(body: ShiftCreate) -> dict[str, Any]:
    return body.model_dump()


async def today(repo: AttendanceRepo, org_id: str, now: datetime) -> date:
    """The org's local date now: rule changes apply from this day on."""
    return now.astimezone(await repo.org_tz(org_id)).date()


async def create(session: AsyncSession, p: Principal, body: ShiftCreate) -> ShiftOut:
    shift = Shift(id=new_id("shf"), org_id=p.org_id, **columns(body))
    session.add(shift)
    await session.flush()
    record(session, p.org_id, p.actor, "shift.created", "shift", shift.id, **columns(body))
    return ShiftOut.model_validate(shift)


async def list_(
    session: AsyncSession, p: Principal, page: PageParams, q: str | None
) -> dict[str, Any]:
    stmt = scoped(Shift, p.org_id)
    if q:
        stmt = stmt.where(Shift.name.contains(q, autoescape=True))
    rows = list((await session.execute(paginate(stmt, Shift.id, page))).scalars())
    return page_of(rows, page, ShiftOut.model_validate)


async def get(session: AsyncSession, p: Principal, shift_id: str) -> Shift:
    return await get_scoped(session, Shift, p.org_id, shift_id, what="shift")


async def update(session: AsyncSession, p: Principal, shift_id: str, body: ShiftUpdate) -> ShiftOut:
    shift = await get(session, p, shift_id)
    changes = body.model_dump(exclude_unset=True)
    for key in NOT_NULL:
        if key in changes and changes[key] is None:
            raise Invalid(["body", key], "may not be null")
    stored = {k: getattr(shift, k) for k in ShiftCreate.model_fields}
    merged = columns(revalidate(ShiftCreate, {**stored, **changes}))
    changed = {k: merged[k] for k in changes}
    record_changes(session, p.org_id, p.actor, "shift.updated", "shift", shift, changed)
    rules_changed = any(getattr(shift, k) != changed[k] for k in changed if k in RULES)
    apply(shift, changed)
    await session.flush()
    if rules_changed:
        await touch_days_of_shift(session, p.org_id, shift.id, "shift")
    return ShiftOut.model_validate(shift)


async def touch_days_of_shift(
    session: AsyncSession, org_id: str, shift_id: str, cause: str
) -> None:
    """A shift's rules changed: today's days of its fixed groups' people, and every roster
    entry on it from today on, are to be recomputed (past days keep the rules they had)."""
    repo = AttendanceRepo(session)
    now = utcnow()
    day = await today(repo, org_id, now)
    cells = set(await repo.rostered_on(org_id, shift_id, day))
    group_ids = await repo.group_using(org_id, shift_id)
    cells |= {(u, day) for u in await repo.people_in_groups(org_id, group_ids)}
    await repo.mark_dirty(org_id, cells, cause, now)


async def delete(session: AsyncSession, p: Principal, shift_id: str) -> None:
    """Soft delete; refused while a group or a roster entry from today on uses it."""
    shift = await get(session, p, shift_id)
    repo = AttendanceRepo(session)
    if await repo.group_using(p.org_id, shift.id):
        raise Conflict(f"shift {shift.id} is used by an attendance group: change the group first")
    if await repo.rostered_on(p.org_id, shift.id, await today(repo, p.org_id, utcnow())):
        raise Conflict(f"shift {shift.id} is on the roster from today on: change the roster first")
    shift.deleted_at = utcnow()
    record(session, p.org_id, p.actor, "shift.deleted", "shift", shift.id, name=shift.name)
