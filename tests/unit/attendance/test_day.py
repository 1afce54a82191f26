"""The attendance day, table-driven: punches and requests in, statuses and minutes out."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from fieldpunch.attendance.timeline import window_start
from fieldpunch.attendance.values import (
    DayKind,
    EdgeState,
    FieldPunchRule,
    GroupRule,
    LeaveUnit,
    Method,
    Punch,
    RequestKind,
    Schedule,
    Status,
)
from tests.unit.attendance.kit import (
    FLEX,
    MI,
    MO,
    NIGHT,
    OFFICE,
    SL,
    TWO,
    A,
    D,
    E,
    L,
    N,
    at,
    i,
    o,
    req,
    run,
)

FREE = GroupRule(schedule=Schedule.free, required_min=480)
SAT = date(2026, 12, 5)

CASES = [
    # (punches, run() keywords, statuses, fields of the result that must match)
    pytest.param(
        [i("08:55"), o("18:00")],
        {},
        (N,),
        {"late_min": 0, "worked_min": 480, "scheduled_min": 480},
        id="on time",
    ),
    pytest.param([i("09:05"), o("18:00")], {}, (N,), {"late_min": 0}, id="late within the grace"),
    pytest.param(
        [i("09:06"), o("18:00")],
        {},
        (L,),
        {"late_min": 6, "worked_min": 474},
        id="one minute late after the grace: late from the start",
    ),
    pytest.param(
        [i("09:05:59"), o("18:00")],
        {},
        (N,),
        {"late_min": 0},
        id="seconds are dropped",
    ),
    pytest.param([i("09:31"), o("18:00")], {}, (SL,), {"late_min": 31}, id="serious late"),
    pytest.param(
        [i("09:30"), o("18:00")], {}, (L,), {"late_min": 30}, id="serious late is more than"
    ),
    pytest.param(
        [i("11:01"), o("18:00")],
        {},
        (A,),
        {"late_min": 121},
        id="absent when later than",
    ),
    pytest.param([i("08:59"), o("17:50")], {}, (E,), {"early_leave_min": 10}, id="early leave"),
    pytest.param(
        [i("08:59"), o("17:55")], {}, (N,), {"early_leave_min": 0}, id="early within grace"
    ),
    pytest.param(
        [i("09:10"), o("17:40")],
        {},
        (L, E),
        {"late_min": 10, "early_leave_min": 20},
        id="late and early leave",
    ),
    pytest.param(
        [i("08:59"), i("09:20"), o("17:00"), o("18:01")],
        {},
        (N,),
        {"worked_min": 480},
        id="earliest clock-in and latest clock-out decide",
    ),
    pytest.param(
        [i("08:58"), o("12:01"), i("13:25"), o("18:02")],
        {"shift": TWO},
        (N,),
        {"worked_min": 450, "scheduled_min": 450},
        id="two periods, the break not counted",
    ),
    pytest.param(
        [i("08:58"), o("12:01"), i("13:40"), o("18:02")],
        {"shift": TWO},
        (L,),
        {"late_min": 10, "worked_min": 440},
        id="two periods, late after the break",
    ),
    pytest.param(
        [i("08:58"), i("13:25"), o("18:02")],
        {"shift": TWO},
        (MO,),
        {"worked_min": 270},
        id="two periods, the lunch clock-out missing",
    ),
    pytest.param(
        [o("-1 06:02"), i("21:55"), o("+1 06:05")],
        {"shift": NIGHT},
        (N,),
        {"worked_min": 480, "scheduled_min": 480},
        id="night shift belongs to the day it starts; last night's clock-out is not tonight's",
    ),
    pytest.param(
        [i("22:20"), o("+1 06:00")],
        {"shift": NIGHT},
        (L,),
        {"late_min": 20},
        id="night shift late",
    ),
    pytest.param(
        [i("08:58"), i("+1 08:59"), o("+1 18:00")],
        {},
        (MO,),
        {"worked_min": 0},
        id="forgotten clock-out stays missing; the next day's punches are not taken",
    ),
    pytest.param([o("18:00")], {}, (MI,), {"worked_min": 0}, id="missing clock-in"),
    pytest.param([], {}, (A,), {"worked_min": 0}, id="no punch at all: absent"),
    pytest.param(
        [i("09:20"), o("18:20")],
        {"shift": FLEX},
        (N,),
        {"worked_min": 480, "late_min": 0},
        id="flexible start: 20 late, 20 later",
    ),
    pytest.param(
        [i("09:20"), o("18:00")],
        {"shift": FLEX},
        (E,),
        {"early_leave_min": 20},
        id="flexible start: 20 late, leaving on time is early",
    ),
    pytest.param(
        [i("09:40"), o("18:30")],
        {"shift": FLEX},
        (L,),
        {"late_min": 10, "worked_min": 470},
        id="flexible start: later than the flex is late",
    ),
    pytest.param(
        [i("08:40"), o("18:00")],
        {"shift": FLEX},
        (N,),
        {"worked_min": 480},
        id="flexible start: early comers leave at the end",
    ),
    pytest.param(
        [i("08:55"), o("18:05")],
        {"kind": DayKind.holiday, "shift": None},
        (Status.holiday,),
        {"overtime_min": {}, "worked_min": 550},
        id="holiday punches without approval: no overtime",
    ),
    pytest.param(
        [i("08:55"), o("18:05")],
        {
            "kind": DayKind.holiday,
            "shift": None,
            "requests": (req(RequestKind.overtime, "09:00", "17:00"),),
        },
        (Status.holiday,),
        {"overtime_min": {"holiday": 480}},
        id="holiday punches with approved overtime: holiday rate",
    ),
    pytest.param(
        [i("12:58"), o("18:00")],
        {"requests": (req(RequestKind.leave, "09:00", "13:00", "annual", LeaveUnit.half_day),)},
        (Status.leave, N),
        {"leave_min": {"annual": 180}, "worked_min": 300, "late_min": 0},
        id="half-day leave in the morning, afternoon punched",
    ),
    pytest.param(
        [i("13:10"), o("18:00")],
        {"requests": (req(RequestKind.leave, "09:00", "13:00", "annual", LeaveUnit.half_day),)},
        (L, Status.leave),
        {"late_min": 10},
        id="half-day leave: late counts from its end",
    ),
    pytest.param(
        [i("08:59"), o("12:01")],
        {
            "shift": TWO,
            "requests": (req(RequestKind.leave, "13:30", "18:00", "sick", LeaveUnit.half_day),),
        },
        (Status.leave, N),
        {"leave_min": {"sick": 270}, "worked_min": 180},
        id="two periods, afternoon period on leave",
    ),
    pytest.param(
        [i("08:59"), o("16:01")],
        {"requests": (req(RequestKind.leave, "16:00", "18:00", "personal", LeaveUnit.hour),)},
        (Status.leave, N),
        {"leave_min": {"personal": 120}, "worked_min": 360},
        id="hour leave at the end of the day",
    ),
    pytest.param(
        [i("08:59"), o("15:00")],
        {"requests": (req(RequestKind.leave, "16:00", "18:00", "personal", LeaveUnit.hour),)},
        (E, Status.leave),
        {"early_leave_min": 60},
        id="hour leave: leaving before it is early",
    ),
    pytest.param(
        [],
        {"requests": (req(RequestKind.trip, "00:00", "+1 00:00"),)},
        (Status.trip,),
        {"trip_min": 480, "worked_min": 0},
        id="trip covering the day",
    ),
    pytest.param(
        [],
        {"requests": (req(RequestKind.out, "08:00", "19:00"),)},
        (N,),
        {"out_min": 480},
        id="out (外出) covering the day",
    ),
    pytest.param(
        [i("10:00", d=SAT), o("15:00", d=SAT)],
        {
            "kind": DayKind.rest,
            "shift": None,
            "d": SAT,
            "requests": (req(RequestKind.overtime, "10:00", "14:00", d=SAT),),
        },
        (Status.rest,),
        {"overtime_min": {"rest_day": 240}, "worked_min": 300},
        id="approved overtime on a rest day",
    ),
    pytest.param(
        [i("10:00", d=SAT), o("15:00", d=SAT)],
        {"kind": DayKind.rest, "shift": None, "d": SAT},
        (Status.rest,),
        {"overtime_min": {}},
        id="rest day punches without approval",
    ),
    pytest.param(
        [i("10:00", d=SAT), o("15:00", d=SAT)],
        {
            "kind": DayKind.rest,
            "shift": None,
            "d": SAT,
            "rule": GroupRule(overtime_on_rest_days=True),
        },
        (Status.rest,),
        {"overtime_min": {"rest_day": 300}},
        id="rest day punches count by rule",
    ),
    pytest.param(
        [i("08:59"), o("20:00")],
        {"rule": GroupRule(overtime_after_shift=True)},
        (N,),
        {"overtime_min": {"workday": 90}},
        id="after the shift counts by rule from 30 min on",
    ),
    pytest.param(
        [i("08:59"), o("18:20")],
        {"rule": GroupRule(overtime_after_shift=True)},
        (N,),
        {"overtime_min": {}},
        id="after the shift by rule: not before its threshold",
    ),
    pytest.param(
        [i("08:59"), o("20:00")],
        {},
        (N,),
        {"overtime_min": {}},
        id="after the shift without rule or approval: no overtime",
    ),
    pytest.param(
        [i("08:59"), o("20:00")],
        {"requests": (req(RequestKind.overtime, "18:00", "19:00"),)},
        (N,),
        {"overtime_min": {"workday": 60}},
        id="approved workday overtime",
    ),
    pytest.param(
        [i("10:00"), o("18:30")],
        {"rule": FREE, "shift": None},
        (N,),
        {"worked_min": 510, "scheduled_min": 480},
        id="free schedule meets the required minutes",
    ),
    pytest.param(
        [i("10:00"), o("17:00")],
        {"rule": FREE, "shift": None},
        (E,),
        {"worked_min": 420, "early_leave_min": 60},
        id="free schedule short of the required",
    ),
    pytest.param([], {"rule": FREE, "shift": None}, (A,), {}, id="free schedule, no punch"),
    pytest.param(
        [i("13:00"), o("18:00")],
        {
            "rule": FREE,
            "shift": None,
            "requests": (req(RequestKind.leave, "08:00", "12:00", "annual", LeaveUnit.half_day),),
        },
        (Status.leave, N),
        {"leave_min": {"annual": 240}},
        id="free schedule with half-day leave",
    ),
    pytest.param(
        [i("08:58", Method.field), o("18:00")],
        {},
        (N,),
        {"field_day": True},
        id="field punch counts",
    ),
    pytest.param(
        [i("08:58", Method.field), o("18:00")],
        {"rule": GroupRule(field_punch=FieldPunchRule.no)},
        (MI,),
        {"field_day": False},
        id="field punch does not count when the rule says no",
    ),
    pytest.param(
        [i("08:58", Method.correction), o("18:00")],
        {},
        (N,),
        {},
        id="a correction (补卡) decides like any punch",
    ),
]


@pytest.mark.parametrize(("punches", "kw", "statuses", "fields"), CASES)
def test_day(
    punches: list[Punch], kw: dict[str, Any], statuses: tuple[Status, ...], fields: dict[str, Any]
) -> None:
    result = run(punches, **kw)
    assert result.statuses == statuses
    got = result.to_json()
    assert {k: got[k] for k in fields} == fields


def test_edges_name_the_deciding_punch() -> None:
    punches = [i("08:50"), i("08:55"), o("17:59"), o("18:03")]
    result = run(punches)
    (edge_in, edge_out) = result.edges
    assert edge_in.punch is not None and edge_in.punch.id == punches[0].id
    assert edge_out.punch is not None and edge_out.punch.id == punches[3].id
    assert edge_in.expected == at("09:00") and edge_out.expected == at("18:00")
    assert edge_in.punch.place == "HQ" and edge_in.punch.method is Method.gps


def test_forgotten_clock_out_leaves_the_next_day_whole() -> None:
    punches = [i("08:58"), i("+1 08:59"), o("+1 18:00")]
    nxt = D + timedelta(days=1)
    today = run(punches, next_day_start=window_start(OFFICE, nxt, ZoneInfo("Asia/Shanghai")))
    tomorrow = run(punches, d=nxt)
    assert today.statuses == (MO,)
    assert today.edges[1].state is EdgeState.missing
    assert tomorrow.statuses == (N,)
    assert tomorrow.edges[0].punch is not None and tomorrow.edges[0].punch.id == punches[1].id


def test_two_period_morning_leave_excuses_both_edges() -> None:
    leave = req(RequestKind.leave, "09:00", "12:00", "annual", LeaveUnit.half_day)
    result = run([i("13:20"), o("18:00")], shift=TWO, requests=(leave,))
    assert result.statuses == (Status.leave, N)
    assert [e.state for e in result.edges[:2]] == [EdgeState.excused, EdgeState.excused]
    assert result.edges[0].request_id == leave.id
