"""Location rules on real-looking tracks: the fence, accuracy, speed, replayed and picked points."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldpunch.anomalies.facts import PunchFacts
from fieldpunch.anomalies.points import TOLERANCE_DEG, StoredPoints
from fieldpunch.geo.crs import CRS, from_wgs84, to_wgs84
from fieldpunch.geo.distance import haversine_m
from fieldpunch.geo.geofence_index import Fence
from tests.unit.anomalies.tracks import (
    BEIJING,
    BEIJING_SOUTH,
    CENTRE_HIT,
    HONGQIAO,
    JINGAN_TEMPLE,
    OFFICE,
    PEOPLES_SQUARE,
    QINGPU,
    REPLAYED,
    STORED,
    ZHUJIAJIAO,
    at_speed,
    flagged,
    local,
    punch,
    the,
)

# outside_geofence ------------------------------------------------------------------------------

GEOFENCE = [
    pytest.param([punch("a", fence_distance_m=0.0)], {}, id="inside the Lujiazui office"),
    pytest.param([punch("a", acc=30, fence_distance_m=25.0)], {}, id="edge jitter within accuracy"),
    pytest.param(
        [punch("a", acc=10, fence_distance_m=25.0)], {"a": "warning"}, id="25 m out, 10 m fix"
    ),
    pytest.param(
        [punch("a", acc=800, fence_distance_m=120.0)],
        {},
        id="basement 800 m fix, 120 m out: within the 150 m cap",
    ),
    pytest.param(
        [punch("a", acc=800, fence_distance_m=400.0)],
        {"a": "warning"},
        id="basement 800 m fix cannot excuse 400 m",
    ),
    pytest.param(
        [punch("v", "visit_in", "10:30", PEOPLES_SQUARE, fence_distance_m=2950.0)],
        {"v": "warning"},
        id="visit 3 km from the customer",
    ),
    pytest.param([punch("a", fence_distance_m=None)], {}, id="no fence to compare"),
    pytest.param(
        [punch("a", where=BEIJING, source="correction", fence_distance_m=1_067_000.0)],
        {},
        id="corrections skip location rules",
    ),
]


@pytest.mark.parametrize(("track", "expected"), GEOFENCE)
def test_outside_geofence(track: list[PunchFacts], expected: dict[str, str]) -> None:
    assert flagged(track, "outside_geofence") == expected


def test_outside_geofence_evidence() -> None:
    f = the(
        [punch("a", acc=800, fence_distance_m=400.0, fence_id="pl-lujiazui")],
        "outside_geofence",
        "a",
    )
    assert f.evidence["distance_outside_m"] == 400.0
    assert f.evidence["tolerance_m"] == 150.0
    assert f.evidence["fence_id"] == "pl-lujiazui"
    assert "400 m outside" in f.detail


def test_geofence_tolerance_cap_is_configurable() -> None:
    track = [punch("a", acc=800, fence_distance_m=400.0)]
    assert flagged(track, "outside_geofence", {"geofence_tolerance_max_m": 500}) == {}


# field_evidence_missing --------------------------------------------------------------------------

NOTE = ("note",)
FIELD_EVIDENCE = [
    pytest.param(
        [punch("a", fence_distance_m=900.0, missing_required=NOTE)],
        {"a": "warning"},
        id="900 m out, no note the org asks for",
    ),
    pytest.param(
        [punch("a", fence_distance_m=None, missing_required=("note", "photo"))],
        {"a": "warning"},
        id="no place within reach at all is a field punch too",
    ),
    pytest.param([punch("a", fence_distance_m=900.0)], {}, id="field punch with what the org asks"),
    pytest.param(
        [punch("a", acc=30, fence_distance_m=25.0, missing_required=NOTE)],
        {},
        id="inside the fence within accuracy: not a field punch",
    ),
    pytest.param(
        [punch("v", "visit_in", fence_distance_m=900.0, missing_required=NOTE)],
        {},
        id="visits are not field punches",
    ),
    pytest.param(
        [punch("a", source="correction", fence_distance_m=900.0, missing_required=NOTE)],
        {},
        id="corrections skip location rules",
    ),
]


@pytest.mark.parametrize(("track", "expected"), FIELD_EVIDENCE)
def test_field_evidence_missing(track: list[PunchFacts], expected: dict[str, str]) -> None:
    assert flagged(track, "field_evidence_missing") == expected


def test_field_evidence_missing_says_what_and_can_be_switched_off() -> None:
    track = [
        punch("a", fence_distance_m=900.0, fence_id="pl-1", missing_required=("note", "photo"))
    ]
    f = the(track, "field_evidence_missing", "a")
    assert f.evidence == {
        "missing": ["note", "photo"],
        "fence_id": "pl-1",
        "distance_outside_m": 900.0,
    }
    assert "without a note or a photo" in f.detail
    off = {"rules": {"field_evidence_missing": {"enabled": False}}}
    assert flagged(track, "field_evidence_missing", off) == {}


# low_accuracy ------------------------------------------------------------------------------------

ACCURACY = [
    pytest.param([punch("a", acc=15)], {}, id="open sky GPS"),
    pytest.param([punch("a", acc=200)], {}, id="exactly at the limit"),
    pytest.param([punch("a", acc=800)], {"a": "info"}, id="basement, 800 m network fix"),
    pytest.param([punch("a", acc=800, source="correction")], {}, id="correction"),
]


@pytest.mark.parametrize(("track", "expected"), ACCURACY)
def test_low_accuracy(track: list[PunchFacts], expected: dict[str, str]) -> None:
    assert flagged(track, "low_accuracy") == expected


# impossible_speed ------------------------------------------------------------------------------

_G50 = [HONGQIAO, QINGPU, ZHUJIAJIAO]
_CAR = at_speed(_G50, 100, local("10:00"))
_SPEEDER = at_speed(_G50, 150, local("10:00"))
_TRAIN = at_speed([HONGQIAO, BEIJING_SOUTH], 1060 / 4.47, local("07:00"))  # G1 4 h 28 min


def _visits(points: Sequence[tuple[float, float]], times: Sequence[datetime]) -> list[PunchFacts]:
    return [
        punch(f"p{i}", "visit_in", t, xy, acc=10, customer_id=f"c{i}")
        for i, (xy, t) in enumerate(zip(points, times, strict=True))
    ]


SPEED = [
    pytest.param(_visits(_G50, _CAR), {}, {}, id="car at 100 km/h on the G50 expressway"),
    pytest.param(_visits(_G50, _SPEEDER), {}, {}, id="speeding at 150 km/h is still possible"),
    pytest.param(
        [punch("sh", at="09:00"), punch("bj", "visit_in", "09:08", BEIJING)],
        {},
        {"bj": "critical"},
        id="Shanghai to Beijing in 8 minutes",
    ),
    pytest.param(
        [punch("a-sh", at="09:00"), punch("b-bj", "visit_in", "09:00", BEIJING)],
        {},
        {"b-bj": "critical"},
        id="Shanghai and Beijing at the same instant",
    ),
    pytest.param(
        [punch("sh", at="09:00"), punch("bj", "visit_in", "09:00", BEIJING, day=1)],
        {},
        {},
        id="Beijing the next day (a flight)",
    ),
    pytest.param(
        [
            punch("b1", "visit_in", "11:00", JINGAN_TEMPLE, acc=800),
            punch("b2", "visit_out", "11:01", PEOPLES_SQUARE, acc=20),
        ],
        {},
        {},
        id="basement 800 m fix then street fix 3 km away a minute later",
    ),
    pytest.param(
        [
            punch("j1", at="09:00"),
            punch("j2", "clock_out", local("09:00") + timedelta(seconds=30), (31.2422, 121.4955)),
        ],
        {},
        {},
        id="GPS jitter of 60 m in 30 s",
    ),
    pytest.param(
        [
            punch("sh1", at="09:00"),
            punch("fix", "visit_in", "09:05", BEIJING, source="correction"),
            punch("sh2", "clock_out", "09:10"),
        ],
        {},
        {},
        id="a correction is neither judged nor a baseline",
    ),
    pytest.param(
        _visits([HONGQIAO, BEIJING_SOUTH], _TRAIN),
        {},
        {},
        id="G-train Shanghai to Beijing is within the 350 km/h default",
    ),
    pytest.param(
        _visits([HONGQIAO, BEIJING_SOUTH], _TRAIN),
        {"max_speed_kmh": 200},
        {"p1": "critical"},
        id="G-train too fast for a team capped at 200 km/h",
    ),
]


@pytest.mark.parametrize(("track", "layer", "expected"), SPEED)
def test_impossible_speed(
    track: list[PunchFacts], layer: dict[str, Any], expected: dict[str, str]
) -> None:
    assert flagged(track, "impossible_speed", layer) == expected


def test_the_car_really_drives_100_kmh() -> None:
    km = haversine_m(*HONGQIAO, *QINGPU) / 1000
    hours = (_CAR[1] - _CAR[0]).total_seconds() / 3600
    assert km > 15
    assert km / hours == pytest.approx(100)


def test_teleport_evidence_in_kmh() -> None:
    track = [punch("sh", at="09:00"), punch("bj", "visit_in", "09:08", BEIJING)]
    f = the(track, "impossible_speed", "bj")
    ev = f.evidence
    assert ev["previous_punch_id"] == "sh"
    assert 1_060_000 < ev["distance_m"] < 1_075_000
    assert ev["seconds"] == 480
    assert 7_500 < ev["speed_kmh"] < 8_100
    assert ev["accuracy_allowance_m"] == 30
    assert (ev["previous_lat"], ev["lat"]) == (OFFICE[0], BEIJING[0])
    assert "km/h" in f.detail


def test_same_instant_teleport_has_no_finite_speed() -> None:
    track = [punch("a-sh"), punch("b-bj", "visit_in", "09:00", BEIJING)]
    f = the(track, "impossible_speed", "b-bj")
    assert f.evidence["speed_kmh"] is None
    assert f.evidence["seconds"] == 0


# too_perfect -------------------------------------------------------------------------------------

PERFECT = [
    pytest.param(
        [punch("a", raw_lat=REPLAYED[0], raw_lon=REPLAYED[1], identical_coords_elsewhere=3)],
        {"a": "warning"},
        id="replayed fix seen on 3 other days",
    ),
    pytest.param(
        [punch("a", raw_lat=31.2417, raw_lon=121.495318, identical_coords_elsewhere=1)],
        {"a": "warning"},
        id="lat lost a trailing zero, lon is precise",
    ),
    pytest.param(
        [punch("a", raw_lat=31.24, raw_lon=121.5, identical_coords_elsewhere=40)],
        {},
        id="coarse network fix repeats honestly",
    ),
    pytest.param(
        [
            punch(
                "a",
                raw_lat=REPLAYED[0],
                raw_lon=REPLAYED[1],
                raw_accuracy_m=35.0,
                identical_coords_elsewhere=6,
            )
        ],
        {},
        id="indoor Wi-Fi positioning puts a whole office on one precise point at ±35 m",
    ),
    pytest.param(
        [
            punch(
                "a",
                raw_lat=REPLAYED[0],
                raw_lon=REPLAYED[1],
                raw_accuracy_m=5.0,
                identical_coords_elsewhere=1,
            )
        ],
        {"a": "warning"},
        id="a GPS-grade ±5 m fix repeated exactly",
    ),
    pytest.param(
        [punch("a", raw_lat=REPLAYED[0], raw_lon=REPLAYED[1], identical_coords_elsewhere=0)],
        {},
        id="unique fix",
    ),
    pytest.param(
        [
            punch(
                "a",
                raw_lat=REPLAYED[0],
                raw_lon=REPLAYED[1],
                identical_coords_elsewhere=3,
                source="correction",
            )
        ],
        {},
        id="correction",
    ),
]


@pytest.mark.parametrize(("track", "expected"), PERFECT)
def test_too_perfect(track: list[PunchFacts], expected: dict[str, str]) -> None:
    assert flagged(track, "too_perfect") == expected


def test_too_perfect_decimals_threshold_is_configurable() -> None:
    track = [punch("a", raw_lat=REPLAYED[0], raw_lon=REPLAYED[1], identical_coords_elsewhere=3)]
    assert flagged(track, "too_perfect", {"too_perfect_min_decimals": 7}) == {}


# chosen_location ---------------------------------------------------------------------------------


def _office_points(polygon: dict[str, Any] | None = None) -> StoredPoints:
    office = Fence("plc_office", "place", STORED[0], STORED[1], 100.0, polygon)
    return StoredPoints([office, Fence("cus_far", "customer", *BEIJING, 50.0)])


def _chosen(lat: float, lon: float, points: StoredPoints, **kw: Any) -> dict[str, str]:
    hit = points.landing(lat, lon)
    track = [
        punch(
            "a",
            where=(lat, lon),
            raw_lat=lat,
            raw_lon=lon,
            stored_point=None if hit is None else asdict(hit),
            **kw,
        )
    ]
    return flagged(track, "chosen_location")


def test_a_fix_on_the_stored_centre_is_chosen_in_any_crs() -> None:
    points = _office_points()
    assert _chosen(*STORED, points) == {"a": "warning"}
    # Picked on AMap (GCJ-02) or Baidu (BD-09): the same point, sent as such or as WGS-84.
    for crs in (CRS.gcj02, CRS.bd09):
        lon, lat = from_wgs84(STORED[1], STORED[0], crs)
        assert _chosen(round(lat, 7), round(lon, 7), points) == {"a": "warning"}, crs
    # A fake-location app that converts the GCJ-02 pick back to WGS-84 itself (to < 1 cm).
    lon, lat = from_wgs84(STORED[1], STORED[0], CRS.gcj02)
    back_lon, back_lat = to_wgs84(lon, lat, CRS.gcj02)
    assert _chosen(back_lat, back_lon, points) == {"a": "warning"}
    found = the(
        [punch("a", raw_lat=STORED[0], raw_lon=STORED[1], stored_point=dict(CENTRE_HIT))],
        "chosen_location",
        "a",
    )
    assert found.evidence["fence_id"] == "plc_office" and found.evidence["point"] == "centre"
    assert "exactly the centre" in found.detail


def test_a_fix_on_a_polygon_vertex_is_chosen() -> None:
    ring = [[121.4950001, 31.2414001], [121.4959999, 31.2414001], [121.4959999, 31.2420009]]
    polygon = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
    points = _office_points(polygon)
    assert _chosen(31.2420009, 121.4959999, points) == {"a": "warning"}
    hit = points.landing(31.2420009, 121.4959999)
    assert hit is not None and hit.point == "vertex"


def test_coarse_fixes_on_coarse_points_are_not_judged() -> None:
    """A receiver that rounds to 4-6 decimals lands on an admin's 4-decimal centre honestly."""
    coarse = StoredPoints([Fence("plc_office", "place", 31.2417, 121.4953, 100.0)])
    assert coarse.landing(31.2417, 121.4953) is not None
    assert _chosen(31.2417, 121.4953, coarse) == {}
    six = StoredPoints([Fence("plc_office", "place", 31.241712, 121.495345, 100.0)])
    assert _chosen(31.241712, 121.495345, six) == {}


