"""API shapes of the visit reports (the JSON answer; CSV and XLSX carry the same rows)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from fieldpunch.kit.schemas import Out
from fieldpunch.reports.schemas import ReportColumn


class VisitReport(Out):
    report: str = Field(description="visits.person, visits.customer, visits.not_visited, "
                        "performance.person or performance.team")  # fmt: skip
    view: str
    lang: str = Field(description="zh or en: the language of headers")
    title: str
    from_: str = Field(alias="from", description="First local date (YYYY-MM-DD)")
    to: str = Field(description="Last local date")
    timezone: str = Field(description="The org's time zone: dates and times are local to it")
    columns: list[ReportColumn]
    items: list[dict[str, Any]] = Field(description="One object per row, keyed by the columns")
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` for the next page; null on the last"
    )
