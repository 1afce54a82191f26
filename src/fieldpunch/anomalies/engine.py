"""Running the detectors inside the punch transaction.

A person's findings depend on their punches in trusted-time order, never on arrival order.
New punches that come after everything the person has punched step from the detectors' memory
on the chain head (`carry`; see anomalies/memory.py). Otherwise the intake re-folds the
person's window around the new punches (`context`, `run`) and applies what changed to punches
already stored (a late clock_in can explain an earlier "clock_out without clock_in").
Cross-person facts (a device shared by several people, coordinates repeated elsewhere) are
looked up once per intake and kept with the punch. Pure: the reads are the intake store's
(punches/store/); this turns their rows into facts, windows and findings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from fieldpunch.anomalies.detectors import MEMORY, PersonState, fold
from fieldpunch.anomalies.facts import Finding, PunchFacts
from fieldpunch.anomalies.points import StoredPoints
from fieldpunch.anomalies.policy import Policy
from fieldpunch.geo.geofence_index import GeofenceIndex
from fieldpunch.punches.pipeline import Verdict
from fieldpunch.punches.schemas import PunchKind

if TYPE_CHECKING:
    from fieldpunch.punches.rows import NewPunch

# Context loaded before the earliest new punch, and how far after it findings may change: no
# detector remembers longer (detectors.MEMORY).
CONTEXT = MEMORY
# Where "outside the geofence" is measured against the nearest office when none matched.
NEAREST_PLACE_M = 50_000.0


def static_facts(
    v: Verdict,
    index: GeofenceIndex,
    bssids_by_place: dict[str, list[str]],
    points: StoredPoints | None = None,
) -> dict[str, Any]:
    """Per-punch facts that do not depend on other punches; stored with the punch."""
    assert v.fused is not None
    p = v.claim.punch
    landed = None if points is None else points.landing(p.location.lat, p.location.lon)
    fence_id: str | None = None
    distance: float | None = None
    registered: tuple[str, ...] = ()
    if p.kind in (PunchKind.clock_in, PunchKind.clock_out):
        match = v.place or next(
            iter(index.nearby(v.fused.lat, v.fused.lon, NEAREST_PLACE_M, kind="place", limit=1)),
            None,
        )
        if match is not None:
            fence_id, distance = match.fence.id, match.distance_m
            registered = tuple(sorted(bssids_by_place.get(fence_id, ())))
    elif v.customer is not None:
        fence_id, distance = v.customer.fence.id, v.customer.distance_m
    return {
        "fence_id": fence_id,
        "fence_distance_m": None if distance is None else round(distance, 1),
        "wifi_registered": list(registered),
        "wifi_seen": sorted({w.bssid for w in p.wifi}),
        "raw_accuracy_m": p.location.accuracy_m,
        "stored_point": None if landed is None else asdict(landed),
        "trust": [f.model_dump() for f in v.findings],
    }


def missing_required(punch: Any, requires: Sequence[str]) -> list[str]:
    """What the org asks of a field punch ("note", "photo") that this punch came without. Kept
    with the punch as sent, so a later change of the org's settings never re-judges it; whether
    it was a field punch is the detector's (`field_evidence_missing`)."""
    present = {"note": bool(punch.note.strip()), "photo": punch.photo_id is not None}
    return [what for what in requires if not present[what]]


def cross_params(
    org_id: str, user_id: str, rows: Sequence[NewPunch], policy: Policy
) -> dict[str, Any]:
    """Parameters of the store's cross-person reads for new punches, as the policy needs them.

    `device_since` is there when the device part is needed, `coords_since` when the coords part is.
    """
    earliest = min(r.trusted_time for r in rows)
    devices = {r.device_id for r in rows if r.device_id}
    coords = {(r.raw_lat, r.raw_lon) for r in rows}
    single = len(rows) == 1
    params: dict[str, Any] = {"org_id": org_id}
    if devices and policy.rules["shared_device"].enabled:
        params.update(
            devices=next(iter(devices)) if single else list(devices),
            user_id=user_id,
            device_since=earliest - timedelta(days=policy.shared_device_days),
        )
    if policy.rules["too_perfect"].enabled:
        if single:
            params["coords_lat"], params["coords_lon"] = next(iter(coords))
        else:
            params["coords"] = list(coords)
        params["coords_since"] = earliest - timedelta(days=policy.too_perfect_days)
    return params


