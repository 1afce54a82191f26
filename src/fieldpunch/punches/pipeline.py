"""The punch pipeline: ordered, small steps, each testable alone (no I/O in here).

parse → device and signature → CRS → radio fixes → fusion → trusted time → place match →
status. The service around it does the I/O: loading what the steps need before, then the
anomaly detectors (they need the person's other punches: anomalies/engine.py), ledger →
store → outbox, in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from fieldpunch.auth import timeproof
from fieldpunch.devices.keys import b64url_decode
from fieldpunch.geo.crs import to_wgs84
from fieldpunch.geo.distance import haversine_m
from fieldpunch.geo.fusion import Fix, Fused, fuse
from fieldpunch.geo.geofence_index import Fence, GeofenceIndex, Match, edge_distance_m
from fieldpunch.kit.canonical import canonical, sha256_hex, unsafe_number
from fieldpunch.kit.errors import Invalid
from fieldpunch.punches.schemas import CellIn, Finding, PunchIn, PunchKind, PunchStatus, Severity

# Without a reported accuracy, a phone fix is assumed this poor rather than trusted blindly.
DEFAULT_ACCURACY_M = 100.0
# A geofence accepts a position this far outside at most, however poor its accuracy.
MAX_MATCH_TOLERANCE_M = 150.0
# Device clocks and servers disagree a little; beyond this a claimed time is "in the future".
FUTURE_SLACK = timedelta(minutes=2)
# An online punch (`offline: false`) is sent as it is made: its time proof may date it this much
# before it arrived (a slow upload, one retry of the field app's 30 s sync), no more. Beyond it
# the proof is not believed (`time_proof_mismatch`) and the punch is dated by its arrival.
ONLINE_SLACK = timedelta(seconds=90)
# How long after it was issued a time anchor dates punches (`FIELDPUNCH_TIME_ANCHOR_TTL_H`).
DEFAULT_ANCHOR_TTL = timedelta(hours=72)


@dataclass(frozen=True, slots=True)
class DeviceView:
    id: str
    user_id: str
    public_key: ec.EllipticCurvePublicKey
    revoked: bool


@dataclass(frozen=True, slots=True)
class CellView:
    lat: float
    lon: float
    range_m: float


CellKey = tuple[str, int, int, int, int]


def cell_key(c: CellIn) -> CellKey:
    return (c.radio, c.mcc, c.mnc, c.lac, c.cid)


@dataclass(slots=True)
class Claim:
    """A parsed punch with the exact JSON it arrived as (signatures cover those bytes)."""

    raw: dict[str, Any]
    punch: PunchIn
    content_hash: str
    message: bytes = b""  # the canonical bytes that are hashed and signed


@dataclass(slots=True)
class Verdict:
    claim: Claim
    user_id: str
    received_at: datetime
    findings: list[Finding] = field(default_factory=list)
    signature_ok: bool | None = None
    device_id: str | None = None
    fixes: list[Fix] = field(default_factory=list)
    fused: Fused | None = None
    trusted_time: datetime | None = None
    time_source: str = "server"
    place: Match | None = None
    customer: Match | None = None
    status: PunchStatus = PunchStatus.accepted

    def find(self, rule: str, severity: Severity, detail: str, **evidence: Any) -> None:
        self.findings.append(
            Finding(rule=rule, severity=severity, detail=detail, evidence=evidence)
        )


# 1. parse ------------------------------------------------------------------------------------


def parse(raw: Any, punch: PunchIn | None = None) -> Claim:
    """Validate one punch (unless already validated); ValidationError or Invalid is a 422."""
    punch = punch if punch is not None else PunchIn.model_validate(raw)
    if punch.kind in (PunchKind.visit_in, PunchKind.visit_out) and not (
        punch.customer_id or punch.visit_id
    ):
        raise Invalid(["body", "customer_id"], "a visit punch needs customer_id or visit_id")
    unsigned = {k: v for k, v in raw.items() if k != "signature"}
    where = unsafe_number(unsigned)
    if where is not None:  # valid for a float field, but not canonical JSON: cannot be signed
        raise Invalid(["body", *where], "integers must be within ±(2^53 − 1)")
    message = canonical(unsigned)
    return Claim(raw=raw, punch=punch, content_hash=sha256_hex(message), message=message)


# 2. device and signature ----------------------------------------------------------------------


def verify_signature(
    public_key: ec.EllipticCurvePublicKey,
    raw: dict[str, Any],
    signature_b64: str,
    message: bytes | None = None,
) -> bool:
    """ECDSA P-256/SHA-256 over RFC 8785 JSON of the punch without `signature` (IEEE P1363 r‖s)."""
    try:
        sig = b64url_decode(signature_b64)
    except ValueError:
        return False
    if len(sig) != 64:
        return False
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    if message is None:
        message = canonical({k: v for k, v in raw.items() if k != "signature"})
    try:
        public_key.verify(der, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def check_device(
    v: Verdict, device: DeviceView | None, require_signed: bool, has_device: bool = False
) -> None:
    """`has_device`: the person has an enrolled device that is not revoked."""
    p = v.claim.punch
    if p.device_id is None:
        if p.signature is not None:
            v.find("unknown_device", "critical", "signed, but no device_id says by which key")
        elif require_signed:
            v.find("unsigned", "critical", "this organization requires signed punches")
        elif has_device:  # a downgrade: the person's phone signs, this came from elsewhere
            v.find(
                "unsigned",
                "critical",
                "unsigned, although this person has an enrolled device that signs their punches",
                enrolled_device=True,
            )
        return
    v.device_id = p.device_id
    if device is None:
        v.find(
            "unknown_device",
            "critical",
            "the device is not enrolled in this organization",
            device_id=p.device_id,
        )
        return
    if device.user_id != v.user_id:
        v.find(
            "foreign_device",
            "critical",
            "the device is enrolled to another person",
            device_id=device.id,
        )
    if device.revoked:
        v.find("revoked_device", "critical", "the device was revoked", device_id=device.id)
    if p.signature is None:
        v.signature_ok = False
        v.find(
            "unsigned",
            "critical",
            "a punch from an enrolled device must be signed",
            device_id=device.id,
        )
        return
    v.signature_ok = verify_signature(
        device.public_key, v.claim.raw, p.signature, v.claim.message or None
    )
    if not v.signature_ok:
        v.find(
            "bad_signature",
            "critical",
            "the signature does not match the punch: altered or forged",
            device_id=device.id,
        )


# 3. CRS, radio fixes and fusion ----------------------------------------------------------------


def to_fixes(v: Verdict) -> None:
    """Every position the phone reported, in WGS-84."""
    p = v.claim.punch
    loc = p.location
    lon, lat = to_wgs84(loc.lon, loc.lat, loc.crs)
    v.fixes.append(Fix(lat, lon, loc.accuracy_m or DEFAULT_ACCURACY_M, loc.source))
    for f in p.fixes:
        flon, flat = to_wgs84(f.lon, f.lat, f.crs or loc.crs)
        v.fixes.append(Fix(flat, flon, f.accuracy_m, f.source))


def add_radio_fixes(
    v: Verdict, bssid_places: dict[str, Fence], cells: dict[CellKey, CellView]
) -> None:
    """Wi-Fi seen at a registered place and known cell towers become coarse fixes of their own."""
    p = v.claim.punch
    seen: set[str] = set()
    for w in p.wifi:
        fence = bssid_places.get(w.bssid)
        if fence is not None and fence.id not in seen:
            seen.add(fence.id)
            v.fixes.append(Fix(fence.lat, fence.lon, min(max(fence.radius_m, 25.0), 150.0), "wifi"))
    for c in p.cells:
        cell = cells.get(cell_key(c))
        if cell is not None:
            v.fixes.append(Fix(cell.lat, cell.lon, max(cell.range_m, 200.0), "cell"))


def fuse_location(v: Verdict) -> None:
    v.fused = fuse(v.fixes)


# 4. trusted time --------------------------------------------------------------------------------


def _hours(t: timedelta) -> str:
    return f"{t.total_seconds() / 3600:g} h"


def _plus_ms(at: datetime, ms: int) -> datetime | None:
    """`at` + ms, or None past the calendar's end (a forged elapsed time can be ~2^53 ms)."""
    try:
        return at + timedelta(milliseconds=ms)
    except OverflowError:
        return None


