"""Enqueue jobs in the caller's transaction: they exist exactly when their cause does."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.jobs.models import Job
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.ids import new_id

DEFAULT_MAX_ATTEMPTS = 10
BACKOFF_BASE_S = 10.0
BACKOFF_CAP_S = 3600.0


def upsert_insert(session: AsyncSession, model: Any) -> Any:
    """`INSERT` of the session's dialect, which offers `on_conflict_do_nothing/update`."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


@dataclass(frozen=True, slots=True)
class NewJob:
    kind: str
    payload: dict[str, Any]
    org_id: str | None = None
    run_at: datetime | None = None
    key: str | None = None
    max_attempts: int = DEFAULT_MAX_ATTEMPTS


def job_row(job: NewJob, now: datetime) -> dict[str, Any]:
    return {
        "id": new_id("job"),
        "org_id": job.org_id,
        "kind": job.kind,
        "payload": job.payload,
        "status": "queued",
        "run_at": job.run_at or now,
        "attempts": 0,
        "max_attempts": job.max_attempts,
        "last_error": None,
        "locked_by": None,
        "locked_until": None,
        "idempotency_key": job.key,
        "created_at": now,
        "done_at": None,
    }


async def enqueue_many(
    session: AsyncSession, jobs: Sequence[NewJob], now: datetime | None = None
) -> list[str]:
    """Insert jobs; one whose idempotency key exists already is skipped. Returns the new ids."""
    if not jobs:
        return []
    now = now or utcnow()
    stmt: Insert = upsert_insert(session, Job).values([job_row(j, now) for j in jobs])
    stmt = stmt.on_conflict_do_nothing(index_elements=["idempotency_key"])  # type: ignore[attr-defined]
    return list((await session.execute(stmt.returning(Job.id))).scalars())


async def enqueue(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    *,
    org_id: str | None = None,
    run_at: datetime | None = None,
    key: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    now: datetime | None = None,
) -> str | None:
    """Enqueue one job; None when a job with this idempotency key exists already."""
    made = await enqueue_many(
        session, [NewJob(kind, payload, org_id, run_at, key, max_attempts)], now
    )
    return made[0] if made else None


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with jitter after the `attempts`-th failure: 10 s, 20 s, … ≤ 1 h.

    "Equal jitter": half the delay is fixed, half random, so failures of many jobs at once
    (a robot endpoint down) do not come back in lockstep, yet each waits at least half.
    """
    delay = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(0, attempts - 1))
    r = (rng or random).random()
    return timedelta(seconds=delay / 2 + r * delay / 2)
