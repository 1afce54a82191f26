"""When the punch happened: the phone's clock against trusted time, late syncs, and the shift.

`off_schedule` lives here: it judges the punch's time against the person's shift. Unlike the other
rules of this module it also judges corrections (an approved time is still a time).
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from fieldpunch.anomalies.detectors.shared import (
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

# Punches this far before a shift starts or after it ends are off schedule whatever their kind;
# closer ones are ordinary early arrivals and overtime.
FAR_OUTSIDE_SHIFT = timedelta(hours=4)


def clock_skew(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """Phone clock vs a trusted time: a changed clock is how punches get backdated."""
    rule = "clock_skew"
    if (
        not enabled(policy, rule)
        or not measured(punch)
        or punch.time_source not in ("proof", "server")
    ):
        return state, []  # with device time there is nothing independent to compare against
    skew = seconds_between(punch.captured_at, punch.trusted_time)
    if abs(skew) <= policy.max_clock_skew_s:
        return state, []
    direction = "ahead of" if skew > 0 else "behind"
    return state, found(
        policy,
        rule,
        f"The phone's clock was {duration(skew)} {direction} the trusted time "
        f"(limit {duration(policy.max_clock_skew_s)}).",
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
    if not enabled(policy, rule) or not measured(punch):
        return state, []
    delay = seconds_between(punch.received_at, punch.trusted_time)
    if delay <= policy.stale_offline_h * 3600:
        return state, []
    return state, found(
        policy,
        rule,
        f"Recorded offline and synced {duration(delay)} later "
        f"(limit {policy.stale_offline_h:g} h).",
        delay_s=round(delay, 1),
        delay_h=round(delay / 3600, 2),
        trusted_time=punch.trusted_time.isoformat(),
        received_at=punch.received_at.isoformat(),
        time_source=punch.time_source,
        offline=punch.offline,
    )


def off_schedule(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """Late clock-in, early clock-out, or any punch far outside the shift; no shift, no opinion."""
    rule = "off_schedule"
    shift = punch.shift
    if shift is None or not enabled(policy, rule):
        return state, []
    t = punch.trusted_time
    before = seconds_between(shift.start, t)
    after = seconds_between(t, shift.end)
    late = seconds_between(t, shift.start + timedelta(minutes=shift.grace_late_min))
    early = seconds_between(shift.end - timedelta(minutes=shift.grace_early_min), t)
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
    hours = f"{wall_clock(shift.start, tz)}–{wall_clock(shift.end, tz)}"
    detail = f"{verb} {duration(off)} {what}; the shift is {hours}."
    return state, found(
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
