"""Overdue-task reminders: a task past its due date, still open or in progress, reminds its
assignee once, through the notification channels (inbox, live `reminder`, push by default).

`tasks.overdue` runs every minute, once across workers. Each reminder's dedupe key names the
task and the due time it missed (`reminder:task:<id>:<due>`), so overlapping scans and retried
jobs send nothing twice, while a task moved to a new due date and missing it again reminds
again. Only tasks that fell due within `LOOKBACK` are considered: a first run on an old
installation does not send a year's backlog at once, and the scan stays a range on `due`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.customers.models import Customer
from fieldpunch.jobs.runner import JobContext, JobKind, PeriodicTask
from fieldpunch.notify.deliver import Message, deliver
from fieldpunch.notify.models import Notification
from fieldpunch.orgs.models import Org
from fieldpunch.tasks.models import Task
from fieldpunch.tasks.repository import OPEN

KIND = "reminder.task"  # live topic `reminder`, as API.md names reminders
LOOKBACK = timedelta(days=7)
BATCH = 500  # tasks per transaction: SQLite's one writer is never held long


def reminder_key(task_id: str, due: datetime) -> str:
    return f"reminder:task:{task_id}:{due.isoformat()}"


def message(task_id: str, title: str, due: datetime, customer: str | None, tz: ZoneInfo) -> Message:
    when = due.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    about = f" ({customer})" if customer else ""
    return Message(
        KIND,
        f"Task overdue: {title}",
        f"Due {when}{about}.",
        {"task_id": task_id, "due": due.isoformat(), "url": f"/app/tasks/{task_id}"},
    )


async def _overdue(
    session: AsyncSession, now: datetime, after: tuple[datetime, str] | None
) -> list[Any]:
    stmt = (
        select(Task.id, Task.org_id, Task.assignee_id, Task.title, Task.due, Customer.name)
        .outerjoin(Customer, Customer.id == Task.customer_id)
        .where(
            Task.status.in_(OPEN),
            Task.assignee_id.is_not(None),
            Task.due < now,
            Task.due >= now - LOOKBACK,
        )
        .order_by(Task.due, Task.id)
        .limit(BATCH)
    )
    if after is not None:
        stmt = stmt.where((Task.due > after[0]) | ((Task.due == after[0]) & (Task.id > after[1])))
    return list((await session.execute(stmt)).all())


async def _sent(session: AsyncSession, rows: list[Any]) -> set[tuple[str, str]]:
    """Which (assignee, key) of these rows were notified before: one read instead of a
    no-op delivery per task on every scan."""
    if not rows:
        return set()
    keys = {reminder_key(r.id, r.due) for r in rows}
    stmt = select(Notification.user_id, Notification.dedupe_key).where(
        Notification.user_id.in_({r.assignee_id for r in rows}),
        Notification.dedupe_key.in_(keys),
    )
    return {(u, k) for u, k in await session.execute(stmt)}


async def remind_overdue(ctx: JobContext) -> None:
    now = ctx.now()
    after: tuple[datetime, str] | None = None
    zones: dict[str, ZoneInfo] = {}
    while True:
        async with ctx.db.transaction() as session:
            rows = await _overdue(session, now, after)
            sent = await _sent(session, rows)
            for task_id, org_id, assignee, title, due, customer in rows:
                if (assignee, reminder_key(task_id, due)) in sent:
                    continue  # reminded on an earlier scan
                if org_id not in zones:
                    tz = (
                        await session.execute(select(Org.timezone).where(Org.id == org_id))
                    ).scalar()
                    zones[org_id] = ZoneInfo(tz or "UTC")
                await deliver(
                    session,
                    ctx.settings,
                    org_id=org_id,
                    message=message(task_id, title, due, customer, zones[org_id]),
                    recipients=[assignee],
                    key=reminder_key(task_id, due),
                    now=now,
                )
        if len(rows) < BATCH:
            return
        after = (rows[-1].due, rows[-1].id)


KINDS = [JobKind("tasks.overdue", remind_overdue, timeout_s=120)]
TASKS = [PeriodicTask("tasks-overdue", "tasks.overdue", 60)]
