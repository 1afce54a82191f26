"""The per-person punch rate limit through HTTP (security review, issue 12, item 10a)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fieldpunch.config import Settings, load_settings
from fieldpunch.punches.ratelimit import PunchLimiter
from tests.conftest import TEST_SECRET
from tests.factories import Api, OrgKit
from tests.limits import Clock
from tests.punching import punch


@pytest.fixture
def settings(db_url: str, tmp_path: Any) -> Settings:
    # A bucket of 3 punches refilled at one a second, so a test sees it run dry.
    return load_settings(
        database_url=db_url,
        data_dir=tmp_path,
        secret_key=TEST_SECRET,
        access_log=False,
        punch_rate_per_min=60,
        punch_burst=3,
    )


@pytest.fixture
def clock(app: Any) -> Clock:
    clock = Clock()
    limiter: PunchLimiter = app.state.intake.limiter
    limiter.clock = clock
    return clock


async def _count(staff: Api) -> int:
    return len((await staff.ok("get", "/punches", params={"limit": 500}))["items"])


async def test_punches_are_rate_limited_per_person(org: OrgKit, clock: Clock) -> None:
    staff = await org.person("staff")
    for _ in range(3):
        await staff.ok("post", "/punches", 201, json=punch())
    refused = await staff.post("/punches", json=punch())
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["type"] == "/problems/too-many-requests"
    batch = await staff.post("/punches/batch", json={"punches": [punch()]})
    assert batch.status_code == 429
    assert await _count(staff) == 3  # nothing of the refused requests was stored
    # Someone else punches meanwhile.
    other = await org.person("staff")
    await other.ok("post", "/punches", 201, json=punch())
    clock.now += 1.0
    await staff.ok("post", "/punches", 201, json=punch())


async def test_an_offline_backlog_larger_than_the_bucket_gets_through(
    org: OrgKit, clock: Clock
) -> None:
    """A queue of 5 (more than the bucket's 3) goes in one batch once the bucket is full; a
    refused batch is sent again unchanged after Retry-After, and nothing is lost or doubled."""
    staff = await org.person("staff")
    await staff.ok("post", "/punches", 201, json=punch())
    start = datetime.now(UTC) - timedelta(hours=6)
    backlog = [
        punch(
            kind=("clock_in", "clock_out")[i % 2],
            offline=True,
            captured_at=start + timedelta(hours=i),
        )
        for i in range(5)
    ]
    refused = await staff.post("/punches/batch", json={"punches": backlog})
    assert refused.status_code == 429
    clock.now += float(refused.headers["Retry-After"])
    results = (await staff.ok("post", "/punches/batch", json={"punches": backlog}))["results"]
    assert [r["status"] for r in results] == [201] * 5
    # The bucket is in debt now: 5 owed, of which 2 may be owed before the next punch.
    again = await staff.post("/punches", json=punch())
    assert again.status_code == 429 and again.headers["Retry-After"] == "3"
    clock.now += 3.0
    await staff.ok("post", "/punches", 201, json=punch())
    assert await _count(staff) == 7
