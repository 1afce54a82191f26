"""Visits follow punches: a job reads the `punch.created` events the punch transaction writes
(jobs/follow.py) and applies each visit punch once. The punch path knows nothing of it.

A check-in (`visit_in`) at a customer starts the person's plan there that day (or the visit the
punch names), else an unplanned visit; a check-out (`visit_out`) ends it, with its duration.
Each punch is claimed in `visit_punches` (keyed by the punch) in the transaction that changes
its visit, so a punch read twice (a retried job, a hole re-read) changes nothing again.
Rejected punches start and end nothing. Which visit a punch belongs to: pairing.py.

A second job marks plans `missed` once their window has closed (`MISSED_AFTER` later); a late
(offline) check-in still starts a missed plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.jobs import follow as outbox
from fieldpunch.jobs.runner import JobContext, JobKind, PeriodicTask
from fieldpunch.kit.ids import new_id
from fieldpunch.visits import pairing, stale
from fieldpunch.visits.models import Visit
from fieldpunch.visits.repository import VisitRepo

FOLLOWER = "visits"
TOPICS = frozenset({"punch.created"})
KINDS_FOLLOWED = frozenset({"visit_in", "visit_out"})
MISSED_AFTER = timedelta(minutes=15)


async def apply_events(
    session: AsyncSession, events: Sequence[outbox.Event], now: datetime
) -> None:
    """Apply the visit punches among these `punch.created` events, in event order."""
    ids = [
        str(e.payload["data"]["id"])
        for e in events
        if isinstance(e.payload.get("data"), dict)
        and e.payload["data"].get("kind") in KINDS_FOLLOWED
    ]
    if not ids:
        return
    repo = VisitRepo(session)
    rows = {r.id: r for r in await repo.punches(ids)}
    zones: dict[str, ZoneInfo] = {}
    for punch_id in ids:
        row = rows.get(punch_id)
        if row is None:
            continue  # its org is gone
        if row.org_id not in zones:
            zones[row.org_id] = await repo.org_tz(row.org_id)
        await apply(repo, row, zones[row.org_id], now)


async def apply(repo: VisitRepo, punch: Any, tz: ZoneInfo, now: datetime) -> None:
    """Apply one visit punch, once: claim it, find its visit, start or end it."""
    t: datetime = punch.trusted_time
    claim = {
        "punch_id": punch.id, "org_id": punch.org_id, "user_id": punch.user_id,
        "customer_id": punch.customer_id, "kind": punch.kind, "at": t, "visit_id": None,
        "effect": "ignored", "applied_at": now,
    }  # fmt: skip
    if not await repo.claim(claim):
        return  # applied before
    named = None
    if punch.visit_id:
        named = await repo.named(punch.org_id, punch.user_id, punch.visit_id)
        if named is not None and (
            named.state == "cancelled"
            or (punch.customer_id is not None and named.customer_id != punch.customer_id)
        ):
            named = None  # a cancelled plan, or another customer than the punch's: not this one
    customer = named.customer_id if named is not None else punch.customer_id
    if punch.status == "rejected" or customer is None:
        return  # stays "ignored"
    day = t.astimezone(tz).date()
    visits = await repo.at_customer(punch.org_id, punch.user_id, customer, day)
    if punch.kind == "visit_in":
        await _check_in(repo, punch, customer, day, visits, named, now)
    else:
        visit, effect = pairing.for_check_out(visits, t, named)
        if isinstance(visit, Visit) and effect == "end":
            closed_by_job = visit.state == "done" and visit.ended_at is None
            _end(visit, punch.id, t, punch, now)
            await repo.session.flush()
            if closed_by_job:
                await stale.explained(repo.session, visit, now)
        await repo.settle(punch.id, visit.id if isinstance(visit, Visit) else None, _past(effect))


def _past(effect: str) -> str:
    return {"start": "started", "new": "started", "end": "ended"}.get(effect, effect)


async def _check_in(
    repo: VisitRepo,
    punch: Any,
    customer: str,
    day: Any,
    visits: list[Visit],
    named: Visit | None,
    now: datetime,
) -> None:
    t: datetime = punch.trusted_time
    found, effect = pairing.for_check_in(visits, t, day, named)
    visit = found if isinstance(found, Visit) else None
    if visit is None:  # unplanned: a visit of its own
        visit = Visit(
            id=new_id("vis"), org_id=punch.org_id, customer_id=customer, user_id=punch.user_id,
            planned=False, purpose="", day=day, state="planned", cancel_reason="", note="",
            answers={}, photo_ids=[], created_by=punch.user_id, created_at=now, updated_at=now,
        )  # fmt: skip
        repo.session.add(visit)
    if effect != "repeat":
        _start(visit, punch, t, day, now)
    elif visit.started_at is not None and t < visit.started_at:
        _start(visit, punch, t, day, now)  # an earlier check-in that arrived late
    elif punch.photo_id:
        _photo(visit, punch.photo_id, now)
    await repo.session.flush()
    await repo.settle(punch.id, visit.id, _past(effect))
    if visit.state == "in_progress":  # a check-out that came first (offline) ends it now
        waiting = await repo.waiting_out(punch.org_id, punch.user_id, customer, t)
        if waiting is not None:
            out = await repo.punches([waiting.punch_id])
            _end(visit, waiting.punch_id, waiting.at, out[0] if out else None, now)
            await repo.settle(waiting.punch_id, visit.id, "ended")


def _start(visit: Visit, punch: Any, t: datetime, day: Any, now: datetime) -> None:
    visit.state = "in_progress" if visit.ended_at is None else "done"
    visit.started_at, visit.in_punch_id = t, punch.id
    visit.day = visit.day or day
    if visit.ended_at is not None:
        visit.duration_s = int((visit.ended_at - t).total_seconds())
    if punch.photo_id:
        _photo(visit, punch.photo_id, now)
    visit.updated_at = now


def _end(visit: Visit, punch_id: str, t: datetime, punch: Any | None, now: datetime) -> None:
    assert visit.started_at is not None
    visit.state, visit.ended_at, visit.out_punch_id = "done", t, punch_id
    visit.duration_s = int((t - visit.started_at).total_seconds())
    if punch is not None:
        if punch.note and not visit.note:
            visit.note = punch.note
        if punch.photo_id:
            _photo(visit, punch.photo_id, now)
    visit.updated_at = now


def _photo(visit: Visit, photo_id: str, now: datetime) -> None:
    if photo_id not in visit.photo_ids:
        visit.photo_ids = [*visit.photo_ids, photo_id]
        visit.updated_at = now


async def follow_punches(ctx: JobContext) -> None:
    async def handler(session: AsyncSession, events: Sequence[outbox.Event]) -> None:
        await apply_events(session, events, ctx.now())

    await outbox.follow(ctx.db, FOLLOWER, TOPICS, handler, ctx.now)


async def mark_missed(ctx: JobContext) -> None:
    """Plans still planned `MISSED_AFTER` past their window's end are missed."""
    now = ctx.now()
    async with ctx.db.transaction() as session:
        await VisitRepo(session).mark_missed(now - MISSED_AFTER, now)


KINDS = [
    JobKind("visits.follow", follow_punches, timeout_s=90),
    JobKind("visits.missed", mark_missed, timeout_s=90),
]
TASKS = [
    PeriodicTask("visits-follow", "visits.follow", 5),
    PeriodicTask("visits-missed", "visits.missed", 300),
]
