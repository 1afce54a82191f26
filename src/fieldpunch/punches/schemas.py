"""The punch as phones send it (API.md "The punch") and as the API answers it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from fieldpunch.geo.crs import CRS
from fieldpunch.geo.schemas import BSSID, Lat, Lon, PointOut
from fieldpunch.kit.canonical import SAFE_INT
from fieldpunch.kit.schemas import EventTime, IdRef, In, Out

Accuracy = Annotated[float, Field(gt=0, le=100_000, allow_inf_nan=False)]
ClientId = Annotated[
    str, StringConstraints(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_\-.:]+$")
]
Source = Annotated[str, StringConstraints(min_length=1, max_length=16, pattern=r"^[a-z0-9_]+$")]
Finite = Annotated[float, Field(allow_inf_nan=False)]


class PunchKind(StrEnum):
    clock_in = "clock_in"
    clock_out = "clock_out"
    visit_in = "visit_in"
    visit_out = "visit_out"


class PunchStatus(StrEnum):
    accepted = "accepted"
    flagged = "flagged"
    approved = "approved"
    rejected = "rejected"


class LocationIn(In):
    lat: Lat
    lon: Lon
    accuracy_m: Accuracy | None = None
    crs: CRS = CRS.wgs84
    source: Source = "gps"
    altitude_m: Annotated[float, Field(ge=-1000, le=20_000, allow_inf_nan=False)] | None = None
    speed_mps: Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)] | None = None
    bearing_deg: Annotated[float, Field(ge=0, le=360, allow_inf_nan=False)] | None = None
    mock: bool = False


class FixIn(In):
    lat: Lat
    lon: Lon
    accuracy_m: Accuracy
    source: Source = "network"
    crs: CRS | None = Field(default=None, description="Defaults to the main location's crs")


class WifiIn(In):
    bssid: BSSID
    ssid: Annotated[str, StringConstraints(max_length=64)] | None = None
    rssi: Annotated[int, Field(ge=-150, le=0)] | None = None


class CellIn(In):
    radio: Literal["gsm", "umts", "lte", "nr", "cdma"]
    mcc: Annotated[int, Field(ge=0, le=999)]
    mnc: Annotated[int, Field(ge=0, le=999)]
    lac: Annotated[int, Field(ge=0, le=2**32)]
    cid: Annotated[int, Field(ge=0, le=2**40)]
    rssi: Annotated[int, Field(ge=-200, le=0)] | None = None


class TimeProofIn(In):
    anchor_token: Annotated[str, StringConstraints(min_length=10, max_length=200)]
    anchor_server_time: EventTime
    anchor_elapsed_ms: Annotated[int, Field(ge=0, le=SAFE_INT)]
    elapsed_ms: Annotated[int, Field(ge=0, le=SAFE_INT)]


class PunchIn(In):
    client_id: ClientId
    kind: PunchKind
    captured_at: EventTime
    location: LocationIn
    fixes: Annotated[list[FixIn], Field(max_length=20)] = []
    wifi: Annotated[list[WifiIn], Field(max_length=100)] = []
    cells: Annotated[list[CellIn], Field(max_length=20)] = []
    customer_id: IdRef | None = None
    visit_id: IdRef | None = None
    note: Annotated[str, StringConstraints(max_length=2000)] = ""
    photo_id: IdRef | None = None
    offline: bool = False
    time_proof: TimeProofIn | None = None
    device_id: IdRef | None = None
    signature: Annotated[str, StringConstraints(min_length=20, max_length=200)] | None = None


class BatchIn(In):
    # Items are validated one by one, so one bad punch gets its own 422 and the rest go in.
    punches: Annotated[
        list[Any],
        Field(
            min_length=1,
            max_length=1000,
            json_schema_extra={"items": {"$ref": "#/components/schemas/PunchIn"}},
        ),
    ]


Severity = Literal["info", "warning", "critical"]


class Finding(Out):
    rule: str
    severity: Severity
    detail: str
    evidence: dict[str, Any] = {}


class FusedLocationOut(PointOut):
    accuracy_m: float
    sources: list[str]
    rejected: list[str]


class MatchOut(Out):
    id: str
    name: str
    distance_m: float


class LedgerOut(Out):
    seq: int
    hash: str


class PunchOut(Out):
    id: str
    client_id: str
    user_id: str
    kind: PunchKind
    status: PunchStatus
    source: str
    captured_at: datetime
    received_at: datetime
    trusted_time: datetime
    time_source: Literal["proof", "server", "device", "correction"]
    location: FusedLocationOut
    place: MatchOut | None
    customer: MatchOut | None
    visit_id: str | None
    note: str
    photo_id: str | None
    offline: bool
    device_id: str | None
    signature_ok: bool | None
    anomalies: list[Finding]
    ledger: LedgerOut


class BatchItemOut(Out):
    index: int
    status: int = Field(
        description="HTTP status this item would have had alone: 201, 200, 409 or 422"
    )
    punch: PunchOut | None = None
    problem: dict[str, Any] | None = None


class BatchOut(Out):
    results: list[BatchItemOut]


class TimeOut(Out):
    now: datetime
    token: str
    expires_at: datetime = Field(
        description="proofs on this anchor date punches made until then (now + the anchor TTL)"
    )
