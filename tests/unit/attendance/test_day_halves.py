"""Half-day leave: by the shift's halves and by local noon, as the requests API stores it."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest

from fieldpunch.attendance.timeline import halves
from fieldpunch.attendance.values import (
    LeaveUnit,
    Punch,
    Request,
    RequestKind,
    Status,
)
from tests.unit.attendance.kit import (
    FLEX,
    OFFICE,
    TWO,
    D,
    L,
    N,
    i,
    o,
    req,
    run,
    shift,
)

HALVES = [
    pytest.param(OFFICE, 0, [i("12:58"), o("18:00")], {"annual": 180}, 300, id="morning, break"),
    pytest.param(OFFICE, 1, [i("08:58"), o("12:01")], {"annual": 300}, 180, id="afternoon, break"),
    pytest.param(TWO, 0, [i("13:29"), o("18:00")], {"annual": 180}, 270, id="morning, 2 periods"),
    pytest.param(TWO, 1, [i("08:58"), o("12:00")], {"annual": 270}, 180, id="afternoon, 2 periods"),
    pytest.param(
        shift("09:00-17:00"), 0, [i("13:00"), o("17:00")], {"annual": 240}, 240, id="morning, mid"
    ),
]


@pytest.mark.parametrize(("sh", "half", "punches", "leave", "worked"), HALVES)
def test_half_day_leave_by_halves(
    sh: Any, half: int, punches: list[Punch], leave: dict[str, int], worked: int
) -> None:
    start, end = halves(sh, D, ZoneInfo("Asia/Shanghai"))[half]
    request = Request("r", RequestKind.leave, start, end, "annual", LeaveUnit.half_day)
    result = run(punches, shift=sh, requests=(request,))
    assert result.statuses == (Status.leave, N)
    assert (result.leave_min, result.worked_min) == (leave, worked)


NOON = [
    # Half days as the requests API stores them: local midnight to noon, noon to midnight.
    pytest.param(
        OFFICE,
        "00:00",
        "12:00",
        [i("12:58"), o("18:00")],
        (Status.leave, N),
        0,
        id="morning until noon: due after lunch",
    ),
    pytest.param(
        OFFICE,
        "00:00",
        "12:00",
        [i("13:06"), o("18:00")],
        (L, Status.leave),
        6,
        id="morning until noon: late after lunch and grace",
    ),
    pytest.param(
        OFFICE,
        "12:00",
        "+1 00:00",
        [i("08:58"), o("12:00")],
        (Status.leave, N),
        0,
        id="afternoon from noon: leave at noon",
    ),
    pytest.param(
        TWO,
        "00:00",
        "12:00",
        [i("13:29"), o("18:00")],
        (Status.leave, N),
        0,
        id="two periods, morning until noon",
    ),
    pytest.param(
        FLEX,
        "00:00",
        "12:00",
        [i("13:20"), o("18:00")],
        (L, Status.leave),
        20,
        id="no flex after a morning leave",
    ),
]


@pytest.mark.parametrize(("sh", "start", "end", "punches", "statuses", "late"), NOON)
def test_half_day_at_noon(
    sh: Any, start: str, end: str, punches: list[Punch], statuses: tuple[Status, ...], late: int
) -> None:
    leave = req(RequestKind.leave, start, end, "annual", LeaveUnit.half_day)
    result = run(punches, shift=sh, requests=(leave,))
    assert (result.statuses, result.late_min) == (statuses, late)
    moved = [e for e in result.edges if e.request_id == leave.id]
    assert moved, "the edge the leave moved or excused names it"
