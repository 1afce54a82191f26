"""A visit or performance report as a CSV or XLSX download (reports/downloads.py does the files)."""

from __future__ import annotations

from fieldpunch.reports.columns import Lang
from fieldpunch.reports.downloads import CSV_TYPE, XLSX_TYPE, Download
from fieldpunch.visits.reports import service
from fieldpunch.visits.reports.columns import TITLES

__all__ = ["CSV_TYPE", "XLSX_TYPE", "download"]


def download(r: service.Report) -> Download:
    span = f"{r.scope.start.isoformat()}_{r.scope.end.isoformat()}"
    zh, en = TITLES[r.name]
    name = zh if r.lang is Lang.zh else en
    return Download(
        ascii_name=f"{r.family}-{r.view}-{span}",
        own_name=f"{name}-{span}",
        sheet=name,
        title=r.title,
        columns=r.columns,
        lang=r.lang,
        partitions=lambda session: service.rows(session, r),
    )
