"""Running the detectors inside the punch transaction.

A person's findings depend on their punches in trusted-time order, never on arrival order.
New punches that come after everything the person has punched step from the detectors' memory
on the chain head (`carry`; see anomalies/memory.py). Otherwise the intake re-folds the
person's window around the new punches (`context`, `run`) and applies what changed to punches
already stored (a late clock_in can explain an earlier "clock_out without clock_in").
Cross-person facts (a device shared by several people, coordinates repeated elsewhere) are
looked up once per intake and kept with the punch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, cast, func, literal, null, select, tuple_, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.anomalies.detectors import MEMORY, PersonState, fold
from fieldpunch.anomalies.facts import Finding, PunchFacts
from fieldpunch.anomalies.policy import Policy
from fieldpunch.db.base import table_of
from fieldpunch.geo.geofence_index import GeofenceIndex
from fieldpunch.punches.models import Punch
from fieldpunch.punches.pipeline import Verdict
from fieldpunch.punches.schemas import PunchKind

# Context loaded before the earliest new punch, and how far after it findings may change: no
# detector remembers longer (detectors.MEMORY).
CONTEXT = MEMORY
# Where "outside the geofence" is measured against the nearest office when none matched.
NEAREST_PLACE_M = 50_000.0


def static_facts(
    v: Verdict, index: GeofenceIndex, bssids_by_place: dict[str, list[str]]
) -> dict[str, Any]:
    """Per-punch facts that do not depend on other punches; stored with the punch."""
    assert v.fused is not None
    p = v.claim.punch
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
        "trust": [f.model_dump() for f in v.findings],
    }


_p = table_of(Punch)


def _among(col: Any, name: str, single: bool) -> Any:
    """`col` equal to the value bound to `name` (one punch), or in the list bound to it.

    An expanding IN is rendered into the SQL text on every execution (~0.1 ms for a statement
    of this size, a tenth of a single punch's server time): a single punch binds plain values.
    """
    return col == bindparam(name) if single else col.in_(bindparam(name, expanding=True))


def _on_device(other: Any, single: bool) -> Any:
    return select(_p.c.device_id, _p.c.user_id).where(
        _p.c.org_id == bindparam("org_id"),
        _among(_p.c.device_id, "devices", single),
        other,
        _p.c.trusted_time >= bindparam("device_since"),
    )


def _same_coords(single: bool) -> Any:
    at = (
        and_(_p.c.raw_lat == bindparam("coords_lat"), _p.c.raw_lon == bindparam("coords_lon"))
        if single
        else tuple_(_p.c.raw_lat, _p.c.raw_lon).in_(bindparam("coords", expanding=True))
    )
    return (
        select(_p.c.raw_lat, _p.c.raw_lon, _p.c.user_id, _p.c.trusted_time)
        .where(_p.c.org_id == bindparam("org_id"), at)
        .where(_p.c.trusted_time >= bindparam("coords_since"))
        .limit(10_000)
    )


@dataclass(frozen=True, slots=True)
class CrossReads:
    """The cross-person reads, for one punch (`single`) or several; rows tagged by `part`.

    `device`: other people on the device (the ids below the person's and above it, two ranges
    of ix_punches_org_device_user_time that skip the person's own punches, most of the
    device's). `coords`: identical raw coordinates. `both` in one round trip when both rules
    need them (the usual case); the intake adds its idempotency read to it (`take_cross`).
    """

    device: Any
    coords: Any
    both: Any
    shared: Any  # subqueries, for the window statement
    same: Any


def _cross_reads(single: bool) -> CrossReads:
    others = union_all(
        _on_device(_p.c.user_id < bindparam("user_id"), single),
        _on_device(_p.c.user_id > bindparam("user_id"), single),
    ).subquery()
    shared = select(others.c.device_id, others.c.user_id).distinct().subquery()
    same = _same_coords(single).subquery()
    device = select(
        literal("device").label("part"),
        shared.c.device_id,
        shared.c.user_id,
        cast(null(), _p.c.raw_lat.type).label("raw_lat"),
        cast(null(), _p.c.raw_lon.type).label("raw_lon"),
        cast(null(), _p.c.trusted_time.type).label("trusted_time"),
    )
    coords = select(
        literal("coords").label("part"),
        cast(null(), _p.c.device_id.type).label("device_id"),
        same.c.user_id,
        same.c.raw_lat,
        same.c.raw_lon,
        same.c.trusted_time,
    )
    return CrossReads(device, coords, union_all(device, coords), shared, same)


CROSS = {single: _cross_reads(single) for single in (True, False)}


def cross_reads(rows: Sequence[Any]) -> CrossReads:
    """The statements for these rows (their parameters: `cross_params`)."""
    return CROSS[len(rows) == 1]


def cross_params(
    org_id: str, user_id: str, rows: Sequence[dict[str, Any]], policy: Policy
) -> dict[str, Any]:
    """Parameters of `cross_reads(rows)` for the reads the policy needs.

    `device_since` is there when the device part is needed, `coords_since` when the coords part is.
    """
    earliest = min(r["trusted_time"] for r in rows)
    devices = {r["device_id"] for r in rows if r["device_id"]}
    coords = {(r["raw_lat"], r["raw_lon"]) for r in rows}
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
    rows: Sequence[dict[str, Any]],
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
        r["facts"]["device_other_users"] = sorted(others.get(r["device_id"] or "", set()))
        spot = (r["raw_lat"], r["raw_lon"])
        tally = spots.get(spot)
        if tally is None:
            seen = repeats.get(spot, [])
            own = Counter(at.astimezone(tz).date() for other, at in seen if other == user_id)
            tally = spots[spot] = (len(seen), own)
        total, own_by_day = tally
        day = r["trusted_time"].astimezone(tz).date()
        r["facts"]["identical_coords_elsewhere"] = total - own_by_day[day]


def take_cross(
    rows: Sequence[dict[str, Any]], user_id: str, result: Iterable[Any], tz: ZoneInfo
) -> list[Any]:
    """Fill the cross-person facts of `rows` from a read of `CrossReads` and more; the rest."""
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


async def cross_facts(
    session: AsyncSession,
    org_id: str,
    user_id: str,
    rows: Sequence[dict[str, Any]],
    policy: Policy,
    tz: ZoneInfo,
) -> None:
    """Fill device_other_users and identical_coords_elsewhere for new punch rows.

    Only for the rules that use them (shared_device, too_perfect); one query for both.
    """
    if not rows:
        return
    params = cross_params(org_id, user_id, rows, policy)
    reads = cross_reads(rows)
    parts = [
        part
        for key, part in (("device_since", reads.device), ("coords_since", reads.coords))
        if key in params
    ]
    if not parts:
        take_cross(rows, user_id, [], tz)  # the rules are off: no others, no repeats
        return
    stmt = parts[0] if len(parts) == 1 else reads.both
    take_cross(rows, user_id, await session.execute(stmt, params), tz)


@dataclass(frozen=True, slots=True)
class Window:
    """The person's stored punches around new ones, oldest first.

    `complete`: it holds every stored punch from its start on (none later, none cut by the
    limit), so the fold's final state is the state after the person's latest punch.
    """

    punches: list[Stored]
    complete: bool


async def context(
    session: AsyncSession,
    org_id: str,
    user_id: str,
    rows: Sequence[dict[str, Any]],
    policy: Policy,
    tz: ZoneInfo,
) -> Window:
    """Cross-person facts filled into `rows`, and the person's window around them.

    One statement when all three reads are needed (the usual case), else one per read.
    """
    times = [r["trusted_time"] for r in rows]
    start, end = min(times) - CONTEXT, max(times) + CONTEXT
    params = cross_params(org_id, user_id, rows, policy)
    if not needs_both(params):
        await cross_facts(session, org_id, user_id, rows, policy, tz)
        return await window(session, org_id, user_id, start, end)
    params.update(start=start, end=end)  # user_id: the same person in every part
    stmt = _ALL[len(rows) == 1]
    return _window_of(take_cross(rows, user_id, await session.execute(stmt, params), tz), end)


def _window_of(result: Iterable[Any], end: datetime) -> Window:
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


_FIELDS = (
    "id",
    "user_id",
    "kind",
    "trusted_time",
    "captured_at",
    "received_at",
    "time_source",
    "offline",
    "lat",
    "lon",
    "accuracy_m",
    "raw_lat",
    "raw_lon",
    "mock",
    "device_id",
    "source",
    "customer_id",
    "facts",
)


def facts_of(row: Any) -> PunchFacts:
    """PunchFacts from a stored punch (ORM row) or a row about to be stored (dict)."""
    d: dict[str, Any] = row if isinstance(row, dict) else {k: getattr(row, k) for k in _FIELDS}
    f: dict[str, Any] = d.get("facts") or {}
    return PunchFacts(
        id=d["id"],
        user_id=d["user_id"],
        kind=d["kind"],
        trusted_time=d["trusted_time"],
        captured_at=d["captured_at"],
        received_at=d["received_at"],
        time_source=d["time_source"],
        offline=d["offline"],
        lat=d["lat"],
        lon=d["lon"],
        accuracy_m=d["accuracy_m"],
        raw_lat=d["raw_lat"],
        raw_lon=d["raw_lon"],
        mock=bool(d["mock"]),
        device_id=d["device_id"],
        source=d["source"],
        customer_id=d["customer_id"],
        fence_id=f.get("fence_id"),
        fence_distance_m=f.get("fence_distance_m"),
        wifi_registered=tuple(f.get("wifi_registered", ())),
        wifi_seen=tuple(f.get("wifi_seen", ())),
        device_other_users=tuple(f.get("device_other_users", ())),
        identical_coords_elsewhere=int(f.get("identical_coords_elsewhere", 0)),
        raw_accuracy_m=f.get("raw_accuracy_m"),
    )


@dataclass(slots=True)
class Stored:
    """The columns of a stored punch that detectors and reassessment need (no ORM churn)."""

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


_STORED = [_p.c[f] for f in Stored.__slots__]  # type: ignore[attr-defined]
WINDOW_LIMIT = 500
_WINDOW = (
    select(*_STORED)
    .where(
        _p.c.org_id == bindparam("org_id"),
        _p.c.user_id == bindparam("user_id"),
        _p.c.trusted_time >= bindparam("start"),
        _p.c.trusted_time <= bindparam("end"),
    )
    .order_by(_p.c.trusted_time.desc(), _p.c.id.desc())
    .limit(WINDOW_LIMIT)
)


_w = _WINDOW.subquery()
# The person's latest trusted time, wherever it is: is there anything after the window?
_LATEST = select(func.max(_p.c.trusted_time).label("trusted_time")).where(
    _p.c.org_id == bindparam("org_id"), _p.c.user_id == bindparam("user_id")
)
_l = _LATEST.subquery()


async def window(
    session: AsyncSession, org_id: str, user_id: str, start: datetime, end: datetime
) -> Window:
    """The person's latest stored punches in [start, end] (trusted time), oldest first."""
    params = {"org_id": org_id, "user_id": user_id, "start": start, "end": end}
    return _window_of(await session.execute(_WINDOW_AND_LATEST, params), end)


def _padded(part: str, given: dict[str, Any]) -> Any:
    """A branch of _ALL: Stored's columns, NULL (typed) where this part has none."""
    return select(
        literal(part).label("part"),
        *[
            given[f].label(f) if f in given else cast(null(), _p.c[f].type).label(f)
            for f in Stored.__slots__  # type: ignore[attr-defined]
        ],
    )


_WINDOW_PART = select(literal("window").label("part"), *[_w.c[f] for f in Stored.__slots__])  # type: ignore[attr-defined]
_LATEST_PART = _padded("latest", {"trusted_time": _l.c.trusted_time})
_WINDOW_AND_LATEST = union_all(_WINDOW_PART, _LATEST_PART)


def _all(reads: CrossReads) -> Any:
    """The window and both cross-person reads in one round trip, rows tagged by `part`."""
    return union_all(
        _WINDOW_PART,
        _LATEST_PART,
        _padded(
            "device", {"device_id": reads.shared.c.device_id, "user_id": reads.shared.c.user_id}
        ),
        _padded(
            "coords",
            {
                "user_id": reads.same.c.user_id,
                "raw_lat": reads.same.c.raw_lat,
                "raw_lon": reads.same.c.raw_lon,
                "trusted_time": reads.same.c.trusted_time,
            },
        ),
    )


_ALL = {single: _all(reads) for single, reads in CROSS.items()}


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


def follows(upto: Order, new_rows: Sequence[dict[str, Any]]) -> bool:
    """Whether every new punch sorts after `upto` (else it is a late arrival)."""
    return min((r["trusted_time"], r["id"]) for r in new_rows) > upto


def carry(
    state: PersonState, new_rows: Sequence[dict[str, Any]], policy: Policy, tz: ZoneInfo
) -> Assessment:
    """One step per new punch from the state after the person's latest punch (see `follows`).

    No stored punch comes after them, so no stored finding can change.
    """
    facts = [facts_of(r) for r in new_rows]
    findings, end = fold(facts, lambda _: policy, tz, start=state)
    last = max((f.trusted_time, f.id) for f in facts)
    return Assessment({pid: _dump(found) for pid, found in findings.items()}, {}, end, last)


def run(
    window: Window, new_rows: Sequence[dict[str, Any]], policy: Policy, tz: ZoneInfo
) -> Assessment:
    stored = window.punches
    new_ids = {r["id"] for r in new_rows}
    facts = [facts_of(p) for p in stored] + [facts_of(r) for r in new_rows]
    findings, end = fold(facts, lambda _: policy, tz)
    earliest = min(r["trusted_time"] for r in new_rows)

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
