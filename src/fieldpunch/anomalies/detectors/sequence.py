"""The order of a person's punches: unpaired clock ins and outs (`sequence`), double taps
(`duplicate`). Visit pairs are `visits.visit_unpaired`'s.

Two judgement calls, documented here because reviewers will ask:

* A repeat of the same kind (same customer, for visits) within `duplicate_window_min` is a double
  tap: `duplicate` reports it and `sequence` (or `visit_unpaired`) stays quiet, even when
  `duplicate` is disabled, so one tap never yields two findings. A second clock_in later the same
  local day without a clock_out is a `sequence` finding (the person forgot to clock out, or is
  re-punching).
* A clock_out pairs with an open clock_in of the same local day, or with one at most
  `OVERNIGHT_SHIFT` earlier (night shifts cross midnight). A forgotten clock_out never spills into
  the next day: the next day's clock_in simply opens a new day.

`duplicate` lives here, not under time: it is about one punch repeating the one before.
"""

from __future__ import annotations

from datetime import timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

from fieldpunch.anomalies.detectors.shared import (
    MEMORY_S,
    VISIT_KINDS,
    PersonState,
    duration,
    enabled,
    found,
    seconds_between,
    wall_clock,
)
from fieldpunch.anomalies.facts import Finding, PunchFacts
from fieldpunch.anomalies.policy import Policy

# A clock_out may close a clock_in from the previous local day this long before (night shifts).
OVERNIGHT_SHIFT = timedelta(hours=16)
_OVERNIGHT_S = OVERNIGHT_SHIFT.total_seconds()


def repeat_of(state: PersonState, punch: PunchFacts, policy: Policy) -> PunchFacts | None:
    """The earlier punch this one repeats within the duplicate window (a double tap), if any."""
    last = state.last_of_kind.get(punch.kind)
    if last is None:
        return None
    if punch.kind in VISIT_KINDS and last.customer_id != punch.customer_id:
        return None  # two shops in one mall within minutes is a real route, not a double tap
    gap = abs(seconds_between(punch.trusted_time, last.trusted_time))
    return last if gap <= policy.duplicate_window_min * 60 else None


def duplicate(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """The same kind again within minutes (same customer, for visits). Owns `last_of_kind`."""
    rule = "duplicate"
    earlier = repeat_of(state, punch, policy)
    kinds = MappingProxyType({**state.last_of_kind, punch.kind: punch})
    new = PersonState(state.previous, kinds, state.open_visits, state.clocked_in_day)
    if earlier is None or not enabled(policy, rule):
        return new, []
    gap = abs(seconds_between(punch.trusted_time, earlier.trusted_time))
    return new, found(
        policy,
        rule,
        f"A second {punch.kind.replace('_', '-')} {duration(gap)} after the previous one "
        f"(window {policy.duplicate_window_min} min).",
        previous_punch_id=earlier.id,
        previous_time=earlier.trusted_time.isoformat(),
        seconds=round(gap, 1),
        window_min=policy.duplicate_window_min,
        customer_id=punch.customer_id,
    )


def sequence(
    state: PersonState, punch: PunchFacts, policy: Policy, tz: ZoneInfo
) -> tuple[PersonState, list[Finding]]:
    """Out-of-order clock pairs: clock_out with no clock_in, clocking in twice.

    Owns `clocked_in_day`; reads `last_of_kind` (owned by `duplicate`, which therefore runs
    after it) for double taps and night shifts.
    """
    rule = "sequence"
    on = enabled(policy, rule)
    t = punch.trusted_time
    kind = punch.kind
    if kind in ("clock_in", "clock_out"):
        day = t.astimezone(tz).date()
        opened = state.clocked_in_day  # the day of the last clock_in, while not clocked out
        last_in = state.last_of_kind.get("clock_in")
        if opened is not None and (
            last_in is None or seconds_between(t, last_in.trusted_time) > MEMORY_S
        ):
            opened = None  # forgotten beyond MEMORY, like everything else
        if kind == "clock_in":
            new = PersonState(state.previous, state.last_of_kind, state.open_visits, day)
            if not on or opened != day or repeat_of(state, punch, policy) is not None:
                return new, []
            earlier = state.last_of_kind.get("clock_in")
            since = f" at {wall_clock(earlier.trusted_time, tz)}" if earlier is not None else ""
            return new, found(
                policy,
                rule,
                f"Clocked in again without clocking out since the earlier clock-in{since}.",
                reason="clock_in_twice",
                previous_punch_id=earlier.id if earlier is not None else None,
                local_day=day.isoformat(),
            )
        new = PersonState(state.previous, state.last_of_kind, state.open_visits, None)
        if not on or opened == day or repeat_of(state, punch, policy) is not None:
            return new, []
        earlier = state.last_of_kind.get("clock_in")
        if (
            opened is not None
            and earlier is not None
            and 0 <= seconds_between(t, earlier.trusted_time) <= _OVERNIGHT_S
        ):
            return new, []  # a night shift crossing midnight
        out = state.last_of_kind.get("clock_out")
        if (
            out is not None
            and out.trusted_time.astimezone(tz).date() == day
            and (earlier is None or earlier.trusted_time <= out.trusted_time)
        ):
            # The day was opened and closed already: say so, not "without clocking in".
            return new, found(
                policy,
                rule,
                f"Clocked out again: already clocked out at {wall_clock(out.trusted_time, tz)} "
                "without clocking in since.",
                reason="clock_out_twice",
                previous_punch_id=out.id,
                local_day=day.isoformat(),
            )
        return new, found(
            policy,
            rule,
            "Clocked out without clocking in earlier that day.",
            reason="clock_out_without_clock_in",
            local_day=day.isoformat(),
            open_clock_in_day=opened.isoformat() if opened is not None else None,
        )
    return state, []  # visits pair in visits.visit_unpaired
