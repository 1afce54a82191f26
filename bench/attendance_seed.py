"""The organisation `fieldpunch bench attendance` measures: N people in teams of 100, one fixed
attendance group on every team (Monday to Friday, 09:00-12:00 and 13:00-18:00, 5 minutes of
grace), and four punches per person and workday of one month, written with bulk SQL inserts
through fieldpunch's own models (900,000 punches through the API would take hours: the punch
path is measured by `bench ingest`).

About one punch in twenty is late or early; one person-day in a hundred misses its last punch.
A punch row holds what the recompute reads (kind, status, trusted time, place) and plausible
values elsewhere; the ledger columns are not a real chain (`audit verify` is not measured here).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from bench.harness import sayer
from fieldpunch.attendance.models import AttendanceGroup, GroupPlace, GroupTeam, Shift
from fieldpunch.db.engine import Database
from fieldpunch.kit.ids import new_id
from fieldpunch.orgs.service import create_org
from fieldpunch.places.models import Place
from fieldpunch.punches.models import Punch
from fieldpunch.teams.models import Team
from fieldpunch.users.models import User

TZ = "Asia/Shanghai"
TEAM_SIZE = 100
ADMIN_EMAIL = "admin@attendance.bench.example.com"
PASSWORD = "bench-password-1"  # noqa: S105 - a throwaway account in a throwaway database
# (kind, local time) of a day's four punches: the two periods' edges, a few minutes inside.
DAY = (("clock_in", time(8, 55)), ("clock_out", time(12, 2)), ("clock_in", time(13, 25)),
       ("clock_out", time(18, 3)))  # fmt: skip
say = sayer("attendance")


@dataclass(frozen=True)
class Seeded:
    org_id: str
    admin_id: str
    team_ids: list[str]
    user_ids: list[str]
    days: list[date]  # every date of the month
    workdays: list[date]
    punches: int


def month_days(month: str) -> list[date]:
    first = date.fromisoformat(f"{month}-01")
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return [first + timedelta(days=n) for n in range((following - first).days)]


def _punch(
    org_id: str, user_id: str, kind: str, at: datetime, place_id: str, n: int
) -> dict[str, Any]:
    lat, lon = 31.2304 + (n % 97) * 1e-5, 121.4737 + (n % 89) * 1e-5
    pid = new_id("pun")
    return {
        "id": pid,
        "org_id": org_id,
        "user_id": user_id,
        "client_id": pid,
        "content_hash": "0" * 64,
        "kind": kind,
        "status": "accepted",
        "source": "app",
        "captured_at": at,
        "received_at": at,
        "trusted_time": at,
        "time_source": "server",
        "lat": lat,
        "lon": lon,
        "accuracy_m": 12.0,
        "raw_lat": lat,
        "raw_lon": lon,
        "fusion": {},
        "place_id": place_id,
        "note": "",
        "offline": False,
        "anomalies": [],
        "facts": {"wifi_registered": n % 3 == 0},
        "payload": {},
        "seq": n,
        "hash": "0" * 64,
    }


async def seed(db: Database, people: int, month: str, rng: random.Random) -> Seeded:
    tz = ZoneInfo(TZ)
    async with db.transaction() as s:
        made = await create_org(
            s, name="Attendance Bench", admin_email=ADMIN_EMAIL, admin_password=PASSWORD,
            timezone=TZ,
        )  # fmt: skip
    org_id = made.org_id
    now = datetime.now(UTC)
    teams = [
        {"id": new_id("team"), "org_id": org_id, "name": f"部门{t:03d}"}
        for t in range((people + TEAM_SIZE - 1) // TEAM_SIZE)
    ]
    users = [
        {
            "id": new_id("usr"),
            "org_id": org_id,
            "email": f"p{n}@attendance.bench.example.com",
            "name": f"员工{n:05d}",
            "role": "staff",
            "employee_no": f"E{n:05d}",
            "team_id": teams[n // TEAM_SIZE]["id"],
            "created_at": now,
            "updated_at": now,
        }
        for n in range(people)
    ]
    place_id, shift_id, group_id = new_id("plc"), new_id("shf"), new_id("grp")
    async with db.transaction() as s:
        await s.execute(insert(Team), teams)
        for i in range(0, len(users), 2000):
            await s.execute(insert(User), users[i : i + 2000])
        await s.execute(
            insert(Place),
            [{"id": place_id, "org_id": org_id, "name": "总部", "kind": "office", "address": "",
              "lat": 31.2304, "lon": 121.4737, "radius_m": 200.0, "polygon": None,
              "wifi_bssids": []}],
        )  # fmt: skip
        await s.execute(
            insert(Shift),
            [{"id": shift_id, "org_id": org_id, "name": "标准班",
              "periods": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "18:00"}],
              "breaks": [], "grace_late_min": 5, "grace_early_min": 5, "serious_late_min": 30,
              "absent_late_min": 120}],
        )  # fmt: skip
        await s.execute(
            insert(AttendanceGroup),
            [{"id": group_id, "org_id": org_id, "name": "总部考勤", "schedule": "fixed",
              "shift_id": shift_id, "workdays": [1, 2, 3, 4, 5]}],
        )  # fmt: skip
        await s.execute(
            insert(GroupTeam),
            [{"org_id": org_id, "team_id": t["id"], "group_id": group_id} for t in teams],
        )
        await s.execute(
            insert(GroupPlace), [{"org_id": org_id, "group_id": group_id, "place_id": place_id}]
        )
    days = month_days(month)
    workdays = [d for d in days if d.isoweekday() <= 5]
    n = 0
    rows: list[dict[str, Any]] = []
    for u in users:
        for d in workdays:
            for k, (kind, at) in enumerate(DAY):
                if k == 3 and rng.random() < 0.01:
                    continue  # a forgotten clock-out
                jitter = rng.randint(-4, 4) if rng.random() < 0.95 else rng.randint(6, 40)
                local = datetime.combine(d, at, tz) + timedelta(minutes=jitter)
                if kind == "clock_out" and jitter > 0:
                    local -= timedelta(minutes=2 * jitter + 10)  # early, not late, on the way out
                rows.append(_punch(org_id, u["id"], kind, local.astimezone(UTC), place_id, n))
                n += 1
        if len(rows) >= 20_000:
            await _insert(db, rows)
            say(f"  {n} punches")
            rows = []
    await _insert(db, rows)
    return Seeded(
        org_id, made.admin_user_id, [t["id"] for t in teams], [u["id"] for u in users], days,
        workdays, n,
    )  # fmt: skip


async def _insert(db: Database, rows: list[dict[str, Any]]) -> None:
    if rows:
        async with db.transaction() as s:
            for i in range(0, len(rows), 5000):
                await s.execute(insert(Punch), rows[i : i + 5000])
