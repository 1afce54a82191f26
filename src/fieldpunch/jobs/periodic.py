"""Periodic work in-process: embedded `serve` runs it itself, otherwise `fieldpunch worker` does."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from fieldpunch.db.engine import Database
from fieldpunch.punches.audit import checkpoint_all

log = logging.getLogger("fieldpunch.periodic")


class Periodic:
    """Runs `work` every `interval_s` seconds until stopped; a failure is logged, not fatal."""

    def __init__(self, name: str, interval_s: float, work: Callable[[], Awaitable[object]]) -> None:
        self.name, self.interval_s, self.work = name, interval_s, work
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                result = await self.work()
                log.debug("periodic job ran", extra={"job": self.name, "result": result})
            except Exception:
                log.exception("periodic job failed", extra={"job": self.name})

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def ledger_checkpoints(db: Database, secret: str, interval_s: float) -> Periodic:
    """Sign every org's chain heads that moved since the last checkpoint."""

    async def work() -> int:
        async with db.transaction() as session:
            return await checkpoint_all(session, secret)

    return Periodic("ledger-checkpoints", interval_s, work)
