"""The visit tests run the jobs themselves (no runner in the app, no sleeps): `jobs.run(kind)`
enqueues one job of that kind and drains the queue."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from fieldpunch.config import Settings, load_settings
from fieldpunch.db.engine import Database
from fieldpunch.jobs.queue import enqueue
from fieldpunch.jobs.runner import Runner
from fieldpunch.jobs.worker import build_runner
from tests.conftest import TEST_SECRET
from tests.factories import OrgKit, new_org


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return load_settings(
        database_url=db_url,
        data_dir=tmp_path,
        secret_key=TEST_SECRET,
        access_log=False,
        jobs_in_process=False,
    )


@pytest.fixture
async def org(client: httpx.AsyncClient, db: Database) -> OrgKit:
    """The tests' org, accepting offline punches up to two days old: `base_time()` is yesterday's
    noon before 13:30 local, so a visit punched after it is up to ~25.5 h old when it syncs
    (beyond the default 24 h `stale_offline_h`, which would flag it)."""
    kit = await new_org(client, db, "Acme")
    await kit.admin.ok("put", "/policy", json={"stale_offline_h": 48})
    return kit


class Jobs:
    def __init__(self, db: Database, runner: Runner) -> None:
        self.db, self.runner = db, runner

    async def run(self, kind: str) -> int:
        async with self.db.transaction() as session:
            await enqueue(session, kind, {}, key=f"test:{kind}:{secrets.token_hex(6)}")
        return await self.runner.drain()


@pytest.fixture
async def jobs(db: Database, settings: Settings) -> AsyncIterator[Jobs]:
    runner = build_runner(db, settings)
    yield Jobs(db, runner)
    await runner.http.aclose()
