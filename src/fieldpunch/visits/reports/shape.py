"""The visit reports' rows from aggregates (pure: no database, no HTTP).

Definitions (docs/visits.md, "Reports"):

* `completion_rate_pct`: planned visits done ÷ planned visits not cancelled.
* `on_time_rate_pct`: planned visits done whose check-in came no later than the plan's window
  closed (`due_by`: the window's end, else start + expected duration, else local midnight) ÷
  the planned visits done that had a window. An early arrival is on time.
* `avg_duration_min`: over the visits with a check-in and a check-out; a visit closed without
  a check-out (`unclosed`) counts as done but has no duration.
* `travel_min` (performance): per day, the span from the first check-in to the last
  check-out less the time at customers within it, summed over days.
* `anomaly_rate_pct`: punches with an anomaly (not superseded) ÷ punches.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Tally:
    """Counts of a group of visits, in the order of repository.COUNTS."""

    total: int = 0
    planned: int = 0
    done: int = 0
    planned_done: int = 0
    unplanned: int = 0
    missed: int = 0
    cancelled: int = 0
    in_progress: int = 0
    unclosed: int = 0
    on_time: int = 0
    on_time_of: int = 0
    duration_s: int = 0
    durations: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


def pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def counts(t: Tally) -> dict[str, Any]:
    """The counting columns of a person or customer row."""
    return {
        "total": t.total,
        "planned": t.planned,
        "done": t.done,
        "planned_done": t.planned_done,
        "unplanned": t.unplanned,
        "missed": t.missed,
        "cancelled": t.cancelled,
        "in_progress": t.in_progress,
        "unclosed": t.unclosed,
        "completion_rate_pct": pct(t.planned_done, t.planned - t.cancelled),
        "on_time_rate_pct": pct(t.on_time, t.on_time_of),
        "total_duration_min": round(t.duration_s / 60),
        "avg_duration_min": round(t.duration_s / 60 / t.durations, 1) if t.durations else None,
    }


def outcome_cells(outcomes: dict[str, int], keys: Iterable[str]) -> dict[str, int]:
    return {f"outcome_{k}": outcomes.get(k, 0) for k in keys}


@dataclass(frozen=True, slots=True)
class DaySpan:
    """One person's day of checked-out visits."""

    day: date
    first_in: datetime
    last_out: datetime
    at_customers_s: int


def travel_s(days: Iterable[DaySpan]) -> int:
    """Time between customers: each day's span less the time at customers (never negative:
    overlapping visits at two customers count once as time at customers)."""
    total = 0
    for d in days:
        span = (d.last_out - d.first_in).total_seconds()
        total += max(0, int(span) - d.at_customers_s)
    return total


@dataclass(slots=True)
class Performance:
    """One person's (or, summed, one team's) performance figures."""

    visits: Tally
    customers: int = 0
    tasks_done: int = 0
    punches: int = 0
    flagged: int = 0
    travel_s: int = 0
    people: int = 1

    def __add__(self, other: Performance) -> Performance:
        return Performance(
            self.visits + other.visits,
            self.customers + other.customers,
            self.tasks_done + other.tasks_done,
            self.punches + other.punches,
            self.flagged + other.flagged,
            self.travel_s + other.travel_s,
            self.people + other.people,
        )

    def row(self) -> dict[str, Any]:
        t = self.visits
        return {
            "planned": t.planned,
            "done": t.done,
            "completion_rate_pct": pct(t.planned_done, t.planned - t.cancelled),
            "on_time_rate_pct": pct(t.on_time, t.on_time_of),
            "customers": self.customers,
            "tasks_done": self.tasks_done,
            "punches": self.punches,
            "anomalies": self.flagged,
            "anomaly_rate_pct": pct(self.flagged, self.punches),
            "customer_min": round(t.duration_s / 60),
            "travel_min": round(self.travel_s / 60),
        }


class TeamFolder:
    """Person rows → one row per team (a team total sums its people; customers covered sum
    per person, so a customer two reps saw counts twice: coverage is work done)."""

    def __init__(self, no_team: str) -> None:
        self.no_team = no_team
        self.teams: dict[str | None, tuple[str, Performance]] = {}

    def feed(self, team_id: str | None, team: str | None, figures: Performance) -> None:
        current = self.teams.get(team_id)
        if current is None:
            self.teams[team_id] = (team or self.no_team, figures)
        else:
            self.teams[team_id] = (current[0], current[1] + figures)

    def rows(self) -> list[dict[str, Any]]:
        out = [
            {"team": name, "people": f.people, **f.row(), "team_id": team_id}
            for team_id, (name, f) in self.teams.items()
        ]
        return sorted(out, key=lambda r: (r["team_id"] is None, r["team"], r["team_id"] or ""))
