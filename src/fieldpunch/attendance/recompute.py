"""The recompute: stored rules, punches and requests → `compute_day` → `attendance_days` rows.

`recompute(session, org_id, user_id, dates)` for one person, `recompute_people` for many of one
org (the org's rules are read once). Only counting punches go in (days_repository.COUNTING)
and only approved requests. Days after the org's local today are not stored: a day is computed
once it has begun (the days' close, freshness.py, computes every day that ended).
No dialect branch here: the SQL is in days_repository.py.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.attendance import tallies
from fieldpunch.attendance import values as v
from fieldpunch.attendance.calendar_cn import resolve_day
from fieldpunch.attendance.day import compute_day
from fieldpunch.attendance.days_repository import DaysRepo
from fieldpunch.attendance.models import AttendanceGroup, AttendanceRequest
from fieldpunch.attendance.models import Shift as ShiftRow
from fieldpunch.attendance.timeline import at_local, window_start
from fieldpunch.kit.clock import utcnow

ONE = timedelta(days=1)
log = logging.getLogger("fieldpunch.attendance")


@dataclass
class OrgRules:
    """What every person of the org shares: read once per recompute batch."""

    tz: ZoneInfo
    groups: dict[str, AttendanceGroup]
    places: dict[str, set[str]]
    shift_rows: dict[str, ShiftRow]
    own: dict[str, str]
    by_team: dict[str, str]
    parent: dict[str, str | None]
    calendar: dict[date, v.CalendarEntry]
    _shifts: dict[str, v.Shift] = field(default_factory=dict)

    def group_of(self, user_id: str, team_id: str | None) -> str | None:
        """The person's own group, else their nearest team's up the tree."""
        if user_id in self.own:
            return self.own[user_id]
        seen: set[str] = set()
        while team_id is not None and team_id not in seen:
            if team_id in self.by_team:
                return self.by_team[team_id]
            seen.add(team_id)
            team_id = self.parent.get(team_id)
        return None

    def shift(self, shift_id: str | None) -> v.Shift | None:
        if shift_id is None or shift_id not in self.shift_rows:
            return None
        if shift_id not in self._shifts:
            self._shifts[shift_id] = shift_value(self.shift_rows[shift_id])
        return self._shifts[shift_id]


def _period(p: dict[str, str]) -> v.Period:
    return v.Period(time.fromisoformat(p["start"]), time.fromisoformat(p["end"]))


def shift_value(s: ShiftRow) -> v.Shift:
    return v.Shift(
        periods=tuple(_period(p) for p in s.periods),
        grace_late_min=s.grace_late_min,
        grace_early_min=s.grace_early_min,
        serious_late_min=s.serious_late_min,
        absent_late_min=s.absent_late_min,
        flex_min=s.flex_min,
        earliest_in_min=s.earliest_in_min,
        latest_in_min=s.latest_in_min,
        earliest_out_min=s.earliest_out_min,
        latest_out_min=s.latest_out_min,
        breaks=tuple(_period(b) for b in s.breaks or ()),
        name=s.name,
    )


def rule_value(g: AttendanceGroup) -> v.GroupRule:
    return v.GroupRule(
        schedule=g.schedule,  # type: ignore[arg-type]  # the enum takes its stored text
        required_min=g.required_min or 0,
        field_punch=g.field_punch,  # type: ignore[arg-type]
        overtime_after_shift=g.overtime_after_shift,
        overtime_after_min=g.overtime_after_min,
        overtime_on_rest_days=g.overtime_on_rest_days,
    )


async def load_rules(repo: DaysRepo, org_id: str, start: date, end: date) -> OrgRules:
    tz = ZoneInfo(await repo.org_timezone(org_id))
    own, by_team, parent = await repo.assignments(org_id)
    calendar = {
        c.day: v.CalendarEntry(c.day, c.kind, c.name)  # type: ignore[arg-type]
        for c in await repo.calendar(org_id, start, end)
    }
    return OrgRules(
        tz=tz,
        groups=await repo.groups(org_id),
        places=await repo.group_places(org_id),
        shift_rows=await repo.shifts(org_id),
        own=own,
        by_team=by_team,
        parent=parent,
        calendar=calendar,
    )


def local_today(tz: ZoneInfo, now: datetime) -> date:
    return now.astimezone(tz).date()


async def recompute(
    session: AsyncSession,
    org_id: str,
    user_id: str,
    dates: Iterable[date],
    *,
    now: datetime | None = None,
) -> int:
    """Recompute and store one person's days; returns how many rows were written."""
    return await recompute_people(session, org_id, {user_id: dates}, now=now)


