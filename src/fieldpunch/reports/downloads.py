"""A report's rows as a CSV stream or an XLSX download, for every report family (attendance,
visits, performance): one place for the file names, the temporary file and its clean-up.

CSV streams from a snapshot session of its own (the request's transaction has committed when
the body is sent). XLSX is written a partition at a time in a thread (the writer, xlsx.py, is
synchronous) to a temporary file whose size is then known, streamed, and deleted.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.background import BackgroundTask

from fieldpunch.db.engine import Database
from fieldpunch.reports.columns import Lang
from fieldpunch.reports.writers import XlsxSheet, csv_header, csv_lines

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FILE_CHUNK = 64 * 1024

Partitions = Callable[[AsyncSession], AsyncIterator[list[dict[str, Any]]]]


@dataclass(frozen=True, slots=True)
class Download:
    """What a download needs of a prepared report."""

    ascii_name: str  # e.g. "attendance-monthly-2026-11-01_2026-11-30" (no extension)
    own_name: str  # the same in the report's language, e.g. "月度汇总-2026-11-01_2026-11-30"
    sheet: str  # the worksheet's name
    title: str  # the sheet's first line
    columns: Sequence[Any]
    lang: Lang
    partitions: Partitions  # the rows, a partition at a time, read in the given session


def _disposition(d: Download, ext: str) -> str:
    # An ASCII name for every client, the report's own (Chinese) name for those that read RFC 6266.
    own = quote(f"{d.own_name}.{ext}")
    return f"attachment; filename=\"{d.ascii_name}.{ext}\"; filename*=UTF-8''{own}"


async def _csv(db: Database, d: Download) -> AsyncIterator[bytes]:
    yield csv_header(d.columns, d.lang)
    async with db.snapshot() as session:
        async for part in d.partitions(session):
            if part:
                yield csv_lines(d.columns, part)


def csv_response(db: Database, d: Download) -> StreamingResponse:
    headers = {"Content-Disposition": _disposition(d, "csv")}
    return StreamingResponse(_csv(db, d), media_type=CSV_TYPE, headers=headers)


async def _xlsx(session: AsyncSession, d: Download) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="fieldpunch-report-"))
    try:
        sheet = await asyncio.to_thread(
            XlsxSheet, folder / "report.xlsx", d.sheet, d.title, d.columns, d.lang
        )
        async for part in d.partitions(session):
            if part:
                await asyncio.to_thread(sheet.write, part)
        await asyncio.to_thread(sheet.close)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return sheet.path


async def _send(path: Path) -> AsyncIterator[bytes]:
    try:
        with path.open("rb") as f:
            while chunk := await asyncio.to_thread(f.read, _FILE_CHUNK):
                yield chunk
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


async def xlsx_response(session: AsyncSession, d: Download) -> StreamingResponse:
    """The workbook, written whole before the first byte (a zip is assembled at its end)."""
    path = await _xlsx(session, d)
    return StreamingResponse(
        _send(path),
        media_type=XLSX_TYPE,
        headers={
            "Content-Disposition": _disposition(d, "xlsx"),
            "Content-Length": str(path.stat().st_size),
        },
        background=BackgroundTask(shutil.rmtree, path.parent, ignore_errors=True),
    )
