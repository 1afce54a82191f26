"""An overdue task reminds its assignee once, in the inbox (and on the live feed as `reminder`):
not before it is due, not when done, not twice; a new due date missed reminds again."""

from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta
from typing import Any

from fieldpunch.config import Settings
from fieldpunch.db.engine import Database
from fieldpunch.jobs.queue import enqueue
from fieldpunch.jobs.worker import build_runner
from tests.api.visits.harness import TZ, customer
from tests.factories import Api, OrgKit

OVERDUE = "tasks.overdue"


def _noon_yesterday() -> datetime:
    return datetime.combine(datetime.now(TZ).date() - timedelta(days=1), time(12), TZ)


async def _scan_at(db: Database, settings: Settings, now: datetime) -> None:
    runner = build_runner(db, settings, clock=lambda: now)
    try:
        async with db.transaction() as session:
            await enqueue(session, OVERDUE, {}, key=f"test:overdue:{secrets.token_hex(6)}", now=now)
        await runner.drain()
    finally:
        await runner.http.aclose()


async def _reminders(api: Api) -> list[dict[str, Any]]:
    page = await api.ok("get", "/notifications", params={"limit": 500})
    return [n for n in page["items"] if n["kind"] == "reminder.task"]


async def test_an_overdue_task_reminds_its_assignee_once(
    org: OrgKit, db: Database, settings: Settings
) -> None:
    rep = await org.person("staff")
    other = await org.person("staff")
    shop = await customer(org.admin, "老王超市")
    due = _noon_yesterday()
    body = {"title": "送样品", "customer_id": shop, "assignee_id": rep.user_id,
            "due": due.isoformat()}  # fmt: skip
    task = await org.admin.ok("post", "/tasks", 201, json=body)
    done = await org.admin.ok("post", "/tasks", 201, json=body | {"title": "已完成"})
    await org.admin.ok("patch", f"/tasks/{done['id']}", json={"status": "done"})
    # Before it is due: nothing.
    await _scan_at(db, settings, due - timedelta(minutes=1))
    assert await _reminders(rep) == []
    # Due and still open: one reminder for the assignee, none for the done task or anyone else.
    await _scan_at(db, settings, due + timedelta(minutes=1))
    (reminder,) = await _reminders(rep)
    assert reminder["data"]["task_id"] == task["id"]
    assert reminder["title"] == "Task overdue: 送样品"
    assert reminder["body"] == f"Due {due.strftime('%Y-%m-%d %H:%M')} (老王超市)."
    assert await _reminders(other) == []
    # Later scans (overlapping, retried) send nothing again.
    await _scan_at(db, settings, due + timedelta(minutes=2))
    await _scan_at(db, settings, due + timedelta(hours=3))
    assert len(await _reminders(rep)) == 1
    # A new due date, missed again: one more.
    later = due + timedelta(hours=4)
    await rep.ok("patch", f"/tasks/{task['id']}", json={"due": later.isoformat()})
    await _scan_at(db, settings, later + timedelta(minutes=1))
    dues = sorted(datetime.fromisoformat(r["data"]["due"]) for r in await _reminders(rep))
    assert dues == [due, later]
