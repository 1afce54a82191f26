"""Which visit a visit punch belongs to (visits/pairing.py), and how far an outbox follower's
cursor reads past holes and remembers them (jobs/follow.advance): pure, no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from fieldpunch.jobs.follow import HOLE_GRACE, MAX_GAP, advance
from fieldpunch.visits.pairing import for_check_in, for_check_out

DAY = date(2026, 12, 7)
T = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@dataclass
class V:
    id: str
    state: str = "planned"
    day: date | None = DAY
    planned_start: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None


def h(hours: float) -> datetime:
    return T + timedelta(hours=hours)


def test_a_check_in_starts_the_nearest_plan_of_the_day() -> None:
    early, late = V("a", planned_start=h(-1)), V("b", planned_start=h(4))
    undated, yesterday = V("c", day=None), V("d", day=DAY - timedelta(days=1), planned_start=h(-24))
    assert for_check_in([early, late, undated, yesterday], h(3), DAY, None) == (late, "start")
    assert for_check_in([undated, yesterday], h(3), DAY, None) == (undated, "start")
    assert for_check_in([yesterday], h(3), DAY, None) == (None, "new")
    missed = V("m", state="missed", planned_start=h(-2))
    assert for_check_in([missed], h(0), DAY, None) == (missed, "start")  # late, still counts
    assert for_check_in([V("x", state="cancelled")], h(0), DAY, None) == (None, "new")


def test_the_named_visit_wins_and_a_running_one_absorbs_a_second_tap() -> None:
    near, named = V("a", planned_start=h(0)), V("b", planned_start=h(5))
    assert for_check_in([near, named], h(0), DAY, named) == (named, "start")
    running = V("r", state="in_progress", started_at=h(-0.5))
    assert for_check_in([near, running], h(0), DAY, None) == (running, "repeat")
    # Left running yesterday (no check-out): today's check-in starts today's plan.
    stale = V("s", state="in_progress", day=DAY - timedelta(days=1), started_at=h(-20))
    assert for_check_in([stale, near], h(0), DAY, None) == (near, "start")
    done = V("d", state="done", started_at=h(-1), ended_at=h(1))
    assert for_check_in([done], h(0), DAY, None) == (done, "repeat")  # inside it
    assert for_check_in([done], h(2), DAY, None) == (None, "new")  # a second visit that day


def test_a_check_out_ends_the_open_visit_or_waits() -> None:
    running = V("r", state="in_progress", started_at=h(0))
    assert for_check_out([running], h(0.5), None) == (running, "end")
    assert for_check_out([running], h(-0.5), None) == (None, "unmatched")  # before its start
    assert for_check_out([running], h(25), None) == (None, "unmatched")  # abandoned
    assert for_check_out([V("p")], h(0), None) == (None, "unmatched")  # a plan, never started
    done = V("d", state="done", started_at=h(0), ended_at=h(1))
    assert for_check_out([done], h(0.5), None) == (done, "end")  # an earlier check-out wins
    assert for_check_out([done], h(1.5), None) == (done, "repeat")
    other = V("o", state="in_progress", started_at=h(0))
    assert for_check_out([running, other], h(1), other) == (other, "end")


def test_the_cursor_reads_past_a_young_hole_and_remembers_it() -> None:
    now = T
    young, old = now - timedelta(seconds=5), now - HOLE_GRACE - timedelta(seconds=1)
    assert advance(10, {}, [], [(11, young), (12, young)], now) == (12, {})
    # 12 may still commit: read on to 14, remember 12 until the grace after 13 runs out.
    assert advance(10, {}, [], [(11, young), (13, young), (14, young)], now) == (
        14,
        {12: young + HOLE_GRACE},
    )
    assert advance(10, {}, [], [(11, old), (13, old), (14, young)], now) == (14, {})  # rolled back
    assert advance(10, {}, [], [(13, young)], now) == (
        13,
        dict.fromkeys((11, 12), young + HOLE_GRACE),
    )
    assert advance(10, {}, [], [], now) == (10, {})
    # A remembered hole that committed is dropped; one whose grace ran out too.
    holes = {4: now + timedelta(minutes=1), 5: now + timedelta(minutes=1), 6: now}
    assert advance(10, holes, [4], [], now) == (10, {5: now + timedelta(minutes=1)})
    # A gap wider than any transaction holds is passed over, not remembered id by id.
    assert advance(10, {}, [], [(11 + MAX_GAP, young)], now) == (11 + MAX_GAP, {})