def needs_both(params: dict[str, Any]) -> bool:
    """Whether both cross-person reads are needed (the usual case)."""
    return "device_since" in params and "coords_since" in params


def _fill(
    rows: Sequence[NewPunch],
    user_id: str,
    others: dict[str, set[str]],
    repeats: dict[tuple[float, float], list[tuple[str, datetime]]],
    tz: ZoneInfo,
) -> None:
    """Other people on the device; the same coordinates from others, or on another local day."""
    # Per spot: how many times seen, and the person's own repeats by local day. Counting per
    # row instead was rows x repeats: a batch of 1,000 punches from one fixed (mocked) spot
    # went through 10,000 repeats each.
    spots: dict[tuple[float, float], tuple[int, Counter[date]]] = {}
    for r in rows:
        r.facts["device_other_users"] = sorted(others.get(r.device_id or "", set()))
        spot = (r.raw_lat, r.raw_lon)
        tally = spots.get(spot)
        if tally is None:
            seen = repeats.get(spot, [])
            own = Counter(at.astimezone(tz).date() for other, at in seen if other == user_id)
            tally = spots[spot] = (len(seen), own)
        total, own_by_day = tally
        day = r.trusted_time.astimezone(tz).date()
        r.facts["identical_coords_elsewhere"] = total - own_by_day[day]


def take_cross(
    rows: Sequence[NewPunch], user_id: str, result: Iterable[Any], tz: ZoneInfo
) -> list[Any]:
    """Fill the cross-person facts of `rows` from the store's cross-person rows (parts
    `device`, `coords`); returns the rows of other parts."""
    others: dict[str, set[str]] = {}
    repeats: dict[tuple[float, float], list[tuple[str, datetime]]] = {}
    rest = []
    for r in result:
        if r.part == "device":
            others.setdefault(str(r.device_id), set()).add(r.user_id)
        elif r.part == "coords":
            repeats.setdefault((r.raw_lat, r.raw_lon), []).append((r.user_id, r.trusted_time))
        else:
            rest.append(r)
    _fill(rows, user_id, others, repeats, tz)
    return rest


@dataclass(frozen=True, slots=True)
class Window:
    """The person's stored punches around new ones, oldest first.

    `complete`: it holds every stored punch from its start on (none later, none cut by the
    limit), so the fold's final state is the state after the person's latest punch.
    """

    punches: list[Stored]
    complete: bool


def window_of(result: Iterable[Any], end: datetime) -> Window:
    """A Window from the rows of a `window` part and a `latest` part, oldest first."""
    stored: list[Stored] = []
    latest: datetime | None = None
    for r in result:
        if r.part == "window":
            stored.append(Stored(*r[1:]))
        else:
            latest = r.trusted_time
    stored.sort(key=lambda p: (p.trusted_time, p.id))
    complete = len(stored) < WINDOW_LIMIT and (latest is None or latest <= end)
    return Window(stored, complete)


def any_rule_on(policy: Policy) -> bool:
    """Whether any detector runs: with none, the person's window need not be read."""
    return any(rule.enabled for rule in policy.rules.values())


def facts_of(p: Any) -> PunchFacts:
    """PunchFacts of a punch: a NewPunch, a Stored one or an ORM row (the same attributes)."""
    f: dict[str, Any] = p.facts or {}
    return PunchFacts(
        id=p.id,
        user_id=p.user_id,
        kind=p.kind,
        trusted_time=p.trusted_time,
        captured_at=p.captured_at,
        received_at=p.received_at,
        time_source=p.time_source,
        offline=p.offline,
        lat=p.lat,
        lon=p.lon,
        accuracy_m=p.accuracy_m,
        raw_lat=p.raw_lat,
        raw_lon=p.raw_lon,
        mock=bool(p.mock),
        device_id=p.device_id,
        source=p.source,
        customer_id=p.customer_id,
        fence_id=f.get("fence_id"),
        fence_distance_m=f.get("fence_distance_m"),
        wifi_registered=tuple(f.get("wifi_registered", ())),
        wifi_seen=tuple(f.get("wifi_seen", ())),
        device_other_users=tuple(f.get("device_other_users", ())),
        identical_coords_elsewhere=int(f.get("identical_coords_elsewhere", 0)),
        raw_accuracy_m=f.get("raw_accuracy_m"),
        stored_point=f.get("stored_point"),
        photo=f.get("photo"),
        missing_required=tuple(f.get("missing_required", ())),
    )


