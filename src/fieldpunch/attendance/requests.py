"""Requests that cover time: leave (请假), business trips (出差), going out (外出), overtime (加班).

A person files their own; their manager (of a team above them) or an admin approves or rejects
it; the filer may cancel it while pending, a decider may cancel an approved one. Approved
requests of one person never overlap. Approving or cancelling an approved request changes the
days it covers: they are left for the recompute in the same transaction.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.attendance.models import AttendanceRequest
from fieldpunch.attendance.repository import AttendanceRepo
from fieldpunch.attendance.schemas_days import RequestCreate, RequestOut
from fieldpunch.auditlog.service import record
from fieldpunch.auth.principal import Principal, visible_rows
from fieldpunch.auth.scopes import Scope
from fieldpunch.db.scoped import get_among
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.errors import Conflict, Forbidden, Invalid
from fieldpunch.kit.ids import new_id
from fieldpunch.kit.pagination import PageParams, page_of, paginate

# Where a unit's start and end may fall, in local time: whole days, or halves of one.
_EDGES = {"day": (time(0),), "half_day": (time(0), time(12))}


def _check_unit(body: RequestCreate, tz: ZoneInfo) -> None:
    edges = _EDGES.get(str(body.unit))
    if edges is None:
        return
    what = "midnight" if body.unit == "day" else "midnight or noon"
    for field in ("start", "end"):
        local: datetime = getattr(body, field).astimezone(tz)
        if local.timetz().replace(tzinfo=None) not in edges:
            raise Invalid(
                ["body", field], f"a {body.unit} request starts and ends at local {what} ({tz.key})"
            )


def covered_days(start: datetime, end: datetime, tz: ZoneInfo) -> list[date]:
    """The local dates [start, end) touches, and the day before the start: a night shift
    belongs to the day it starts, so one that started then may reach into the request."""
    first = start.astimezone(tz).date() - timedelta(days=1)
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _z(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def _no_overlap(
    repo: AttendanceRepo, row: AttendanceRequest | RequestCreate, **key: Any
) -> None:
    start, end = (
        (row.start, row.end) if isinstance(row, RequestCreate) else (row.start_at, row.end_at)
    )
    other = await repo.overlapping(key["org_id"], key["user_id"], start, end, key.get("but"))
    if other is not None:
        raise Conflict(
            f"overlaps the approved {other.kind} request {other.id} "
            f"({_z(other.start_at)} – {_z(other.end_at)})"
        )


async def create(session: AsyncSession, p: Principal, body: RequestCreate) -> RequestOut:
    if p.user_id is None:
        raise Forbidden("a request is filed by the person it is for")
    repo = AttendanceRepo(session)
    _check_unit(body, await repo.org_tz(p.org_id))
    await _no_overlap(repo, body, org_id=p.org_id, user_id=p.user_id)
    row = AttendanceRequest(
        id=new_id("req"),
        org_id=p.org_id,
        user_id=p.user_id,
        kind=body.kind,
        leave_type=body.leave_type,
        unit=body.unit,
        start_at=body.start.astimezone(UTC),  # answered in UTC, as when read back
        end_at=body.end.astimezone(UTC),
        reason=body.reason,
        status="pending",
        created_at=utcnow(),
        comment="",
    )
    session.add(row)
    await session.flush()
    record(
        session, p.org_id, p.actor, "request.filed", "request", row.id,
        kind=row.kind, leave_type=row.leave_type, unit=row.unit,
        start=row.start_at.isoformat(), end=row.end_at.isoformat(), reason=row.reason,
    )  # fmt: skip
    return RequestOut.model_validate(row)


async def get_visible(session: AsyncSession, p: Principal, request_id: str) -> AttendanceRequest:
    rows = visible_rows(AttendanceRequest, p)
    return await get_among(session, rows, AttendanceRequest, request_id, what="request")


async def list_(
    session: AsyncSession,
    p: Principal,
    page: PageParams,
    *,
    status: str | None,
    kind: str | None,
    user_id: str | None,
    mine: bool,
) -> dict[str, Any]:
    """Staff see their own; managers their teams' (and their own); admins all."""
    stmt = visible_rows(AttendanceRequest, p)
    if mine:
        stmt = stmt.where(AttendanceRequest.user_id == (p.user_id or ""))
    for column, value in (
        (AttendanceRequest.status, status),
        (AttendanceRequest.kind, kind),
        (AttendanceRequest.user_id, user_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    rows = list((await session.execute(paginate(stmt, AttendanceRequest.id, page))).scalars())
    return page_of(rows, page, RequestOut.model_validate)


async def _touch(repo: AttendanceRepo, row: AttendanceRequest, now: datetime) -> None:
    days = covered_days(row.start_at, row.end_at, await repo.org_tz(row.org_id))
    await repo.mark_dirty(row.org_id, [(row.user_id, d) for d in days], "request", now)


async def decide(
    session: AsyncSession, p: Principal, request_id: str, approve: bool, comment: str
) -> RequestOut:
    row = await get_visible(session, p, request_id)
    if p.user_id is not None and row.user_id == p.user_id:
        raise Forbidden("someone else must decide your own request")
    if row.status != "pending":
        raise Conflict(f"request {row.id} is already {row.status}")
    repo = AttendanceRepo(session)
    if approve:
        await _no_overlap(repo, row, org_id=row.org_id, user_id=row.user_id, but=row.id)
    now = utcnow()
    row.status = "approved" if approve else "rejected"
    row.decided_by, row.decided_at, row.comment = p.actor, now, comment
    await session.flush()
    if approve:
        await _touch(repo, row, now)
    record(session, p.org_id, p.actor, f"request.{row.status}", "request", row.id, comment=comment)
    return RequestOut.model_validate(row)


async def cancel(session: AsyncSession, p: Principal, request_id: str) -> RequestOut:
    """The filer withdraws a pending request; a decider revokes an approved one."""
    row = await get_visible(session, p, request_id)
    own = p.user_id is not None and row.user_id == p.user_id
    if row.status == "pending" and not own:
        raise Conflict(f"request {row.id} is pending: reject it instead")
    if row.status == "approved":
        if own:
            raise Conflict(f"request {row.id} is approved: ask your manager to cancel it")
        p.require(Scope.attendance_review)
    elif row.status != "pending":
        raise Conflict(f"request {row.id} is already {row.status}")
    was, now = row.status, utcnow()
    row.status, row.cancelled_by, row.cancelled_at = "cancelled", p.actor, now
    await session.flush()
    if was == "approved":
        await _touch(AttendanceRepo(session), row, now)
    record(session, p.org_id, p.actor, "request.cancelled", "request", row.id, was=was)
    return RequestOut.model_validate(row)
