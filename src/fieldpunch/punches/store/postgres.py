"""The intake on PostgreSQL: the head lock rides with the org read; the rows go as one statement."""

from __future__ import annotations

from fieldpunch.anomalies.models import Anomaly
from fieldpunch.db.base import table_of
from fieldpunch.jobs.models import OutboxEvent
from fieldpunch.kit.clock import utcnow
from fieldpunch.punches.models import LedgerEntry
from fieldpunch.punches.store import onestatement
from fieldpunch.punches.store import statements as q
from fieldpunch.punches.store.base import Head, IntakeStore, Opened, Write, device_view, org_view

_entries = table_of(LedgerEntry)
_anomalies = table_of(Anomaly)
_outbox = table_of(OutboxEvent)


class PostgresStore(IntakeStore):
    dialect = "postgresql"

    async def open(self, org_id: str, user_id: str, device_ids: set[str]) -> Opened:
        """One round trip (the head's upsert and the reads), unless several devices are named."""
        if len(device_ids) > 1:
            return await self._open_apart(org_id, user_id, device_ids)
        params = {
            "h_org_id": org_id,
            "h_user_id": user_id,
            "h_updated_at": utcnow(),
            "org_id": org_id,
            "device_id": next(iter(device_ids), None),
            "person_id": user_id,
        }
        (row,) = await q.HEAD_ORG_DEVICE.execute(self.session, params)
        return Opened(
            org_view(row.settings, row.geo_version, row.timezone),
            {} if row.device_id is None else {row.device_id: device_view(row)},
            bool(row.has_device),
            Head(int(row.seq), str(row.hash), row.detector_memory),
        )

    async def write(self, w: Write) -> None:
        """Every row and the head's move in one statement (onestatement.py)."""
        assert w.at is not None
        inserts = [
            (q.punches, w.punches),
            (_entries, w.entries),
            (_anomalies, w.anomalies),
            (_outbox, w.events),
        ]
        head = (w.seq, w.hash, w.at, w.memory, w.org_id, w.user_id)
        await onestatement.PLAN.write(self.session, inserts, head)
