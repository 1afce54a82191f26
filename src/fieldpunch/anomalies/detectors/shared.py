"""What every detector shares: the person's state, a detector's signature, how far back rules look,
and the small helpers that decide whether a rule runs and word its finding.

Kept apart from the registry (`__init__.py`) so the theme modules import it without a cycle.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from fieldpunch.anomalies.facts import Finding, PunchFacts
from fieldpunch.anomalies.policy import Policy

# The furthest back any detector looks: state older than this never changes a finding, so a
# fold started this long before a punch judges it exactly as a fold over the whole history does
# (the service relies on it: it either re-folds a window or carries the state forward).
MEMORY = timedelta(days=2)
MEMORY_S = MEMORY.total_seconds()

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


def measured(punch: PunchFacts) -> bool:
    """Corrections carry an approved time, no measured fix: location/time/device rules skip them."""
    return punch.source != "correction"


def enabled(policy: Policy, rule: str) -> bool:
    return policy.rules[rule].enabled


def found(policy: Policy, rule: str, detail: str, **evidence: Any) -> list[Finding]:
    return [Finding(rule, policy.rules[rule].severity, detail, evidence)]


def duration(seconds: float) -> str:
    """Seconds in the unit a manager reads at a glance."""
    s = abs(seconds)
    if s < 90:
        return f"{s:.0f} s"
    if s < 90 * 60:
        return f"{s / 60:.0f} min"
    if s < 48 * 3600:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} days"


def wall_clock(t: datetime, tz: ZoneInfo) -> str:
    return t.astimezone(tz).strftime("%H:%M")


def seconds_between(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()


def decimals_of(x: float) -> int:
    """Digits after the point in the shortest repr (what the phone's JSON number carried)."""
    if not math.isfinite(x):
        return 0
    exponent = Decimal(repr(x)).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0
