"""Keeping the stored days fresh, with nothing added to the punch transaction.

- Rule changes (rosters, groups, shifts, calendar, decided requests) mark person-days in
  `attendance_dirty` in their own transaction (attendance/ services).
- Punches, review decisions and approved corrections are followed, not hooked: the punch path
  already writes `punch.created` (an approved correction's punch too, `source: "correction"`)
  and a review writes `punch.updated`, in the same transaction as the data. The
  `attendance.refresh` job follows those outbox events with its own cursor (jobs/follow.py:
  holes from rolled-back ids are waited for, events past them handed over at once) and marks
  the days each punch may belong to (its local date and the dates either side: a day's windows
  open up to a day early and span up to 24 hours), in the transaction that moves the cursor.
  So a committed punch is never missed, and the punch costs nothing more.
- The same job then drains `attendance_dirty`: EVERYONE rows become one row per person in a
  group, then each batch of person-days is recomputed and its marks removed, unless marked
  again meanwhile (then it runs again). A mark settles `SETTLE` (10 s) first, so a burst of
  changes to one day is one recompute; days are fresh within ~15 s of a change.
- Days end: `attendance.close` (every 15 minutes) marks, once per org and local date,
  everyone's yesterday (a day with no punch must still become `absent`), and every day stored
  `complete: false` before the org's local today, so a day computed in progress is completed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.attendance.days_repository import DaysRepo
from fieldpunch.attendance.models import EVERYONE
from fieldpunch.attendance.recompute import recompute_people
from fieldpunch.attendance.repository import AttendanceRepo
from fieldpunch.db.engine import Database
from fieldpunch.jobs import follow as outbox
from fieldpunch.jobs.queue import enqueue
from fieldpunch.jobs.runner import JobContext, JobKind, PeriodicTask

FOLLOWER = "attendance-days"
TOPICS = frozenset({"punch.created", "punch.updated"})
CAUSE = {"punch.created": "punch", "punch.updated": "review"}
BATCH = 100  # person-days per transaction: short, so SQLite's writer is not held long
# A mark waits this long before its recompute: a burst of changes to one day (a roster being
# edited, a review of several punches) is recomputed once, after it, not once per change.
SETTLE = timedelta(seconds=10)
ONE = timedelta(days=1)
Mark = tuple[str, str, date, datetime]


def near(t: datetime, tz: ZoneInfo) -> list[date]:
    """The dates whose windows may hold a punch at `t`."""
    d = t.astimezone(tz).date()
    return [d - ONE, d, d + ONE]


async def mark_punched(session: AsyncSession, events: Sequence[outbox.Event], now: datetime) -> int:
    """Mark the days of the punches these events name; returns the person-days marked.

    The marks carry the newest event's time, not the follower's: a mark settles from the
    change it stands for."""
    causes: dict[str, str] = {}
    stamps: list[datetime] = []
    for e in events:
        data = e.payload.get("data")
        if isinstance(data, dict) and isinstance(data.get("id"), str):
            causes.setdefault(data["id"], CAUSE[e.topic])
            stamps.append(datetime.fromisoformat(e.payload["at"]))
    if not causes:
        return 0
    at = min(max(stamps), now)
    days = DaysRepo(session)
    zones: dict[str, ZoneInfo] = {}
    cells: dict[tuple[str, str], set[tuple[str, date]]] = {}
    for punch_id, org_id, user_id, t in await days.punch_people(list(causes)):
        if org_id not in zones:
            zones[org_id] = ZoneInfo(await days.org_timezone(org_id))
        key = (org_id, causes[punch_id])
        cells.setdefault(key, set()).update((user_id, d) for d in near(t, zones[org_id]))
    rules = AttendanceRepo(session)
    marked = 0
    for (org_id, cause), found in cells.items():
        marked += await rules.mark_dirty(org_id, found, cause, at)
    return marked


async def drain(
    db: Database,
    clock: Callable[[], datetime],
    batch: int = BATCH,
    settle: timedelta = SETTLE,
) -> int:
    """Recompute every person-day marked `settle` ago or earlier; returns the rows written."""
    written = 0
    while True:
        async with db.transaction() as session:
            repo = DaysRepo(session)
            now = clock()
            marks = await repo.dirty_batch(batch, now - settle)
            if not marks:
                return written
            wanted: dict[str, dict[str, list[date]]] = {}
            for org_id, user_id, day, marked_at in marks:
                if user_id == EVERYONE:
                    await _expand(session, org_id, day, marked_at)
                else:
                    wanted.setdefault(org_id, {}).setdefault(user_id, []).append(day)
            for org_id, people in wanted.items():
                written += await recompute_people(session, org_id, people, now=now)
            await repo.clear_dirty(marks)


async def _expand(session: AsyncSession, org_id: str, day: date, marked_at: datetime) -> None:
    """EVERYONE's day → a mark per person in a group (drained in later batches), stamped as
    the EVERYONE mark was: they settle from the change, not from the expansion."""
    rules = AttendanceRepo(session)
    groups = list((await DaysRepo(session).groups(org_id)).keys())
    people = await rules.people_in_groups(org_id, groups)
    await rules.mark_dirty(org_id, [(u, day) for u in people], "everyone", marked_at)


async def refresh(ctx: JobContext) -> None:
    async def handler(session: AsyncSession, events: Sequence[outbox.Event]) -> None:
        await mark_punched(session, events, ctx.now())

    await outbox.follow(ctx.db, FOLLOWER, TOPICS, handler, ctx.now)
    # `settle_s` in the payload: a run that takes every mark now (tests, an operator).
    settle = ctx.job.payload.get("settle_s")
    await drain(ctx.db, ctx.now, settle=SETTLE if settle is None else timedelta(seconds=settle))


async def close(ctx: JobContext) -> None:
    """Each org's yesterday, once; and days left incomplete before each org's today."""
    now = ctx.now()
    async with ctx.db.transaction() as session:
        repo = DaysRepo(session)
        today: dict[str, date] = {}
        for org_id, tz in await repo.orgs():
            today[org_id] = now.astimezone(ZoneInfo(tz or "UTC")).date()
            yesterday = (today[org_id] - ONE).isoformat()
            await enqueue(
                session,
                "attendance.close_day",
                {"org_id": org_id, "day": yesterday},
                org_id=org_id,
                key=f"attendance.close:{org_id}:{yesterday}",
                now=now,
            )
        if not today:
            return
        stale: dict[str, list[tuple[str, date]]] = {}
        for org_id, user_id, day in await repo.incomplete(max(today.values())):
            if day < today.get(org_id, day):
                stale.setdefault(org_id, []).append((user_id, day))
        rules = AttendanceRepo(session)
        for org_id, cells in stale.items():
            await rules.mark_dirty(org_id, cells, "complete", now)


async def close_day(ctx: JobContext) -> None:
    payload = ctx.job.payload
    async with ctx.db.transaction() as session:
        await AttendanceRepo(session).mark_dirty(
            payload["org_id"], [(EVERYONE, date.fromisoformat(payload["day"]))], "close", ctx.now()
        )


KINDS = [
    JobKind("attendance.refresh", refresh, timeout_s=240),
    JobKind("attendance.close", close, timeout_s=120),
    JobKind("attendance.close_day", close_day, timeout_s=60),
]
TASKS = [
    PeriodicTask("attendance-refresh", "attendance.refresh", 5),
    PeriodicTask("attendance-close", "attendance.close", 900),
]
