"""Pure anomaly detectors: (state, punch, policy, zone) → (new state, findings), one per rule.

One module per theme (`location`, `timing`, `device`, `sequence`, `visits`, `photos`); this
module is the registry: the rules in the order they run, and `step`/`fold`/`assess`, which run
them. The types every detector shares (`PersonState`, `Detector`, `MEMORY`) live in `shared.py`,
exported here.

Each stateful detector owns one slice of `PersonState` and keeps it up to date even while its rule
is disabled, so switching a rule on or off never changes what the other rules see. `assess` folds
`step` over a person's punches in trusted-time order: findings depend on when things happened, never
on when the phone managed to upload them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from zoneinfo import ZoneInfo

from fieldpunch.anomalies.detectors.device import (
    mock_location,
    shared_device,
    unknown_device,
    wifi_mismatch,
)
from fieldpunch.anomalies.detectors.location import (
    chosen_location,
    field_evidence_missing,
    impossible_speed,
    low_accuracy,
    outside_geofence,
    too_perfect,
)
from fieldpunch.anomalies.detectors.photos import photo_exif_mismatch, photo_reused
from fieldpunch.anomalies.detectors.sequence import duplicate, sequence
from fieldpunch.anomalies.detectors.shared import MEMORY, Detector, PersonState
from fieldpunch.anomalies.detectors.timing import clock_skew, off_schedule, stale_offline
from fieldpunch.anomalies.detectors.visits import visit_out_far, visit_too_short, visit_unpaired
from fieldpunch.anomalies.facts import Finding, PunchFacts
from fieldpunch.anomalies.policy import Policy

__all__ = [
    "DETECTORS",
    "MEMORY",
    "REGISTRY",
    "Detector",
    "PersonState",
    "assess",
    "fold",
    "step",
]

# Rule name → its detector, in the fixed order they run; `sequence` and `visit_unpaired` must
# precede `duplicate` (they read the last_of_kind duplicate writes), and `visit_out_far` and
# `visit_too_short` precede `visit_unpaired` (they read the visit_in it closes).
REGISTRY: Mapping[str, Detector] = MappingProxyType(
    {
        "outside_geofence": outside_geofence,
        "low_accuracy": low_accuracy,
        "impossible_speed": impossible_speed,
        "clock_skew": clock_skew,
        "stale_offline": stale_offline,
        "mock_location": mock_location,
        "unknown_device": unknown_device,
        "shared_device": shared_device,
        "wifi_mismatch": wifi_mismatch,
        "off_schedule": off_schedule,
        "too_perfect": too_perfect,
        "chosen_location": chosen_location,
        "sequence": sequence,
        "visit_out_far": visit_out_far,
        "visit_too_short": visit_too_short,
        "visit_unpaired": visit_unpaired,
        "duplicate": duplicate,
        # Stateless: they judge the punch's photo alone (see detectors/photos.py).
        "photo_reused": photo_reused,
        "photo_exif_mismatch": photo_exif_mismatch,
        # Stateless: what the org asks of a field punch, as the punch came (facts).
        "field_evidence_missing": field_evidence_missing,
    }
)
DETECTORS: tuple[Detector, ...] = tuple(REGISTRY.values())


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
