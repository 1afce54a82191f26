"""Where the punch reminders' shifts, planned visits and leave come from: the attendance rules
and the visit plans (notify/reminders.py's `ReminderSource`, fed to its `reminders.scan` job).

A person's shift on a day is placed as the attendance day places it (group, roster, calendar),
then trimmed by their approved leave and trips: a morning's leave moves "clock in" to when work
is due again, an afternoon's moves "clock out" to when it stops, and a whole day's drops both.
A planned visit during leave is not reminded either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.attendance import values as v
from fieldpunch.attendance.days_repository import DaysRepo
from fieldpunch.attendance.recompute import ONE, OrgRules, load_rules, placed
from fieldpunch.attendance.timeline import Iv, local_day, merge, place
from fieldpunch.notify.reminders import OrgWindows, PlannedVisit, ShiftWindow
from fieldpunch.visits.repository import VisitRepo

# Requests that take a person away from their shift (going out, 外出, still means clocking in).
AWAY = ("leave", "trip")


def trim(start: datetime, end: datetime, away: Sequence[Iv]) -> Iv | None:
    """The part of a shift [start, end] still to be worked around time away, or None if none.

    Time away covering the start moves the start to where it ends; covering the end moves the
    end to where it starts. Time away in the middle changes neither edge."""
    for lo, hi in merge(away):
        if lo <= start < hi:
            start = hi
        if lo < end <= hi:
            end = lo
    return (start, end) if start < end else None


def shift_windows(
    rules: OrgRules,
    people: dict[str, str | None],
    rosters: dict[str, dict[date, str | None]],
    days: Sequence[date],
    start: datetime,
    end: datetime,
    away: Mapping[str, Sequence[Iv]],
) -> list[ShiftWindow]:
    """Everyone's shifts on `days`, less their time `away`, with an edge in [start, end]
    (pure: no I/O)."""
    out: list[ShiftWindow] = []
    for user_id, team_id in people.items():
        group_id = rules.group_of(user_id, team_id)
        group = rules.groups.get(group_id) if group_id else None
        if group is None or group.schedule == v.Schedule.free.value:
            continue  # free hours (自由工时) have no edges to remind of
        for d in days:
            cal, shift_id = placed(rules, group, rosters.get(user_id, {}), d)
            shift = rules.shift(shift_id)
            if cal.kind is not v.DayKind.workday or shift is None:
                continue
            slots = place(shift, d, rules.tz, None)
            left = trim(slots[0].start, slots[-1].end, away.get(user_id, ()))
            if left is not None and any(start <= edge <= end for edge in left):
                out.append(ShiftWindow(user_id, shift_id or "", d, *left))
    return out


class ScheduleSource:
    """The `ReminderSource` over attendance groups, shifts, rosters, requests and visit plans."""

    async def windows(
        self, session: AsyncSession, start: datetime, end: datetime
    ) -> Sequence[OrgWindows]:
        days_repo = DaysRepo(session)
        visits_by_org: dict[str, list[PlannedVisit]] = {}
        for row in await VisitRepo(session).planned_between(start, end):
            visit = PlannedVisit(row.user_id, row.id, row.day, row.planned_start, row.customer)
            visits_by_org.setdefault(row.org_id, []).append(visit)
        out: list[OrgWindows] = []
        # Only orgs with something to remind of: a group's shifts, or planned visits.
        for org_id in sorted(await days_repo.orgs_with_groups() | set(visits_by_org)):
            rules = await load_rules(days_repo, org_id, *_span(start, end, None))
            # A night shift belongs to the day it starts: yesterday's may end in this window.
            first, last = _span(start, end, rules)
            # Time away may move an edge by up to a day: read what overlaps the days around.
            lo, hi = local_day(first - ONE, rules.tz)[0], local_day(last + ONE, rules.tz)[1]
            away = await days_repo.time_away(org_id, AWAY, lo, hi)
            shifts: list[ShiftWindow] = []
            if rules.groups:
                days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
                people = await days_repo.people(org_id, None)
                rostered = [
                    u
                    for u, t in people.items()
                    if (g := rules.groups.get(rules.group_of(u, t) or ""))
                    and g.schedule == v.Schedule.rostered.value
                ]
                rosters = await days_repo.rosters(org_id, rostered, first, last) if rostered else {}
                shifts = shift_windows(rules, people, rosters, days, start, end, away)
            visits = [
                p
                for p in visits_by_org.get(org_id, [])
                if not any(a <= p.start < b for a, b in away.get(p.user_id, ()))
            ]
            if shifts or visits:
                out.append(OrgWindows(org_id, rules.tz, shifts, visits))
        return out

    async def on_leave(
        self, session: AsyncSession, org_id: str, people: set[tuple[str, date]]
    ) -> set[tuple[str, date]]:
        return set()  # `windows` has already taken leave and trips out of the shifts and visits


def _span(start: datetime, end: datetime, rules: OrgRules | None) -> tuple[date, date]:
    """The local dates whose shifts may have an edge in [start, end] (UTC dates ± a day when
    the zone is not known yet: only to bound what is read)."""
    if rules is None:
        return start.date() - 2 * ONE, end.date() + 2 * ONE
    return start.astimezone(rules.tz).date() - ONE, end.astimezone(rules.tz).date()
