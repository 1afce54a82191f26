"""Telling a person what was decided about them: their correction request, their flagged punch.

The deciding transaction only enqueues a job (no network, no extra reads there); the job loads
the decision as committed and delivers it like any notification: inbox and live feed always,
push by default (preferences may add email). One notification per decision (the job's key and
the inbox's dedupe key), whatever retries happen.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.anomalies.models import Anomaly
from fieldpunch.corrections.models import Correction
from fieldpunch.jobs.queue import NewJob, enqueue_many
from fieldpunch.jobs.runner import JobContext, JobKind
from fieldpunch.notify.deliver import Message, deliver
from fieldpunch.orgs.models import Org

Subject = Literal["correction", "anomaly"]
ATTEMPTS = 5


async def decided(
    session: AsyncSession, org_id: str, subject: Subject, ids: Iterable[str], at: datetime
) -> None:
    """Inside the deciding transaction: one `notify.decision` job per decision."""
    jobs = [
        NewJob(
            "notify.decision",
            {"subject": subject, "id": i},
            org_id,
            key=f"decision:{subject}:{i}",
            max_attempts=ATTEMPTS,
        )
        for i in dict.fromkeys(ids)
    ]
    await enqueue_many(session, jobs, at)


def _when(at: datetime, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def correction_message(c: Correction, tz: ZoneInfo, base_url: str) -> Message:
    what = c.kind.replace("_", " ")
    verdict = "approved" if c.status == "approved" else "rejected"
    body = f"Your request for a {what} at {_when(c.at, tz)} was {verdict}."
    if c.comment:
        body += f"\n“{c.comment}”"
    return Message(
        "correction.decided",
        f"Correction {verdict}: {what} at {_when(c.at, tz)}",
        body,
        {
            "correction_id": c.id,
            "status": c.status,
            "kind": c.kind,
            "at": c.at.isoformat(),
            "comment": c.comment,
            "punch_id": c.punch_id,
            "url": f"{base_url}/app/#/me",
        },
    )


def anomaly_message(a: Anomaly, tz: ZoneInfo, base_url: str) -> Message:
    rule = a.rule.replace("_", " ")
    verdict = "accepted" if a.status == "approved" else "rejected"
    body = f"Your punch at {_when(a.punch_time, tz)} ({rule}) was reviewed: {verdict}."
    if a.comment:
        body += f"\n“{a.comment}”"
    return Message(
        "anomaly.decided",
        f"Punch {verdict} after review: {rule}",
        body,
        {
            "anomaly_id": a.id,
            "punch_id": a.punch_id,
            "status": a.status,
            "rule": a.rule,
            "punch_time": a.punch_time.isoformat(),
            "comment": a.comment,
            "url": f"{base_url}/app/#/me",
        },
    )


async def notify_decision(ctx: JobContext) -> None:
    subject, subject_id = ctx.job.payload["subject"], ctx.job.payload["id"]
    async with ctx.db.transaction() as session:
        row: Correction | Anomaly | None = (
            await session.get(Correction, subject_id)
            if subject == "correction"
            else await session.get(Anomaly, subject_id)
        )
        if row is None or row.status not in ("approved", "rejected"):
            return  # gone, or (an anomaly) superseded by the system: nothing a person decided
        org = await session.get(Org, row.org_id)
        if org is None:
            return
        tz, base = ZoneInfo(org.timezone), ctx.settings.base_url
        message = (
            correction_message(row, tz, base)
            if isinstance(row, Correction)
            else anomaly_message(row, tz, base)
        )
        await deliver(
            session,
            ctx.settings,
            org_id=row.org_id,
            message=message,
            recipients=[row.user_id],
            key=f"decision:{subject}:{subject_id}",
            now=ctx.now(),
        )


JOB_KINDS = [JobKind("notify.decision", notify_decision, timeout_s=60)]
