"""Properties of the attendance day over any punches, and its JSON and pydantic forms."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from fieldpunch.attendance.values import (
    DayKind,
    DayResult,
    FieldPunchRule,
    GroupRule,
    LeaveUnit,
    Method,
    Period,
    Punch,
    PunchKind,
    Request,
    RequestKind,
    Schedule,
    Shift,
    Status,
)
from tests.unit.attendance.kit import FLEX, NIGHT, OFFICE, TWO, at, i, o, req, run


def test_result_round_trips_through_json() -> None:
    leave = req(RequestKind.leave, "09:00", "13:00", "annual", LeaveUnit.half_day)
    result = run([i("12:58", Method.field), o("20:00")], requests=(leave,))
    assert DayResult.from_json(json.loads(json.dumps(result.to_json()))) == result


def test_workday_needs_a_shift() -> None:
    with pytest.raises(ValueError, match="needs a shift"):
        run([], shift=None)


# Properties: over any punches around the day, with each of the shifts above.
SHIFTS = [OFFICE, TWO, NIGHT, FLEX]
punch_lists = st.lists(
    st.tuples(
        st.integers(min_value=-12 * 60, max_value=36 * 60),
        st.sampled_from(list(PunchKind)),
        st.sampled_from(list(Method)),
    ),
    max_size=8,
).map(
    lambda raw: [
        Punch(f"p{n}", at("00:00") + timedelta(minutes=m), kind, method)
        for n, (m, kind, method) in enumerate(raw)
    ]
)


@settings(max_examples=150, deadline=None)
@given(punch_lists, st.sampled_from(SHIFTS), st.randoms(use_true_random=False))
def test_worked_never_exceeds_first_to_last_punch(
    punches: list[Punch], sh: Any, rnd: random.Random
) -> None:
    result = run(punches, shift=sh)
    span = (max(p.at for p in punches) - min(p.at for p in punches)) if punches else timedelta()
    assert result.worked_min <= span.total_seconds() // 60
    assert result.worked_min <= result.scheduled_min
    assert result.statuses, "a finished workday always says something"
    shuffled = list(punches)
    rnd.shuffle(shuffled)
    assert run(shuffled, shift=sh) == result


@settings(max_examples=80, deadline=None)
@given(punch_lists, st.sampled_from([DayKind.rest, DayKind.holiday]), st.booleans())
def test_off_days_say_only_rest_or_holiday(
    punches: list[Punch], kind: DayKind, by_rule: bool
) -> None:
    rule = GroupRule(overtime_on_rest_days=by_rule)
    result = run(punches, shift=None, kind=kind, rule=rule)
    assert result.statuses == ((Status.rest,) if kind is DayKind.rest else (Status.holiday,))
    assert sum(result.overtime_min.values()) <= result.worked_min
    if not by_rule:
        assert result.overtime_min == {}


def test_result_is_a_plain_dataclass_pydantic_can_serialise() -> None:
    """The storage and the API may hand DayResult to pydantic: its field types must resolve."""
    adapter = TypeAdapter(DayResult)
    result = run([i("09:06", Method.wifi), o("20:00")], rule=GroupRule(overtime_after_shift=True))
    assert adapter.validate_json(adapter.dump_json(result)) == result


def test_naive_times_are_refused() -> None:
    naive = datetime(2026, 12, 1, 9, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        Punch("p", naive, PunchKind.clock_in)
    with pytest.raises(ValueError, match="timezone-aware"):
        Request("r", RequestKind.leave, naive, naive)


@settings(max_examples=80, deadline=None)
@given(punch_lists, st.sampled_from(SHIFTS))
def test_a_finished_day_is_the_same_whenever_it_is_computed(punches: list[Punch], sh: Any) -> None:
    """`now` only matters while a window is open: two days later the day is the final one."""
    later = run(punches, shift=sh, now=at("+3 00:00"))
    assert later.complete
    assert later == run(punches, shift=sh)


def test_plain_strings_from_rows_become_enums() -> None:
    """The storage hands over its rows' strings; the values take them as the enums."""
    p = Punch("p", at("09:00"), "clock_in", "field")  # type: ignore[arg-type]
    assert (p.kind, p.method) == (PunchKind.clock_in, Method.field)
    rule = GroupRule(schedule="free", field_punch="no")  # type: ignore[arg-type]
    assert (rule.schedule, rule.field_punch) == (Schedule.free, FieldPunchRule.no)
    with pytest.raises(ValueError, match="visit_in"):
        Punch("p", at("09:00"), "visit_in")  # type: ignore[arg-type]


def test_a_shift_from_its_stored_row() -> None:
    """Periods as stored ("HH:MM" dicts in a JSON list) make the same, hashable shift."""
    row = {
        "periods": [{"start": "09:00", "end": "18:00"}],
        "breaks": [{"start": "12:00", "end": "13:00"}],
    }
    sh = Shift(
        periods=[Period(**p) for p in row["periods"]],  # type: ignore[arg-type]
        breaks=[Period(**p) for p in row["breaks"]],  # type: ignore[arg-type]
        grace_late_min=5, grace_early_min=5, serious_late_min=30, absent_late_min=120,
    )  # fmt: skip
    assert sh == OFFICE and hash(sh) == hash(OFFICE)
