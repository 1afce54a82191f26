"""Anomaly detectors on real-looking tracks (Shanghai, Beijing), and arrival-order independence."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldpunch.anomalies import memory
from fieldpunch.anomalies.detectors import (
    DETECTORS,
    MEMORY,
    PersonState,
    assess,
    duplicate,
    sequence,
    step,
)
from fieldpunch.anomalies.facts import Finding, PunchFacts, ShiftWindow
from fieldpunch.anomalies.policy import RULES, Policy, resolve
from fieldpunch.geo.distance import haversine_m

SH = ZoneInfo("Asia/Shanghai")

# Real places (WGS-84).
OFFICE = (31.2417, 121.4953)  # Lujiazui, Pudong
PEOPLES_SQUARE = (31.2335, 121.4754)
JINGAN_TEMPLE = (31.2237, 121.4453)
XUJIAHUI = (31.1955, 121.4365)
HONGQIAO = (31.1945, 121.3208)  # Hongqiao hub, start of the G50 Shanghai–Chongqing expressway
QINGPU = (31.1508, 121.1242)  # along G50
ZHUJIAJIAO = (31.1103, 121.0556)  # along G50
BEIJING = (39.9087, 116.3975)  # Tiananmen
BEIJING_SOUTH = (39.8652, 116.3786)  # railway station

OFFICE_WIFI = ("a4:5e:60:c1:22:01", "a4:5e:60:c1:22:02")


def local(hhmm: str, day: int = 0) -> datetime:
    """A Shanghai wall-clock time on Monday 2 March 2026 (+ day), as the UTC instant it is."""
    h, m = (int(x) for x in hhmm.split(":"))
    return datetime(2026, 3, 2 + day, h, m, tzinfo=SH).astimezone(UTC)


def punch(
    pid: str,
    kind: str = "clock_in",
    at: str | datetime = "09:00",
    where: tuple[float, float] = OFFICE,
    acc: float = 15.0,
    day: int = 0,
    **kw: Any,
) -> PunchFacts:
    t = local(at, day) if isinstance(at, str) else at
    fields: dict[str, Any] = {
        "id": pid,
        "user_id": "u-li-lei",
        "kind": kind,
        "trusted_time": t,
        "captured_at": t,
        "received_at": t,
        "time_source": "server",
        "offline": False,
        "lat": where[0],
        "lon": where[1],
        "accuracy_m": acc,
        "raw_lat": where[0],
        "raw_lon": where[1],
        "mock": False,
        "device_id": "dev-pixel-7",
    }
    if kind.startswith("visit"):
        fields["customer_id"] = "c-xujiahui"
    fields.update(kw)
    return PunchFacts(**fields)


def _policy(layers: Sequence[dict[str, Any]]) -> Policy:
    return resolve(*layers)


def findings(track: Sequence[PunchFacts], *layers: dict[str, Any]) -> dict[str, list[Finding]]:
    policy = _policy(layers)
    return assess(track, lambda _: policy, SH)


def flagged(track: Sequence[PunchFacts], rule: str, *layers: dict[str, Any]) -> dict[str, str]:
    """punch id → severity of its `rule` finding, for the punches that have one."""
    out: dict[str, str] = {}
    for pid, found in findings(track, *layers).items():
        mine = [f for f in found if f.rule == rule]
        assert len(mine) <= 1
        if mine:
            out[pid] = mine[0].severity
    return out


def the(track: Sequence[PunchFacts], rule: str, pid: str, *layers: dict[str, Any]) -> Finding:
    return next(f for f in findings(track, *layers)[pid] if f.rule == rule)


def at_speed(points: Sequence[tuple[float, float]], kmh: float, start: datetime) -> list[datetime]:
    """Times at which a vehicle at `kmh` passes the points (straight line between them)."""
    times = [start]
    for a, b in itertools.pairwise(points):
        times.append(times[-1] + timedelta(hours=haversine_m(*a, *b) / 1000 / kmh))
    return times


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


# mock_location, unknown_device, shared_device ----------------------------------------------------

DEVICE = [
    pytest.param([punch("a", mock=True)], "mock_location", {}, {"a": "critical"}, id="mock"),
    pytest.param([punch("a")], "mock_location", {}, {}, id="real fix"),
    pytest.param(
        [punch("a", mock=True, source="correction")], "mock_location", {}, {}, id="mock correction"
    ),
    pytest.param(
        [punch("a", device_id=None)], "unknown_device", {}, {}, id="unknown device off by default"
    ),
    pytest.param(
        [punch("a", device_id=None)],
        "unknown_device",
        {"rules": {"unknown_device": {"enabled": True}}},
        {"a": "warning"},
        id="unknown device when enabled",
    ),
    pytest.param(
        [punch("a")],
        "unknown_device",
        {"rules": {"unknown_device": {"enabled": True}}},
        {},
        id="enrolled device",
    ),
    pytest.param(
        [punch("a", device_other_users=("u-han-meimei",))],
        "shared_device",
        {},
        {"a": "warning"},
        id="buddy punching from a colleague's phone",
    ),
    pytest.param([punch("a")], "shared_device", {}, {}, id="own phone"),
    pytest.param(
        [punch("a", device_other_users=("u-li-lei",))],
        "shared_device",
        {},
        {},
        id="only this person on the device",
    ),
]


@pytest.mark.parametrize(("track", "rule", "layer", "expected"), DEVICE)
def test_device_rules(
    track: list[PunchFacts], rule: str, layer: dict[str, Any], expected: dict[str, str]
) -> None:
    assert flagged(track, rule, layer) == expected


def test_shared_device_names_the_others() -> None:
    p = punch("a", device_other_users=("u-wang", "u-han", "u-wang"))
    f = the([p], "shared_device", "a")
    assert f.evidence["other_user_ids"] == ["u-han", "u-wang"]
    assert "2 other people" in f.detail


# wifi_mismatch -----------------------------------------------------------------------------------

WIFI = [
    pytest.param(
        [
            punch(
                "a",
                wifi_registered=OFFICE_WIFI,
                wifi_seen=("a4:5e:60:c1:22:02", "00:11:22:33:44:55"),
            )
        ],
        {},
        id="office AP seen",
    ),
    pytest.param(
        [punch("a", wifi_registered=OFFICE_WIFI, wifi_seen=("A4-5E-60-C1-22-01",))],
        {},
        id="same AP written differently",
    ),
    pytest.param(
        [punch("a", wifi_registered=OFFICE_WIFI, wifi_seen=("f0:9f:c2:10:aa:01",))],
        {"a": "warning"},
        id="scanned at home",
    ),
    pytest.param([punch("a", wifi_registered=OFFICE_WIFI)], {}, id="iPhone: no scan at all"),
    pytest.param([punch("a", wifi_seen=("f0:9f:c2:10:aa:01",))], {}, id="place has no Wi-Fi"),
    pytest.param(
        [
            punch(
                "a",
                source="correction",
                wifi_registered=OFFICE_WIFI,
                wifi_seen=("f0:9f:c2:10:aa:01",),
            )
        ],
        {},
        id="correction",
    ),
]


@pytest.mark.parametrize(("track", "expected"), WIFI)
def test_wifi_mismatch(track: list[PunchFacts], expected: dict[str, str]) -> None:
    assert flagged(track, "wifi_mismatch") == expected


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


# off_schedule ------------------------------------------------------------------------------------

SHIFT = ShiftWindow(local("09:00"), local("18:00"), grace_late_min=10, grace_early_min=5)

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


# too_perfect -------------------------------------------------------------------------------------

REPLAYED = (31.241712, 121.495318)

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


# every rule: on, off, severity -----------------------------------------------------------------

# A track that trips each rule on its last punch, with the layer the rule needs (if any).
TRIGGERS: dict[str, tuple[list[PunchFacts], dict[str, Any]]] = {
    "outside_geofence": ([punch("x", fence_distance_m=900.0)], {}),
    "low_accuracy": ([punch("x", acc=800)], {}),
    "impossible_speed": ([punch("a"), punch("x", "visit_in", "09:08", BEIJING)], {}),
    "clock_skew": ([punch("x", captured_at=local("09:12"))], {}),
    "stale_offline": ([punch("x", time_source="proof", received_at=local("09:00", 2))], {}),
    "mock_location": ([punch("x", mock=True)], {}),
    "unknown_device": ([punch("x", device_id=None)], {"unknown_device": {"enabled": True}}),
    "shared_device": ([punch("x", device_other_users=("u-han",))], {}),
    "wifi_mismatch": (
        [punch("x", wifi_registered=OFFICE_WIFI, wifi_seen=("f0:9f:c2:10:aa:01",))],
        {},
    ),
    "duplicate": ([punch("a"), punch("x", at="09:01")], {}),
    "off_schedule": ([punch("x", at="10:00", shift=SHIFT)], {}),
    "too_perfect": (
        [punch("x", raw_lat=REPLAYED[0], raw_lon=REPLAYED[1], identical_coords_elsewhere=2)],
        {},
    ),
    "sequence": ([punch("x", "clock_out", "18:00")], {}),
}


def test_every_rule_has_a_detector_and_a_trigger() -> None:
    assert sorted(d.__name__ for d in DETECTORS) == sorted(RULES) == sorted(TRIGGERS)


@pytest.mark.parametrize("rule", RULES)
def test_rule_fires_only_when_enabled(rule: str) -> None:
    track, rules = TRIGGERS[rule]
    assert "x" in flagged(track, rule, {"rules": rules})
    off = {**rules, rule: {"enabled": False}}
    assert flagged(track, rule, {"rules": off}) == {}


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("severity", ["info", "warning", "critical"])
def test_severity_override_applies(rule: str, severity: str) -> None:
    track, rules = TRIGGERS[rule]
    team = {"rules": {**rules, rule: {**rules.get(rule, {}), "severity": severity}}}
    assert flagged(track, rule, {}, team)["x"] == severity


def _everything() -> list[PunchFacts]:
    """Every trigger, days apart so they do not interact, plus an honest day."""
    return [
        replace(
            p,
            id=f"{rule}-{p.id}",
            trusted_time=p.trusted_time + timedelta(days=3 + n),
            captured_at=p.captured_at + timedelta(days=3 + n),
            received_at=p.received_at + timedelta(days=3 + n),
        )
        for n, (rule, (t, _)) in enumerate(TRIGGERS.items())
        for p in t
    ] + _a_day()


def test_disabling_a_rule_changes_no_other_rule() -> None:
    track = _everything()
    everything = {"rules": {"unknown_device": {"enabled": True}}}
    base = findings(track, everything)
    for rule in RULES:
        off = findings(track, everything, {"rules": {rule: {"enabled": False}}})
        expect = {pid: [f for f in fs if f.rule != rule] for pid, fs in base.items()}
        assert off == expect, rule


# a whole day, and the engine's guarantees ----------------------------------------------------


def _a_day() -> list[PunchFacts]:
    """A sales rep's honest Monday in Shanghai: office, three customers, back to the office."""
    shift = SHIFT
    return [
        punch(
            "d0",
            "clock_in",
            "08:52",
            OFFICE,
            fence_distance_m=0.0,
            shift=shift,
            wifi_registered=OFFICE_WIFI,
            wifi_seen=OFFICE_WIFI[:1],
        ),
        punch(
            "d1",
            "visit_in",
            "10:05",
            PEOPLES_SQUARE,
            customer_id="c-ps",
            fence_distance_m=0.0,
            shift=shift,
        ),
        punch(
            "d2",
            "visit_out",
            "10:50",
            PEOPLES_SQUARE,
            customer_id="c-ps",
            fence_distance_m=12.0,
            acc=40,
            shift=shift,
        ),
        punch(
            "d3",
            "visit_in",
            "11:30",
            JINGAN_TEMPLE,
            customer_id="c-jingan",
            shift=shift,
            acc=650,
            fence_distance_m=90.0,
        ),  # underground mall
        punch(
            "d4",
            "visit_out",
            "12:10",
            JINGAN_TEMPLE,
            customer_id="c-jingan",
            shift=shift,
            time_source="proof",
            offline=True,
            received_at=local("12:25"),
        ),
        punch("d5", "visit_in", "14:00", XUJIAHUI, customer_id="c-xjh", shift=shift),
        punch("d6", "visit_out", "15:30", XUJIAHUI, customer_id="c-xjh", shift=shift),
        punch("d7", "clock_out", "18:20", OFFICE, fence_distance_m=0.0, shift=shift),
    ]


