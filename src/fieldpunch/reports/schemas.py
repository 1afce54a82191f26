"""API shapes of the attendance reports (the JSON answer; CSV and XLSX carry the same rows)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from fieldpunch.kit.schemas import Out


class Format(StrEnum):
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


class ReportColumn(Out):
    key: str = Field(description="Stable key of the column (docs/reports.md)")
    header: str = Field(description="Its header in the report's language")
    type: str = Field(description="date, datetime, text, int (minutes, counts), number (2 dp)")


class AttendanceReport(Out):
    view: str = Field(description="daily, monthly, department or exceptions")
    lang: str = Field(description="zh or en: the language of headers and words")
    title: str
    from_: str = Field(alias="from", description="First local date (YYYY-MM-DD)")
    to: str = Field(description="Last local date")
    timezone: str = Field(description="The org's time zone: dates and times are local to it")
    columns: list[ReportColumn]
    items: list[dict[str, Any]] = Field(
        description="One object per row, keyed by the columns' keys (daily and exceptions rows "
        "also carry `statuses`, the day's status codes)"
    )
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` for the next page; null on the last (department: one)"
    )
