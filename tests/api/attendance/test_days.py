"""Computed days through HTTP on both databases: a late punch, an approved correction, an
approved leave and a roster change, each leading to the day recomputed by the job."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from fieldpunch.config import Settings
from fieldpunch.db.engine import Database
from tests.api.attendance.days_kit import (
    Jobs,
    backdating,
    day_of,
    fixed_group,
    jobs_for,
    local,
    past,
    punch_at,
    quiet_settings,
)
from tests.api.attendance.harness import DAY_SHIFT
from tests.factories import OrgKit
from tests.punching import OFFICE


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return quiet_settings(db_url, tmp_path)


@pytest.fixture
async def jobs(db: Database, settings: Settings) -> AsyncIterator[Jobs]:
    async with jobs_for(db, settings) as j:
        yield j


async def test_a_late_punch_makes_the_day_late(org: OrgKit, jobs: Jobs) -> None:
    staff = await org.person("staff")
    assert staff.user_id
    group = await fixed_group(org, [staff.user_id])
    d = past()
    came = await punch_at(staff, "clock_in", local(d, 9, 20))
    assert came["status"] == "accepted", came["anomalies"]
    left = await punch_at(staff, "clock_out", local(d, 18, 5))
    await jobs.refresh()
    row = await day_of(org.admin, staff.user_id, d)
    assert row["status"] == "late" and row["statuses"] == ["late"]
    assert row["late_min"] == 20 and row["early_leave_min"] == 0
    assert row["worked_min"] > 0 and row["scheduled_min"] == 9 * 60
    assert row["complete"] is True and row["kind"] == "workday"
    assert row["group_id"] == group["id"] and row["shift_id"] == group["shift_id"]
    assert datetime.fromisoformat(row["first_in"]) == local(d, 9, 20)
    assert datetime.fromisoformat(row["last_out"]) == local(d, 18, 5)
    edges = {e["side"]: e for e in row["edges"]}
    assert edges["in"]["state"] == "late" and edges["in"]["punch"]["id"] == came["id"]
    assert edges["out"]["state"] == "ok" and edges["out"]["punch"]["id"] == left["id"]
    assert row["user_name"].startswith("staff") and row["computed_at"]
    # The person sees their own day, as the admin does.
    assert await day_of(staff, staff.user_id, d) == row
    late = await org.admin.ok(
        "get",
        "/attendance/days",
        params={"from": d.isoformat(), "to": d.isoformat(), "status": "late"},
    )
    assert [r["user_id"] for r in late["items"]] == [staff.user_id]


async def test_a_review_then_a_correction_make_the_day_normal(org: OrgKit, jobs: Jobs) -> None:
    place = await org.admin.ok(
        "post",
        "/places",
        201,
        json={"name": "HQ", "location": {"lat": OFFICE[0], "lon": OFFICE[1]}},
    )
    staff = await org.person("staff")
    assert staff.user_id
    await fixed_group(org, [staff.user_id])
    d = past(2)
    # A clock-out with no clock-in before it is flagged: it counts once approved on review.
    gone = await punch_at(staff, "clock_out", local(d, 18, 2))
    assert gone["status"] == "flagged"
    await jobs.refresh()
    assert (await day_of(org.admin, staff.user_id, d))["status"] == "absent"
    queue = await org.admin.ok("get", "/anomalies", params={"status": "open"})
    (anomaly,) = [a for a in queue["items"] if a["punch_id"] == gone["id"]]
    await org.admin.ok(
        "post", f"/anomalies/{anomaly['id']}/resolve", json={"decision": "approve", "comment": ""}
    )
    await jobs.refresh()
    assert (await day_of(org.admin, staff.user_id, d))["status"] == "missing_clock_in"
    asked = await staff.ok(
        "post",
        "/corrections",
        201,
        json={
            "kind": "clock_in",
            "at": local(d, 8, 58).isoformat(),
            "reason": "forgot",
            "place_id": place["id"],
        },
    )
    await jobs.refresh()  # a pending correction changes nothing
    assert (await day_of(org.admin, staff.user_id, d))["status"] == "missing_clock_in"
    await org.admin.ok("post", f"/corrections/{asked['id']}/approve", json={})
    await jobs.refresh()
    row = await day_of(org.admin, staff.user_id, d)
    assert row["status"] == "normal", row
    edge = next(e for e in row["edges"] if e["side"] == "in")
    assert edge["punch"]["method"] == "correction"


async def test_an_approved_leave_turns_absent_into_leave(org: OrgKit, jobs: Jobs) -> None:
    staff = await org.person("staff")
    assert staff.user_id
    await fixed_group(org, [staff.user_id])
    d = past(4)
    body = {"from": d.isoformat(), "to": d.isoformat(), "user_id": staff.user_id}
    assert (await org.admin.ok("post", "/attendance/recompute", 202, json=body))["marked"] == 1
    await jobs.refresh()
    assert (await day_of(org.admin, staff.user_id, d))["status"] == "absent"
    leave = await staff.ok(
        "post",
        "/requests",
        201,
        json={
            "kind": "leave",
            "leave_type": "annual",
            "unit": "day",
            "start": local(d, 0).isoformat(),
            "end": local(d.fromordinal(d.toordinal() + 1), 0).isoformat(),
            "reason": "family",
        },
    )
    await org.admin.ok("post", f"/requests/{leave['id']}/approve", json={})
    await jobs.refresh()
    row = await day_of(org.admin, staff.user_id, d)
    assert row["status"] == "leave" and row["leave_min"] > 0
    assert row["leave_by_type"] == {"annual": row["leave_min"]}


async def test_a_roster_change_recomputes_the_day(org: OrgKit, jobs: Jobs) -> None:
    staff = await org.person("staff")
    assert staff.user_id
    await backdating(org)
    shift = await org.admin.ok("post", "/shifts", 201, json=DAY_SHIFT)
    await org.admin.ok(
        "post",
        "/attendance-groups",
        201,
        json={"name": "Shop", "schedule": "rostered", "user_ids": [staff.user_id]},
    )
    d = past(3)
    entry = {"user_id": staff.user_id, "date": d.isoformat()}
    await org.admin.ok("put", "/rosters", json={"entries": [{**entry, "shift_id": shift["id"]}]})
    await punch_at(staff, "clock_in", local(d, 8, 55))
    await punch_at(staff, "clock_out", local(d, 18, 1))
    await jobs.refresh()
    row = await day_of(org.admin, staff.user_id, d)
    assert row["status"] == "normal" and row["schedule"] == "rostered"
    assert row["shift_id"] == shift["id"]
    await org.admin.ok("put", "/rosters", json={"entries": [{**entry, "shift_id": "rest"}]})
    await jobs.refresh()
    row = await day_of(org.admin, staff.user_id, d)
    assert row["status"] == "rest" and row["kind"] == "rest"
