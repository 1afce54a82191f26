"""The attendance day: a pure function of one person's day → `DayResult`. No I/O, no clock.

What counts is decided by the caller: pass only counting punches (accepted ones, flagged ones
approved on review, and punches made by approved corrections, 补卡) and only approved requests.
A field punch (外勤) of a group whose rule is `needs_approval` counts only when its approval let
the caller pass it in; with the rule `no`, field punches are dropped here.

How a day is judged:

- Each shift period has an in edge and an out edge. A clock-in decides an in edge when it falls in
  that edge's window (the earliest one wins); a clock-out decides an out edge likewise (the latest
  wins). Windows are bounded (`timeline.place`): a forgotten clock-out stays missing, and the next
  day's clock-in, being a clock-in in the next day's window, stays the next day's.
- Punches are judged to the minute (seconds dropped). Late minutes count from the due time (the
  period's start, plus the flex allowance for the first period): more than `grace_late_min` is
  late, more than `serious_late_min` serious late, more than `absent_late_min` absent. Early-leave
  minutes count back from the due end (plus the minutes the flex start used, for the last period).
- A leave, trip or out request covering a whole period excuses both its edges; one covering the
  start (a morning half-day) moves the in edge to when work is next due (past a lunch break the
  request ends in), one covering the end moves the out edge to when work last was due. A
  request by whole days (unit `day`) covers each period that starts in it, past midnight too.
- Work, leave, trip and out minutes are real elapsed minutes inside the scheduled periods, breaks
  and requests taken out. Work is counted only for a period with both its punches.
- Rest days and holidays: the statuses are `rest` or `holiday` only; time between the first
  clock-in and the last clock-out is overtime (`rest_day` or `holiday` kind) where an approved
  overtime request covers it, or all of it when the group's rule says such punches count by
  themselves. On a workday, approved overtime outside the shift counts, and time after the shift's
  end counts by itself from `overtime_after_min` minutes on when the rule says so.
- Free schedules (自由工时): the time between the first clock-in and the last clock-out of the
  local day must reach `required_min`, less the minutes of leave, trip and out that day.
- `now`: a day computed before its windows close is `complete=False`; an edge whose window is
  still open and has no punch is `pending`, never missing, and the day is never called absent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fieldpunch.attendance.timeline import (
    Iv,
    Slot,
    intersect,
    local_day,
    merge,
    minute,
    minutes,
    place,
    subtract,
)
from fieldpunch.attendance.values import (
    STATUS_ORDER,
    CalendarDay,
    DayKind,
    DayResult,
    DecidingPunch,
    Edge,
    EdgeSide,
    EdgeState,
    FieldPunchRule,
    GroupRule,
    LeaveUnit,
    Method,
    OvertimeKind,
    Punch,
    PunchKind,
    Request,
    RequestKind,
    Schedule,
    Shift,
    Status,
)

_EXCUSING = (RequestKind.leave, RequestKind.trip, RequestKind.out)
_SECOND = timedelta(seconds=1)


def compute_day(
    rule: GroupRule,
    shift: Shift | None,
    day: CalendarDay,
    punches: Iterable[Punch],
    requests: Iterable[Request],
    tz: ZoneInfo,
    *,
    now: datetime | None = None,
    next_day_start: datetime | None = None,
) -> DayResult:
    """One person's attendance day `day.date` in the org's time zone `tz`.

    `shift` is the day's shift (None on a rest day or for a free schedule); a workday of a fixed
    or rostered group needs one. `punches` may include the neighbouring days' (windows pick
    this day's) in any order. `now` (UTC) marks a day still in progress; None: the day is over.
    `next_day_start` (`timeline.window_start` of the next day's shift, when it has one) ends
    this day's windows where the next day's begin; without it they span 24 hours at most.
    """
    counting = sorted(
        (
            p
            for p in punches
            if not (rule.field_punch is FieldPunchRule.no and p.method is Method.field)
        ),
        key=lambda p: (p.at, p.id),
    )
    reqs = sorted(requests, key=lambda r: (r.start, r.end, r.id))
    if day.kind is not DayKind.workday:
        return _off_day(rule, shift, day, counting, reqs, tz, now, next_day_start)
    if rule.schedule is Schedule.free:
        return _free_day(rule, day, counting, reqs, tz, now)
    if shift is None:
        raise ValueError(f"{day.date}: a workday of a {rule.schedule} group needs a shift")
    return _shift_day(rule, shift, day, counting, reqs, tz, now, next_day_start)


def _iv(r: Request) -> Iv:
    return (r.start, r.end)


def _deciding(p: Punch) -> DecidingPunch:
    return DecidingPunch(id=p.id, at=p.at, method=p.method, place=p.place)


def _presence(ins: Sequence[Punch], outs: Sequence[Punch]) -> list[Iv]:
    """First clock-in to last clock-out, when both exist in that order."""
    if not ins or not outs:
        return []
    lo, hi = minute(ins[0].at), minute(outs[-1].at)
    return [(lo, hi)] if lo < hi else []


def _in_window(punches: Sequence[Punch], kind: PunchKind, win: Iv, closed_hi: bool) -> list[Punch]:
    lo, hi = win
    if closed_hi:  # out windows are (lo, hi]: a clock-out right at the start is not one
        return [p for p in punches if p.kind is kind and lo < p.at <= hi]
    return [p for p in punches if p.kind is kind and lo <= p.at < hi]


def _off_edges(ins: Sequence[Punch], outs: Sequence[Punch]) -> tuple[Edge, ...]:
    edges = []
    if ins:
        edges.append(Edge(0, EdgeSide.clock_in, None, EdgeState.ok, _deciding(ins[0])))
    if outs:
        edges.append(Edge(0, EdgeSide.clock_out, None, EdgeState.ok, _deciding(outs[-1])))
    return tuple(edges)


def _request_minutes(
    reqs: Sequence[Request], within: Sequence[Iv], cap: int | None = None
) -> tuple[dict[str, int], int, int]:
    """Leave minutes by type, trip and out minutes inside `within` (capped in total by `cap`)."""
    leave: dict[str, int] = {}
    trip = out = 0
    budget = cap
    for r in reqs:
        if r.kind not in _EXCUSING:
            continue
        m = minutes(intersect([_iv(r)], within))
        if budget is not None:
            m = min(m, budget)
            budget -= m
        if m <= 0:
            continue
        if r.kind is RequestKind.leave:
            leave[r.leave_type] = leave.get(r.leave_type, 0) + m
        elif r.kind is RequestKind.trip:
            trip += m
        else:
            out += m
    return leave, trip, out


def _ordered(statuses: set[Status]) -> tuple[Status, ...]:
    return tuple(s for s in STATUS_ORDER if s in statuses)


def _off_day(
    rule: GroupRule,
    shift: Shift | None,
    day: CalendarDay,
    punches: Sequence[Punch],
    reqs: Sequence[Request],
    tz: ZoneInfo,
    now: datetime | None,
    next_day_start: datetime | None,
) -> DayResult:
    if shift is not None:
        slots = place(shift, day.date, tz, next_day_start)
        window = (slots[0].in_window[0], max(s.out_window[1] for s in slots))
    else:
        window = local_day(day.date, tz)
    ins = _in_window(punches, PunchKind.clock_in, window, closed_hi=False)
    outs = _in_window(punches, PunchKind.clock_out, window, closed_hi=True)
    presence = _presence(ins, outs)
    approved = [_iv(r) for r in reqs if r.kind is RequestKind.overtime]
    overtime = presence if rule.overtime_on_rest_days else intersect(presence, approved)
    holiday = day.kind is DayKind.holiday
    ot_kind = OvertimeKind.holiday if holiday else OvertimeKind.rest_day
    ot = minutes(overtime)
    return DayResult(
        date=day.date,
        kind=day.kind,
        holiday_name=day.name,
        schedule=rule.schedule,
        statuses=(Status.holiday if holiday else Status.rest,),
        complete=now is None or now >= window[1],
        worked_min=minutes(presence),
        overtime_min={ot_kind.value: ot} if ot else {},
        field_day=any(p.method is Method.field for p in (*ins, *outs)),
        edges=_off_edges(ins, outs),
    )


def _free_day(
    rule: GroupRule,
    day: CalendarDay,
    punches: Sequence[Punch],
    reqs: Sequence[Request],
    tz: ZoneInfo,
    now: datetime | None,
) -> DayResult:
    window = local_day(day.date, tz)
    complete = now is None or now >= window[1]
    ins = _in_window(punches, PunchKind.clock_in, window, closed_hi=False)
    outs = _in_window(punches, PunchKind.clock_out, window, closed_hi=True)
    excuse = intersect([_iv(r) for r in reqs if r.kind in _EXCUSING], [window])
    leave, trip, out = _request_minutes(reqs, [window], cap=rule.required_min)
    required = max(0, rule.required_min - sum(leave.values()) - trip - out)
    presence = _presence(ins, outs)
    worked = minutes(subtract(presence, excuse))
    statuses: set[Status] = set()
    short = 0
    if required > 0:
        if not ins and not outs:
            if complete:
                statuses.add(Status.absent)  # in progress with nothing yet: nothing to say
        elif not ins:
            statuses.add(Status.missing_clock_in)
        elif not outs:
            if complete:
                statuses.add(Status.missing_clock_out)
        elif worked < required and complete:
            short = required - worked
            statuses.add(Status.early_leave)  # short of the required minutes
    if leave:
        statuses.add(Status.leave)
    if trip:
        statuses.add(Status.trip)
    exceptions = statuses - {Status.leave, Status.trip}
    if not exceptions and (ins or not (required or leave or trip)):
        statuses.add(Status.normal)
    approved = [_iv(r) for r in reqs if r.kind is RequestKind.overtime]
    ot = minutes(intersect(presence, approved))
    return DayResult(
        date=day.date,
        kind=day.kind,
        holiday_name=day.name,
        schedule=rule.schedule,
        statuses=_ordered(statuses),
        complete=complete,
        scheduled_min=rule.required_min,
        worked_min=worked,
        early_leave_min=short,
        overtime_min={OvertimeKind.workday.value: ot} if ot else {},
        leave_min=leave,
        trip_min=trip,
        out_min=out,
        field_day=any(p.method is Method.field for p in (*ins[:1], *outs[-1:])),
        edges=_off_edges(ins, outs),
    )


def _late_status(shift: Shift, late: int) -> Status:
    if shift.absent_late_min is not None and late > shift.absent_late_min:
        return Status.absent
    if shift.serious_late_min is not None and late > shift.serious_late_min:
        return Status.serious_late
    return Status.late


def _shift_day(
    rule: GroupRule,
    shift: Shift,
    day: CalendarDay,
    punches: Sequence[Punch],
    reqs: Sequence[Request],
    tz: ZoneInfo,
    now: datetime | None,
    next_day_start: datetime | None,
) -> DayResult:
    slots = place(shift, day.date, tz, next_day_start)
    reqs = [_whole_shifts(r, slots) for r in reqs]
    excusing = [r for r in reqs if r.kind in _EXCUSING]
    excuse = merge(_iv(r) for r in excusing)
    last = len(slots) - 1
    flex_used = timedelta(0)
    edges: list[Edge] = []
    work: list[Iv] = []
    sched: list[Iv] = []
    first_in: Punch | None = None
    last_out: Punch | None = None

    def open_at(hi: datetime) -> bool:
        return now is not None and now < hi

    def request_at(t: datetime) -> str | None:
        return next((r.id for r in excusing if r.start <= t < r.end), None)

    for i, s in enumerate(slots):
        period = subtract([(s.start, s.end)], s.breaks)
        sched.extend(period)
        ins = _in_window(punches, PunchKind.clock_in, s.in_window, closed_hi=False)
        outs = _in_window(punches, PunchKind.clock_out, s.out_window, closed_hi=True)
        pin, pout = (ins[0] if ins else None), (outs[-1] if outs else None)
        first_in = first_in or pin
        last_out = pout or last_out
        due_work = subtract(period, excuse)  # the period's time still due at work
        if not due_work:  # the whole period is on leave, trip or out
            rid = request_at(s.start) or request_at(period[0][0])
            for side, p in ((EdgeSide.clock_in, pin), (EdgeSide.clock_out, pout)):
                due = s.start if side is EdgeSide.clock_in else s.end
                d = None if p is None else _deciding(p)
                edges.append(Edge(i, side, due, EdgeState.excused, d, 0, rid))
            continue
        # In edge: due when work is first due. A request covering the start moves it there (a
        # morning leave until noon with lunch 12:00-13:00: due at 13:00), and then no flex.
        due_in = due_work[0][0]
        moved_in = due_in != s.start
        allowance = timedelta(minutes=shift.flex_min if i == 0 and not moved_in else 0)
        in_rid = request_at(s.start) if moved_in else None
        if pin is None:
            state = EdgeState.pending if open_at(s.in_window[1]) else EdgeState.missing
            edges.append(Edge(i, EdgeSide.clock_in, due_in, state, None, 0, in_rid))
        else:
            over = minute(pin.at) - due_in
            if i == 0 and not moved_in:
                flex_used = min(max(over, timedelta(0)), allowance)
            late = int((over - allowance).total_seconds() // 60)
            state = EdgeState.late if late > shift.grace_late_min else EdgeState.ok
            mins = late if state is EdgeState.late else 0
            edges.append(Edge(i, EdgeSide.clock_in, due_in, state, _deciding(pin), mins, in_rid))
        # Out edge: due when work is last due (later by the flex used), likewise.
        end = s.end + (flex_used if i == last else timedelta(0))
        moved_out = due_work[-1][1] != s.end
        due_out = due_work[-1][1] if moved_out else end
        out_rid = request_at(s.end - _SECOND) if moved_out else None
        if pout is None:
            state = EdgeState.pending if open_at(s.out_window[1]) else EdgeState.missing
            edges.append(Edge(i, EdgeSide.clock_out, due_out, state, None, 0, out_rid))
        else:
            early = int((due_out - minute(pout.at)).total_seconds() // 60)
            state = EdgeState.early if early > shift.grace_early_min else EdgeState.ok
            mins = early if state is EdgeState.early else 0
            edges.append(
                Edge(i, EdgeSide.clock_out, due_out, state, _deciding(pout), mins, out_rid)
            )
        if pin is not None and pout is not None:
            span = (max(minute(pin.at), s.start), min(minute(pout.at), end))
            work.extend(subtract(subtract([span], s.breaks), excuse))

    leave, trip, out = _request_minutes(reqs, sched)
    statuses = _shift_statuses(shift, edges)
    if leave:
        statuses.add(Status.leave)
    if trip:
        statuses.add(Status.trip)
    exceptions = statuses - {Status.leave, Status.trip}
    decided = any(e.state is EdgeState.ok for e in edges)
    all_excused = all(e.state is EdgeState.excused for e in edges)
    if not exceptions and (decided or (all_excused and not (leave or trip))):
        statuses.add(Status.normal)
    return DayResult(
        date=day.date,
        kind=day.kind,
        holiday_name=day.name,
        schedule=rule.schedule,
        statuses=_ordered(statuses),
        complete=not any(open_at(hi) for s in slots for hi in (s.in_window[1], s.out_window[1])),
        scheduled_min=minutes(sched),
        worked_min=minutes(work),
        late_min=sum(e.minutes for e in edges if e.state is EdgeState.late),
        early_leave_min=sum(e.minutes for e in edges if e.state is EdgeState.early),
        overtime_min=_workday_overtime(rule, slots, flex_used, first_in, last_out, reqs),
        leave_min=leave,
        trip_min=trip,
        out_min=out,
        field_day=any(e.punch is not None and e.punch.method is Method.field for e in edges),
        edges=tuple(edges),
    )


def _whole_shifts(r: Request, slots: Sequence[Slot]) -> Request:
    """A request by whole days (unit `day`) covers the whole of each period that starts in it:
    a day's leave on the day a night shift starts covers the night, past midnight."""
    if r.unit is not LeaveUnit.day or r.kind not in _EXCUSING:
        return r
    end = max([r.end, *(s.end for s in slots if r.start <= s.start < r.end)])
    return r if end == r.end else replace(r, end=end)


def _shift_statuses(shift: Shift, edges: Sequence[Edge]) -> set[Status]:
    statuses: set[Status] = set()
    judged = [e for e in edges if e.state is not EdgeState.excused]
    if judged and all(e.state is EdgeState.missing for e in judged):
        return {Status.absent}  # no punch at all for a day that was due: absent, not 2× missing
    for e in judged:
        if e.state is EdgeState.late:
            statuses.add(_late_status(shift, e.minutes))
        elif e.state is EdgeState.early:
            statuses.add(Status.early_leave)
        elif e.state is EdgeState.missing:
            in_side = e.side is EdgeSide.clock_in
            statuses.add(Status.missing_clock_in if in_side else Status.missing_clock_out)
    return statuses


def _workday_overtime(
    rule: GroupRule,
    slots: Sequence[Slot],
    flex_used: timedelta,
    first_in: Punch | None,
    last_out: Punch | None,
    reqs: Sequence[Request],
) -> dict[str, int]:
    ot: list[Iv] = []
    end = slots[-1].end + flex_used
    if rule.overtime_after_shift and last_out is not None:
        ot.append((end + timedelta(minutes=rule.overtime_after_min), minute(last_out.at)))
    if first_in is not None and last_out is not None:
        presence = [(minute(first_in.at), minute(last_out.at))]
        outside = subtract(presence, [(slots[0].start, end)])  # before or after the shift
        ot.extend(intersect(outside, [_iv(r) for r in reqs if r.kind is RequestKind.overtime]))
    m = minutes(ot)
    return {OvertimeKind.workday.value: m} if m else {}