async def recompute_people(
    session: AsyncSession,
    org_id: str,
    wanted: Mapping[str, Iterable[date]],
    *,
    now: datetime | None = None,
) -> int:
    now = now or utcnow()
    plan = {u: sorted(set(ds)) for u, ds in wanted.items()}
    plan = {u: ds for u, ds in plan.items() if ds}
    if not plan:
        return 0
    repo = DaysRepo(session)
    first = min(ds[0] for ds in plan.values())
    last = max(ds[-1] for ds in plan.values())
    rules = await load_rules(repo, org_id, first - ONE, last + ONE)
    today = local_today(rules.tz, now)
    teams = await repo.people(org_id, list(plan))
    work: dict[str, tuple[AttendanceGroup, list[date]]] = {}
    for user_id, days in plan.items():
        days = [d for d in days if d <= today]
        if user_id not in teams or not days:
            continue  # not a person of the org (deleted), or days not begun
        group_id = rules.group_of(user_id, teams[user_id])
        group = rules.groups.get(group_id) if group_id else None
        if group is None:
            await repo.drop_days(org_id, user_id, days)
            continue
        work[user_id] = (group, days)
    if not work:
        return 0
    # One read per table for every person of the batch (windows of a date open at most a day
    # before it and span at most 24 hours); each person's days then take only their own.
    start = min(days[0] for _, days in work.values())
    end = max(days[-1] for _, days in work.values())
    lo, hi = at_local(start - ONE, time.min, rules.tz), at_local(end + 2 * ONE, time.min, rules.tz)
    people = list(work)
    rosters = await repo.rosters(org_id, people, start, end + ONE)
    punches = await repo.punches(org_id, people, lo, hi)
    requests = await repo.requests(org_id, people, lo, hi)
    rows: list[dict[str, Any]] = []
    for user_id, (group, days) in work.items():
        try:
            rows += _person(
                rules,
                org_id,
                user_id,
                group,
                days,
                now,
                rosters.get(user_id, {}),
                punches.get(user_id, []),
                requests.get(user_id, []),
            )
        except ValueError:
            # Rules the day refuses (a stored shift it cannot place): that person's days keep
            # their last result, and every other day of the batch goes on.
            log.exception("attendance days of %s not computed: %s", user_id, days)
    await repo.upsert_days(rows)
    return len(rows)


def _person(
    rules: OrgRules,
    org_id: str,
    user_id: str,
    group: AttendanceGroup,
    days: list[date],
    now: datetime,
    roster: Mapping[date, str | None],
    punch_rows: Iterable[Any],
    request_rows: Iterable[AttendanceRequest],
) -> list[dict[str, Any]]:
    """One person's days from what was read for them (pure: no I/O)."""
    tz = rules.tz
    places = rules.places.get(group.id, set())
    punches = sorted((_punch(r, places) for r in punch_rows), key=lambda p: (p.at, p.id))
    times = [p.at for p in punches]
    requests = [_request(r) for r in request_rows]
    rule = rule_value(group)
    out: list[dict[str, Any]] = []
    for d in days:
        cal, shift_id = placed(rules, group, roster, d)
        nxt, next_id = placed(rules, group, roster, d + ONE)
        next_shift = rules.shift(next_id) if nxt.kind is v.DayKind.workday else None
        shift = rules.shift(shift_id)
        if cal.kind is v.DayKind.workday and shift is None and rule.schedule is not v.Schedule.free:
            cal = v.CalendarDay(d, v.DayKind.rest, cal.name)  # no shift to work: off
        a, b = at_local(d - ONE, time.min, tz), at_local(d + 2 * ONE, time.min, tz)
        near = punches[bisect.bisect_left(times, a) : bisect.bisect_left(times, b)]
        reqs = [r for r in requests if r.start < b and r.end > a]
        result = compute_day(
            rule,
            shift,
            cal,
            near,
            reqs,
            tz,
            now=now,
            next_day_start=None if next_shift is None else window_start(next_shift, d + ONE, tz),
        )
        out.append(day_row(org_id, user_id, group.id, shift_id, result, now))
    return out