def test_an_honest_day_has_no_findings_beyond_the_basement() -> None:
    found = {pid: [f.rule for f in fs] for pid, fs in findings(_a_day()).items()}
    assert found == {f"d{i}": (["low_accuracy"] if i == 3 else []) for i in range(8)}


def test_evidence_is_plain_json() -> None:
    for found in findings(_everything()).values():
        for f in found:
            json.dumps(f.evidence, allow_nan=False)
            assert f.detail and f.detail[0].isupper()


def test_detectors_only_read_state_from_before_the_punch() -> None:
    """Threading state through DETECTORS equals giving each the state from before the punch."""
    track = sorted(
        [
            *_a_day(),
            punch("z1", at="09:00", day=1),
            punch("z2", at="09:02", day=1),
            punch("z3", "clock_out", "18:00", day=2),
            punch("z4", "visit_out", "10:00", day=2),
        ],
        key=lambda p: p.trusted_time,
    )
    policy = resolve()
    state = PersonState()
    for p in track:
        after, found = step(state, p, policy, SH)
        alone = [f for d in DETECTORS for f in d(state, p, policy, SH)[1]]
        assert alone == found
        state = after


def test_sequence_runs_before_duplicate() -> None:
    assert DETECTORS.index(sequence) < DETECTORS.index(duplicate)


