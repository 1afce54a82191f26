"""Published outbox events are pruned after a week; unpublished ones never."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from fieldpunch.config import Settings
from fieldpunch.db.engine import Database
from fieldpunch.jobs.models import OutboxEvent
from fieldpunch.jobs.outbox import add_events, event_row
from fieldpunch.jobs.periodic import prune_outbox
from fieldpunch.jobs.runner import Runner
from tests.api.notifications.harness import (
    job_context,
)
from tests.factories import OrgKit


async def test_published_events_are_pruned_after_a_week_unpublished_never(
    org: OrgKit, db: Database, settings: Settings, jobs: Runner
) -> None:
    now = datetime.now(UTC)
    rows = {
        "old": event_row(org.org_id, "punch.created", {}, now - timedelta(days=9), None),
        "recent": event_row(org.org_id, "punch.created", {}, now - timedelta(days=1), None),
        "stuck": event_row(org.org_id, "punch.created", {}, now - timedelta(days=30), None),
    }
    rows["old"]["published_at"] = now - timedelta(days=8)
    rows["recent"]["published_at"] = now - timedelta(days=1)
    async with db.transaction() as session:
        await add_events(session, list(rows.values()))
    await prune_outbox(job_context(db, settings, jobs, "outbox.prune", {}))
    async with db.transaction(write=False) as session:
        kept = set(
            (
                await session.execute(
                    select(OutboxEvent.event_id).where(OutboxEvent.org_id == org.org_id)
                )
            ).scalars()
        )
    assert kept == {rows["recent"]["event_id"], rows["stuck"]["event_id"]}