def placed(
    rules: OrgRules, group: AttendanceGroup, roster: Mapping[date, str | None], d: date
) -> tuple[v.CalendarDay, str | None]:
    """The person's day (workday, rest, holiday) and the shift id it would use."""
    entry: v.Roster | None = None
    shift_id: str | None = None
    if group.schedule == v.Schedule.rostered.value:
        if d in roster:
            shift_id = roster[d]
            entry = "rest" if shift_id is None else "work"
    elif group.schedule == v.Schedule.fixed.value:
        shift_id = group.shift_id
    cal = resolve_day(
        d, group.workdays or (), entry, rules.calendar, follows_calendar=group.follows_calendar
    )
    return cal, shift_id


def _punch(row: Any, places: set[str]) -> v.Punch:
    if row.source == "correction":
        method = v.Method.correction
    elif row.place_id is None or (places and row.place_id not in places):
        method = v.Method.field
    elif (row.facts or {}).get("wifi_registered"):
        method = v.Method.wifi
    else:
        method = v.Method.gps
    return v.Punch(row.id, row.trusted_time, row.kind, method, row.place_id or "")


def _request(r: AttendanceRequest) -> v.Request:
    return v.Request(
        id=r.id,
        kind=r.kind,  # type: ignore[arg-type]
        start=r.start_at,
        end=r.end_at,
        leave_type=r.leave_type or "",
        unit=r.unit,  # type: ignore[arg-type]
    )


def day_row(
    org_id: str,
    user_id: str,
    group_id: str,
    shift_id: str | None,
    r: v.DayResult,
    now: datetime,
) -> dict[str, Any]:
    ins = [e.punch.at for e in r.edges if e.punch and e.side is v.EdgeSide.clock_in]
    outs = [e.punch.at for e in r.edges if e.punch and e.side is v.EdgeSide.clock_out]
    overtime = r.overtime_min
    result = r.to_json()
    statuses = [s.value for s in r.statuses]
    return {
        "org_id": org_id,
        "user_id": user_id,
        "day": r.date,
        "status": None if r.status is None else r.status.value,
        "statuses": statuses,
        "kind": r.kind.value,
        "holiday_name": r.holiday_name,
        "schedule": r.schedule.value,
        "scheduled_min": r.scheduled_min,
        "worked_min": r.worked_min,
        "late_min": r.late_min,
        "early_leave_min": r.early_leave_min,
        "overtime_workday_min": overtime.get(v.OvertimeKind.workday.value, 0),
        "overtime_rest_day_min": overtime.get(v.OvertimeKind.rest_day.value, 0),
        "overtime_holiday_min": overtime.get(v.OvertimeKind.holiday.value, 0),
        "leave_min": sum(r.leave_min.values()),
        "leave_by_type": dict(r.leave_min),
        "trip_min": r.trip_min,
        "out_min": r.out_min,
        "field_day": r.field_day,
        "complete": r.complete,
        "first_in": min(ins) if ins else None,
        "last_out": max(outs) if outs else None,
        "group_id": group_id,
        "shift_id": shift_id if r.schedule is not v.Schedule.free else None,
        **tallies.columns(statuses, r.worked_min, result),
        "result": result,
        "computed_at": now,
    }
