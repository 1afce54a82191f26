"""Reminders from the real rules: a person's shift (their attendance group), their approved leave
and their planned visits, read by `ScheduleSource` in the `reminders.scan` job."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from fieldpunch.attendance.reminders import trim
from fieldpunch.config import Settings
from fieldpunch.db.engine import Database
from fieldpunch.jobs.queue import enqueue
from fieldpunch.jobs.worker import build_runner
from tests.api.attendance.harness import TZ
from tests.api.notifications.harness import read_inbox
from tests.api.visits.harness import customer
from tests.factories import Api, OrgKit

T0 = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


def _h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_time_away_moves_the_edges_it_covers() -> None:
    shift = (_h(0), _h(9))  # 09:00–18:00
    assert trim(*shift, []) == shift
    # A morning's leave: clock in when work is due again; the end stays.
    assert trim(*shift, [(_h(-1), _h(4.5))]) == (_h(4.5), _h(9))
    # An afternoon's leave: clock out when work stops.
    assert trim(*shift, [(_h(4), _h(9))]) == (_h(0), _h(4))
    # Two pieces that together cover the day (touching): nothing left to remind of.
    assert trim(*shift, [(_h(4), _h(10)), (_h(-2), _h(4))]) is None
    # Away in the middle (an hour at the bank is 外出, but leave too): both edges stand.
    assert trim(*shift, [(_h(2), _h(3))]) == shift


def _hhmm(t: datetime) -> str:
    return t.astimezone(TZ).strftime("%H:%M")


async def _scan(db: Database, settings: Settings, at: datetime | None = None) -> None:
    clock = (lambda: at) if at else (lambda: datetime.now(UTC))
    runner = build_runner(db, settings, clock=clock)  # the source in use: the real one
    try:
        for _ in range(2):  # overlapping scans (two workers, a retry): still once
            async with db.transaction() as session:
                await enqueue(session, "reminders.scan", {}, key=f"scan:{secrets.token_hex(4)}")
            await runner.drain()
    finally:
        await runner.http.aclose()


async def _titles(api: Api) -> list[str]:
    return sorted(r["title"] for r in (await read_inbox(api))["items"])


async def test_shift_leave_and_visit_reminders_from_the_rules(
    org: OrgKit, db: Database, settings: Settings
) -> None:
    ann, bob, cai, dan = [await org.person("staff") for _ in range(4)]
    # A shift starting in 8 minutes: "clock in" (10 minutes before) is due now.
    start = (datetime.now(UTC) + timedelta(minutes=8)).replace(second=0, microsecond=0)
    end = start + timedelta(hours=8)
    shift = await org.admin.ok(
        "post",
        "/shifts",
        201,
        json={"name": "Now", "periods": [{"start": _hhmm(start), "end": _hhmm(end)}]},
    )
    group: dict[str, Any] = {
        "name": f"Office {secrets.token_hex(2)}",
        "schedule": "fixed",
        "shift_id": shift["id"],
        "workdays": [1, 2, 3, 4, 5, 6, 7],
        "user_ids": [str(p.user_id) for p in (ann, bob, cai)],
    }
    await org.admin.ok("post", "/attendance-groups", 201, json=group)
    # Bob is on approved leave for the whole shift; Cai only for its first hours.
    for person, until in ((bob, end + timedelta(hours=1)), (cai, start + timedelta(hours=3))):
        body = {
            "kind": "leave",
            "leave_type": "personal",
            "unit": "hour",
            "start": (start - timedelta(hours=1)).isoformat(),
            "end": until.isoformat(),
            "reason": "family",
        }
        made = await person.ok("post", "/requests", 201, json=body)
        await org.admin.ok("post", f"/requests/{made['id']}/approve", json={})
    # Dan has no group, but a visit planned 30 minutes from now.
    name = f"华为 {secrets.token_hex(2)}"
    shop = await customer(org.admin, name=name)
    visit_at = (datetime.now(UTC) + timedelta(minutes=30)).replace(second=0, microsecond=0)
    plan = {
        "customer_id": shop,
        "user_id": str(dan.user_id),
        "planned_start": visit_at.isoformat(),
        "planned_end": (visit_at + timedelta(hours=1)).isoformat(),
        "purpose": "复购洽谈",
    }
    await org.admin.ok("post", "/visits", 201, json=plan)

    await _scan(db, settings)

    assert await _titles(ann) == ["Time to clock in"]
    assert await _titles(bob) == []  # on leave
    assert await _titles(cai) == []  # due at work after the leave, not now
    (visit,) = (await read_inbox(dan))["items"]
    assert (visit["kind"], visit["title"]) == (
        "reminder.visit",
        f"Visit at {_hhmm(visit_at)}: {name}",
    )
    # Cai is reminded before work is due again, when the leave ends; nobody else then.
    await _scan(db, settings, at=start + timedelta(hours=3, minutes=-5))
    assert await _titles(cai) == ["Time to clock in"]
    assert await _titles(ann) == ["Time to clock in"] and await _titles(bob) == []
