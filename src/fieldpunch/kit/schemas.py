"""Pydantic building blocks shared by every domain's API shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    StringConstraints,
    field_validator,
)

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Kind = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=32, pattern=r"^[a-z0-9_\-]+$"
    ),
]
IdRef = Annotated[str, StringConstraints(min_length=1, max_length=40)]


def _in_utc_range(value: datetime) -> datetime:
    """Every time is stored and compared in UTC: one that has no UTC form is no time we take."""
    try:
        value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T03:00+04:00, before the first day in UTC
        raise ValueError("out of range once converted to UTC") from None
    return value


AwareTime = Annotated[AwareDatetime, AfterValidator(_in_utc_range)]
"""A datetime with a UTC offset that also exists in UTC (what every time field takes)."""

# An absurd time (a phone clock reset to 1970, or to the year 929) is a finding to record, not an
# input to refuse; but within years of the calendar's ends, the arithmetic around a punch (the
# detectors' windows, up to a year back; a time zone's offset) leaves Python's calendar.
EARLIEST = datetime(10, 1, 1, tzinfo=UTC)
LATEST = datetime(9990, 1, 1, tzinfo=UTC)


def _within_calendar(value: datetime) -> datetime:
    if not EARLIEST <= value < LATEST:
        raise ValueError("must be between the years 10 and 9990")
    return value


EventTime = Annotated[AwareTime, AfterValidator(_within_calendar)]
"""When something happened (a punch, a correction, a time anchor): an AwareTime in 10–9990."""


def _clean_text(value: Any) -> Any:
    """Reject text no database can store: NUL (PostgreSQL) and lone surrogates (UTF-8)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("must be valid Unicode text") from None
    elif isinstance(value, list | tuple):
        for item in value:
            _clean_text(item)
    elif isinstance(value, dict):
        for k, item in value.items():
            _clean_text(k)
            _clean_text(item)
    elif isinstance(value, BaseModel):
        pass  # nested models validate themselves
    return value


class In(BaseModel):
    """Request bodies reject unknown fields, so a typo is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid", str_max_length=10_000)

    @field_validator("*", mode="after")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return _clean_text(value)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def apply(row: Any, changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        setattr(row, key, value)
