"""Reminders to punch: before and after a shift's start and end, and before planned visits.

`due_reminders` is pure: it takes shift windows, planned visits, the person's punches and who is
on leave, and says which reminders are due now, each with the key that makes it unique. The
`reminders.scan` job (every minute, once across workers) feeds it from a `ReminderSource`.

The source in use is attendance/reminders.py's `ScheduleSource` (attendance groups, shifts,
rosters, approved leave and trips, visit plans); tests pass their own to
`jobs.worker.build_runner`. See docs/architecture.md, "Reminders".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.jobs.runner import JobContext, JobKind, PeriodicTask
from fieldpunch.notify.deliver import Message, deliver
from fieldpunch.punches.models import Punch

# A reminder not sent within this long after its time is dropped: no stale "clock in" at noon.
LATE = timedelta(minutes=10)
# A punch this long before the shift starts still counts as clocking in for it.
EARLY_PUNCH = timedelta(hours=2)


@dataclass(frozen=True, slots=True)
class ShiftWindow:
    user_id: str
    shift_id: str
    day: date  # the local date the shift belongs to (a night shift: the day it starts)
    start: datetime  # UTC
    end: datetime  # UTC, after start (a shift crossing midnight ends the next day)


@dataclass(frozen=True, slots=True)
class PlannedVisit:
    user_id: str
    visit_id: str
    day: date
    start: datetime
    customer: str


@dataclass(frozen=True, slots=True)
class PunchMark:
    kind: str  # clock_in | clock_out | visit_in | visit_out
    at: datetime  # trusted time
    visit_id: str | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    edge: Literal["start", "end", "visit"]
    offset_min: int  # negative: before the edge


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("start", -10),
    Rule("start", 10),
    Rule("end", -5),
    Rule("end", 15),
    Rule("visit", -30),
)


@dataclass(frozen=True, slots=True)
class Reminder:
    user_id: str
    kind: str  # reminder.shift | reminder.visit
    key: str
    title: str
    body: str
    at: datetime


def _hhmm(t: datetime, tz: ZoneInfo) -> str:
    return t.astimezone(tz).strftime("%H:%M")


def due_reminders(
    shifts: Sequence[ShiftWindow],
    visits: Sequence[PlannedVisit],
    punches: Mapping[str, Sequence[PunchMark]],
    on_leave: set[tuple[str, date]],
    now: datetime,
    tz: ZoneInfo,
    rules: Sequence[Rule] = DEFAULT_RULES,
) -> list[Reminder]:
    """The reminders due at `now` (fire time in (now − LATE, now]) that still make sense."""
    out: list[Reminder] = []

    def due(at: datetime) -> bool:
        return at <= now < at + LATE

    for w in shifts:
        if (w.user_id, w.day) in on_leave:
            continue
        mine = punches.get(w.user_id, ())
        clocked_in = any(p.kind == "clock_in" and w.start - EARLY_PUNCH <= p.at for p in mine)
        clocked_out = any(p.kind == "clock_out" and w.start <= p.at for p in mine)
        for rule in rules:
            if rule.edge == "visit":
                continue
            edge = w.start if rule.edge == "start" else w.end
            at = edge + timedelta(minutes=rule.offset_min)
            if not due(at):
                continue
            if (rule.edge == "start" and clocked_in) or (rule.edge == "end" and clocked_out):
                continue
            when = _hhmm(edge, tz)
            if rule.edge == "start":
                title = "Time to clock in" if rule.offset_min < 0 else "You have not clocked in"
                body = f"Your shift starts at {when}."
            else:
                title = "Time to clock out" if rule.offset_min < 0 else "You have not clocked out"
                body = f"Your shift ends at {when}."
            edge_key = f"{rule.edge}{rule.offset_min:+d}"
            key = f"reminder:{w.user_id}:{w.shift_id}:{w.day.isoformat()}:{edge_key}"
            out.append(Reminder(w.user_id, "reminder.shift", key, title, body, at))
    for v in visits:
        if (v.user_id, v.day) in on_leave:
            continue
        if any(
            p.kind == "visit_in" and p.visit_id == v.visit_id for p in punches.get(v.user_id, ())
        ):
            continue
        for rule in rules:
            at = v.start + timedelta(minutes=rule.offset_min)
            if rule.edge != "visit" or not due(at):
                continue
            key = f"reminder:{v.user_id}:visit:{v.visit_id}:{rule.offset_min:+d}"
            title = f"Visit at {_hhmm(v.start, tz)}: {v.customer}"
            out.append(
                Reminder(v.user_id, "reminder.visit", key, title, "Check in when you arrive.", at)
            )
    return out


@dataclass(frozen=True, slots=True)
class OrgWindows:
    org_id: str
    tz: ZoneInfo
    shifts: Sequence[ShiftWindow]
    visits: Sequence[PlannedVisit]


class ReminderSource(Protocol):
    """Where shifts, planned visits and leave come from."""

    async def windows(
        self, session: AsyncSession, start: datetime, end: datetime
    ) -> Sequence[OrgWindows]:
        """Shift windows and visits whose start or end falls in [start, end], per org."""
        ...

    async def on_leave(
        self, session: AsyncSession, org_id: str, people: set[tuple[str, date]]
    ) -> set[tuple[str, date]]:
        """Which of (person, local day) are on approved leave."""
        ...


def _reach(rules: Sequence[Rule]) -> timedelta:
    return timedelta(minutes=max(abs(r.offset_min) for r in rules)) + LATE


async def _punches(
    session: AsyncSession, org_id: str, users: set[str], since: datetime
) -> dict[str, list[PunchMark]]:
    rows = await session.execute(
        select(Punch.user_id, Punch.kind, Punch.trusted_time, Punch.visit_id).where(
            Punch.org_id == org_id, Punch.user_id.in_(users), Punch.trusted_time >= since
        )
    )
    out: dict[str, list[PunchMark]] = {}
    for user_id, kind, at, visit_id in rows:
        out.setdefault(user_id, []).append(PunchMark(kind, at, visit_id))
    return out


def scan_kind(source: ReminderSource, rules: Sequence[Rule] = DEFAULT_RULES) -> JobKind:
    async def scan(ctx: JobContext) -> None:
        now = ctx.now()
        reach = _reach(rules)
        async with ctx.db.transaction() as session:
            for org in await source.windows(session, now - reach, now + reach):
                users = {w.user_id for w in org.shifts} | {v.user_id for v in org.visits}
                if not users:
                    continue
                starts = [w.start for w in org.shifts] + [v.start for v in org.visits]
                punches = await _punches(session, org.org_id, users, min(starts) - EARLY_PUNCH)
                days = {(w.user_id, w.day) for w in org.shifts} | {
                    (v.user_id, v.day) for v in org.visits
                }
                leave = await source.on_leave(session, org.org_id, days)
                for r in due_reminders(org.shifts, org.visits, punches, leave, now, org.tz, rules):
                    # The key makes each reminder once per person, however often scans overlap.
                    await deliver(
                        session,
                        ctx.settings,
                        org_id=org.org_id,
                        message=Message(r.kind, r.title, r.body, {"at": r.at.isoformat()}),
                        recipients=[r.user_id],
                        key=r.key,
                        now=now,
                    )

    return JobKind("reminders.scan", scan, timeout_s=120)


SCAN_TASK = PeriodicTask("reminders", "reminders.scan", 60)
