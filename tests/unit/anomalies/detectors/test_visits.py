"""Visit rules on real-looking tracks: a check-out far from the customer (visit_out_far), a visit
shorter than the org's minimum (visit_too_short), check-ins and check-outs that do not pair
(visit_unpaired)."""

from __future__ import annotations

import pytest

from fieldpunch.anomalies.facts import PunchFacts
from tests.unit.anomalies.tracks import (
    JINGAN_TEMPLE,
    PEOPLES_SQUARE,
    XUJIAHUI,
    a_day,
    flagged,
    punch,
    the,
)

# visit_out_far ---------------------------------------------------------------------------------

FAR = [
    pytest.param(
        [
            punch("vi", "visit_in", "10:00", XUJIAHUI, fence_distance_m=0.0),
            punch("vo", "visit_out", "10:40", PEOPLES_SQUARE, fence_distance_m=2000.0),
        ],
        {"vo": "warning"},
        id="checked out 2 km away",
    ),
    pytest.param(
        [punch("vo", "visit_out", "10:40", XUJIAHUI, acc=30, fence_distance_m=25.0)],
        {},
        id="edge jitter within accuracy",
    ),
    pytest.param(
        [punch("vo", "visit_out", "10:40", XUJIAHUI, acc=800, fence_distance_m=140.0)],
        {},
        id="basement fix, within the 150 m cap",
    ),
    pytest.param(
        [punch("vo", "visit_out", "10:40", XUJIAHUI, acc=800, fence_distance_m=400.0)],
        {"vo": "warning"},
        id="an 800 m fix cannot excuse 400 m",
    ),
    pytest.param(
        [punch("vo", "visit_out", "10:40", XUJIAHUI)], {}, id="nothing to compare (no fence)"
    ),
    pytest.param(
        [punch("vi", "visit_in", "10:00", PEOPLES_SQUARE, fence_distance_m=2000.0)],
        {},
        id="a check-in far away is outside_geofence's",
    ),
    pytest.param(
        [punch("vo", "visit_out", "10:40", source="correction", fence_distance_m=2000.0)],
        {},
        id="a correction has no measured fix",
    ),
]


@pytest.mark.parametrize(("track", "expected"), FAR)
def test_visit_out_far(track: list[PunchFacts], expected: dict[str, str]) -> None:
    assert flagged(track, "visit_out_far") == expected


def test_a_far_check_out_is_one_finding_with_its_evidence() -> None:
    track = [
        punch("vi", "visit_in", "10:00", XUJIAHUI, fence_distance_m=0.0),
        punch("vo", "visit_out", "10:40", PEOPLES_SQUARE, acc=20, fence_distance_m=2000.0),
    ]
    assert flagged(track, "outside_geofence") == {}  # not twice for one fact
    found = the(track, "visit_out_far", "vo")
    assert found.evidence["distance_outside_m"] == 2000.0
    assert found.evidence["tolerance_m"] == 20.0 and found.evidence["visit_in_punch_id"] == "vi"
    assert found.detail.startswith("Checked out 2000 m outside the customer's geofence, 40 min")


# visit_too_short -------------------------------------------------------------------------------

SHORT = [
    pytest.param(
        [punch("vi", "visit_in", "10:00"), punch("vo", "visit_out", "10:03")],
        {"vo": "warning"},
        id="three minutes",
    ),
    pytest.param(
        [punch("vi", "visit_in", "10:00"), punch("vo", "visit_out", "10:05")],
        {},
        id="exactly the minimum",
    ),
    pytest.param(
        [punch("vi", "visit_in", "10:00"), punch("vo", "visit_out", "10:45")], {}, id="a visit"
    ),
    pytest.param(
        [
            punch("vi", "visit_in", "10:00", JINGAN_TEMPLE, customer_id="c-jingan"),
            punch("vo", "visit_out", "10:02", XUJIAHUI),
        ],
        {},
        id="the check-in was at another customer",
    ),
    pytest.param(
        [
            punch("vi", "visit_in", "10:00"),
            punch("vo", "visit_out", "10:30"),
            punch("vo2", "visit_out", "10:31"),
        ],
        {},
        id="a double-tapped check-out is no second visit",
    ),
    pytest.param(
        [
            punch("vi", "visit_in", "10:00", source="correction"),
            punch("vo", "visit_out", "10:02"),
        ],
        {},
        id="an approved correction's time is not judged",
    ),
]


@pytest.mark.parametrize(("track", "expected"), SHORT)
def test_visit_too_short(track: list[PunchFacts], expected: dict[str, str]) -> None:
    assert flagged(track, "visit_too_short") == expected
    assert flagged(track[::-1], "visit_too_short") == expected  # arrival order never matters


def test_the_minimum_is_a_policy_threshold() -> None:
    track = [punch("vi", "visit_in", "10:00"), punch("vo", "visit_out", "10:12")]
    assert flagged(track, "visit_too_short") == {}
    assert flagged(track, "visit_too_short", {"visit_min_minutes": 15}) == {"vo": "warning"}
    team = {"visit_min_minutes": 0}  # a team that sets none
    assert flagged(track, "visit_too_short", {"visit_min_minutes": 15}, team) == {}
    found = the(track, "visit_too_short", "vo", {"visit_min_minutes": 15})
    assert found.evidence == {
        "customer_id": "c-xujiahui",
        "visit_in_punch_id": "vi",
        "seconds": 720.0,
        "minimum_min": 15,
    }


# visit_unpaired --------------------------------------------------------------------------------

UNPAIRED = [
    pytest.param(
        [
            punch("vi", "visit_in", "10:00", XUJIAHUI),
            punch("vo", "visit_out", "10:40", XUJIAHUI),
        ],
        {},
        id="a visit",
    ),
    pytest.param(
        [punch("vo", "visit_out", "10:40", XUJIAHUI)], {"vo": "warning"}, id="visit-out only"
    ),
    pytest.param(
        [
            punch("vi", "visit_in", "10:00", XUJIAHUI),
            punch("vo", "visit_out", "10:40", JINGAN_TEMPLE, customer_id="c-jingan"),
        ],
        {"vo": "warning"},
        id="checks out of a different customer",
    ),
    pytest.param(
        [
            punch("vi", "visit_in", "10:00", XUJIAHUI),
            punch("vi2", "visit_in", "15:00", XUJIAHUI),
        ],
        {"vi2": "warning"},
        id="checks in at the customer again",
    ),
    pytest.param(
        [
            punch("vi", "visit_in", "10:00", XUJIAHUI),
            punch("vo", "visit_out", "16:00", XUJIAHUI, day=1),
        ],
        {"vo": "warning"},
        id="a visit-in abandoned yesterday does not pair",
    ),
]


@pytest.mark.parametrize(("track", "expected"), UNPAIRED)
def test_visit_unpaired(track: list[PunchFacts], expected: dict[str, str]) -> None:
    assert flagged(track, "visit_unpaired") == expected
    assert flagged(track[::-1], "visit_unpaired") == expected  # arrival order never matters
    assert flagged(track, "sequence") == {}  # clock pairs only


def test_an_honest_day_of_visits_is_clean() -> None:
    for rule in ("visit_out_far", "visit_too_short", "visit_unpaired"):
        assert flagged(a_day(), rule) == {}, rule
