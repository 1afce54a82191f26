"""What a stored day counts for in a month's summary, from its statuses and edges (pure).

The recompute stores these as columns of `attendance_days` (so the summaries are summed in SQL)
and the reports' day rows ask the same functions of a day's result JSON: one definition.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Edge = Mapping[str, Any]  # one edge of DayResult.to_json()["edges"]


def attended(worked_min: int, edges: Iterable[Edge]) -> bool:
    """Any punch decided an edge (a day attended), or work was counted."""
    return worked_min > 0 or any(e.get("punch") for e in edges)


def correction_punches(edges: Iterable[Edge]) -> list[dict[str, Any]]:
    """The deciding punches made by an approved correction (补卡)."""
    return [
        e["punch"] for e in edges if e.get("punch") and e["punch"].get("method") == "correction"
    ]


def missing_edges(statuses: Sequence[str], edges: Iterable[Edge]) -> list[Edge]:
    # An absent day is one absence, not its edges' missing punches (as the day computes it).
    if "absent" in statuses:
        return []
    return [e for e in edges if e.get("state") == "missing"]


def columns(statuses: Sequence[str], worked_min: int, result: Mapping[str, Any]) -> dict[str, Any]:
    """The tally columns of one stored day."""
    edges = list(result.get("edges") or [])
    s = set(statuses)
    return {
        "attended": attended(worked_min, edges),
        "late": bool(s & {"late", "serious_late"}),
        "serious_late": "serious_late" in s,
        "early_leave": "early_leave" in s,
        "absent": "absent" in s,
        "missing_punches": len(missing_edges(statuses, edges)),
        "corrections": len(correction_punches(edges)),
    }
