"""Write events in the caller's transaction; the relay publishes them after commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.db.base import table_of
from fieldpunch.db.driver_sql import insert_rows
from fieldpunch.jobs.models import OutboxEvent
from fieldpunch.kit.ids import new_id


def event_row(
    org_id: str, topic: str, data: dict[str, Any], at: datetime, subject_user_id: str | None
) -> dict[str, Any]:
    event_id = new_id("evt")
    payload = {"type": topic, "id": event_id, "org_id": org_id, "at": at.isoformat(), "data": data}
    return {
        "org_id": org_id,
        "event_id": event_id,
        "topic": topic,
        "subject_user_id": subject_user_id,
        "payload": payload,
        "created_at": at,
        "published_at": None,
    }


_OUTBOX = table_of(OutboxEvent)


async def add_events(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    await insert_rows(session, _OUTBOX, rows)
