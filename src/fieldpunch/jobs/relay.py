"""The outbox relay: after a commit, publish unpublished events in order and mark them.

Kicked by requests that wrote events, and swept periodically so events of a crashed process
are published by whichever process runs next: nothing written is ever left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import select, update

from fieldpunch.db.engine import Database
from fieldpunch.jobs.models import OutboxEvent
from fieldpunch.kit.clock import utcnow
from fieldpunch.live.hub import Hub

log = logging.getLogger("fieldpunch.relay")
BATCH = 500


class Relay:
    def __init__(self, db: Database, hub: Hub, sweep_s: float = 5.0) -> None:
        self.db, self.hub, self.sweep_s = db, hub, sweep_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def kick(self) -> None:
        self._wake.set()

    async def drain(self) -> int:
        """Publish every unpublished event; returns how many."""
        total = 0
        while True:
            async with self.db.transaction() as session:
                stmt = select(OutboxEvent.id, OutboxEvent.payload).where(
                    OutboxEvent.published_at.is_(None)
                )
                stmt = stmt.order_by(OutboxEvent.id).limit(BATCH)
                if self.db.dialect == "postgresql":
                    stmt = stmt.with_for_update(
                        skip_locked=True
                    )  # several processes share the work
                rows = (await session.execute(stmt)).all()
                if not rows:
                    return total
                await self.hub.publish([r.payload for r in rows])
                await session.execute(
                    update(OutboxEvent)
                    .where(OutboxEvent.id.in_([r.id for r in rows]))
                    .values(published_at=utcnow())
                )
            total += len(rows)

    async def _run(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.sweep_s):
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
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        await self._task
