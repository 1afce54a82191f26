"""Reminders before and after shift edges and visits, each sent once."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.config import Settings
from fieldpunch.db.engine import Database
from fieldpunch.jobs.models import OutboxEvent
from fieldpunch.jobs.queue import enqueue
from fieldpunch.jobs.worker import build_runner
from fieldpunch.notify.reminders import (
    OrgWindows,
    PlannedVisit,
    PunchMark,
    ShiftWindow,
    due_reminders,
)
from tests.api.notifications.harness import (
    SHANGHAI,
    read_inbox,
)
from tests.factories import OrgKit
from tests.punching import punch

# reminders ---------------------------------------------------------------------------------------


def _shift(user: str, start: datetime, hours: float = 8, day: date | None = None) -> ShiftWindow:
    return ShiftWindow(user, "shf_day", day or start.date(), start, start + timedelta(hours=hours))


def test_due_reminders_before_and_after_shift_edges_and_visits() -> None:
    now = datetime(2026, 11, 27, 0, 50, tzinfo=UTC)  # 08:50 in Shanghai
    start = now + timedelta(minutes=10)  # 09:00
    shifts = [_shift("ann", start), _shift("bob", start), _shift("cai", start)]
    punches = {"bob": [PunchMark("clock_in", now - timedelta(minutes=5))]}
    leave = {("cai", start.date())}
    visits = [PlannedVisit("ann", "vis_1", start.date(), now + timedelta(minutes=30), "华为")]
    due = due_reminders(shifts, visits, punches, leave, now, SHANGHAI)
    assert [(r.user_id, r.kind, r.title) for r in due] == [
        ("ann", "reminder.shift", "Time to clock in"),
        ("ann", "reminder.visit", "Visit at 09:20: 华为"),
    ]
    assert due[0].body == "Your shift starts at 09:00."
    assert due[0].key == f"reminder:ann:shf_day:{start.date()}:start-10"
    # Ten minutes after the start: who has still not clocked in.
    later = due_reminders(shifts, [], punches, leave, start + timedelta(minutes=10), SHANGHAI)
    assert [(r.user_id, r.title) for r in later] == [("ann", "You have not clocked in")]
    # Too late to be useful: dropped, not sent at noon.
    assert due_reminders(shifts, [], {}, set(), start + timedelta(hours=3), SHANGHAI) == []
    # Before the end: everyone who has not clocked out; after a clock-out, nothing.
    end = start + timedelta(hours=8)
    out = due_reminders(
        shifts,
        [],
        {"bob": [PunchMark("clock_out", end - timedelta(minutes=7))]},
        set(),
        end - timedelta(minutes=5),
        SHANGHAI,
    )
    assert [(r.user_id, r.title, r.body) for r in out] == [
        ("ann", "Time to clock out", "Your shift ends at 17:00."),
        ("cai", "Time to clock out", "Your shift ends at 17:00."),
    ]
    # A visit already checked in needs no reminder.
    done = {"ann": [PunchMark("visit_in", now, "vis_1")]}
    assert due_reminders([], visits, done, set(), now, SHANGHAI) == []


class _Source:
    def __init__(self, org_id: str, shifts: list[ShiftWindow], leave: set[tuple[str, date]]):
        self.org_id, self.shifts, self.leave = org_id, shifts, leave

    async def windows(
        self, session: AsyncSession, start: datetime, end: datetime
    ) -> list[OrgWindows]:
        return [OrgWindows(self.org_id, SHANGHAI, self.shifts, [])]

    async def on_leave(
        self, session: AsyncSession, org_id: str, people: set[tuple[str, date]]
    ) -> set[tuple[str, date]]:
        return people & self.leave


async def test_reminder_scan_sends_each_reminder_once(
    org: OrgKit, db: Database, settings: Settings
) -> None:
    ann, bob, cai = [await org.person("staff") for _ in range(3)]
    start = datetime.now(UTC) + timedelta(minutes=8)  # "start −10 min" is due now
    await bob.ok("post", "/punches", 201, json=punch(kind="clock_in"))
    source = _Source(
        org.org_id,
        [_shift(str(p.user_id), start) for p in (ann, bob, cai)],
        {(str(cai.user_id), start.date())},
    )
    runner = build_runner(db, settings, reminders=source)
    for _ in range(2):  # overlapping scans (two workers, a retry): still once
        async with db.transaction() as session:
            await enqueue(session, "reminders.scan", {}, key=f"scan:{secrets.token_hex(4)}")
        await runner.drain()
    await runner.http.aclose()
    (r,) = (await read_inbox(ann))["items"]
    assert r["kind"] == "reminder.shift" and r["title"] == "Time to clock in"
    assert (await read_inbox(bob))["items"] == [] and (await read_inbox(cai))["items"] == []
    async with db.transaction(write=False) as session:
        (event,) = (
            await session.execute(
                select(OutboxEvent).where(OutboxEvent.subject_user_id == ann.user_id)
            )
        ).scalars()
    assert event.topic == "reminder" and event.payload["data"]["id"] == r["id"]