def test_corrections_are_never_chosen() -> None:
    track = [
        punch(
            "a",
            raw_lat=STORED[0],
            raw_lon=STORED[1],
            stored_point=dict(CENTRE_HIT),
            source="correction",
        )
    ]
    assert flagged(track, "chosen_location") == {}


_M_PER_DEG = 111_320.0


@settings(max_examples=400, deadline=None)
@given(
    north=st.floats(-30.0, 30.0),
    east=st.floats(-30.0, 30.0),
    crs=st.sampled_from([CRS.wgs84, CRS.gcj02, CRS.bd09]),
    digits=st.sampled_from([None, 7, 8]),
    accuracy=st.floats(3.0, 50.0),
)
def test_honest_noise_around_a_stored_point_is_never_chosen(
    north: float, east: float, crs: CRS, digits: int | None, accuracy: float
) -> None:
    """A receiver's fix within 30 m of the stored centre (or a vertex), in any CRS, at full
    precision or rounded to 7 or 8 decimals, is never judged chosen unless its noise on both
    axes is within the tolerance (5e-8°) plus the half step its rounding may move it by: a fix
    that close is the stored point written at that precision (≈ 11 mm at 7 decimals), which no
    receiver's metres of noise hit by chance."""
    ring = [[121.4950001, 31.2414001], [121.4959999, 31.2414001], [121.4959999, 31.2420009]]
    points = _office_points({"type": "Polygon", "coordinates": [[*ring, ring[0]]]})
    for base_lat, base_lon in (STORED, (31.2420009, 121.4959999)):
        lat = base_lat + north / _M_PER_DEG
        lon = base_lon + east / (_M_PER_DEG * math.cos(math.radians(base_lat)))
        sent_lon, sent_lat = from_wgs84(lon, lat, crs)
        if digits is not None:
            sent_lat, sent_lon = round(sent_lat, digits), round(sent_lon, digits)
        found = _chosen(sent_lat, sent_lon, points, acc=accuracy)
        # The reach in degrees, in metres on each axis, with 2 % for the CRS's stretch.
        reach_deg = TOLERANCE_DEG + (0.5 * 10.0**-digits if digits is not None else 0.0)
        reach_north = reach_deg * _M_PER_DEG * 1.02
        reach_east = reach_north * math.cos(math.radians(base_lat))
        if abs(north) > reach_north or abs(east) > reach_east:
            assert found == {}, (sent_lat, sent_lon)
