"""Plain values the detectors judge: the service gathers them first, so the rules stay pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class ShiftWindow:
    """The person's shift on the punch's local day (filled by attendance once shifts exist)."""

    start: datetime
    end: datetime
    grace_late_min: int = 0
    grace_early_min: int = 0


@dataclass(frozen=True, slots=True)
class PunchFacts:
    """One punch as the detectors see it: fused position, trusted time, what the service looked up.

    Lookups that need the database (other users of the device, identical coordinates elsewhere, the
    place's fence and Wi-Fi) arrive precomputed, so the same facts always give the same findings.
    """

    id: str
    user_id: str
    kind: str  # "clock_in" | "clock_out" | "visit_in" | "visit_out"
    trusted_time: datetime  # aware, UTC
    captured_at: datetime  # aware (device clock)
    received_at: datetime  # aware, UTC
    time_source: str  # "proof" | "server" | "device"
    offline: bool
    lat: float  # fused, WGS-84
    lon: float
    accuracy_m: float
    raw_lat: float  # the main fix exactly as the phone sent it (in its crs)
    raw_lon: float
    mock: bool
    device_id: str | None
    source: str = "app"  # "app" | "correction" (corrections skip location/time/device rules)
    customer_id: str | None = None
    fence_id: str | None = None  # nearest office/site (clock punches) or intended customer (visits)
    fence_distance_m: float | None = (
        None  # metres outside that fence's edge; None = nothing to compare
    )
    wifi_registered: tuple[str, ...] = ()  # BSSIDs registered at that place
    wifi_seen: tuple[str, ...] = ()  # BSSIDs the phone reported
    device_other_users: tuple[
        str, ...
    ] = ()  # others on this device within policy.shared_device_days
    identical_coords_elsewhere: int = 0  # other punches with exactly this raw_lat/raw_lon
    raw_accuracy_m: float | None = (
        None  # the main fix's own claim (None: stored before it was kept)
    )
    shift: ShiftWindow | None = None
    # The stored place/customer centre or polygon vertex the raw fix lands on (anomalies/points.py):
    # {fence_id, point: "centre" | "vertex", crs, lat, lon}; None when it lands on none.
    stored_point: dict[str, Any] | None = None
    # The photo the punch cites, as the intake read it (photos/evidence.py): its uploader, what
    # its EXIF says, the nearest earlier photo of the org; None when the punch cites none.
    photo: dict[str, Any] | None = None
    # What the org asked of a field punch (外勤) that this one came without: "note", "photo".
    missing_required: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule's verdict on one punch, worded for a manager and backed by checkable numbers."""

    rule: str
    severity: str  # "info" | "warning" | "critical"
    detail: str  # plain English a manager understands
    evidence: dict[str, Any]  # distances in m, speeds in km/h, seconds, ids, ISO times