WINDOW_LIMIT = 500  # stored punches read around new ones, at most


@dataclass(slots=True)
class Stored:
    """A stored punch as the window read gives it (no ORM churn): the attributes `facts_of`
    reads, and what reassessment changes (anomalies, status). The read's columns are these
    fields (punches/store/statements.py); a test checks they are NewPunch's."""

    id: str
    org_id: str
    user_id: str
    kind: str
    trusted_time: datetime
    captured_at: datetime
    received_at: datetime
    time_source: str
    offline: bool
    lat: float
    lon: float
    accuracy_m: float
    raw_lat: float
    raw_lon: float
    mock: bool
    device_id: str | None
    source: str
    customer_id: str | None
    facts: dict[str, Any]
    anomalies: list[dict[str, Any]]
    status: str


Order = tuple[datetime, str]  # (trusted time, id): the detectors' order


@dataclass(frozen=True, slots=True)
class Assessment:
    new: dict[str, list[dict[str, Any]]]  # new punch id → detector findings
    changed: dict[str, list[dict[str, Any]]]  # stored punch id → its new detector findings
    # The state after the person's latest punch and that punch's order, when known.
    state: PersonState | None = None
    upto: Order | None = None


def _dump(found: list[Finding]) -> list[dict[str, Any]]:
    return [
        {"rule": f.rule, "severity": f.severity, "detail": f.detail, "evidence": f.evidence}
        for f in found
    ]


def follows(upto: Order, new_rows: Sequence[NewPunch]) -> bool:
    """Whether every new punch sorts after `upto` (else it is a late arrival)."""
    return min((r.trusted_time, r.id) for r in new_rows) > upto


def carry(
    state: PersonState, new_rows: Sequence[NewPunch], policy: Policy, tz: ZoneInfo
) -> Assessment:
    """One step per new punch from the state after the person's latest punch (see `follows`).

    No stored punch comes after them, so no stored finding can change.
    """
    facts = [facts_of(r) for r in new_rows]
    findings, end = fold(facts, lambda _: policy, tz, start=state)
    last = max((f.trusted_time, f.id) for f in facts)
    return Assessment({pid: _dump(found) for pid, found in findings.items()}, {}, end, last)


def run(window: Window, new_rows: Sequence[NewPunch], policy: Policy, tz: ZoneInfo) -> Assessment:
    stored = window.punches
    new_ids = {r.id for r in new_rows}
    facts = [facts_of(p) for p in stored] + [facts_of(r) for r in new_rows]
    findings, end = fold(facts, lambda _: policy, tz)
    earliest = min(r.trusted_time for r in new_rows)

    def dump(pid: str) -> list[dict[str, Any]]:
        return _dump(findings.get(pid, []))

    changed: dict[str, list[dict[str, Any]]] = {}
    for p in stored:
        # Only punches after the earliest new one can see a different past.
        if p.trusted_time < earliest:
            continue
        trusted = _trust_rules(p)  # a trust finding owns its rule name (see `combined`)
        now = [f for f in dump(p.id) if f["rule"] not in trusted]
        before = [a for a in p.anomalies if a["rule"] not in trusted]
        if _rules(now) != _rules(before):
            changed[p.id] = now
    if not window.complete:
        return Assessment({pid: dump(pid) for pid in new_ids}, changed)
    last = max((f.trusted_time, f.id) for f in facts)
    return Assessment({pid: dump(pid) for pid in new_ids}, changed, end, last)


def _rules(findings: Iterable[dict[str, Any]]) -> list[str]:
    return sorted(f["rule"] for f in findings)


def _trust_rules(p: Stored) -> set[str]:
    return {f["rule"] for f in (p.facts or {}).get("trust", [])}


def trust_findings(p: Stored) -> list[dict[str, Any]]:
    return list((p.facts or {}).get("trust", []))


def combined(trust: list[dict[str, Any]], found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A punch's anomalies: the pipeline's trust findings, then the detectors' other rules.

    One finding per rule (anomaly rows are unique per punch and rule): where a detector repeats
    a trust check's rule (a signature with no device_id is also `unknown_device`), the trust
    finding, the stricter, stands.
    """
    seen = {f["rule"] for f in trust}
    return trust + [f for f in found if f["rule"] not in seen]
