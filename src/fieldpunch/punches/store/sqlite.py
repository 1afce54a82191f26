"""The intake on SQLite: a statement per table, each one hop to aiosqlite's thread.

Writers are serial on SQLite (BEGIN IMMEDIATE), so the head's lock is only its upsert.
"""

from __future__ import annotations

from fieldpunch.anomalies.models import Anomaly
from fieldpunch.db.base import table_of
from fieldpunch.db.driver_sql import insert_rows
from fieldpunch.jobs.models import OutboxEvent
from fieldpunch.punches.models import LedgerEntry
from fieldpunch.punches.store import statements as q
from fieldpunch.punches.store.base import IntakeStore, Opened, Write

_entries = table_of(LedgerEntry)
_anomalies = table_of(Anomaly)
_outbox = table_of(OutboxEvent)


class SQLiteStore(IntakeStore):
    dialect = "sqlite"

    async def open(self, org_id: str, user_id: str, device_ids: set[str]) -> Opened:
        return await self._open_apart(org_id, user_id, device_ids)

    async def write(self, w: Write) -> None:
        for table, rows in (
            (q.punches, w.punches),
            (_entries, w.entries),
            (_anomalies, w.anomalies),
            (_outbox, w.events),
        ):
            await insert_rows(self.session, table, rows)  # keys that are no column: left out
        params = {"k_org_id": w.org_id, "k_user_id": w.user_id, "seq": w.seq, "hash": w.hash}
        params.update(updated_at=w.at, detector_memory=w.memory)
        await q.SET_HEAD_MEMORY.execute(self.session, params)
