"""`fieldpunch bench visits`: the visit follower's throughput and the visit reports' time at the
issue's scale (issue 15: 2,000 reps × 22 days × 8 visits ≈ 350,000 visits).

    fieldpunch bench visits [--db sqlite|postgres|both] [--reps 2000] [--days 22]
                            [--per-day 8] [--punches 20000] [--runs 5]

Seeds one org in a throwaway database (Core inserts: people in teams of 20, 20 customers per
rep around Shanghai, the month's visits with check-in/out and outcomes), then measures in
process, as the endpoints run them:

* follower: `--punches` visit punches (check-in/check-out pairs, unplanned) with their
  `punch.created` outbox rows, applied by `visits.follow` from a cold cursor → punches/s;
* a team's monthly visit report (20 people), the org's (all partitions, as the CSV reads
  them), a person's route for a day, the org's heat map of visits for the month
  (resolution 8), the org's performance report;

and prints the medians of `--runs` as JSON. Targets (PostgreSQL): team ≤ 300 ms, org ≤ 3 s,
route ≤ 50 ms, heat map ≤ 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, text

from bench.harness import PgAdmin, machine, pg_database, sayer
from fieldpunch.auth.principal import Principal
from fieldpunch.auth.scopes import ALL
from fieldpunch.customers.models import Customer
from fieldpunch.db.engine import Database
from fieldpunch.db.migrate import upgrade
from fieldpunch.jobs.follow import follow
from fieldpunch.jobs.models import OutboxEvent
from fieldpunch.jobs.outbox import event_row
from fieldpunch.orgs.service import create_org
from fieldpunch.punches.models import Punch
from fieldpunch.teams.models import Team
from fieldpunch.users.models import User
from fieldpunch.visits import follow as visits_follow
from fieldpunch.visits.models import Visit
from fieldpunch.visits.reports import route as shapes
from fieldpunch.visits.reports import service
from fieldpunch.visits.reports.geo_repository import GeoRepo

say = sayer("visits")
CENTRE = (31.2304, 121.4737)
MONTH = date(2026, 11, 2)  # a Monday: the month's workdays run from here
BATCH = 5000


def _workdays(n: int) -> list[date]:
    days, d = [], MONTH
    while len(days) < n:
        if d.isoweekday() <= 5:
            days.append(d)
        d += timedelta(days=1)
    return days


async def seed(db: Database, reps: int, days: int, per_day: int) -> dict[str, Any]:
    rng = random.Random(15)  # noqa: S311 (positions, not secrets)
    async with db.transaction() as s:
        made = await create_org(s, name="Bench", admin_email="b@example.com",
                                admin_password="x" * 12, timezone="Asia/Shanghai")  # fmt: skip
    org, now = made.org_id, datetime.now(UTC)
    stamp = {"org_id": org, "created_at": now, "updated_at": now}
    teams = [{"id": f"tm{n:05d}", "name": f"销售{n}组", **stamp} for n in range(reps // 20 + 1)]
    users = [{"id": f"u{n:06d}", "email": f"r{n}@example.com", "name": f"销售{n:05d}",
              "role": "staff", "employee_no": f"E{n:05d}", "team_id": f"tm{n // 20:05d}",
              **stamp} for n in range(reps)]  # fmt: skip
    customers = [{"id": f"c{n:07d}", "name": f"客户{n}", "address": "",
                  "lat": CENTRE[0] + rng.uniform(-0.3, 0.3),
                  "lon": CENTRE[1] + rng.uniform(-0.3, 0.3), "radius_m": 150.0,
                  "owner_id": f"u{n // 20:06d}", "tags": [], "status": "active", "contacts": [],
                  **stamp} for n in range(reps * 20)]  # fmt: skip
    async with db.transaction() as s:
        await s.execute(insert(Team), teams)
        for i in range(0, len(users), BATCH):
            await s.execute(insert(User), users[i : i + BATCH])
        for i in range(0, len(customers), BATCH):
            await s.execute(insert(Customer), customers[i : i + BATCH])
    rows: list[dict[str, Any]] = []
    n = 0
    for u in range(reps):
        for d in _workdays(days):
            for k in range(per_day):
                start = datetime(d.year, d.month, d.day, 1 + k, tzinfo=UTC)  # 09:00 + k local
                missed = k == per_day - 1 and (u + d.day) % 4 == 0
                rows.append({
                    "id": f"v{n:09d}", "customer_id": f"c{u * 20 + (k + d.day) % 20:07d}",
                    "user_id": f"u{u:06d}", "planned": k != 0, "planned_start": start,
                    "planned_end": start + timedelta(minutes=50), "expected_min": 40,
                    "purpose": "", "day": d, "due_by": start + timedelta(minutes=50),
                    "state": "missed" if missed else "done", "cancel_reason": "",
                    "started_at": None if missed else start + timedelta(minutes=5),
                    "ended_at": None if missed else start + timedelta(minutes=45),
                    "duration_s": None if missed else 2400, "note": "",
                    "outcome": None if missed else ("order", "follow_up")[k % 2],
                    "answers": {}, "photo_ids": [], "created_by": f"u{u:06d}", **stamp,
                })  # fmt: skip
                n += 1
                if len(rows) == BATCH:
                    async with db.transaction() as s:
                        await s.execute(insert(Visit), rows)
                    rows = []
    if rows:
        async with db.transaction() as s:
            await s.execute(insert(Visit), rows)
    return {"org_id": org, "visits": n}


async def seed_punches(db: Database, org: str, count: int, reps: int) -> None:
    """Visit punch pairs (unplanned visits) by the first 100 reps, with their outbox rows."""
    people = min(100, reps)
    at0 = datetime(2026, 11, 30, 1, tzinfo=UTC)
    rows, events = [], []
    for n in range(count):
        user = f"u{n % people:06d}"
        kind = "visit_in" if n % (2 * people) < people else "visit_out"
        pair = n // (2 * people)
        at = at0 + timedelta(minutes=pair * 2 + (30 if kind == "visit_out" else 0))
        pid = f"p{n:09d}"
        rows.append({
            "id": pid, "org_id": org, "user_id": user, "client_id": pid, "content_hash": pid,
            "kind": kind, "status": "accepted", "source": "app", "captured_at": at,
            "received_at": at, "trusted_time": at, "time_source": "server",
            "lat": CENTRE[0], "lon": CENTRE[1], "accuracy_m": 10.0, "raw_lat": CENTRE[0],
            "raw_lon": CENTRE[1], "fusion": {},
            "customer_id": f"c{(n % people) * 20 + pair % 20:07d}",
            "note": "", "offline": False, "anomalies": [], "facts": {}, "payload": {},
            "seq": n, "hash": pid,
        })  # fmt: skip
        events.append(event_row(org, "punch.created", {"id": pid, "kind": kind}, at, user))
        if len(rows) == BATCH:
            async with db.transaction() as s:
                await s.execute(insert(Punch), rows)
                await s.execute(insert(OutboxEvent), events)
            rows, events = [], []
    if rows:
        async with db.transaction() as s:
            await s.execute(insert(Punch), rows)
            await s.execute(insert(OutboxEvent), events)


async def timed(runs: int, fn: Callable[[], Awaitable[Any]]) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        await fn()
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 1)


async def measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    db = Database(url)
    t0 = time.perf_counter()
    seeded = await seed(db, args.reps, args.days, args.per_day)
    org = seeded["org_id"]
    say(f"{db.dialect}: seeded {seeded['visits']} visits in {time.perf_counter() - t0:.0f} s")
    if db.dialect == "postgresql":
        async with db.transaction() as s:
            await s.execute(text("ANALYZE"))
    p = Principal(org, None, None, None, frozenset(ALL), None, api_key_id="bench")
    month = MONTH.strftime("%Y-%m")

    async def report(view: str, team: str | None, family: str = "visits") -> int:
        ask = service.Ask(family, view, None, None, month, team, None, None)
        rows = 0
        async with db.snapshot() as s:
            r = await service.prepare(s, p, ask)
            async for part in service.rows(s, r):
                rows += len(part)
        return rows

    async def route() -> None:
        async with db.snapshot() as s:
            geo = GeoRepo(s)
            day = date(2026, 11, 30)  # the follower's punches' local day
            since = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=8)
            punches = await geo.day_punches(org, "u000001", since, since + timedelta(days=1))
            stops = await geo.day_stops(org, "u000001", day)
            shapes.route("u000001", day.isoformat(), punches, stops, ZoneInfo("Asia/Shanghai"))

    async def heat() -> int:
        ask = service.Ask("visits", "person", None, None, month, None, None, None)
        async with db.snapshot() as s:
            r = await service.prepare(s, p, ask)
            counts = shapes.cells(await GeoRepo(s).visit_points(r.scope), 8)
        return len(counts)

    out: dict[str, Any] = {"database": db.dialect, "visits": seeded["visits"]}
    out["team_month_ms"] = await timed(args.runs, lambda: report("person", "tm00001"))
    out["org_month_ms"] = await timed(args.runs, lambda: report("person", None))
    out["org_month_customers_ms"] = await timed(args.runs, lambda: report("customer", None))
    out["org_performance_ms"] = await timed(
        max(1, args.runs // 2), lambda: report("person", None, "performance")
    )
    out["heatmap_org_month_ms"] = await timed(args.runs, heat)
    await seed_punches(db, org, args.punches, args.reps)
    t0 = time.perf_counter()

    async def handler(session: Any, events: Any) -> None:
        await visits_follow.apply_events(session, events, datetime.now(UTC))

    handed = await follow(db, "visits", visits_follow.TOPICS, handler, lambda: datetime.now(UTC))
    seconds = time.perf_counter() - t0
    out["follower_punches"] = handed
    out["follower_punches_per_s"] = round(handed / seconds) if seconds else None
    out["route_day_ms"] = await timed(args.runs, route)  # 200 punches a day: a heavy route
    await db.dispose()
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="fieldpunch bench visits")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--days", type=int, default=22)
    parser.add_argument("--per-day", type=int, default=8)
    parser.add_argument("--punches", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    results: list[dict[str, Any]] = []
    if args.db in ("postgres", "both"):
        with pg_database(PgAdmin(), "fp_bench_visits") as url:
            upgrade(url)
            results.append(asyncio.run(measure(url, args)))
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}"
            upgrade(url)
            results.append(asyncio.run(measure(url, args)))
    print(json.dumps({"machine": machine(), "args": vars(args), "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
