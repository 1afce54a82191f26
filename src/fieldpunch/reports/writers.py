"""Report rows → CSV text and XLSX sheets, a chunk at a time (no database, no HTTP).

CSV: UTF-8 with a byte-order mark (Excel opens Chinese correctly only with it), a header line in
the report's language, then one line per row; dates `YYYY-MM-DD`, times `YYYY-MM-DD HH:MM` in the
org's zone, numbers plain. XLSX: `XlsxSheet` (xlsx.py) deflates each row's XML into the zip as
it comes, so memory does not grow with the rows; a title row, a frozen header, typed cells (dates
as dates, minutes as numbers) and column widths.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from fieldpunch.reports.columns import Column, Lang
from fieldpunch.reports.xlsx import XlsxSheet

__all__ = ["BOM", "XlsxSheet", "csv_header", "csv_lines", "json_value"]

BOM = "\ufeff"


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return value


def csv_header(columns: Sequence[Column], lang: Lang) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([c.header(lang) for c in columns])
    return (BOM + out.getvalue()).encode()


def csv_lines(columns: Sequence[Column], rows: Iterable[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    keys = [c.key for c in columns]
    for row in rows:
        w.writerow([_csv_value(row.get(k)) for k in keys])
    return out.getvalue().encode()


def json_value(value: Any) -> Any:
    """A cell for the JSON answer: dates ISO, local times RFC 3339 with the org's offset."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
