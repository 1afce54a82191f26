"""Shared by the computed-days tests: a runner driven by the test (no runner in the app, no
sleeps), punches at a local time, the rules a day needs, and reading a day back."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from fieldpunch.config import Settings, load_settings
from fieldpunch.db.engine import Database
from fieldpunch.jobs.queue import enqueue
from fieldpunch.jobs.runner import Runner
from fieldpunch.jobs.worker import build_runner
from tests.api.attendance.harness import DAY_SHIFT, TZ, today
from tests.conftest import TEST_SECRET
from tests.factories import Api, OrgKit
from tests.punching import OFFICE, punch


def quiet_settings(db_url: str, tmp_path: Path) -> Settings:
    """The app without its in-process runner: the test runs the jobs itself."""
    return load_settings(
        database_url=db_url,
        data_dir=tmp_path,
        secret_key=TEST_SECRET,
        access_log=False,
        jobs_in_process=False,
    )


class Jobs:
    def __init__(self, db: Database, runner: Runner) -> None:
        self.db, self.runner = db, runner

    async def run(self, kind: str, payload: dict[str, Any] | None = None) -> int:
        async with self.db.transaction() as session:
            await enqueue(session, kind, payload or {}, key=f"test:{kind}:{secrets.token_hex(6)}")
        return await self.runner.drain()

    async def refresh(self) -> int:
        """Follow the outbox and recompute every marked day: what the periodic job does,
        without letting marks settle first."""
        return await self.run("attendance.refresh", {"settle_s": 0})


@asynccontextmanager
async def jobs_for(db: Database, settings: Settings) -> AsyncIterator[Jobs]:
    runner = build_runner(db, settings)
    try:
        yield Jobs(db, runner)
    finally:
        await runner.http.aclose()


def local(d: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(d, time(hh, mm), TZ)


def past(days: int = 3) -> date:
    return today() - timedelta(days=days)


async def punch_at(person: Api, kind: str, at: datetime, **extra: Any) -> dict[str, Any]:
    """An offline punch captured at `at` (its device time is its trusted time)."""
    body = punch(*OFFICE, kind=kind, captured_at=at, offline=True, **extra)
    made: dict[str, Any] = await person.ok("post", "/punches", 201, json=body)
    return made


async def backdating(org: OrgKit) -> None:
    """The tests punch days in the past, offline: such punches are not stale here."""
    await org.admin.ok("put", "/policy", json={"stale_offline_h": 24 * 30})


async def fixed_group(org: OrgKit, user_ids: list[str], **shift: Any) -> dict[str, Any]:
    """A day shift (09:00–18:00, grace 5) worked every day of the week by these people."""
    await backdating(org)
    made = await org.admin.ok(
        "post", "/shifts", 201, json={**DAY_SHIFT, "grace_late_min": 5, **shift}
    )
    group: dict[str, Any] = await org.admin.ok(
        "post",
        "/attendance-groups",
        201,
        json={
            "name": f"Office {secrets.token_hex(2)}",
            "schedule": "fixed",
            "shift_id": made["id"],
            "workdays": [1, 2, 3, 4, 5, 6, 7],
            "user_ids": user_ids,
        },
    )
    return group


async def day_of(api: Api, user_id: str, d: date) -> dict[str, Any]:
    page = await api.ok(
        "get",
        "/attendance/days",
        params={"user_id": user_id, "from": d.isoformat(), "to": d.isoformat()},
    )
    assert len(page["items"]) == 1, page
    row: dict[str, Any] = page["items"][0]
    return row
