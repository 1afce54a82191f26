"""An outbox follower reads past a transaction still holding an id (PostgreSQL commits ids out
of order) and hands that event over once it commits, however many events came after it."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.db.engine import Database
from fieldpunch.jobs.follow import Event, follow
from fieldpunch.jobs.outbox import add_events, event_row
from fieldpunch.kit.clock import utcnow
from tests.factories import OrgKit


async def test_a_late_commit_is_handed_over_once_after_the_events_behind_it(
    org: OrgKit, db: Database
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite writers are serial: its ids commit in order")
    topic, name = f"test.hole.{secrets.token_hex(4)}", f"test-{secrets.token_hex(4)}"
    seen: list[str] = []

    async def handler(_: AsyncSession, events: Sequence[Event]) -> None:
        seen.extend(e.payload["data"]["n"] for e in events)

    def rows(*names: str) -> list[dict]:
        return [event_row(org.org_id, topic, {"n": n}, utcnow(), None) for n in names]

    await follow(db, name, frozenset({topic}), handler, utcnow)  # the cursor starts at the end
    async with db.transaction() as held:
        await add_events(held, rows("late"))  # its id is taken, not yet visible
        after = [f"after-{i}" for i in range(7)]
        async with db.transaction() as session:
            await add_events(session, rows(*after))
        # Batches of 3: the events behind the hole come over the course of several batches.
        assert await follow(db, name, frozenset({topic}), handler, utcnow, batch=3) == 7
        assert seen == after
    assert await follow(db, name, frozenset({topic}), handler, utcnow, batch=3) == 1
    assert seen == [*after, "late"]
    assert await follow(db, name, frozenset({topic}), handler, utcnow, batch=3) == 0
