"""The outbox relay: after a commit, publish unpublished events in order and mark them.

Kicked by requests that wrote events, and swept periodically so events of a crashed process
are published by whichever process runs next: nothing written is ever left behind.

Order matters: the outbox id is the live feed's sequence, and a client resumes after the highest
one it saw, so an event published after a higher id would be skipped on resume. On PostgreSQL an
id is taken at INSERT but becomes visible at COMMIT, and concurrent transactions commit in any
order; so the relay publishes only up to a hole in the ids and waits, up to `gap_grace_s`, for
the transaction holding the missing id (it is normally committing at that very moment; a rolled
back one leaves a hole for good, which the grace then skips). Relays of several processes take
turns under a transaction-scoped advisory lock, which keeps the order across processes; the
`SKIP LOCKED` still keeps them off rows someone else holds. SQLite writers are serial, so ids
commit in order there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.db.engine import Database
from fieldpunch.jobs.models import OutboxEvent
from fieldpunch.kit.clock import utcnow
from fieldpunch.live.hub import Hub, LiveEvent
from fieldpunch.users.models import User

log = logging.getLogger("fieldpunch.relay")
BATCH = 500
LOCK_KEY = 0x66706C697665  # "fplive": one relay publishes at a time (PostgreSQL)


class Relay:
    def __init__(
        self, db: Database, hub: Hub, sweep_s: float = 5.0, gap_grace_s: float = 2.0
    ) -> None:
        self.db, self.hub, self.sweep_s, self.gap_grace_s = db, hub, sweep_s, gap_grace_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._gaps: dict[int, float] = {}  # first missing id → when first seen (monotonic)
        self._retry_at: float | None = None
        self._published = -1  # the last id this relay published

    def kick(self) -> None:
        self._wake.set()

    async def drain(self) -> int:
        """Publish every unpublished event that is in order; returns how many."""
        total = 0
        self._retry_at = None
        while True:
            async with self.db.transaction() as session:
                ordered = self.db.dialect == "postgresql"
                if ordered:
                    await session.execute(select(func.pg_advisory_xact_lock(LOCK_KEY)))
                # The subject's team now decides who may see the event (see live/scope.py).
                stmt = (
                    select(
                        OutboxEvent.id,
                        OutboxEvent.subject_user_id,
                        OutboxEvent.payload,
                        User.team_id,
                    )
                    .outerjoin(User, User.id == OutboxEvent.subject_user_id)
                    .where(OutboxEvent.published_at.is_(None))
                    .order_by(OutboxEvent.id)
                    .limit(BATCH)
                )
                if ordered:
                    stmt = stmt.with_for_update(of=OutboxEvent, skip_locked=True)
                rows: Sequence[Row[Any]] = (await session.execute(stmt)).all()
                ready = await self._in_order(session, rows) if ordered and rows else rows
                if not ready:
                    return total
                await self.hub.publish(
                    [LiveEvent(r.payload, r.id, r.subject_user_id, r.team_id) for r in ready]
                )
                await session.execute(
                    update(OutboxEvent)
                    .where(OutboxEvent.id.in_([r.id for r in ready]))
                    .values(published_at=utcnow())
                )
            self._published = ready[-1].id
            total += len(ready)
            if len(ready) < len(rows):
                return total  # held back at a hole; `_retry_at` says when to look again
            if len(rows) < BATCH:
                # All there was. Events committed since have kicked the relay again: looking
                # once more now would cost a transaction per drain to find nothing.
                return total

    async def _in_order(self, session: AsyncSession, rows: Sequence[Row[Any]]) -> list[Row[Any]]:
        """The leading rows with no hole in the ids before them (or only holes past the grace)."""
        first = rows[0].id
        if first == self._published + 1:
            expected = first  # right after our own last one: nothing can be missing before it
        else:  # another relay published since, or this is our first look
            below = select(func.max(OutboxEvent.id)).where(OutboxEvent.id < first)
            prev = (await session.execute(below)).scalar()
            expected = 1 if prev is None else prev + 1  # PostgreSQL sequences start at 1
        now = time.monotonic()
        ready: list[Row[Any]] = []
        for row in rows:
            if row.id != expected:
                since = self._gaps.setdefault(expected, now)
                if now - since < self.gap_grace_s:
                    self._retry_at = since + self.gap_grace_s
                    break
                log.warning(
                    "outbox ids %s..%s not committed after %.1f s: publishing past them",
                    expected,
                    row.id - 1,
                    now - since,
                )
            ready.append(row)
            expected = row.id + 1
        # Forget holes below the first one still missing; a hole held back at must keep the
        # time it was first seen, or its grace would start again at every look (and never end).
        self._gaps = {k: v for k, v in self._gaps.items() if k >= expected}
        return ready

    async def _run(self) -> None:
        # A stop flag, not only cancel(): Python 3.11's asyncio.wait_for can swallow a
        # cancellation that races with the wake-up event, and the loop would then run forever.
        while not self._stopping:
            timeout = self.sweep_s
            if self._retry_at is not None:
                timeout = max(0.0, min(timeout, self._retry_at - time.monotonic()))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            self._wake.clear()
            if self._stopping:
                break
            try:
                await self.drain()
            except Exception:
                log.exception("outbox relay failed")

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        """Finish the drain in progress (events stay in the outbox if it fails), then end."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), 10)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