def trust_time(
    v: Verdict, secret: str, org_id: str, anchor_ttl: timedelta = DEFAULT_ANCHOR_TTL
) -> None:
    """Anchor + monotonic elapsed when the proof holds; else server time (online) or device time.

    A proof only shows that the punch was made after its anchor was issued: the elapsed values
    are the phone's word. So an anchor dates punches for `anchor_ttl` only, and an online punch,
    which is sent as it is made, is never dated more than ONLINE_SLACK before it arrived.
    """
    p = v.claim.punch
    proof = p.time_proof
    if proof is not None:
        elapsed = proof.elapsed_ms - proof.anchor_elapsed_ms
        claimed = _plus_ms(proof.anchor_server_time, elapsed)
        if not timeproof.valid(
            secret, org_id, v.user_id, proof.anchor_server_time, proof.anchor_token
        ):
            v.find(
                "time_proof_invalid",
                "warning",
                "the time anchor was not issued to this person by this server",
            )
        elif elapsed < 0:
            v.find(
                "time_proof_invalid",
                "warning",
                "the monotonic clock runs backwards (the phone rebooted?)",
                elapsed_ms=elapsed,
            )
        elif claimed is None or claimed > v.received_at + FUTURE_SLACK:
            v.find(
                "time_proof_invalid",
                "warning",
                "the proof dates the punch after it arrived",
                claimed=None if claimed is None else claimed.isoformat(),
            )
        elif claimed - proof.anchor_server_time > anchor_ttl:
            v.find(
                "time_anchor_expired",
                "warning",
                f"the proof dates the punch more than {_hours(anchor_ttl)} after its time anchor "
                "was issued: the anchor had expired",
                anchor_server_time=proof.anchor_server_time.astimezone(UTC).isoformat(),
                claimed=claimed.astimezone(UTC).isoformat(),
                ttl_h=anchor_ttl.total_seconds() / 3600,
            )
        elif not p.offline and claimed < v.received_at - ONLINE_SLACK:
            before = (v.received_at - claimed).total_seconds()
            v.find(
                "time_proof_mismatch",
                "warning",
                f"an online punch whose time proof dates it {before:.0f} s before it arrived "
                f"(more than {ONLINE_SLACK.total_seconds():.0f} s): dated by its arrival",
                claimed=claimed.astimezone(UTC).isoformat(),
                received_at=v.received_at.isoformat(),
                seconds_before_arrival=round(before, 3),
                slack_s=ONLINE_SLACK.total_seconds(),
            )
        else:
            v.trusted_time, v.time_source = claimed.astimezone(UTC), "proof"
            return
    if not p.offline:
        v.trusted_time, v.time_source = v.received_at, "server"
        return
    v.trusted_time, v.time_source = p.captured_at.astimezone(UTC), "device"
    if p.captured_at > v.received_at + FUTURE_SLACK:
        v.find(
            "future_time",
            "critical",
            "captured after it was received: the phone clock is ahead",
            captured_at=p.captured_at.isoformat(),
            received_at=v.received_at.isoformat(),
        )
        v.trusted_time, v.time_source = v.received_at, "server"