def test_assess_refuses_mixed_people_and_repeated_ids() -> None:
    policy = resolve()
    with pytest.raises(ValueError, match="unique"):
        assess([punch("a"), punch("a", at="10:00")], lambda _: policy, SH)
    with pytest.raises(ValueError, match="one person"):
        assess([punch("a"), punch("b", user_id="u-han")], lambda _: policy, SH)


def test_assess_continues_from_a_start_state() -> None:
    policy = resolve()
    opened, _ = step(PersonState(), punch("in", at="09:00"), policy, SH)
    out = assess([punch("out", "clock_out", "18:00")], lambda _: policy, SH, start=opened)
    assert out == {"out": []}


# out-of-order arrival ------------------------------------------------------------------------

_BASE = local("00:00")
_POLICIES = (
    resolve(),
    resolve(
        {
            "duplicate_window_min": 30,
            "max_speed_kmh": 60,
            "rules": {
                "unknown_device": {"enabled": True},
                "low_accuracy": {"severity": "critical"},
            },
        }
    ),
)


def _policy_of(p: PunchFacts) -> Policy:
    return _POLICIES[int(p.id[1:]) % 2]


@st.composite
def tracks(draw: st.DrawFn, days: int = 3) -> list[PunchFacts]:
    """One person's 5–30 punches over some days around Shanghai, with ties and odd facts."""
    n = draw(st.integers(5, 30))
    out = []
    for i in range(n):
        t = _BASE + timedelta(minutes=5 * draw(st.integers(0, days * 24 * 12)))
        lat = round(OFFICE[0] + draw(st.floats(-0.3, 0.3)), 6)
        lon = round(OFFICE[1] + draw(st.floats(-0.3, 0.3)), 6)
        day = t.astimezone(SH).replace(hour=0, minute=0)
        shift = ShiftWindow(day + timedelta(hours=9), day + timedelta(hours=18), 10, 5)
        out.append(
            punch(
                f"p{i:02d}",
                draw(st.sampled_from(["clock_in", "clock_out", "visit_in", "visit_out"])),
                t,
                (lat, lon),
                acc=draw(st.sampled_from([5.0, 15.0, 65.0, 800.0])),
                captured_at=t + timedelta(seconds=draw(st.sampled_from([0, -90, 900]))),
                received_at=t + timedelta(hours=draw(st.sampled_from([0, 2, 30]))),
                time_source=draw(st.sampled_from(["server", "proof", "device"])),
                mock=draw(st.booleans()),
                device_id=draw(st.sampled_from(["dev-pixel-7", None])),
                source=draw(st.sampled_from(["app", "app", "correction"])),
                customer_id=draw(st.sampled_from(["c-xjh", "c-ps", None])),
                fence_distance_m=draw(st.sampled_from([None, 0.0, 90.0, 2000.0])),
                identical_coords_elsewhere=draw(st.integers(0, 2)),
                device_other_users=draw(st.sampled_from([(), ("u-han-meimei",)])),
                wifi_registered=draw(st.sampled_from([(), OFFICE_WIFI])),
                wifi_seen=draw(st.sampled_from([(), OFFICE_WIFI[1:], ("f0:9f:c2:10:aa:01",)])),
                shift=draw(st.sampled_from([None, shift])),
            )
        )
    return out


