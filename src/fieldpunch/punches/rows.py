"""`NewPunch`: one typed value for a punch about to be stored (pure).

The stored row (`columns`), what its ledger entry commits to (`ledger_content`, the fields
marked `ledger` below), the detectors' facts (anomalies/engine.facts_of reads the same
attributes) and the answer (`stored_view`) all come from it: a field is added here once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from fieldpunch.geo.crs import CRS
from fieldpunch.kit.canonical import digest
from fieldpunch.kit.ids import new_id
from fieldpunch.places.fences import OrgFences
from fieldpunch.punches.pipeline import Verdict
from fieldpunch.punches.schemas import PunchOut
from fieldpunch.punches.views import to_out

# A field the ledger entry commits to (under its own name, or the name given).
LEDGER: dict[str, Any] = {"ledger": True}


@dataclass(slots=True, kw_only=True)
class NewPunch:
    """A judged punch of one person, as it will be stored (every column of `punches`)."""

    id: str = field(metadata={"ledger": "punch_id"})
    org_id: str
    user_id: str
    client_id: str = field(metadata=LEDGER)
    content_hash: str = field(metadata=LEDGER)
    kind: str = field(metadata=LEDGER)
    status: str = field(metadata=LEDGER)
    source: str = field(metadata=LEDGER)
    captured_at: datetime = field(metadata=LEDGER)
    received_at: datetime = field(metadata=LEDGER)
    trusted_time: datetime = field(metadata=LEDGER)
    time_source: str
    lat: float = field(metadata=LEDGER)
    lon: float = field(metadata=LEDGER)
    accuracy_m: float = field(metadata=LEDGER)
    raw_lat: float = field(metadata=LEDGER)
    raw_lon: float = field(metadata=LEDGER)
    mock: bool = field(metadata=LEDGER)
    fusion: dict[str, Any]
    place_id: str | None = field(metadata=LEDGER)
    customer_id: str | None = field(metadata=LEDGER)
    distance_m: float | None = field(metadata=LEDGER)
    visit_id: str | None = field(metadata=LEDGER)
    photo_id: str | None = field(metadata=LEDGER)
    note: str = field(metadata=LEDGER)
    offline: bool
    device_id: str | None = field(metadata=LEDGER)
    signature_ok: bool | None = field(metadata=LEDGER)
    anomalies: list[dict[str, Any]] = field(metadata=LEDGER)  # the ledger keeps their rules, sorted
    payload: dict[str, Any]
    facts: dict[str, Any]  # the detectors' inputs (anomalies/engine.py)
    names: dict[str, str] = field(metadata={"column": False})  # place/customer names
    seq: int = 0  # set when chained
    hash: str = ""

    def columns(self) -> dict[str, Any]:
        """The row to insert."""
        return {name: getattr(self, name) for name in _COLUMNS}


_COLUMNS = tuple(f.name for f in fields(NewPunch) if f.metadata.get("column", True))
_LEDGER = tuple(
    (f.name, f.name if f.metadata["ledger"] is True else f.metadata["ledger"])
    for f in fields(NewPunch)
    if "ledger" in f.metadata
)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="microseconds")


def ledger_content(punch: Any) -> dict[str, Any]:
    """What a punch's ledger entry commits to (a NewPunch or a stored Punch): every field a
    forger would want to change. Times in UTC ISO form; anomalies as their sorted rules."""
    content: dict[str, Any] = {}
    for name, key in _LEDGER:
        value = getattr(punch, name)
        if isinstance(value, datetime):
            value = _iso(value)
        elif name == "anomalies":
            value = sorted(a["rule"] for a in value)
        content[key] = value
    return content


def payload_hash(payload: dict[str, Any]) -> str:
    """The content hash of a stored claim: its canonical JSON without the signature."""
    return digest({k: v for k, v in payload.items() if k != "signature"})


def new_punch(org_id: str, v: Verdict, fences: OrgFences, facts: dict[str, Any]) -> NewPunch:
    """The punch a judged claim becomes."""
    p = v.claim.punch
    assert v.fused is not None
    assert v.trusted_time is not None
    match = v.place or v.customer
    place_id = v.place.fence.id if v.place else None
    return NewPunch(
        id=new_id("pun"),
        org_id=org_id,
        user_id=v.user_id,
        client_id=p.client_id,
        content_hash=v.claim.content_hash,
        kind=p.kind.value,
        status=v.status.value,
        source="app",
        captured_at=p.captured_at,
        received_at=v.received_at,
        trusted_time=v.trusted_time,
        time_source=v.time_source,
        lat=v.fused.lat,
        lon=v.fused.lon,
        accuracy_m=v.fused.accuracy_m,
        raw_lat=p.location.lat,
        raw_lon=p.location.lon,
        mock=p.location.mock,
        fusion={"used": list(v.fused.used), "rejected": list(v.fused.rejected)},
        place_id=place_id,
        customer_id=p.customer_id,
        distance_m=round(match.distance_m, 1) if match else None,
        visit_id=p.visit_id,
        photo_id=p.photo_id,
        note=p.note,
        offline=p.offline,
        device_id=v.device_id,
        signature_ok=v.signature_ok,
        anomalies=[f.model_dump() for f in v.findings],
        payload=v.claim.raw,
        facts=facts,
        names={k: fences.names[k] for k in (place_id, p.customer_id) if k and k in fences.names},
    )


def stored_view(punch: NewPunch) -> PunchOut:
    """The answer for a punch just stored (WGS-84, its names)."""
    return to_out(punch, CRS.wgs84, punch.names)
