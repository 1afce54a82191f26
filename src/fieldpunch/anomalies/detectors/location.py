"""Where the punch happened: the fence, the fix's accuracy, the speed from the previous punch, and
coordinates that are replayed (`too_perfect`) or picked on a map (`chosen_location`).

`too_perfect` and `chosen_location` live here, not under device, because both judge the
coordinates themselves (their decimals and where they land), whatever the phone claims.
"""

from __future__ import annotations

import math
from zoneinfo import ZoneInfo

from fieldpunch.anomalies.detectors.shared import (
    MEMORY,
    VISIT_KINDS,
    PersonState,
    decimals_of,
    duration,
    enabled,
    found,
    measured,
    seconds_between,
)
from fieldpunch.anomalies.facts import Finding, PunchFacts
from fieldpunch.anomalies.policy import Policy
from fieldpunch.geo.distance import haversine_m


def outside_geofence(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """Beyond the fence edge by more than the fix's own accuracy (capped): jitter is not absence.

    A visit_out's distance is `visits.visit_out_far`'s (one punch, one finding for it)."""
    rule = "outside_geofence"
    distance = punch.fence_distance_m
    if (
        not enabled(policy, rule)
        or not measured(punch)
        or distance is None
        or punch.kind == "visit_out"
    ):
        return state, []
    tolerance = min(punch.accuracy_m, policy.geofence_tolerance_max_m)
    if distance <= tolerance:
        return state, []
    where = "the customer's" if punch.kind in VISIT_KINDS else "the place's"
    return state, found(
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


def field_evidence_missing(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """A clock punch outside every fence (外勤) without the note or photo the org asks of one.

    The field app asks for them before it sends; a client that skips them is not refused (a
    punch is never lost), but a manager sees it. "Outside" as `outside_geofence` judges it, and
    no place within reach at all counts as outside too."""
    rule = "field_evidence_missing"
    if (
        not enabled(policy, rule)
        or not punch.missing_required
        or not measured(punch)
        or punch.kind in VISIT_KINDS
    ):
        return state, []
    distance = punch.fence_distance_m
    tolerance = min(punch.accuracy_m, policy.geofence_tolerance_max_m)
    if distance is not None and distance <= tolerance:
        return state, []
    words = {"note": "a note", "photo": "a photo"}
    absent = " or ".join(words[m] for m in punch.missing_required)
    return state, found(
        policy,
        rule,
        f"A field punch (outside every fence) was sent without {absent}, which the "
        "organization asks of field punches.",
        missing=list(punch.missing_required),
        fence_id=punch.fence_id,
        distance_outside_m=None if distance is None else round(distance, 1),
    )


def low_accuracy(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """A fix too vague to say where the punch happened (basements, malls, network-only)."""
    rule = "low_accuracy"
    if (
        not enabled(policy, rule)
        or not measured(punch)
        or punch.accuracy_m <= policy.max_accuracy_m
    ):
        return state, []
    return state, found(
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
    if not measured(punch):
        return state, []  # a correction's position was never measured: not a baseline either
    prev = state.previous
    new = PersonState(punch, state.last_of_kind, state.open_visits, state.clocked_in_day)
    if prev is None or not enabled(policy, rule) or punch.trusted_time - prev.trusted_time > MEMORY:
        return new, []  # days apart, any straight-line trip is possible: no baseline
    distance = haversine_m(prev.lat, prev.lon, punch.lat, punch.lon)
    allowance = prev.accuracy_m + punch.accuracy_m
    beyond = distance - allowance
    if beyond <= 0:
        return new, []
    seconds = abs(seconds_between(punch.trusted_time, prev.trusted_time))
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
            f"Punched {distance / 1000:,.1f} km from the previous punch {duration(seconds)} "
            f"earlier: that needs at least {speed:,.0f} km/h even allowing for location "
            f"accuracy (limit {policy.max_speed_kmh:.0f} km/h)."
        )
    return new, found(
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


def too_perfect(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """Precise coordinates repeated to the last digit elsewhere: replayed or spoofed fixes.

    Real GPS noise makes that vanishingly rare. Coarse coordinates repeat honestly, hence the
    decimals threshold; the longer axis counts because a float drops trailing zeros.
    """
    rule = "too_perfect"
    if not enabled(policy, rule) or not measured(punch) or punch.identical_coords_elsewhere <= 0:
        return state, []
    decimals = max(decimals_of(punch.raw_lat), decimals_of(punch.raw_lon))
    if decimals < policy.too_perfect_min_decimals:
        return state, []
    claimed = punch.raw_accuracy_m
    if claimed is not None and claimed > policy.too_perfect_max_accuracy_m:
        return state, []  # a network fix: identical points are how network positioning works
    n = punch.identical_coords_elsewhere
    return state, found(
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


# `chosen_location`: the fix must carry at least this many decimals on each axis, and one more on
# one of them. A coarser fix is a grid a receiver rounded to (some SDKs give 6 decimals, some
# integrators 4 or 5), and an honest fix on a coarse grid lands on a coarse stored point often:
# a 4-decimal office centre is one cell of 11 m x 9.5 m. At 7 and 6 decimals the cell is
# 1.1 cm x 9.5 cm: a receiver whose noise is 3 m puts a fix there less than once in 50,000 even
# when the person stands exactly on the stored point, while a copy of the API's 7-decimal
# answer has these decimals unless it ends in two zeros (1 in 100).
CHOSEN_MIN_DECIMALS = 6


def chosen_location(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """The fix lands on a stored place/customer centre or polygon vertex to the centimetre.

    That is what a fake-location app produces when the cheater picks the office on a map or types
    in its coordinates; a receiver's fix carries metres of noise. `stored_point` is looked up in
    every CRS (anomalies/points.py), so a GCJ-02 or BD-09 pick is caught as well.
    """
    rule = "chosen_location"
    hit = punch.stored_point
    if not enabled(policy, rule) or not measured(punch) or not hit:
        return state, []
    decimals = (decimals_of(punch.raw_lat), decimals_of(punch.raw_lon))
    if min(decimals) < CHOSEN_MIN_DECIMALS or max(decimals) <= CHOSEN_MIN_DECIMALS:
        return state, []  # a coarse grid: honest fixes land on coarse points too
    what = "centre" if hit.get("point") == "centre" else "a corner of the geofence"
    where = f"the {what}" if what == "centre" else what
    return state, found(
        policy,
        rule,
        f"The location ({punch.raw_lat}, {punch.raw_lon}) is exactly {where} of a stored "
        f"place or customer ({hit.get('crs')}): picked on a map or typed in, not measured.",
        fence_id=hit.get("fence_id"),
        point=hit.get("point"),
        crs=hit.get("crs"),
        stored_lat=hit.get("lat"),
        stored_lon=hit.get("lon"),
        raw_lat=punch.raw_lat,
        raw_lon=punch.raw_lon,
        decimals=max(decimals),
        accuracy_m=punch.raw_accuracy_m,
    )