# 5. place match -------------------------------------------------------------------------------


def match_place(v: Verdict, index: GeofenceIndex) -> None:
    """Attendance punches match the nearest office or site; visits measure the intended customer."""
    assert v.fused is not None
    lat, lon, acc = v.fused.lat, v.fused.lon, v.fused.accuracy_m
    p = v.claim.punch
    if p.kind in (PunchKind.clock_in, PunchKind.clock_out):
        v.place = index.match(lat, lon, min(acc, MAX_MATCH_TOLERANCE_M), kind="place")
        return
    fence = index.get(p.customer_id) if p.customer_id else None
    if fence is not None and fence.kind == "customer":
        v.customer = Match(
            fence, edge_distance_m(fence, lat, lon), haversine_m(fence.lat, fence.lon, lat, lon)
        )


# 6. status ------------------------------------------------------------------------------------

# Proof of forgery rejects outright; every other finding asks a person to look.
_REJECTING = frozenset({"bad_signature"})


def status_for(findings: Sequence[Any], reject_critical: bool = False) -> PunchStatus:
    """From findings (Finding models or their dicts): rejected, flagged or accepted."""
    rules = [f["rule"] if isinstance(f, dict) else f.rule for f in findings]
    severities = [f["severity"] if isinstance(f, dict) else f.severity for f in findings]
    if any(r in _REJECTING for r in rules) or (reject_critical and "critical" in severities):
        return PunchStatus.rejected
    return PunchStatus.flagged if rules else PunchStatus.accepted


def judge(
    claim: Claim,
    *,
    user_id: str,
    received_at: datetime,
    secret: str,
    org_id: str,
    device: DeviceView | None,
    require_signed: bool,
    index: GeofenceIndex,
    bssid_places: dict[str, Fence],
    cells: dict[CellKey, CellView],
    anchor_ttl: timedelta = DEFAULT_ANCHOR_TTL,
    has_device: bool = False,
) -> Verdict:
    """Run every step after parsing, in order."""
    v = Verdict(claim=claim, user_id=user_id, received_at=received_at)
    check_device(v, device, require_signed, has_device)
    to_fixes(v)
    add_radio_fixes(v, bssid_places, cells)
    fuse_location(v)
    trust_time(v, secret, org_id, anchor_ttl)
    match_place(v, index)
    v.status = status_for(v.findings)
    return v
