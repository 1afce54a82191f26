"""Order rules: double taps (duplicate) and clock ins and outs that do not pair (sequence)."""

from __future__ import annotations

import pytest

from fieldpunch.anomalies.facts import PunchFacts
from tests.unit.anomalies.tracks import (
    JINGAN_TEMPLE,
    XUJIAHUI,
    findings,
    flagged,
    punch,
)

# duplicate ---------------------------------------------------------------------------------------

DUPLICATE = [
    pytest.param([punch("a", at="09:00"), punch("b", at="09:03")], {"b": "info"}, id="double tap"),
    pytest.param([punch("a", at="09:00"), punch("b", at="09:00")], {"b": "info"}, id="same second"),
    pytest.param([punch("a", at="09:00"), punch("b", at="09:05")], {"b": "info"}, id="at 5 min"),
    pytest.param([punch("a", at="09:00"), punch("b", at="09:06")], {}, id="after the window"),
    pytest.param(
        [punch("a", at="09:00"), punch("b", "clock_out", at="09:01")], {}, id="different kinds"
    ),
    pytest.param(
        [
            punch("a", "visit_in", "14:00", JINGAN_TEMPLE, customer_id="c-jingan-1"),
            punch("b", "visit_in", "14:03", JINGAN_TEMPLE, customer_id="c-jingan-2"),
        ],
        {},
        id="two shops in one mall",
    ),
    pytest.param(
        [
            punch("a", "visit_in", "14:00", XUJIAHUI),
            punch("b", "visit_in", "14:02", XUJIAHUI),
        ],
        {"b": "info"},
        id="same customer twice",
    ),
    pytest.param(
        [punch("a", at="09:00"), punch("fix", at="09:02", source="correction")],
        {"fix": "info"},
        id="correction duplicating a real punch",
    ),
]


@pytest.mark.parametrize(("track", "expected"), DUPLICATE)
def test_duplicate(track: list[PunchFacts], expected: dict[str, str]) -> None:
    assert flagged(track, "duplicate") == expected


# sequence ------------------------------------------------------------------------------------

SEQUENCE = [
    pytest.param(
        [punch("in", at="09:00"), punch("out", "clock_out", "18:00")], {}, id="a normal day"
    ),
    pytest.param(
        [punch("out", "clock_out", "18:00")], {"out": "warning"}, id="clock-out, no clock-in"
    ),
    pytest.param(
        [punch("in", at="09:00", day=-1), punch("out", "clock_out", "18:00")],
        {"out": "warning"},
        id="yesterday's clock-in does not cover today",
    ),
    pytest.param(
        [
            punch("in", at="09:00", day=-1),
            punch("in2", at="09:00"),
            punch("out", "clock_out", "18:00"),
        ],
        {},
        id="a forgotten clock-out does not wreck the next day",
    ),
    pytest.param(
        [punch("in", at="22:00"), punch("out", "clock_out", "06:00", day=1)],
        {},
        id="night shift across midnight",
    ),
    pytest.param(
        [punch("in", at="09:00"), punch("in2", at="13:30")],
        {"in2": "warning"},
        id="clocks in again without clocking out",
    ),
    pytest.param(
        [punch("in", at="09:00"), punch("in2", at="09:02")],
        {},
        id="double tap is duplicate's, not sequence's",
    ),
    pytest.param(
        [punch("fix", at="09:00", source="correction"), punch("out", "clock_out", "18:00")],
        {},
        id="an approved correction supplies the clock-in",
    ),
]


@pytest.mark.parametrize(("track", "expected"), SEQUENCE)
def test_sequence(track: list[PunchFacts], expected: dict[str, str]) -> None:
    assert flagged(track, "sequence") == expected
    assert flagged(track[::-1], "sequence") == expected  # arrival order never matters


def test_a_second_clock_out_says_so_rather_than_blaming_a_missing_clock_in() -> None:
    # An approved correction at 18:05 next to the real 18:27 clock-out (found by QA): the
    # person did clock in; the reviewer must read "clocked out again", with the earlier punch.
    track = [
        punch("in", at="08:48"),
        punch("fix", "clock_out", "18:05", source="correction"),
        punch("out", "clock_out", "18:27"),
    ]
    for order in (track, track[::-1]):
        (found,) = [f for f in findings(order)["out"] if f.rule == "sequence"]
        assert found.evidence["reason"] == "clock_out_twice"
        assert found.evidence["previous_punch_id"] == "fix"
        assert "18:05" in found.detail and "without clocking in earlier" not in found.detail
