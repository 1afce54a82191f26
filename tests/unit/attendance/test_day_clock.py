"""The attendance day against the clock: daylight saving, a day in progress, the next day."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from fieldpunch.attendance.timeline import window_start
from fieldpunch.attendance.values import (
    EdgeState,
    LeaveUnit,
    Punch,
    Request,
    RequestKind,
    Status,
)
from tests.unit.attendance.kit import MO, NIGHT, OFFICE, A, D, E, L, N, at, i, o, run, shift

# Daylight saving: the shift stays at its local hours; minutes are real elapsed minutes.
NY, BERLIN = ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")
NINE = shift("09:00-18:00")
DST = [
    pytest.param(NY, date(2026, 3, 8), NINE, "09:00", "18:00", 540, id="New York spring forward"),
    pytest.param(NY, date(2026, 11, 1), NINE, "09:00", "18:00", 540, id="New York fall back"),
    pytest.param(
        BERLIN,
        date(2026, 3, 28),
        NIGHT,
        "22:00",
        "+1 06:00",
        420,
        id="Berlin night shift across spring forward: 7 h",
    ),
    pytest.param(
        BERLIN,
        date(2026, 10, 24),
        NIGHT,
        "22:00",
        "+1 06:00",
        540,
        id="Berlin night shift across fall back: 9 h",
    ),
]


@pytest.mark.parametrize(("tz", "d", "sh", "start", "end", "minutes"), DST)
def test_dst(tz: ZoneInfo, d: date, sh: Any, start: str, end: str, minutes: int) -> None:
    result = run([i(start, d=d, tz=tz), o(end, d=d, tz=tz)], shift=sh, d=d, tz=tz)
    assert result.statuses == (N,)
    assert result.scheduled_min == result.worked_min == minutes
    assert result.edges[0].expected == at(start, d, tz)
    assert result.edges[1].expected == at(end, d, tz)


def test_dst_late_is_judged_on_the_local_clock() -> None:
    d = date(2026, 3, 8)
    result = run([i("09:06", d=d, tz=NY), o("18:00", d=d, tz=NY)], shift=OFFICE, d=d, tz=NY)
    assert (result.statuses, result.late_min) == ((L,), 6)


NOW = [
    pytest.param([], "08:00", (), False, id="before the day: nothing to say, not absent"),
    pytest.param([i("08:58")], "10:00", (N,), False, id="clocked in, the clock-out is pending"),
    pytest.param([i("09:10")], "10:00", (L,), False, id="late is known as soon as punched"),
    pytest.param([], "10:00", (), False, id="no clock-in yet while its window is open"),
    pytest.param([i("08:58")], "+1 10:00", (MO,), True, id="after the windows close: missing"),
    pytest.param([], "+1 10:00", (A,), True, id="after the windows close: absent"),
]


@pytest.mark.parametrize(("punches", "now", "statuses", "complete"), NOW)
def test_day_in_progress(
    punches: list[Punch], now: str, statuses: tuple[Status, ...], complete: bool
) -> None:
    result = run(punches, now=at(now))
    assert (result.statuses, result.complete) == (statuses, complete)
    if not complete:
        assert EdgeState.missing not in {e.state for e in result.edges}


def test_next_day_start_keeps_an_early_shift_s_clock_out_off_the_night() -> None:
    """Night shift, then an office day: the next day's early clock-out is not tonight's."""
    nxt = D + timedelta(days=1)
    punches = [i("21:58"), o("+1 06:01"), i("+1 08:59"), o("+1 11:00")]
    bounded = run(
        punches, shift=NIGHT, next_day_start=window_start(OFFICE, nxt, ZoneInfo("Asia/Shanghai"))
    )
    assert bounded.statuses == (N,)
    assert bounded.edges[1].punch is not None and bounded.edges[1].punch.id == punches[1].id
    assert run(punches, d=nxt).statuses == (E,)


def test_a_day_s_leave_covers_the_night_shift_that_starts_that_day() -> None:
    leave = Request("r", RequestKind.leave, at("00:00"), at("+1 00:00"), "annual", LeaveUnit.day)
    result = run([], shift=NIGHT, requests=(leave,))
    assert result.statuses == (Status.leave,)
    assert result.leave_min == {"annual": 480}
    assert {e.state for e in result.edges} == {EdgeState.excused}
