"""Peak memory of the attendance XLSX and CSV downloads as the org grows (docs/performance.md).

    .venv/bin/python bench/reports_memory.py [people ...]      (SQLite in a temporary folder)
    FIELDPUNCH_BENCH_PG=postgresql+asyncpg://postgres@127.0.0.1:5432/test ... (an empty database)

Seeds one org with N people x 22 workdays (+ weekends) of stored days whose results carry two
edges with punches, then builds the monthly-detail XLSX and CSV as the endpoint does and reports
the Python heap's peak above the baseline (tracemalloc) and the time.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from tests.unit.attendance.kit import i, o
from tests.unit.reports.kit import computed, fields

from fieldpunch.attendance.days_models import AttendanceDay
from fieldpunch.attendance.values import DayKind, Method
from fieldpunch.auth.principal import Principal
from fieldpunch.auth.scopes import ALL
from fieldpunch.db.engine import Database
from fieldpunch.db.migrate import upgrade
from fieldpunch.orgs.service import create_org
from fieldpunch.reports import service
from fieldpunch.reports.columns import View
from fieldpunch.reports.endpoints import _csv, _xlsx
from fieldpunch.users.models import User

NOV = [date(2026, 11, 1) + timedelta(days=n) for n in range(30)]


def _template() -> list[dict[str, object]]:
    out = []
    for d in NOV:
        if d.isoweekday() >= 6:
            out.append(fields(computed([], d, kind=DayKind.rest)))
        else:
            late = "09:07" if d.day % 5 == 0 else "08:55"
            out.append(fields(computed([i(late, Method.wifi, d=d), o("18:02", d=d)], d)))
    return out


async def seed(db: Database, people: int) -> str:
    async with db.transaction() as s:
        made = await create_org(
            s,
            name="Bench",
            admin_email="b@example.com",
            admin_password="x" * 12,
            timezone="Asia/Shanghai",
        )
    now = datetime.now(UTC)
    days = _template()
    for start in range(0, people, 500):
        users = [
            {
                "id": f"u{n:07d}",
                "org_id": made.org_id,
                "email": f"p{n}@example.com",
                "name": f"员工{n:05d}",
                "role": "staff",
                "employee_no": f"E{n:05d}",
                "created_at": now,
                "updated_at": now,
            }
            for n in range(start, min(people, start + 500))
        ]
        rows = [
            {**d, "org_id": made.org_id, "user_id": u["id"], "computed_at": now}
            for u in users
            for d in days
        ]
        async with db.transaction() as s:
            await s.execute(insert(User), users)
            await s.execute(insert(AttendanceDay), rows)
    return made.org_id


async def measure(url: str, people: int) -> None:
    db = Database(url)
    org_id = await seed(db, people)
    p = Principal(org_id, None, None, None, frozenset(ALL), None, api_key_id="bench")
    ask = service.Ask(View.daily, None, None, "2026-11", None, None, None, None)
    for fmt in ("xlsx", "csv"):
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        t0 = time.perf_counter()
        size = 0
        async with db.snapshot() as s:
            report = await service.prepare(s, p, ask)
            if fmt == "xlsx":
                path = await _xlsx(s, report)
                size = path.stat().st_size
        if fmt == "csv":
            async for chunk in _csv(db, report):
                size += len(chunk)
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
        print(
            f"{db.dialect} {people} people ({people * len(NOV)} rows) {fmt}: "
            f"{time.perf_counter() - t0:.1f} s, {size / 1e6:.1f} MB, "
            f"peak heap +{peak / 1e6:.1f} MB",
            flush=True,
        )
    await db.dispose()


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [500, 2000]
    for n in sizes:
        if pg := os.environ.get("FIELDPUNCH_BENCH_PG"):
            upgrade(pg)
            asyncio.run(measure(pg, n))
            continue
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
            upgrade(url)
            asyncio.run(measure(url, n))


if __name__ == "__main__":
    main()