def _in_order(track: list[PunchFacts]) -> dict[str, list[Finding]]:
    return assess(sorted(track, key=lambda p: (p.trusted_time, p.id)), _policy_of, SH)


@settings(max_examples=60, deadline=None)
@given(tracks(), st.data())
def test_any_arrival_order_gives_the_same_findings(
    track: list[PunchFacts], data: st.DataObject
) -> None:
    arrival = data.draw(st.permutations(track))
    assert assess(arrival, _policy_of, SH) == _in_order(track)


@settings(max_examples=40, deadline=None)
@given(tracks(), st.data())
def test_incremental_recompute_ends_like_in_order_arrival(
    track: list[PunchFacts], data: st.DataObject
) -> None:
    """The service re-runs assess as each punch lands; the last word must match in-order arrival."""
    arrival = data.draw(st.permutations(track))
    stored: dict[str, list[Finding]] = {}
    known: list[PunchFacts] = []
    for p in arrival:
        known.append(p)
        stored.update(assess(known, _policy_of, SH))
    assert stored == _in_order(track)


@settings(max_examples=40, deadline=None)
@given(tracks(), st.data())
def test_recomputing_only_from_the_late_punch_on_is_enough(
    track: list[PunchFacts], data: st.DataObject
) -> None:
    """Punches before a late arrival keep their findings: recompute from it, starting from state."""
    arrival = data.draw(st.permutations(track))
    stored: dict[str, list[Finding]] = {}
    known: list[PunchFacts] = []
    for p in arrival:
        known = sorted([*known, p], key=lambda q: (q.trusted_time, q.id))
        cut = known.index(p)
        state = PersonState()
        for q in known[:cut]:
            state, _ = step(state, q, _policy_of(q), SH)
        stored.update(assess(known[cut:], _policy_of, SH, start=state))
    assert stored == _in_order(track)


