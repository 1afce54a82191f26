"""OpenCelliD CSV import: all rows or none, with a dry run."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.cells.models import Cell
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.errors import ProblemError

# OpenCelliD's column order (its exports may or may not carry this header).
COLUMNS = [
    "radio",
    "mcc",
    "net",
    "area",
    "cell",
    "unit",
    "lon",
    "lat",
    "range",
    "samples",
    "changeable",
    "created",
    "updated",
    "averageSignal",
]
RADIOS = {"GSM": "gsm", "UMTS": "umts", "LTE": "lte", "NR": "nr", "CDMA": "cdma"}
MAX_ERRORS = 20
CHUNK = 1000


class ImportRejected(ProblemError):
    status, slug, title = 422, "validation", "Import rejected"


@dataclass(frozen=True)
class ImportResult:
    rows: int
    dry_run: bool


def _int(value: str, lo: int, hi: int) -> int:
    number = int(value)
    if not lo <= number <= hi:
        raise ValueError(f"must be between {lo} and {hi}")
    return number


def _float(value: str, lo: float, hi: float) -> float:
    number = float(value)
    if not math.isfinite(number) or not lo <= number <= hi:
        raise ValueError(f"must be between {lo} and {hi}")
    return number


def parse(text: str) -> list[dict[str, Any]]:
    """Every row as column values; ImportRejected naming up to 20 bad rows and fields."""
    # newline="" lets the csv module see the line ends itself (a stray CR is then its to judge).
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    try:
        records = list(reader)
    except csv.Error as exc:  # unbalanced quotes, NUL bytes, line ends inside fields
        raise ImportRejected(
            f"not CSV at line {reader.line_num}: {exc}",
            [{"loc": ["body", "row", reader.line_num], "msg": str(exc)}],
        ) from exc
    for n, record in enumerate(records, start=1):
        if not record or (n == 1 and record[0].strip().lower() == "radio"):
            continue
        if len(record) < 9:
            errors.append(
                {"loc": ["body", "row", n], "msg": "expected at least 9 columns (radio..range)"}
            )
        else:
            row, field = {}, "radio"
            try:
                radio = RADIOS.get(record[0].strip().upper())
                if radio is None:
                    raise ValueError(f"one of {', '.join(RADIOS)}")
                field = "mcc"
                row = {"radio": radio, "mcc": _int(record[1], 0, 999)}
                field = "net"
                row["mnc"] = _int(record[2], 0, 999)
                field = "area"
                row["lac"] = _int(record[3], 0, 2**32)
                field = "cell"
                row["cid"] = _int(record[4], 0, 2**40)
                field = "lon"
                row["lon"] = _float(record[6], -180, 180)
                field = "lat"
                row["lat"] = _float(record[7], -90, 90)
                field = "range"
                row["range_m"] = _float(record[8] or "1000", 1, 100_000)
                field = "samples"
                row["samples"] = _int(record[9], 0, 2**31) if len(record) > 9 and record[9] else 0
                rows.append(row)
            except ValueError as exc:
                errors.append({"loc": ["body", "row", n, field], "msg": str(exc) or "not a number"})
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise ImportRejected(
            f"{len(errors)} bad rows (first at row {errors[0]['loc'][2]}); nothing imported", errors
        )
    if not rows:
        raise ImportRejected("no rows", [{"loc": ["body"], "msg": "the file has no data rows"}])
    return rows


async def import_csv(
    session: AsyncSession, org_id: str, text: str, *, dry_run: bool
) -> ImportResult:
    rows = parse(text)
    if dry_run:
        return ImportResult(len(rows), True)
    now = utcnow()
    dialect = session.get_bind().dialect.name
    for start in range(0, len(rows), CHUNK):
        chunk = [
            {**r, "org_id": org_id, "created_at": now, "updated_at": now}
            for r in rows[start : start + CHUNK]
        ]
        ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(Cell).values(chunk)
        await session.execute(
            ins.on_conflict_do_update(
                index_elements=["org_id", "radio", "mcc", "mnc", "lac", "cid"],
                set_={
                    k: getattr(ins.excluded, k)
                    for k in ("lat", "lon", "range_m", "samples", "updated_at")
                },
            )
        )
    return ImportResult(len(rows), False)


async def stats(session: AsyncSession, org_id: str) -> dict[str, Any]:
    counts = (
        await session.execute(
            select(Cell.radio, func.count()).where(Cell.org_id == org_id).group_by(Cell.radio)
        )
    ).all()
    by_radio = {radio: int(n) for radio, n in counts}
    return {"count": sum(by_radio.values()), "by_radio": by_radio}
