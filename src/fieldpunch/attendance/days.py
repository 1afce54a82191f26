"""Reading the computed days (staff their own, managers their teams', admins all) and asking
for a recompute (admins: marks days dirty; the `attendance.refresh` job recomputes them)."""

from __future__ import annotations

import binascii
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.attendance.days_models import AttendanceDay
from fieldpunch.attendance.days_repository import DaysRepo
from fieldpunch.attendance.days_schemas import MAX_DAYS, DayOut, RecomputeIn, RecomputeOut
from fieldpunch.attendance.models import EVERYONE
from fieldpunch.attendance.repository import AttendanceRepo
from fieldpunch.auditlog.service import record
from fieldpunch.auth.principal import Principal
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.errors import Invalid, NotFound
from fieldpunch.kit.pagination import decode_cursor, encode_cursor
from fieldpunch.teams.service import get_visible as visible_team
from fieldpunch.users.models import User


def _cursor(row: AttendanceDay) -> str:
    return f"{encode_cursor(row.user_id)}.{row.day.isoformat()}"


def _after(cursor: str | None) -> tuple[str, date] | None:
    """A days cursor: the person's id as other lists encode it, a dot, the date."""
    if cursor is None:
        return None
    person, _, day = cursor.partition(".")
    try:
        return decode_cursor(person), date.fromisoformat(day)
    except (ValueError, binascii.Error):
        raise Invalid(["query", "cursor"], "not a cursor this API issued") from None


def _span(start: date, end: date) -> None:
    if end < start:
        raise Invalid(["query", "to"], "on or after `from`")
    if (end - start).days >= MAX_DAYS:
        raise Invalid(["query", "to"], f"at most {MAX_DAYS} days from `from`")


def day_out(row: AttendanceDay, user_name: str) -> DayOut:
    return DayOut.model_validate(
        {
            **{c: getattr(row, c) for c in DayOut.model_fields if hasattr(row, c)},
            "date": row.day,
            "user_name": user_name,
            "edges": row.result.get("edges", []),
        }
    )


async def list_days(
    session: AsyncSession,
    p: Principal,
    limit: int,
    cursor: str | None,
    start: date,
    end: date,
    *,
    user_id: str | None,
    team_id: str | None,
    status: str | None,
) -> dict[str, Any]:
    _span(start, end)
    repo = DaysRepo(session)
    visible = p.user_filter(User.id, User.team_id)
    if user_id is not None and not await repo.visible_user(p.org_id, user_id, visible):
        raise NotFound(f"user {user_id} not found")
    if team_id is not None:
        await visible_team(session, p, team_id)
    rows = await repo.page(
        p.org_id,
        start,
        end,
        visible=visible,
        user_id=user_id,
        team_id=team_id,
        status=status,
        after=_after(cursor),
        limit=limit + 1,
    )
    more, rows = len(rows) > limit, rows[:limit]
    return {
        "items": [day_out(d, name) for d, name in rows],
        "next_cursor": _cursor(rows[-1][0]) if more and rows else None,
    }


async def request_recompute(session: AsyncSession, p: Principal, body: RecomputeIn) -> RecomputeOut:
    """Mark the days dirty (for rule changes made outside the API, or a backfill)."""
    days = [body.from_ + timedelta(days=i) for i in range((body.to - body.from_).days + 1)]
    repo = DaysRepo(session)
    if body.user_id is not None:
        if not await repo.visible_user(p.org_id, body.user_id, None):
            raise NotFound(f"user {body.user_id} not found")
        people = [body.user_id]
    if body.team_id is not None:
        await visible_team(session, p, body.team_id)
        team = await repo.team_people(p.org_id, [body.team_id])
        people = [u for u in team if body.user_id in (None, u)]
    if body.user_id is None and body.team_id is None:
        cells = [(EVERYONE, d) for d in days]
    else:
        cells = [(u, d) for u in people for d in days]
    marked = await AttendanceRepo(session).mark_dirty(p.org_id, cells, "api", utcnow())
    record(
        session,
        p.org_id,
        p.actor,
        "attendance.recompute",
        "attendance_days",
        body.user_id or body.team_id or p.org_id,
        **body.model_dump(mode="json", by_alias=True),
    )
    return RecomputeOut(marked=marked)
