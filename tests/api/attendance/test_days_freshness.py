"""Days stay fresh: a calendar change (EVERYONE's day) reaches people through their team's
group, a day with no punch at all is computed when it has ended, and a day computed while in
progress is completed after its end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fieldpunch.attendance.recompute import recompute
from fieldpunch.config import Settings
from fieldpunch.db.engine import Database
from tests.api.attendance.days_kit import (
    Jobs,
    backdating,
    day_of,
    jobs_for,
    local,
    past,
    punch_at,
    quiet_settings,
)
from tests.api.attendance.harness import DAY_SHIFT, today
from tests.factories import OrgKit
from tests.punching import punch


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return quiet_settings(db_url, tmp_path)


@pytest.fixture
async def jobs(db: Database, settings: Settings) -> AsyncIterator[Jobs]:
    async with jobs_for(db, settings) as j:
        yield j


async def _team_group(org: OrgKit) -> tuple[str, str]:
    """A team whose group (fixed, 09:00–18:00 every day) its people get through the team."""
    await backdating(org)
    team = await org.team("Field")
    shift = await org.admin.ok("post", "/shifts", 201, json=DAY_SHIFT)
    await org.admin.ok(
        "post",
        "/attendance-groups",
        201,
        json={
            "name": "Field",
            "schedule": "fixed",
            "shift_id": shift["id"],
            "workdays": [1, 2, 3, 4, 5, 6, 7],
            "team_ids": [team],
        },
    )
    return team, shift["id"]


async def test_a_calendar_day_reaches_everyone_in_a_group(org: OrgKit, jobs: Jobs) -> None:
    team, _ = await _team_group(org)
    staff = await org.person("staff", team_id=team)
    outsider = await org.person("staff")  # in no group: no days
    assert staff.user_id and outsider.user_id
    d = past(5)
    await org.admin.ok(
        "put",
        f"/calendar/{d.year}",
        json=[{"date": d.isoformat(), "kind": "holiday", "name": "Founders' Day"}],
    )
    await jobs.refresh()
    row = await day_of(org.admin, staff.user_id, d)
    assert row["status"] == "holiday" and row["holiday_name"] == "Founders' Day"
    page = await org.admin.ok(
        "get",
        "/attendance/days",
        params={"from": d.isoformat(), "to": d.isoformat(), "user_id": outsider.user_id},
    )
    assert page["items"] == []


async def test_a_day_without_punches_is_absent_once_it_ended(org: OrgKit, jobs: Jobs) -> None:
    team, _ = await _team_group(org)
    staff = await org.person("staff", team_id=team)
    assert staff.user_id
    yesterday = past(1)
    await jobs.run("attendance.close")  # enqueues each org's close of its yesterday, once
    await jobs.refresh()
    row = await day_of(org.admin, staff.user_id, yesterday)
    assert row["status"] == "absent" and row["complete"] is True


async def test_a_day_computed_in_progress_is_completed(
    org: OrgKit, jobs: Jobs, db: Database
) -> None:
    team, _ = await _team_group(org)
    staff = await org.person("staff", team_id=team)
    assert staff.user_id
    d = past(2)
    await punch_at(staff, "clock_in", local(d, 8, 55))
    async with db.transaction() as session:  # as if computed at noon that day
        await recompute(session, org.org_id, staff.user_id, [d], now=local(d, 12))
    row = await day_of(org.admin, staff.user_id, d)
    assert row["complete"] is False and row["status"] == "normal"
    await jobs.run("attendance.close")
    await jobs.refresh()
    row = await day_of(org.admin, staff.user_id, d)
    assert row["complete"] is True and row["status"] == "missing_clock_out"


async def test_days_not_begun_are_not_stored(org: OrgKit, jobs: Jobs, db: Database) -> None:
    team, _ = await _team_group(org)
    staff = await org.person("staff", team_id=team)
    assert staff.user_id
    ahead = today().toordinal() + 2
    async with db.transaction() as session:
        written = await recompute(session, org.org_id, staff.user_id, [today().fromordinal(ahead)])
    assert written == 0


async def test_a_punch_today_leaves_the_day_in_progress(org: OrgKit, jobs: Jobs) -> None:
    team, _ = await _team_group(org)
    staff = await org.person("staff", team_id=team)
    assert staff.user_id
    await staff.ok("post", "/punches", 201, json=punch(kind="clock_in"))  # online, now
    await jobs.refresh()
    row = await day_of(org.admin, staff.user_id, today())
    # Today's windows close at midnight at the earliest: nothing is missing yet.
    assert row["complete"] is False
    assert "missing_clock_out" not in row["statuses"] and "absent" not in row["statuses"]
