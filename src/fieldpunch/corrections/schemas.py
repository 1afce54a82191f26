from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import StringConstraints

from fieldpunch.kit.schemas import EventTime, IdRef, In, Out
from fieldpunch.punches.schemas import PunchKind

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=2000)]


class CorrectionCreate(In):
    kind: PunchKind
    at: EventTime
    reason: Reason
    place_id: IdRef | None = None
    customer_id: IdRef | None = None
    photo_id: IdRef | None = None


class CorrectionDecision(In):
    comment: Annotated[str, StringConstraints(max_length=2000)] = ""


class CorrectionOut(Out):
    id: str
    user_id: str
    kind: PunchKind
    at: datetime
    reason: str
    place_id: str | None
    customer_id: str | None
    photo_id: str | None
    status: Literal["pending", "approved", "rejected"]
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    comment: str
    punch_id: str | None


class DayPunch(Out):
    """One of the person's punches on the correction's local day: what a reviewer weighs it by."""

    id: str
    kind: PunchKind
    trusted_time: datetime
    status: str
    source: str


class CorrectionDetail(CorrectionOut):
    # The person's punches that local day (org time zone), oldest first: a correction next to a
    # genuine punch of the same kind is a second one, not a missing one.
    same_day: list[DayPunch]
