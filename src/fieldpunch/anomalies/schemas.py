from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from fieldpunch.kit.schemas import IdRef, In, Out
from fieldpunch.punches.schemas import PunchOut

Comment = Annotated[str, StringConstraints(max_length=2000)]


class AnomalyOut(Out):
    id: str
    punch_id: str
    user_id: str
    rule: str
    severity: Literal["info", "warning", "critical"]
    detail: str
    evidence: dict[str, Any]
    status: Literal["open", "approved", "rejected", "superseded"]
    punch_time: datetime
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    comment: str


class Leg(Out):
    """From the previous punch to this one: what a reviewer checks for speed and jumps."""

    distance_m: float
    seconds: float
    speed_kmh: float | None


class AnomalyDetail(AnomalyOut):
    punch: PunchOut
    previous_punch: PunchOut | None
    leg: Leg | None
    others_on_punch: list[AnomalyOut]


class Decision(In):
    decision: Literal["approve", "reject"]
    comment: Comment = ""


class BulkDecision(Decision):
    ids: Annotated[list[IdRef], Field(min_length=1, max_length=500)]


class PolicyDoc(Out):
    scope: Literal["org", "team", "user"]
    scope_id: str
    override: dict[str, Any]
    effective: dict[str, Any] | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None
