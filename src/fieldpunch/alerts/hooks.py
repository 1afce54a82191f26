"""The anomaly side's only touch point: enqueue an alert job for critical anomalies of live punches.

Runs inside the punch transaction, so it does no network and no extra reads: one insert when a
critical anomaly opens, nothing otherwise. The job re-checks everything against the stored punch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.jobs.queue import NewJob, enqueue_many
from fieldpunch.kit.clock import utcnow

# A punch is live when its trusted time is this close to when it arrived (and to now): an
# offline backlog, a correction or imported history describes the past and never alerts.
LIVE_WINDOW = timedelta(minutes=15)
ALERT_ATTEMPTS = 5


def is_live(trusted_time: datetime, received_at: datetime, offline: bool) -> bool:
    return not offline and abs(received_at - trusted_time) <= LIVE_WINDOW


async def anomalies_opened(
    session: AsyncSession, org_id: str, rows: Sequence[dict[str, Any]], at: datetime
) -> None:
    """Enqueue `alert.anomaly` for each new critical anomaly whose punch looks live."""
    now = utcnow()
    jobs = [
        NewJob(
            "alert.anomaly",
            {"anomaly_id": r["id"]},
            org_id,
            key=f"alert:{r['id']}",
            max_attempts=ALERT_ATTEMPTS,
        )
        for r in rows
        if r["severity"] == "critical"
        and abs(at - r["punch_time"]) <= LIVE_WINDOW
        and abs(now - r["punch_time"]) <= LIVE_WINDOW  # `at` is in the past for imports
    ]
    await enqueue_many(session, jobs, now)
