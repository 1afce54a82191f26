"""Who reads which days: staff their own, managers their teams' (another team's person is a
404), admins all, API keys with attendance:read; another org's ids are 404. Pages, cursors,
and the recompute request (admins, 202)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fieldpunch.config import Settings
from fieldpunch.db.engine import Database
from tests.api.attendance.days_kit import (
    Jobs,
    fixed_group,
    jobs_for,
    local,
    past,
    punch_at,
    quiet_settings,
)
from tests.api.attendance.harness import loc
from tests.factories import Api, OrgKit


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return quiet_settings(db_url, tmp_path)


@pytest.fixture
async def jobs(db: Database, settings: Settings) -> AsyncIterator[Jobs]:
    async with jobs_for(db, settings) as j:
        yield j


def span(first: int, last: int) -> dict[str, str]:
    return {"from": past(first).isoformat(), "to": past(last).isoformat()}


async def users(api: Api, **params: str) -> set[str]:
    page = await api.ok("get", "/attendance/days", params={**span(3, 1), **params})
    return {r["user_id"] for r in page["items"]}


async def two_teams(org: OrgKit, jobs: Jobs) -> tuple[str, str, Api, Api, Api]:
    """Teams A and B with a person each, A's manager, and their days computed."""
    team_a, team_b = await org.team("A"), await org.team("B")
    manager = await org.person("manager", team_id=team_a, managed_team_ids=[team_a])
    alice = await org.person("staff", team_id=team_a)
    bob = await org.person("staff", team_id=team_b)
    assert alice.user_id and bob.user_id
    await fixed_group(org, [alice.user_id, bob.user_id])
    await org.admin.ok(
        "post",
        "/attendance/recompute",
        202,
        json={**span(3, 1), "user_id": alice.user_id},
    )
    await org.admin.ok("post", "/attendance/recompute", 202, json={**span(3, 1), "team_id": team_b})
    await jobs.refresh()
    return team_a, team_b, manager, alice, bob


async def test_each_sees_whom_they_may(org: OrgKit, jobs: Jobs) -> None:
    team_a, team_b, manager, alice, bob = await two_teams(org, jobs)
    assert alice.user_id and bob.user_id
    assert await users(org.admin) == {alice.user_id, bob.user_id}
    assert await users(manager) == {alice.user_id}
    assert await users(manager, team_id=team_a) == {alice.user_id}
    assert await users(alice) == {alice.user_id}
    # Another team's person, or the team itself, is not found for A's manager.
    for params in ({"user_id": bob.user_id}, {"team_id": team_b}):
        r = await manager.get("/attendance/days", params={**span(3, 1), **params})
        assert r.status_code == 404, r.text
    r = await alice.get("/attendance/days", params={**span(3, 1), "user_id": bob.user_id})
    assert r.status_code == 404
    # A key with the attendance read scope reads everyone's; one without it may not.
    for scopes, status in ((["attendance:read"], 200), (["users:read"], 403)):
        key = await org.admin.ok("post", "/api-keys", 201, json={"name": "k", "scopes": scopes})
        r = await org.client.get(
            "/api/v1/attendance/days",
            params=span(3, 1),
            headers={"Authorization": f"Bearer {key['key']}"},
        )
        assert r.status_code == status, r.text
    # Only admins ask for a recompute.
    r = await manager.post("/attendance/recompute", json={**span(3, 1), "team_id": team_a})
    assert r.status_code == 403


async def test_another_orgs_ids_are_not_found(org: OrgKit, other_org: OrgKit, jobs: Jobs) -> None:
    team_a, _, _, alice, _ = await two_teams(org, jobs)
    for params in ({"user_id": str(alice.user_id)}, {"team_id": team_a}):
        r = await other_org.admin.get("/attendance/days", params={**span(3, 1), **params})
        assert r.status_code == 404, r.text
        r = await other_org.admin.post("/attendance/recompute", json={**span(3, 1), **params})
        assert r.status_code == 404, r.text
    assert (await other_org.admin.ok("get", "/attendance/days", params=span(3, 1)))["items"] == []


async def test_pages_and_validation(org: OrgKit, jobs: Jobs) -> None:
    staff = await org.person("staff")
    assert staff.user_id
    await fixed_group(org, [staff.user_id])
    for days_ago in (3, 2, 1):
        await punch_at(staff, "clock_in", local(past(days_ago), 8, 50))
    await jobs.refresh()
    seen: list[str] = []
    params = {**span(3, 1), "user_id": staff.user_id, "limit": "2"}
    page = await org.admin.ok("get", "/attendance/days", params=params)
    seen += [r["date"] for r in page["items"]]
    assert len(seen) == 2 and page["next_cursor"]
    page = await org.admin.ok(
        "get", "/attendance/days", params={**params, "cursor": page["next_cursor"]}
    )
    seen += [r["date"] for r in page["items"]]
    assert seen == [past(n).isoformat() for n in (3, 2, 1)] and page["next_cursor"] is None
    assert {r["status"] for r in page["items"]} == {"missing_clock_out"}
    bad = [
        ({**span(1, 3)}, ["query", "to"]),
        ({"from": "2026-01-01", "to": "2027-06-01"}, ["query", "to"]),
        ({**span(3, 1), "cursor": "nonsense"}, ["query", "cursor"]),
        ({**span(3, 1), "status": "sleepy"}, ["query", "status"]),
    ]
    for query, where in bad:
        assert loc(await org.admin.get("/attendance/days", params=query)) == [where]
    r = await org.admin.post("/attendance/recompute", json={**span(1, 3)})
    assert loc(r) == [["body", "to"]]
