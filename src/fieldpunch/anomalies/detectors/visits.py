"""Customer visits: a check-out far from the customer (`visit_out_far`), a visit shorter than
the org's minimum (`visit_too_short`), check-ins and check-outs that do not pair
(`visit_unpaired`).

`visit_unpaired` owns `open_visits` (customer → the open visit_in) and runs last of the three:
the other two read the visit_in this visit_out closes before it is closed. Judgement calls:

* A visit_out's distance is judged here, not by `outside_geofence` (which judges clock punches
  and visit_ins): leaving before checking out makes the visit's end, and so its duration,
  unproven, which is worth its own name. The tolerance is the same: the fix's accuracy, capped.
* A visit's length is from its visit_in to the visit_out at that customer; a double-tapped
  visit_out (within `duplicate_window_min`) is `duplicate`'s, and no visit of its own.
* Corrections carry approved times and no measured fix: neither distance nor length is judged
  on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

from fieldpunch.anomalies.detectors.sequence import repeat_of
from fieldpunch.anomalies.detectors.shared import (
    VISIT_KINDS,
    PersonState,
    duration,
    enabled,
    found,
    measured,
    seconds_between,
    wall_clock,
)
from fieldpunch.anomalies.facts import Finding, PunchFacts
from fieldpunch.anomalies.policy import Policy

# An unclosed visit_in older than this is abandoned: it pairs with no visit_out and blocks nothing.
MAX_OPEN_VISIT = timedelta(hours=24)
_MAX_OPEN_S = MAX_OPEN_VISIT.total_seconds()


def _open_visits(visits: Mapping[str, PunchFacts], now: datetime) -> dict[str, PunchFacts]:
    """Open visits minus the abandoned ones, so the map stays small over long windows."""
    return {c: v for c, v in visits.items() if seconds_between(now, v.trusted_time) <= _MAX_OPEN_S}


def _opened(state: PersonState, punch: PunchFacts) -> PunchFacts | None:
    """The open visit_in this visit_out closes, if any."""
    if punch.kind != "visit_out" or punch.customer_id is None:
        return None
    return _open_visits(state.open_visits, punch.trusted_time).get(punch.customer_id)


def visit_out_far(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """A check-out beyond the customer's fence by more than the fix's accuracy (capped)."""
    rule = "visit_out_far"
    distance = punch.fence_distance_m
    if (
        punch.kind != "visit_out"
        or distance is None
        or not measured(punch)
        or not enabled(policy, rule)
    ):
        return state, []
    tolerance = min(punch.accuracy_m, policy.geofence_tolerance_max_m)
    if distance <= tolerance:
        return state, []
    opened = _opened(state, punch)
    since = ""
    if opened is not None:
        stay = duration(seconds_between(punch.trusted_time, opened.trusted_time))
        since = f", {stay} after checking in there"
    return state, found(
        policy,
        rule,
        f"Checked out {distance:.0f} m outside the customer's geofence{since}; the location's "
        f"accuracy ({punch.accuracy_m:.0f} m) explains at most {tolerance:.0f} m, so when the "
        "visit ended is not shown.",
        customer_id=punch.customer_id,
        distance_outside_m=round(distance, 1),
        accuracy_m=round(punch.accuracy_m, 1),
        tolerance_m=round(tolerance, 1),
        visit_in_punch_id=opened.id if opened else None,
        lat=punch.lat,
        lon=punch.lon,
    )


def visit_too_short(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """A visit (visit_in to visit_out at one customer) shorter than `visit_min_minutes`."""
    rule = "visit_too_short"
    minimum = policy.visit_min_minutes
    if not minimum or not enabled(policy, rule) or not measured(punch):
        return state, []
    opened = _opened(state, punch)
    if opened is None or not measured(opened) or repeat_of(state, punch, policy) is not None:
        return state, []
    seconds = seconds_between(punch.trusted_time, opened.trusted_time)
    if seconds >= minimum * 60:
        return state, []
    return state, found(
        policy,
        rule,
        f"A visit of {duration(seconds)} (checked in at {wall_clock(opened.trusted_time, tz)}); "
        f"the minimum is {minimum} min.",
        customer_id=punch.customer_id,
        visit_in_punch_id=opened.id,
        seconds=round(seconds, 1),
        minimum_min=minimum,
    )


def visit_unpaired(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """A visit_out with no open visit_in at that customer, or a second visit_in there without
    a visit_out. Owns `open_visits`; reads `last_of_kind` (owned by `duplicate`, which runs
    after it) so a double tap is `duplicate`'s alone."""
    rule = "visit_unpaired"
    if punch.kind not in VISIT_KINDS or punch.customer_id is None:
        return state, []  # a visit with no customer cannot be paired
    customer, t = punch.customer_id, punch.trusted_time
    visits = _open_visits(state.open_visits, t)
    opened = visits.pop(customer, None)
    if punch.kind == "visit_in":
        visits[customer] = punch
    new = PersonState(
        state.previous, state.last_of_kind, MappingProxyType(visits), state.clocked_in_day
    )
    if not enabled(policy, rule) or repeat_of(state, punch, policy) is not None:
        return new, []
    if punch.kind == "visit_in":
        if opened is None:
            return new, []
        return new, found(
            policy,
            rule,
            "Checked in at this customer again without checking out of the visit started at "
            f"{wall_clock(opened.trusted_time, tz)}.",
            reason="visit_in_twice",
            customer_id=customer,
            previous_punch_id=opened.id,
            previous_time=opened.trusted_time.isoformat(),
        )
    if opened is not None:
        return new, []
    return new, found(
        policy,
        rule,
        "Checked out of a customer visit that was never checked in.",
        reason="visit_out_without_visit_in",
        customer_id=customer,
    )
