"""Visit plans and records over the API: plan (one or a week's at once), read, change, cancel.

Staff plan and see their own visits, managers their teams' (and their own), admins and keys the
whole org; anyone else's visit is a 404 and anyone else as `user_id` a 422. The record itself
(check-in, check-out, duration) is written by the punch follower (follow.py), never by hand.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.auditlog.service import record
from fieldpunch.auth.principal import Principal
from fieldpunch.db.scoped import get_among
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.errors import Conflict, Invalid
from fieldpunch.kit.ids import new_id
from fieldpunch.kit.pagination import PageParams, page_of, paginate
from fieldpunch.teams.tree import subtree_ids
from fieldpunch.users.models import User
from fieldpunch.visits import forms
from fieldpunch.visits.models import Visit
from fieldpunch.visits.repository import VisitRepo
from fieldpunch.visits.schemas import MAX_WINDOW, VisitBulk, VisitCreate, VisitOut, VisitUpdate

PLAN_FIELDS = ("customer_id", "planned_start", "planned_end", "expected_min")
CHANGEABLE = ("planned", "missed")  # states whose plan may still change, be deleted or cancelled


def to_out(v: Visit) -> VisitOut:
    fields = {k: getattr(v, k) for k in VisitOut.model_fields if k != "duration_min"}
    minutes = None if v.duration_s is None else round(v.duration_s / 60, 1)
    return VisitOut(**fields, duration_min=minutes)


def window(
    start: datetime | None, end: datetime | None, expected_min: int | None, tz: ZoneInfo
) -> tuple[date | None, datetime | None]:
    """A plan's local day and when it counts as missed: its end, else its start plus the
    expected duration, else the local midnight after its start. Undated: neither."""
    if start is None:
        return None, None
    day = start.astimezone(tz).date()
    if end is not None:
        return day, end
    if expected_min is not None:
        return day, start + timedelta(minutes=expected_min)
    midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), tz)
    return day, midnight.astimezone(UTC)


def utc(value: datetime | None) -> datetime | None:
    """Times are kept (and answered) in UTC, whatever offset they were sent with."""
    return None if value is None else value.astimezone(UTC)


def _json(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime | date) else v for k, v in values.items()}


async def _check_refs(repo: VisitRepo, p: Principal, bodies: list[VisitCreate], many: bool) -> None:
    """Every person is one the caller may plan for; every customer exists (422 naming it)."""
    people = await repo.visible_people(
        p.org_id, [b.user_id for b in bodies], p.user_filter(User.id, User.team_id)
    )
    customers = await repo.customers(p.org_id, [b.customer_id for b in bodies])
    errors: list[tuple[Any, str]] = []
    for i, b in enumerate(bodies):
        loc: list[Any] = ["body", "visits", i] if many else ["body"]
        if b.user_id not in people:
            errors.append(([*loc, "user_id"], f"no such user you plan for: {b.user_id}"))
        if b.customer_id not in customers:
            errors.append(([*loc, "customer_id"], f"no such customer: {b.customer_id}"))
    forms.invalid(errors)


def _new(p: Principal, body: VisitCreate, tz: ZoneInfo, now: datetime) -> Visit:
    day, due_by = window(body.planned_start, body.planned_end, body.expected_min, tz)
    return Visit(
        id=new_id("vis"),
        org_id=p.org_id,
        customer_id=body.customer_id,
        user_id=body.user_id,
        planned=True,
        planned_start=utc(body.planned_start),
        planned_end=utc(body.planned_end),
        expected_min=body.expected_min,
        purpose=body.purpose,
        day=day,
        due_by=due_by,
        state="planned",
        cancel_reason="",
        note="",
        answers={},
        photo_ids=[],
        created_by=p.actor,
        created_at=now,
        updated_at=now,
    )


async def _plan(
    session: AsyncSession, p: Principal, bodies: list[VisitCreate], many: bool
) -> list[Visit]:
    repo = VisitRepo(session)
    await _check_refs(repo, p, bodies, many)
    tz, now = await repo.org_tz(p.org_id), utcnow()
    visits = [_new(p, b, tz, now) for b in bodies]
    session.add_all(visits)
    await session.flush()
    for v in visits:
        record(
            session, p.org_id, p.actor, "visit.planned", "visit", v.id,
            customer_id=v.customer_id, user_id=v.user_id,
            **_json({"planned_start": v.planned_start, "planned_end": v.planned_end}),
        )  # fmt: skip
    return visits


async def create(session: AsyncSession, p: Principal, body: VisitCreate) -> Visit:
    return (await _plan(session, p, [body], False))[0]


async def bulk(session: AsyncSession, p: Principal, body: VisitBulk) -> list[Visit]:
    """All the plans or none: one bad item is a 422 naming it (`body.visits[i].field`)."""
    return await _plan(session, p, body.visits, True)


async def get_visible(session: AsyncSession, p: Principal, visit_id: str) -> Visit:
    rows = VisitRepo.visible(p.org_id, p.user_filter(User.id, User.team_id))
    return await get_among(session, rows, Visit, visit_id, what="visit")


async def list_(
    session: AsyncSession,
    p: Principal,
    page: PageParams,
    *,
    user_id: str | None,
    customer_id: str | None,
    team_id: str | None,
    state: str | None,
    start: date | None,
    end: date | None,
) -> dict[str, Any]:
    if start is not None and end is not None and end < start:
        raise Invalid(["query", "to"], "on or after from")
    teams = None if team_id is None else await subtree_ids(session, p.org_id, [team_id])
    stmt = VisitRepo.filtered(
        VisitRepo.visible(p.org_id, p.user_filter(User.id, User.team_id)),
        user_id=user_id,
        customer_id=customer_id,
        teams=teams,
        state=state,
        start=start,
        end=end,
    )
    rows = list((await session.execute(paginate(stmt, Visit.id, page))).scalars())
    return page_of(rows, page, to_out)


async def update(session: AsyncSession, p: Principal, visit_id: str, body: VisitUpdate) -> Visit:
    visit = await get_visible(session, p, visit_id)
    changes = body.model_dump(exclude_unset=True)
    changes.update({k: utc(v) for k, v in changes.items() if isinstance(v, datetime)})
    for key in ("purpose", "note"):
        if key in changes and changes[key] is None:
            raise Invalid(["body", key], "may be empty text, not null")
    if visit.state == "cancelled":
        raise Conflict(f"visit {visit.id} is cancelled")
    plan = {k: changes[k] for k in PLAN_FIELDS if k in changes}
    if plan and visit.state not in CHANGEABLE:
        raise Conflict(f"visit {visit.id} is {visit.state}: its plan no longer changes")
    repo = VisitRepo(session)
    await _check_record(session, repo, p, visit, changes)
    if plan:
        await _replan(repo, visit, plan)
    before = _json({k: getattr(visit, k) for k in changes if getattr(visit, k) != changes[k]})
    for key, value in changes.items():
        setattr(visit, key, value)
    if plan:
        await _after_replan(repo, visit)
    visit.updated_at = utcnow()
    await session.flush()
    if before:
        after = _json({k: changes[k] for k in before})
        record(
            session,
            p.org_id,
            p.actor,
            "visit.updated",
            "visit",
            visit.id,
            before=before,
            after=after,
        )
    return visit


async def _check_record(
    session: AsyncSession, repo: VisitRepo, p: Principal, visit: Visit, changes: dict[str, Any]
) -> None:
    if changes.get("outcome") is not None and changes["outcome"] not in await repo.outcome_keys(
        p.org_id
    ):
        raise Invalid(["body", "outcome"], "not in the organization's visit outcomes")
    if "answers" in changes:
        answers = changes["answers"] or {}
        changes["answers"] = answers
        fields = await repo.fields(p.org_id)
        errors = forms.check_answers(fields, answers)
        errors = errors or await forms.photo_errors(
            session, p.org_id, visit.user_id, fields, answers
        )
        forms.invalid(errors)
    if "customer_id" in changes and changes["customer_id"] not in await repo.customers(
        p.org_id, [changes["customer_id"] or ""]
    ):
        raise Invalid(["body", "customer_id"], f"no such customer: {changes['customer_id']}")


async def _replan(repo: VisitRepo, visit: Visit, plan: dict[str, Any]) -> None:
    """The window as it will be, checked against the fields not sent."""
    start = plan.get("planned_start", visit.planned_start)
    end = plan.get("planned_end", visit.planned_end)
    if end is not None and (start is None or not start < end <= start + MAX_WINDOW):
        raise Invalid(["body", "planned_end"], "after planned_start, within 24 hours")


async def _after_replan(repo: VisitRepo, visit: Visit) -> None:
    tz = await repo.org_tz(visit.org_id)
    visit.day, visit.due_by = window(visit.planned_start, visit.planned_end, visit.expected_min, tz)
    if visit.state == "missed" and (visit.due_by is None or visit.due_by > utcnow()):
        visit.state = "planned"  # moved to a window still ahead


async def cancel(session: AsyncSession, p: Principal, visit_id: str, reason: str) -> Visit:
    visit = await get_visible(session, p, visit_id)
    if visit.state not in CHANGEABLE:
        raise Conflict(f"visit {visit.id} is {visit.state}: only a planned or missed one cancels")
    was, now = visit.state, utcnow()
    visit.state, visit.cancel_reason = "cancelled", reason
    visit.cancelled_by, visit.cancelled_at, visit.updated_at = p.actor, now, now
    await session.flush()
    record(session, p.org_id, p.actor, "visit.cancelled", "visit", visit.id, was=was, reason=reason)
    return visit


async def delete(session: AsyncSession, p: Principal, visit_id: str) -> None:
    """A plan never started goes; a visit with a record stays (cancel a plan instead)."""
    visit = await get_visible(session, p, visit_id)
    if visit.state not in CHANGEABLE:
        raise Conflict(f"visit {visit.id} is {visit.state}: it keeps its record")
    await session.delete(visit)
    await session.flush()
    record(
        session,
        p.org_id,
        p.actor,
        "visit.deleted",
        "visit",
        visit.id,
        user_id=visit.user_id,
        customer_id=visit.customer_id,
    )
