"""Pure anomaly detectors: (state, punch, policy, zone) → (new state, findings), one per rule.

Each stateful detector owns one slice of `PersonState` and keeps it up to date even while its rule
is disabled, so switching a rule on or off never changes what the other rules see. `assess` folds
`step` over a person's punches in trusted-time order: findings depend on when things happened, never
on when the phone managed to upload them.

Two judgement calls, documented here because reviewers will ask:

* A repeat of the same kind (same customer, for visits) within `duplicate_window_min` is a double
  tap: `duplicate` reports it and `sequence` stays quiet, even when `duplicate` is disabled, so one
  tap never yields two findings. A second clock_in later the same local day without a clock_out is a
  `sequence` finding (the person forgot to clock out, or is re-punching).
* A clock_out pairs with an open clock_in of the same local day, or with one at most
  `OVERNIGHT_SHIFT` earlier (night shifts cross midnight). A forgotten clock_out never spills into
  the next day: the next day's clock_in simply opens a new day.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from fieldpunch.anomalies.facts import Finding, PunchFacts
from fieldpunch.anomalies.policy import Policy
from fieldpunch.geo.distance import haversine_m

# The furthest back any detector looks: state older than this never changes a finding, so a
# fold started this long before a punch judges it exactly as a fold over the whole history does
# (the service relies on it: it either re-folds a window or carries the state forward).
MEMORY = timedelta(days=2)
# A clock_out may close a clock_in from the previous local day this long before (night shifts).
OVERNIGHT_SHIFT = timedelta(hours=16)
# An unclosed visit_in older than this is abandoned: it pairs with no visit_out and blocks nothing.
MAX_OPEN_VISIT = timedelta(hours=24)
# Punches this far before a shift starts or after it ends are off schedule whatever their kind;
# closer ones are ordinary early arrivals and overtime.
FAR_OUTSIDE_SHIFT = timedelta(hours=4)
_OVERNIGHT_S = OVERNIGHT_SHIFT.total_seconds()
_MEMORY_S = MEMORY.total_seconds()
_MAX_OPEN_S = MAX_OPEN_VISIT.total_seconds()

VISIT_KINDS = frozenset({"visit_in", "visit_out"})

_EMPTY: Mapping[str, PunchFacts] = MappingProxyType({})


def _empty() -> Mapping[str, PunchFacts]:
    return _EMPTY


@dataclass(frozen=True, slots=True)
class PersonState:
    """What the detectors remember of one person's earlier punches (in trusted-time order).

    `previous` is the last punch with a measured position (corrections excluded), for speed.
    """

    previous: PunchFacts | None = None
    last_of_kind: Mapping[str, PunchFacts] = field(default_factory=_empty)
    open_visits: Mapping[str, PunchFacts] = field(default_factory=_empty)
    clocked_in_day: date | None = None


Detector = Callable[[PersonState, PunchFacts, Policy, ZoneInfo], tuple[PersonState, list[Finding]]]


# helpers ---------------------------------------------------------------------------------------


def _measured(punch: PunchFacts) -> bool:
    """Corrections carry an approved time, no measured fix: location/time/device rules skip them."""
    return punch.source != "correction"


def _on(policy: Policy, rule: str) -> bool:
    return policy.rules[rule].enabled


def _found(policy: Policy, rule: str, detail: str, **evidence: Any) -> list[Finding]:
    return [Finding(rule, policy.rules[rule].severity, detail, evidence)]


def _duration(seconds: float) -> str:
    """Seconds in the unit a manager reads at a glance."""
    s = abs(seconds)
    if s < 90:
        return f"{s:.0f} s"
    if s < 90 * 60:
        return f"{s / 60:.0f} min"
    if s < 48 * 3600:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} days"


def _clock(t: datetime, tz: ZoneInfo) -> str:
    return t.astimezone(tz).strftime("%H:%M")


def _seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()


def _decimals(x: float) -> int:
    """Digits after the point in the shortest repr (what the phone's JSON number carried)."""
    if not math.isfinite(x):
        return 0
    exponent = Decimal(repr(x)).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _bssid(b: str) -> str:
    return b.strip().lower().replace("-", ":")


def _repeat_of(state: PersonState, punch: PunchFacts, policy: Policy) -> PunchFacts | None:
    """The earlier punch this one repeats within the duplicate window (a double tap), if any."""
    last = state.last_of_kind.get(punch.kind)
    if last is None:
        return None
    if punch.kind in VISIT_KINDS and last.customer_id != punch.customer_id:
        return None  # two shops in one mall within minutes is a real route, not a double tap
    gap = abs(_seconds(punch.trusted_time, last.trusted_time))
    return last if gap <= policy.duplicate_window_min * 60 else None


# location --------------------------------------------------------------------------------------


def outside_geofence(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """Beyond the fence edge by more than the fix's own accuracy (capped): jitter is not absence."""
    rule = "outside_geofence"
    distance = punch.fence_distance_m
    if not _on(policy, rule) or not _measured(punch) or distance is None:
        return state, []
    tolerance = min(punch.accuracy_m, policy.geofence_tolerance_max_m)
    if distance <= tolerance:
        return state, []
    where = "the customer's" if punch.kind in VISIT_KINDS else "the place's"
    return state, _found(
        policy,
        rule,
        f"Punched {distance:.0f} m outside {where} geofence; the location's accuracy "
        f"({punch.accuracy_m:.0f} m) explains at most {tolerance:.0f} m.",
        fence_id=punch.fence_id,
        customer_id=punch.customer_id,
        distance_outside_m=round(distance, 1),
        accuracy_m=round(punch.accuracy_m, 1),
        tolerance_m=round(tolerance, 1),
        lat=punch.lat,
        lon=punch.lon,
    )


def low_accuracy(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """A fix too vague to say where the punch happened (basements, malls, network-only)."""
    rule = "low_accuracy"
    if not _on(policy, rule) or not _measured(punch) or punch.accuracy_m <= policy.max_accuracy_m:
        return state, []
    return state, _found(
        policy,
        rule,
        f"The location was only accurate to {punch.accuracy_m:.0f} m "
        f"(limit {policy.max_accuracy_m:.0f} m), so where this punch happened is uncertain.",
        accuracy_m=round(punch.accuracy_m, 1),
        max_accuracy_m=policy.max_accuracy_m,
        lat=punch.lat,
        lon=punch.lon,
    )


def impossible_speed(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """Faster than any plausible travel from the previous punch, after granting both accuracies.

    Straight-line distance understates a road trip, so a real car never trips it; only a spoofed or
    borrowed position does. Owns `state.previous`.
    """
    rule = "impossible_speed"
    if not _measured(punch):
        return state, []  # a correction's position was never measured: not a baseline either
    prev = state.previous
    new = PersonState(punch, state.last_of_kind, state.open_visits, state.clocked_in_day)
    if prev is None or not _on(policy, rule) or punch.trusted_time - prev.trusted_time > MEMORY:
        return new, []  # days apart, any straight-line trip is possible: no baseline
    distance = haversine_m(prev.lat, prev.lon, punch.lat, punch.lon)
    allowance = prev.accuracy_m + punch.accuracy_m
    beyond = distance - allowance
    if beyond <= 0:
        return new, []
    seconds = abs(_seconds(punch.trusted_time, prev.trusted_time))
    speed = math.inf if seconds == 0 else beyond / seconds * 3.6
    if speed <= policy.max_speed_kmh:
        return new, []
    if seconds == 0:
        detail = (
            f"Punched {distance / 1000:,.1f} km from the previous punch at the same moment, "
            f"far beyond both locations' accuracy ({allowance:.0f} m together)."
        )
    else:
        detail = (
            f"Punched {distance / 1000:,.1f} km from the previous punch {_duration(seconds)} "
            f"earlier: that needs at least {speed:,.0f} km/h even allowing for location "
            f"accuracy (limit {policy.max_speed_kmh:.0f} km/h)."
        )
    return new, _found(
        policy,
        rule,
        detail,
        previous_punch_id=prev.id,
        previous_time=prev.trusted_time.isoformat(),
        previous_lat=prev.lat,
        previous_lon=prev.lon,
        lat=punch.lat,
        lon=punch.lon,
        distance_m=round(distance, 1),
        accuracy_allowance_m=round(allowance, 1),
        seconds=round(seconds, 1),
        speed_kmh=None if math.isinf(speed) else round(speed, 1),
        max_speed_kmh=policy.max_speed_kmh,
    )


# time ------------------------------------------------------------------------------------------


def clock_skew(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """Phone clock vs a trusted time: a changed clock is how punches get backdated."""
    rule = "clock_skew"
    if (
        not _on(policy, rule)
        or not _measured(punch)
        or punch.time_source not in ("proof", "server")
    ):
        return state, []  # with device time there is nothing independent to compare against
    skew = _seconds(punch.captured_at, punch.trusted_time)
    if abs(skew) <= policy.max_clock_skew_s:
        return state, []
    direction = "ahead of" if skew > 0 else "behind"
    return state, _found(
        policy,
        rule,
        f"The phone's clock was {_duration(skew)} {direction} the trusted time "
        f"(limit {_duration(policy.max_clock_skew_s)}).",
        skew_s=round(skew, 1),
        captured_at=punch.captured_at.isoformat(),
        trusted_time=punch.trusted_time.isoformat(),
        time_source=punch.time_source,
        max_clock_skew_s=policy.max_clock_skew_s,
    )


def stale_offline(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """Reached the server long after it happened: old punches synced late deserve a second look."""
    rule = "stale_offline"
    if not _on(policy, rule) or not _measured(punch):
        return state, []
    delay = _seconds(punch.received_at, punch.trusted_time)
    if delay <= policy.stale_offline_h * 3600:
        return state, []
    return state, _found(
        policy,
        rule,
        f"Recorded offline and synced {_duration(delay)} later "
        f"(limit {policy.stale_offline_h:g} h).",
        delay_s=round(delay, 1),
        delay_h=round(delay / 3600, 2),
        trusted_time=punch.trusted_time.isoformat(),
        received_at=punch.received_at.isoformat(),
        time_source=punch.time_source,
        offline=punch.offline,
    )


# device ----------------------------------------------------------------------------------------


def mock_location(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """The OS itself says the position was simulated."""
    rule = "mock_location"
    if not _on(policy, rule) or not _measured(punch) or not punch.mock:
        return state, []
    return state, _found(
        policy,
        rule,
        "The phone reported a simulated location (a mock-location app or developer setting).",
        mock=True,
        device_id=punch.device_id,
        lat=punch.lat,
        lon=punch.lon,
    )


def unknown_device(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """No enrolled device: nothing ties the punch to this person's phone."""
    rule = "unknown_device"
    if not _on(policy, rule) or not _measured(punch) or punch.device_id is not None:
        return state, []
    return state, _found(
        policy,
        rule,
        "The punch came from no enrolled device, so nothing ties it to this person's phone.",
        device_id=None,
    )


def shared_device(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """One phone, several people: the classic buddy punch (a colleague punches for you)."""
    rule = "shared_device"
    if (
        not _on(policy, rule)
        or not _measured(punch)
        or punch.device_id is None
        or not punch.device_other_users
    ):
        return state, []
    others = sorted(set(punch.device_other_users) - {punch.user_id})
    if not others:
        return state, []
    who = "1 other person" if len(others) == 1 else f"{len(others)} other people"
    return state, _found(
        policy,
        rule,
        f"This phone was also used by {who} in the last {policy.shared_device_days} days: "
        "possible buddy punching.",
        device_id=punch.device_id,
        other_user_ids=others,
        days=policy.shared_device_days,
    )


def wifi_mismatch(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """The place's Wi-Fi is registered and the phone scanned, yet saw none of it.

    An empty scan is no evidence: iOS gives apps no scan at all.
    """
    rule = "wifi_mismatch"
    if (
        not _on(policy, rule)
        or not _measured(punch)
        or not punch.wifi_registered
        or not punch.wifi_seen
    ):
        return state, []
    registered = {_bssid(b) for b in punch.wifi_registered}
    seen = {_bssid(b) for b in punch.wifi_seen}
    if registered & seen:
        return state, []
    return state, _found(
        policy,
        rule,
        f"The phone saw {len(seen)} Wi-Fi network(s) but none of the {len(registered)} "
        "registered at this place.",
        fence_id=punch.fence_id,
        registered_bssids=sorted(registered),
        seen_bssids=sorted(seen),
    )


# pattern ---------------------------------------------------------------------------------------


def duplicate(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """The same kind again within minutes (same customer, for visits). Owns `last_of_kind`."""
    rule = "duplicate"
    earlier = _repeat_of(state, punch, policy)
    kinds = MappingProxyType({**state.last_of_kind, punch.kind: punch})
    new = PersonState(state.previous, kinds, state.open_visits, state.clocked_in_day)
    if earlier is None or not _on(policy, rule):
        return new, []
    gap = abs(_seconds(punch.trusted_time, earlier.trusted_time))
    return new, _found(
        policy,
        rule,
        f"A second {punch.kind.replace('_', '-')} {_duration(gap)} after the previous one "
        f"(window {policy.duplicate_window_min} min).",
        previous_punch_id=earlier.id,
        previous_time=earlier.trusted_time.isoformat(),
        seconds=round(gap, 1),
        window_min=policy.duplicate_window_min,
        customer_id=punch.customer_id,
    )


def off_schedule(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """Late clock-in, early clock-out, or any punch far outside the shift; no shift, no opinion."""
    rule = "off_schedule"
    shift = punch.shift
    if shift is None or not _on(policy, rule):
        return state, []
    t = punch.trusted_time
    before = _seconds(shift.start, t)
    after = _seconds(t, shift.end)
    late = _seconds(t, shift.start + timedelta(minutes=shift.grace_late_min))
    early = _seconds(shift.end - timedelta(minutes=shift.grace_early_min), t)
    far = FAR_OUTSIDE_SHIFT.total_seconds()
    if before > far or after > far:
        reason, off = "outside_shift", max(before, after)
        what = "before the shift starts" if before > 0 else "after the shift ends"
    elif punch.kind == "clock_in" and late > 0:
        reason, off = "late", late
        what = f"late ({shift.grace_late_min} min grace)"
    elif punch.kind == "clock_out" and early > 0:
        reason, off = "early_leave", early
        what = f"early ({shift.grace_early_min} min grace)"
    else:
        return state, []
    verb = {"late": "Clocked in", "early_leave": "Clocked out"}.get(reason, "Punched")
    hours = f"{_clock(shift.start, tz)}–{_clock(shift.end, tz)}"
    detail = f"{verb} {_duration(off)} {what}; the shift is {hours}."
    return state, _found(
        policy,
        rule,
        detail,
        reason=reason,
        seconds=round(off, 1),
        punch_time=t.isoformat(),
        shift_start=shift.start.isoformat(),
        shift_end=shift.end.isoformat(),
        grace_late_min=shift.grace_late_min,
        grace_early_min=shift.grace_early_min,
    )


def too_perfect(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """Precise coordinates repeated to the last digit elsewhere: replayed or spoofed fixes.

    Real GPS noise makes that vanishingly rare. Coarse coordinates repeat honestly, hence the
    decimals threshold; the longer axis counts because a float drops trailing zeros.
    """
    rule = "too_perfect"
    if not _on(policy, rule) or not _measured(punch) or punch.identical_coords_elsewhere <= 0:
        return state, []
    decimals = max(_decimals(punch.raw_lat), _decimals(punch.raw_lon))
    if decimals < policy.too_perfect_min_decimals:
        return state, []
    claimed = punch.raw_accuracy_m
    if claimed is not None and claimed > policy.too_perfect_max_accuracy_m:
        return state, []  # a network fix: identical points are how network positioning works
    n = punch.identical_coords_elsewhere
    return state, _found(
        policy,
        rule,
        f"Exactly these coordinates ({punch.raw_lat}, {punch.raw_lon}) were also reported by "
        f"{n} other punch(es) in the last {policy.too_perfect_days} days; real GPS fixes "
        "almost never repeat to the last digit.",
        raw_lat=punch.raw_lat,
        raw_lon=punch.raw_lon,
        decimals=decimals,
        accuracy_m=punch.raw_accuracy_m,
        identical_elsewhere=n,
        days=policy.too_perfect_days,
    )


def _open_visits(visits: Mapping[str, PunchFacts], now: datetime) -> dict[str, PunchFacts]:
    """Open visits minus the abandoned ones, so the map stays small over long windows."""
    return {c: v for c, v in visits.items() if _seconds(now, v.trusted_time) <= _MAX_OPEN_S}


def sequence(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """Out-of-order pairs: clock_out with no clock_in, visit_out with no visit_in, re-opening.

    Owns `clocked_in_day` and `open_visits`; reads `last_of_kind` (owned by `duplicate`, which
    therefore runs after it) for double taps and night shifts.
    """
    rule = "sequence"
    on = _on(policy, rule)
    t = punch.trusted_time
    kind = punch.kind
    if kind in ("clock_in", "clock_out"):
        day = t.astimezone(tz).date()
        opened = state.clocked_in_day  # the day of the last clock_in, while not clocked out
        last_in = state.last_of_kind.get("clock_in")
        if opened is not None and (
            last_in is None or _seconds(t, last_in.trusted_time) > _MEMORY_S
        ):
            opened = None  # forgotten beyond MEMORY, like everything else
        if kind == "clock_in":
            new = PersonState(state.previous, state.last_of_kind, state.open_visits, day)
            if not on or opened != day or _repeat_of(state, punch, policy) is not None:
                return new, []
            earlier = state.last_of_kind.get("clock_in")
            since = f" at {_clock(earlier.trusted_time, tz)}" if earlier is not None else ""
            return new, _found(
                policy,
                rule,
                f"Clocked in again without clocking out since the earlier clock-in{since}.",
                reason="clock_in_twice",
                previous_punch_id=earlier.id if earlier is not None else None,
                local_day=day.isoformat(),
            )
        new = PersonState(state.previous, state.last_of_kind, state.open_visits, None)
        if not on or opened == day or _repeat_of(state, punch, policy) is not None:
            return new, []
        earlier = state.last_of_kind.get("clock_in")
        if (
            opened is not None
            and earlier is not None
            and 0 <= _seconds(t, earlier.trusted_time) <= _OVERNIGHT_S
        ):
            return new, []  # a night shift crossing midnight
        out = state.last_of_kind.get("clock_out")
        if (
            out is not None
            and out.trusted_time.astimezone(tz).date() == day
            and (earlier is None or earlier.trusted_time <= out.trusted_time)
        ):
            # The day was opened and closed already: say so, not "without clocking in".
            return new, _found(
                policy,
                rule,
                f"Clocked out again: already clocked out at {_clock(out.trusted_time, tz)} "
                "without clocking in since.",
                reason="clock_out_twice",
                previous_punch_id=out.id,
                local_day=day.isoformat(),
            )
        return new, _found(
            policy,
            rule,
            "Clocked out without clocking in earlier that day.",
            reason="clock_out_without_clock_in",
            local_day=day.isoformat(),
            open_clock_in_day=opened.isoformat() if opened is not None else None,
        )
    if kind not in VISIT_KINDS or punch.customer_id is None:
        return state, []  # a visit with no customer cannot be paired
    customer = punch.customer_id
    visits = _open_visits(state.open_visits, t)
    opened_visit = visits.pop(customer, None)
    if kind == "visit_in":
        visits[customer] = punch
    new = PersonState(
        state.previous, state.last_of_kind, MappingProxyType(visits), state.clocked_in_day
    )
    if not on or _repeat_of(state, punch, policy) is not None:
        return new, []
    if kind == "visit_in":
        if opened_visit is None:
            return new, []
        return new, _found(
            policy,
            rule,
            "Checked in at this customer again without checking out of the visit started at "
            f"{_clock(opened_visit.trusted_time, tz)}.",
            reason="visit_in_twice",
            customer_id=customer,
            previous_punch_id=opened_visit.id,
            previous_time=opened_visit.trusted_time.isoformat(),
        )
    if opened_visit is not None:
        return new, []
    return new, _found(
        policy,
        rule,
        "Checked out of a customer visit that was never checked in.",
        reason="visit_out_without_visit_in",
        customer_id=customer,
    )


# running them ----------------------------------------------------------------------------------

# Fixed order; `sequence` must precede `duplicate` (it reads the last_of_kind duplicate writes).
DETECTORS: tuple[Detector, ...] = (
    outside_geofence,
    low_accuracy,
    impossible_speed,
    clock_skew,
    stale_offline,
    mock_location,
    unknown_device,
    shared_device,
    wifi_mismatch,
    off_schedule,
    too_perfect,
    sequence,
    duplicate,
)


def step(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """Run every detector on one punch; the state threads through them."""
    findings: list[Finding] = []
    for detect in DETECTORS:
        state, found = detect(state, punch, policy, tz)
        if found:
            findings.extend(found)
    return state, findings


def _order(punch: PunchFacts) -> tuple[datetime, str]:
    return punch.trusted_time, punch.id


def assess(
    punches: Iterable[PunchFacts],
    policy_of: Callable[[PunchFacts], Policy],
    tz: ZoneInfo,
    start: PersonState | None = None,
) -> dict[str, list[Finding]]:
    """Findings for one person's punches given in any order: punch id → findings.

    Sorting by (trusted time, id) before folding makes the result independent of arrival order,
    so recomputing a window whenever a late offline batch lands gives what in-order arrival would.
    """
    return fold(punches, policy_of, tz, start)[0]


def fold(
    punches: Iterable[PunchFacts],
    policy_of: Callable[[PunchFacts], Policy],
    tz: ZoneInfo,
    start: PersonState | None = None,
) -> tuple[dict[str, list[Finding]], PersonState]:
    """`assess`, and the state after the last punch (to carry forward to the next one)."""
    ordered = sorted(punches, key=_order)
    if len({p.id for p in ordered}) != len(ordered):
        raise ValueError("punch ids must be unique")
    if len({p.user_id for p in ordered}) > 1:
        raise ValueError("assess judges one person's punches at a time")
    state = start if start is not None else PersonState()
    out: dict[str, list[Finding]] = {}
    for punch in ordered:
        state, out[punch.id] = step(state, punch, policy_of(punch), tz)
    return out, state
