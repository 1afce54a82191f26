"""One timed step of `fieldpunch bench attendance`, in a process of its own, so that the code
measured is the code on PYTHONPATH (`--variant name=src`: a before/after in one run) and the
import and start-up are not timed.

    python -m bench.attendance_steps '{"step": "recompute", "url": ..., ...}'   → JSON on stdout

Steps: `recompute` (every person's month, `chunk` people per transaction, as a backfill would),
`day` (one late punch arrives: that person's three days recomputed, one transaction each, for a
sample of people) and `floor` (the month's punches read by one plain statement: the least any
recompute must read, a baseline measured in the same run).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, text

from fieldpunch.attendance.recompute import recompute, recompute_people
from fieldpunch.db.engine import Database
from fieldpunch.kit.ids import new_id
from fieldpunch.punches.models import Punch
from fieldpunch.users.models import User

ONE = timedelta(days=1)


async def _people(db: Database, org_id: str) -> list[str]:
    async with db.snapshot() as s:
        rows = await s.execute(
            select(User.id).where(User.org_id == org_id, User.role == "staff").order_by(User.id)
        )
        return list(rows.scalars())


async def step_recompute(db: Database, a: dict[str, Any]) -> dict[str, Any]:
    days = [date.fromisoformat(d) for d in a["days"]]
    people = await _people(db, a["org_id"])
    chunk = int(a["chunk"])
    written = 0
    t0, cpu0 = time.perf_counter(), time.process_time()
    for i in range(0, len(people), chunk):
        async with db.transaction() as s:
            written += await recompute_people(
                s, a["org_id"], {u: days for u in people[i : i + chunk]}
            )
    return {
        "seconds": round(time.perf_counter() - t0, 3),
        # The process's own CPU (not the database's): less moved by a busy machine than time.
        "cpu_s": round(time.process_time() - cpu0, 3),
        "rows": written,
    }


async def step_day(db: Database, a: dict[str, Any]) -> dict[str, Any]:
    """A late clock-in (09:20 local) arrives for each sampled person; time its days' recompute."""
    tz = ZoneInfo(a["tz"])
    d = date.fromisoformat(a["day"])
    people = await _people(db, a["org_id"])
    step = max(1, len(people) // int(a["sample"]))
    took: list[float] = []
    for user_id in people[::step][: int(a["sample"])]:
        at = datetime(d.year, d.month, d.day, 9, 20, tzinfo=tz).astimezone(UTC)
        pid = new_id("pun")
        async with db.transaction() as s:
            await s.execute(
                insert(Punch),
                [{"id": pid, "org_id": a["org_id"], "user_id": user_id, "client_id": pid,
                  "content_hash": "0" * 64, "kind": "clock_in", "status": "accepted",
                  "source": "app", "captured_at": at, "received_at": at, "trusted_time": at,
                  "time_source": "server", "lat": 31.23, "lon": 121.47, "accuracy_m": 10.0,
                  "raw_lat": 31.23, "raw_lon": 121.47, "fusion": {}, "payload": {}, "seq": 0,
                  "hash": "0" * 64}],
            )  # fmt: skip
        t0 = time.perf_counter()
        async with db.transaction() as s:
            await recompute(s, a["org_id"], user_id, [d - ONE, d, d + ONE])
        took.append((time.perf_counter() - t0) * 1000)
        async with db.transaction() as s:  # leave the org as it was for the next variant
            await s.execute(text("DELETE FROM punches WHERE id = :i"), {"i": pid})
    return {
        "median_ms": round(statistics.median(took), 2),
        "p90_ms": round(sorted(took)[int(0.9 * (len(took) - 1))], 2),
        "n": len(took),
    }


async def step_floor(db: Database, a: dict[str, Any]) -> dict[str, Any]:
    lo = datetime.fromisoformat(a["lo"])
    hi = datetime.fromisoformat(a["hi"])
    t0 = time.perf_counter()
    n = 0
    async with db.snapshot() as s:
        result = await s.stream(
            select(Punch.user_id, Punch.id, Punch.kind, Punch.trusted_time, Punch.place_id)
            .where(Punch.org_id == a["org_id"], Punch.trusted_time >= lo, Punch.trusted_time < hi)
            .execution_options(yield_per=5000)
        )
        async for part in result.partitions(5000):
            n += len(part)
    return {"seconds": round(time.perf_counter() - t0, 3), "rows": n}


STEPS = {"recompute": step_recompute, "day": step_day, "floor": step_floor}


async def run(a: dict[str, Any]) -> dict[str, Any]:
    db = Database(a["url"])
    try:
        return await STEPS[a["step"]](db, a)
    finally:
        await db.dispose()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run(json.loads(sys.argv[1])))))
