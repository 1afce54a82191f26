"""Periodic work, as scheduled jobs: each runs once per interval across all workers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from fieldpunch.auth import rotation
from fieldpunch.jobs.models import Job, OutboxEvent
from fieldpunch.jobs.runner import JobContext, JobKind, PeriodicTask
from fieldpunch.punches.audit import checkpoint_all

# Done jobs are kept this long (to look into recent deliveries), dead ones until an admin acts.
KEEP_DONE = timedelta(days=7)
# Published events stay this long for live feeds resuming with `last_event_id` (a feed always
# starts from a snapshot, so an older cursor loses history, never state). Unpublished ones stay.
KEEP_EVENTS = timedelta(days=7)


async def ledger_checkpoint(ctx: JobContext) -> None:
    """Sign every org's chain heads that moved since the last checkpoint."""
    async with ctx.db.transaction() as session:
        await checkpoint_all(session, ctx.settings.signing_key)


async def prune_jobs(ctx: JobContext) -> None:
    async with ctx.db.transaction() as session:
        await session.execute(
            delete(Job).where(Job.status == "done", Job.done_at < ctx.now() - KEEP_DONE)
        )


async def prune_outbox(ctx: JobContext) -> None:
    async with ctx.db.transaction() as session:
        await session.execute(
            delete(OutboxEvent).where(
                OutboxEvent.published_at.is_not(None),
                OutboxEvent.published_at < ctx.now() - KEEP_EVENTS,
            )
        )


async def prune_refresh_tokens(ctx: JobContext) -> None:
    async with ctx.db.transaction() as session:
        await rotation.prune(session, ctx.now())


KINDS = [
    JobKind("ledger.checkpoint", ledger_checkpoint, timeout_s=300),
    JobKind("jobs.prune", prune_jobs, timeout_s=300),
    JobKind("outbox.prune", prune_outbox, timeout_s=300),
    JobKind("auth.prune_refresh_tokens", prune_refresh_tokens, timeout_s=300),
]


def tasks(checkpoint_interval_s: int) -> list[PeriodicTask]:
    return [
        PeriodicTask("ledger-checkpoints", "ledger.checkpoint", checkpoint_interval_s),
        PeriodicTask("prune-jobs", "jobs.prune", 3600),
        PeriodicTask("prune-outbox", "outbox.prune", 3600),
        PeriodicTask("prune-refresh-tokens", "auth.prune_refresh_tokens", 3600),
    ]
