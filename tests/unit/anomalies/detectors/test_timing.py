"""Time rules: the phone's clock against trusted time, late syncs, and the shift."""

from __future__ import annotations

import pytest

from fieldpunch.anomalies.facts import PunchFacts
from tests.unit.anomalies.tracks import SHIFT, XUJIAHUI, flagged, local, punch, the

# clock_skew --------------------------------------------------------------------------------------

SKEW = [
    pytest.param([punch("a", captured_at=local("08:58"))], {}, id="2 min network delay is no skew"),
    pytest.param(
        [punch("a", captured_at=local("09:12"))], {"a": "warning"}, id="phone 12 min ahead"
    ),
    pytest.param(
        [punch("a", time_source="proof", offline=True, captured_at=local("08:00"))],
        {"a": "warning"},
        id="offline with time proof, phone 1 h behind",
    ),
    pytest.param(
        [punch("a", time_source="device", offline=True, received_at=local("09:30"))],
        {},
        id="device time: nothing to compare",
    ),
    pytest.param(
        [punch("a", source="correction", captured_at=local("15:00"))], {}, id="correction"
    ),
]


@pytest.mark.parametrize(("track", "expected"), SKEW)
def test_clock_skew(track: list[PunchFacts], expected: dict[str, str]) -> None:
    assert flagged(track, "clock_skew") == expected


def test_clock_skew_sign_means_phone_ahead() -> None:
    ahead = the([punch("a", captured_at=local("09:12"))], "clock_skew", "a")
    behind = the([punch("a", captured_at=local("08:00"))], "clock_skew", "a")
    assert ahead.evidence["skew_s"] == 720
    assert behind.evidence["skew_s"] == -3600
    assert "ahead" in ahead.detail and "behind" in behind.detail


# stale_offline -------------------------------------------------------------------------------

STALE = [
    pytest.param(
        [
            punch(
                "a",
                "visit_in",
                "10:00",
                time_source="proof",
                offline=True,
                received_at=local("13:00"),
            )
        ],
        {},
        id="synced 3 h later leaving the mall",
    ),
    pytest.param(
        [
            punch(
                "a",
                "visit_in",
                "10:00",
                time_source="proof",
                offline=True,
                received_at=local("16:00", 1),
            )
        ],
        {"a": "warning"},
        id="synced 30 h later",
    ),
    pytest.param(
        [punch("a", source="correction", received_at=local("09:00", 5))], {}, id="correction"
    ),
]


@pytest.mark.parametrize(("track", "expected"), STALE)
def test_stale_offline(track: list[PunchFacts], expected: dict[str, str]) -> None:
    assert flagged(track, "stale_offline") == expected


def test_stale_offline_evidence_in_hours() -> None:
    p = punch("a", time_source="proof", offline=True, received_at=local("15:00", 1))
    assert the([p], "stale_offline", "a").evidence["delay_h"] == 30


# off_schedule ------------------------------------------------------------------------------------


SCHEDULE = [
    pytest.param([punch("a", at="08:50", shift=SHIFT)], {}, id="early arrival"),
    pytest.param([punch("a", at="09:09", shift=SHIFT)], {}, id="late within grace"),
    pytest.param([punch("a", at="09:25", shift=SHIFT)], {"a": "info"}, id="25 min late"),
    pytest.param([punch("a", "clock_out", "17:56", shift=SHIFT)], {}, id="leaves within grace"),
    pytest.param([punch("a", "clock_out", "17:30", shift=SHIFT)], {"a": "info"}, id="leaves early"),
    pytest.param([punch("a", "clock_out", "21:00", shift=SHIFT)], {}, id="3 h overtime"),
    pytest.param(
        [punch("a", "visit_in", "23:30", XUJIAHUI, shift=SHIFT)], {"a": "info"}, id="visit at 23:30"
    ),
    pytest.param([punch("a", at="04:30", shift=SHIFT)], {"a": "info"}, id="clock-in at 04:30"),
    pytest.param([punch("a", at="11:00")], {}, id="no shifts yet"),
    pytest.param(
        [punch("fix", at="09:40", shift=SHIFT, source="correction")],
        {"fix": "info"},
        id="corrections are still judged against the shift",
    ),
]


@pytest.mark.parametrize(("track", "expected"), SCHEDULE)
def test_off_schedule(track: list[PunchFacts], expected: dict[str, str]) -> None:
    assert flagged(track, "off_schedule") == expected


@pytest.mark.parametrize(
    ("p", "reason", "seconds", "words"),
    [
        (
            punch("a", at="09:25", shift=SHIFT),
            "late",
            15 * 60,
            "15 min late (10 min grace); the shift is 09:00–18:00",
        ),
        (punch("a", "clock_out", "17:30", shift=SHIFT), "early_leave", 25 * 60, "25 min early"),
        (punch("a", at="04:30", shift=SHIFT), "outside_shift", 4.5 * 3600, "before the shift"),
    ],
)
def test_off_schedule_explains_in_local_time(
    p: PunchFacts, reason: str, seconds: float, words: str
) -> None:
    f = the([p], "off_schedule", "a")
    assert (f.evidence["reason"], f.evidence["seconds"]) == (reason, seconds)
    assert words in f.detail