@settings(max_examples=60, deadline=None)
@given(tracks(days=7))
def test_a_window_of_memory_judges_like_the_whole_history(track: list[PunchFacts]) -> None:
    """No detector looks back further than MEMORY: a fold started that far back is enough."""
    whole = _in_order(track)
    for p in track:
        since = [q for q in track if q.trusted_time >= p.trusted_time - MEMORY]
        assert assess(since, _policy_of, SH)[p.id] == whole[p.id]


@settings(max_examples=60, deadline=None)
@given(tracks(days=7))
def test_carrying_the_stored_memory_judges_like_folding_the_facts(
    track: list[PunchFacts],
) -> None:
    """What the chain head keeps of earlier punches (a few fields each) is all the rules read."""
    ordered = sorted(track, key=lambda p: (p.trusted_time, p.id))
    state, got = PersonState(), {}
    for seq, p in enumerate(ordered):
        state, got[p.id] = step(state, p, _policy_of(p), SH)
        kept = json.loads(
            json.dumps(memory.dump(state, seq=seq, tz=SH.key, upto=(p.trusted_time, p.id)))
        )
        assert memory.upto(kept, seq=seq, tz=SH.key) == (p.trusted_time, p.id)
        state = memory.state(kept, user_id=p.user_id)
    assert got == _in_order(track)


def test_a_stale_memory_is_not_used() -> None:
    state, _ = step(PersonState(), punch("in", at="09:00"), resolve(), SH)
    kept = memory.dump(state, seq=3, tz=SH.key, upto=(local("09:00"), "in"))
    assert memory.upto(kept, seq=3, tz=SH.key) is not None
    assert memory.upto(kept, seq=4, tz=SH.key) is None  # the chain moved on
    assert memory.upto(kept, seq=3, tz="Asia/Urumqi") is None  # other days
    assert memory.upto({**kept, "v": 0}, seq=3, tz=SH.key) is None
    assert memory.upto(None, seq=0, tz=SH.key) is None
