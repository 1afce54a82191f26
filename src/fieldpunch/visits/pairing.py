"""Which visit a visit punch belongs to (pure): the rules of the punch follower (follow.py).

Order-independent, so an offline batch that arrives late or shuffled gives the visits that
in-order arrival would have: the earliest check-in of a visit and its earliest check-out after
it win, and a check-out that found no visit waits for a check-in that arrives later.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Literal, Protocol

# A visit is open at most this long: a check-out later than that pairs with nothing.
OPEN_VISIT = timedelta(hours=24)

InEffect = Literal["start", "repeat", "new"]
OutEffect = Literal["end", "repeat", "unmatched"]


class VisitLike(Protocol):
    id: str
    state: str
    day: date | None
    planned_start: datetime | None
    started_at: datetime | None
    ended_at: datetime | None


def _open_at(v: VisitLike, t: datetime) -> bool:
    """In progress, started at or before `t`, not longer than a visit lasts."""
    s = v.started_at
    return v.state == "in_progress" and s is not None and s <= t <= s + OPEN_VISIT


def _during(v: VisitLike, t: datetime) -> bool:
    return (
        v.state == "done"
        and v.started_at is not None
        and v.ended_at is not None
        and (v.started_at <= t <= v.ended_at)
    )


def for_check_in(
    visits: Sequence[VisitLike], t: datetime, day: date, named: VisitLike | None
) -> tuple[VisitLike | None, InEffect]:
    """The visit a check-in at `t` (local `day`) starts or repeats, else "new" (unplanned).

    A visit the punch names wins; then a visit in progress there that day (a second tap, or an
    earlier check-in arriving late), or a done one it falls inside; then the day's plan (or an
    undated one) nearest in time.
    """
    if named is not None:
        if named.state in ("planned", "missed"):
            return named, "start"
        if named.state in ("in_progress", "done"):
            return named, "repeat"
    # One left in progress on another day (no check-out) does not swallow today's check-in.
    running = [v for v in visits if v.state == "in_progress" and v.day == day]
    if running:
        return max(running, key=lambda v: (v.started_at, v.id)), "repeat"
    inside = [v for v in visits if _during(v, t)]
    if inside:
        return inside[0], "repeat"
    plans = [v for v in visits if v.state in ("planned", "missed") and v.day in (day, None)]
    if plans:

        def nearness(v: VisitLike) -> tuple[bool, float, str]:
            gap = abs((v.planned_start - t).total_seconds()) if v.planned_start else 0.0
            return v.planned_start is None, gap, v.id

        return min(plans, key=nearness), "start"
    return None, "new"


def for_check_out(
    visits: Sequence[VisitLike], t: datetime, named: VisitLike | None
) -> tuple[VisitLike | None, OutEffect]:
    """The visit a check-out at `t` ends: the named one or the latest open there; "repeat"
    when it falls after that visit ended already; else "unmatched" (no check-in before it)."""
    candidates = [named] if named is not None else list(visits)
    open_ = [v for v in candidates if _open_at(v, t)]
    if open_:
        return max(open_, key=lambda v: (v.started_at, v.id)), "end"
    done = [v for v in candidates if v.state == "done" and v.started_at is not None
            and v.started_at <= t <= v.started_at + OPEN_VISIT]  # fmt: skip
    if done:
        v = max(done, key=lambda v: (v.started_at, v.id))
        return v, "end" if v.ended_at is None or t < v.ended_at else "repeat"
    return None, "unmatched"
