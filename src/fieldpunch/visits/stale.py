"""Visits checked in and never checked out: closed by a job, and flagged, never silently.

A forgotten check-out must not leave a visit "in progress" for ever (it would wreck the next
day's plan and the reports). `visits.stale` (every 15 minutes, once across workers) closes each
visit still in progress `GRACE` after the end of its local day: state `done` with no
`ended_at` and no duration ("done without check-out": the reports count these apart and leave
them out of durations), and opens a `visit_unpaired` anomaly on its check-in punch (reason
`visit_in_never_closed`) for the review queue, with the severity the person's policy gives the
rule (none when the policy turns the rule off). A check-out that arrives later (an offline
queue) still ends the visit (pairing.py ends a done visit without `ended_at`) and supersedes
the finding, which later data explained.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.anomalies import policies
from fieldpunch.anomalies.models import Anomaly
from fieldpunch.anomalies.review import anomaly_rows, created_events
from fieldpunch.anomalies.schemas import AnomalyOut
from fieldpunch.auditlog.service import record
from fieldpunch.jobs.outbox import add_events, event_row
from fieldpunch.jobs.queue import upsert_insert
from fieldpunch.jobs.runner import JobContext, JobKind, PeriodicTask
from fieldpunch.orgs.models import Org
from fieldpunch.users.models import User
from fieldpunch.visits.models import Visit

GRACE = timedelta(hours=2)  # after the local midnight that ends the visit's day
RULE = "visit_unpaired"
REASON = "visit_in_never_closed"
BATCH = 200


def close_after(day: date, tz: ZoneInfo) -> datetime:
    """When a visit of local `day` still in progress is closed (pure)."""
    midnight = datetime.combine(day + timedelta(days=1), time(), tz)
    return midnight.astimezone(UTC) + GRACE


def finding(visit: Visit, tz: ZoneInfo) -> dict[str, Any]:
    started = visit.started_at
    assert started is not None
    local = started.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    return {
        "rule": RULE,
        "detail": f"Checked in at {local} and never checked out; the visit was closed "
        "without a check-out, so its length is unknown.",
        "evidence": {
            "reason": REASON,
            "visit_id": visit.id,
            "customer_id": visit.customer_id,
            "started_at": started.isoformat(),
        },
    }


async def _candidates(session: AsyncSession, now: datetime, after: str) -> list[Any]:
    # Every visit closable now started before now − GRACE: a narrow read on (state, …).
    stmt = (
        select(Visit, User.team_id)
        .join(User, User.id == Visit.user_id)
        .where(Visit.state == "in_progress", Visit.started_at < now - GRACE, Visit.id > after)
        .order_by(Visit.id)
        .limit(BATCH)
    )
    return list((await session.execute(stmt)).all())


async def close_stale(session: AsyncSession, now: datetime, after: str = "") -> str | None:
    """Close the in-progress visits past their bound, a batch of candidates after the id
    `after`; the last id read when there may be more, else None."""
    zones: dict[str, ZoneInfo] = {}
    rows = await _candidates(session, now, after)
    for visit, team_id in rows:
        org = visit.org_id
        if org not in zones:
            name = (await session.execute(select(Org.timezone).where(Org.id == org))).scalar()
            zones[org] = ZoneInfo(name or "UTC")
        tz = zones[org]
        assert visit.started_at is not None
        day = visit.day or visit.started_at.astimezone(tz).date()
        if now < close_after(day, tz):
            continue
        visit.state, visit.updated_at = "done", now
        record(
            session, org, "system", "visit.closed_without_check_out", "visit", visit.id,
            user_id=visit.user_id, customer_id=visit.customer_id,
            started_at=visit.started_at.isoformat(),
        )  # fmt: skip
        policy = (await policies.load(session, org)).for_person(visit.user_id, team_id)
        if visit.in_punch_id is None or not policy.rules[RULE].enabled:
            continue
        f = finding(visit, tz) | {"severity": policy.rules[RULE].severity}
        new = anomaly_rows(org, [(visit.in_punch_id, visit.user_id, visit.started_at, [f])], now)
        stmt = upsert_insert(session, Anomaly).values(new)
        stmt = stmt.on_conflict_do_nothing(index_elements=["punch_id", "rule"])
        if (await session.execute(stmt.returning(Anomaly.id))).first() is not None:
            await add_events(session, created_events(org, new, now))
    await session.flush()
    return rows[-1][0].id if len(rows) == BATCH else None


async def explained(session: AsyncSession, visit: Visit, now: datetime) -> None:
    """A late check-out ended a visit this job had closed: its `visit_in_never_closed`
    finding is superseded (a person's decision on it stays as it was)."""
    if visit.in_punch_id is None:
        return
    found = (
        await session.execute(
            select(Anomaly).where(
                Anomaly.punch_id == visit.in_punch_id,
                Anomaly.rule == RULE,
                Anomaly.status == "open",
            )
        )
    ).scalar_one_or_none()
    if found is None or (found.evidence or {}).get("reason") != REASON:
        return
    found.status, found.resolved_at, found.resolved_by = "superseded", now, "system"
    found.comment = "the check-out arrived later"
    out = AnomalyOut.model_validate(found).model_dump(mode="json")
    await add_events(
        session, [event_row(found.org_id, "anomaly.resolved", out, now, found.user_id)]
    )


async def close_stale_job(ctx: JobContext) -> None:
    now = ctx.now()
    after: str | None = ""
    while after is not None:
        async with ctx.db.transaction() as session:
            after = await close_stale(session, now, after)


KINDS = [JobKind("visits.stale", close_stale_job, timeout_s=120)]
TASKS = [PeriodicTask("visits-stale", "visits.stale", 900)]
