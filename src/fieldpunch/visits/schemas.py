"""API shapes of visits, their outcomes and form; a rule one body can break is checked here, so
a bad value is a 422 naming its field before any row is read."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, ValidationInfo, field_validator

from fieldpunch.kit.schemas import AwareTime, IdRef, In, Kind, Name, Out, ShortText

State = Literal["planned", "in_progress", "done", "missed", "cancelled"]
FieldType = Literal["text", "number", "choice", "photo"]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Minutes = Annotated[int, Field(ge=1, le=24 * 60)]
MAX_BULK = 500
MAX_WINDOW = timedelta(hours=24)
MAX_FIELDS = 50
MAX_OUTCOMES = 50
ANSWER_TEXT_MAX = 2000
Answer = str | bool | int | float | None  # bool listed, so true is kept as sent (and refused)


class VisitCreate(In):
    customer_id: IdRef
    user_id: IdRef = Field(description="Who visits; staff plan their own")
    planned_start: AwareTime | None = Field(
        None, description="Start of the window; none: the person's next check-in there starts it"
    )
    planned_end: AwareTime | None = Field(None, description="End of the window (after the start)")
    expected_min: Minutes | None = Field(None, description="Expected duration in minutes")
    purpose: Text = ""

    @field_validator("planned_end")
    @classmethod
    def _after_start(cls, end: datetime | None, info: ValidationInfo) -> datetime | None:
        if end is None or "planned_start" not in info.data:
            return end  # (a bad planned_start is its own error)
        start = info.data["planned_start"]
        if start is None:
            raise ValueError("a window's end needs its planned_start")
        if end <= start:
            raise ValueError("ends after planned_start")
        if end - start > MAX_WINDOW:
            raise ValueError("a visit's window is at most 24 hours")
        return end


class VisitBulk(In):
    """Several plans at once (a week's), all stored or none."""

    visits: Annotated[list[VisitCreate], Field(min_length=1, max_length=MAX_BULK)]


class VisitUpdate(In):
    """The plan changes while planned (or missed); the record (note, outcome, follow-up, form
    answers) at any time but cancelled."""

    customer_id: IdRef | None = None
    planned_start: AwareTime | None = None
    planned_end: AwareTime | None = None
    expected_min: Minutes | None = None
    purpose: Text | None = None
    note: Text | None = None
    outcome: Kind | None = Field(None, description="A key of the org's outcome list")
    next_follow_up: date | None = None
    answers: dict[Annotated[str, StringConstraints(max_length=32)], Answer] | None = Field(
        None,
        description="The visit form: field key → text, number, choice or photo id; replaces "
        "the answers, and must hold every required field",
    )

    @field_validator("answers")
    @classmethod
    def _finite(cls, answers: dict[str, Answer] | None) -> dict[str, Answer] | None:
        for value in (answers or {}).values():
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError("numbers are finite")
        return answers


class VisitCancel(In):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class VisitOut(Out):
    id: str
    customer_id: str
    user_id: str
    planned: bool = Field(description="False: started by a check-in with no plan")
    planned_start: datetime | None
    planned_end: datetime | None
    expected_min: int | None
    purpose: str
    day: date | None = Field(description="Local date (org time zone) of the plan or check-in")
    state: State
    cancel_reason: str
    cancelled_by: str | None
    cancelled_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    in_punch_id: str | None
    out_punch_id: str | None
    duration_min: float | None = Field(description="From check-in to check-out")
    note: str
    outcome: str | None
    next_follow_up: date | None
    answers: dict[str, Any]
    photo_ids: list[str]
    created_by: str
    created_at: datetime
    updated_at: datetime


class VisitList(Out):
    items: list[VisitOut]


class OutcomeIn(In):
    key: Kind
    label: Name


class OutcomesPut(In):
    outcomes: Annotated[list[OutcomeIn], Field(max_length=MAX_OUTCOMES)]

    @field_validator("outcomes")
    @classmethod
    def _unique(cls, outcomes: list[OutcomeIn]) -> list[OutcomeIn]:
        _unique_keys([o.key for o in outcomes])
        return outcomes


class OutcomeOut(Out):
    key: str
    label: str


class OutcomesOut(Out):
    outcomes: list[OutcomeOut]


class FieldIn(In):
    key: Kind
    label: Name
    type: FieldType
    required: bool = False
    options: Annotated[list[ShortText], Field(max_length=100)] = Field(
        [], description="The choices of a `choice` field (at least one, each once)"
    )

    @field_validator("options")
    @classmethod
    def _choices(cls, options: list[str], info: ValidationInfo) -> list[str]:
        kind = info.data.get("type")
        if kind == "choice" and (not options or len(set(options)) != len(options)):
            raise ValueError("a choice field has at least one option, each once")
        if kind != "choice" and options:
            raise ValueError("only a choice field has options")
        return options


class FormPut(In):
    fields: Annotated[list[FieldIn], Field(max_length=MAX_FIELDS)]

    @field_validator("fields")
    @classmethod
    def _unique(cls, fields: list[FieldIn]) -> list[FieldIn]:
        _unique_keys([f.key for f in fields])
        return fields


class FieldOut(Out):
    key: str
    label: str
    type: FieldType
    required: bool
    options: list[str]


class FormOut(Out):
    fields: list[FieldOut]


def _unique_keys(keys: list[str]) -> None:
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            raise ValueError(f"key {key!r} twice")
        seen.add(key)
