"""Anomaly rows: opened from findings, superseded by later data, resolved by people."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.anomalies.engine import Stored
from fieldpunch.anomalies.models import Anomaly
from fieldpunch.anomalies.schemas import AnomalyOut
from fieldpunch.db.base import table_of
from fieldpunch.jobs.outbox import event_row
from fieldpunch.kit.ids import new_id

_a = table_of(Anomaly)
_EXISTING = select(_a.c.rule).where(
    _a.c.punch_id == bindparam("punch_id"), _a.c.rule.in_(bindparam("rules", expanding=True))
)
_REOPEN = (
    update(_a)
    .where(_a.c.punch_id == bindparam("k_punch_id"), _a.c.rule == bindparam("k_rule"))
    .values(
        status="open",
        detail=bindparam("detail"),
        evidence=bindparam("evidence"),
        severity=bindparam("severity"),
        resolved_at=None,
        resolved_by=None,
        comment="",
    )
)


def _event(org_id: str, topic: str, a: dict[str, Any], at: datetime) -> dict[str, Any]:
    # The API's shape and time format (`Z`), like `anomaly.resolved` and GET /anomalies.
    return event_row(org_id, topic, _as_out(a), at, a["user_id"])


def _as_out(a: dict[str, Any]) -> dict[str, Any]:
    """An anomaly row as events carry it: AnomalyOut, as a person's decision's event does."""
    return AnomalyOut.model_validate(a).model_dump(mode="json")


def anomaly_rows(
    org_id: str,
    punches: Iterable[tuple[str, str, datetime, Sequence[dict[str, Any]]]],
    at: datetime,
) -> list[dict[str, Any]]:
    """One open anomaly row per finding of new punches."""
    return [
        {
            "id": new_id("ano"),
            "org_id": org_id,
            "punch_id": punch_id,
            "user_id": user_id,
            "rule": f["rule"],
            "severity": f["severity"],
            "detail": f["detail"],
            "evidence": f.get("evidence", {}),
            "status": "open",
            "punch_time": when,
            "created_at": at,
            "resolved_at": None,
            "resolved_by": None,
            "comment": "",
        }
        for punch_id, user_id, when, findings in punches
        for f in findings
    ]


def created_events(
    org_id: str, rows: Sequence[dict[str, Any]], at: datetime
) -> list[dict[str, Any]]:
    return [_event(org_id, "anomaly.created", r, at) for r in rows]


async def reconcile(
    session: AsyncSession, punch: Stored, before: set[str], now: set[str], at: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A stored punch's findings changed: supersede the vanished open ones, reopen the ones
    that come back. Returns the events, and the anomaly rows to open, which the caller writes
    with the intake's other rows (the one path new anomalies take)."""
    events: list[dict[str, Any]] = []
    opened: list[dict[str, Any]] = []
    gone = before - now
    if gone:
        superseded = await session.execute(
            update(Anomaly)
            .where(Anomaly.punch_id == punch.id, Anomaly.rule.in_(gone), Anomaly.status == "open")
            .values(
                status="superseded",
                resolved_at=at,
                resolved_by="system",
                comment="later punches explain it",
            )
            .returning(*_a.c)
        )
        # Consumers closing items on `anomaly.resolved` must hear of these too.
        events += [
            event_row(punch.org_id, "anomaly.resolved", _as_out(row._asdict()), at, punch.user_id)
            for row in superseded
        ]
    added = [f for f in punch.anomalies if f["rule"] in now - before]
    if added:
        rules = [f["rule"] for f in added]
        existing = set(
            (await session.execute(_EXISTING, {"punch_id": punch.id, "rules": rules})).scalars()
        )
        # A rule that comes back reopens its row rather than adding a second one.
        for f in added:
            if f["rule"] in existing:
                await session.execute(
                    _REOPEN,
                    {
                        "k_punch_id": punch.id,
                        "k_rule": f["rule"],
                        "detail": f["detail"],
                        "evidence": f.get("evidence", {}),
                        "severity": f["severity"],
                    },
                )
        fresh = [f for f in added if f["rule"] not in existing]
        opened = anomaly_rows(
            punch.org_id, [(punch.id, punch.user_id, punch.trusted_time, fresh)], at
        )
        events += created_events(punch.org_id, opened, at)
    events.append(
        event_row(
            punch.org_id,
            "punch.updated",
            {"id": punch.id, "status": punch.status, "anomalies": punch.anomalies},
            at,
            punch.user_id,
        )
    )
    return events, opened
