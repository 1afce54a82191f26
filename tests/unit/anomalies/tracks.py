"""Real-looking tracks (Shanghai, Beijing) and the helpers the detector tests judge them with.

`punch` builds one person's punch facts at a Shanghai wall-clock time; `flagged`, `findings` and
`the` run every detector over a track with a policy made of layers; `tracks` draws random tracks
for the arrival-order properties.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from fieldpunch.anomalies.detectors import assess
from fieldpunch.anomalies.facts import Finding, PunchFacts, ShiftWindow
from fieldpunch.anomalies.policy import Policy, resolve
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


# A 09:00-18:00 shift with 10 min grace to arrive and 5 to leave.
SHIFT = ShiftWindow(local("09:00"), local("18:00"), grace_late_min=10, grace_early_min=5)

# A precise fix replayed (too_perfect).
REPLAYED = (31.241712, 121.495318)

# The office's stored centre as GET /places answers it (7 decimals), and in GCJ-02 (AMap).
STORED = (31.2417123, 121.4953456)
CENTRE_HIT = {
    "fence_id": "plc_office",
    "point": "centre",
    "crs": "wgs84",
    "lat": STORED[0],
    "lon": STORED[1],
}


def a_day() -> list[PunchFacts]:
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


# Random tracks, and what in-order arrival finds in them -------------------------------------

BASE = local("00:00")
POLICIES = (
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


def policy_of(p: PunchFacts) -> Policy:
    return POLICIES[int(p.id[1:]) % 2]


@st.composite
def tracks(draw: st.DrawFn, days: int = 3) -> list[PunchFacts]:
    """One person's 5–30 punches over some days around Shanghai, with ties and odd facts."""
    n = draw(st.integers(5, 30))
    out = []
    for i in range(n):
        t = BASE + timedelta(minutes=5 * draw(st.integers(0, days * 24 * 12)))
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


def in_order(track: list[PunchFacts]) -> dict[str, list[Finding]]:
    return assess(sorted(track, key=lambda p: (p.trusted_time, p.id)), policy_of, SH)
