"""Rosters through HTTP: a pattern over a date range, single entries, reading by person and
team, who may roster whom (404 / 422 for a manager of another team), audit and dirty days."""

from __future__ import annotations

from datetime import date, timedelta

from fieldpunch.db.engine import Database
from tests.api.attendance.harness import DAY_SHIFT, NIGHT_SHIFT, dirty, loc, trail
from tests.factories import OrgKit

MONDAY = date(2026, 12, 7)


def _days(n: int) -> list[str]:
    return [(MONDAY + timedelta(days=i)).isoformat() for i in range(n)]


async def test_pattern_fill_entries_and_reading(org: OrgKit, db: Database) -> None:
    early = (await org.admin.ok("post", "/shifts", 201, json=DAY_SHIFT))["id"]
    late = (await org.admin.ok("post", "/shifts", 201, json=NIGHT_SHIFT))["id"]
    team = await org.team("Store")
    a = await org.person("staff", team_id=team)
    b = await org.person("staff", team_id=team)
    pattern = [early, early, late, late, "rest", "rest"]  # 早-早-晚-晚-休-休
    fill = {
        "user_ids": [a.user_id, b.user_id],
        "from": _days(1)[0],
        "to": _days(8)[-1],
        "pattern": pattern,
    }
    entry = {"user_id": b.user_id, "date": _days(1)[0], "shift_id": "rest"}
    out = await org.admin.ok("put", "/rosters", json={"fill": [fill], "entries": [entry]})
    assert out == {"set": 16, "cleared": 0}
    week = {"from": _days(1)[0], "to": _days(8)[-1]}
    got = await org.admin.ok("get", "/rosters", params=week)
    by_person = {p["user_id"]: p["days"] for p in got["items"]}
    expected = [early, early, late, late, "rest", "rest", early, early]
    assert [d["shift_id"] for d in by_person[a.user_id]] == expected
    assert [d["date"] for d in by_person[a.user_id]] == _days(8)
    assert [d["shift_id"] for d in by_person[b.user_id]] == ["rest", *expected[1:]]  # entry won
    # Every person-day set is left for the recompute, once.
    marks = {(u, d) for u, d, c in await dirty(db, org.org_id) if c == "roster"}
    assert marks == {(p.user_id, MONDAY + timedelta(days=i)) for p in (a, b) for i in range(8)}
    # Pages of people; one person; a team.
    first = await org.admin.ok("get", "/rosters", params={**week, "limit": 1})
    assert len(first["items"]) == 1 and first["next_cursor"]
    rest = await org.admin.ok("get", "/rosters", params={**week, "cursor": first["next_cursor"]})
    assert [p["user_id"] for p in first["items"] + rest["items"]] == sorted(by_person)
    one = await org.admin.ok("get", "/rosters", params={**week, "user_id": a.user_id})
    assert [p["user_id"] for p in one["items"]] == [a.user_id]
    assert (
        len((await org.admin.ok("get", "/rosters", params={**week, "team_id": team}))["items"]) == 2
    )
    # Staff see their own.
    mine = await a.ok("get", "/rosters", params=week)
    assert [p["user_id"] for p in mine["items"]] == [a.user_id]
    assert (await a.get("/rosters", params={**week, "user_id": b.user_id})).status_code == 404
    # Clearing a day and changing one: only those two are written, audited and dirty again.
    cleared = await org.admin.ok(
        "put",
        "/rosters",
        json={
            "entries": [
                {"user_id": a.user_id, "date": _days(1)[0], "shift_id": None},
                {"user_id": a.user_id, "date": _days(2)[1], "shift_id": early},  # unchanged
                {"user_id": a.user_id, "date": _days(3)[2], "shift_id": early},
            ]
        },
    )
    assert cleared == {"set": 2, "cleared": 1}
    audit = await trail(org, subject_type="roster", subject_id=a.user_id)
    assert [e["action"] for e in audit] == ["roster.updated", "roster.updated"]
    assert audit[1]["detail"]["days"] == {
        _days(1)[0]: [early, None],
        _days(3)[2]: [late, early],
    }
    # A staff member cannot roster.
    assert (await a.put("/rosters", json={"entries": [entry]})).status_code == 403


async def test_validation_names_the_field(org: OrgKit, other_org: OrgKit) -> None:
    shift = (await org.admin.ok("post", "/shifts", 201, json=DAY_SHIFT))["id"]
    theirs = (await other_org.admin.ok("post", "/shifts", 201, json=DAY_SHIFT))["id"]
    stranger = await other_org.person("staff")
    person = await org.person("staff")
    fill = {
        "user_ids": [person.user_id],
        "from": "2026-12-07",
        "to": "2026-12-13",
        "pattern": [shift],
    }
    cases = [
        ({}, ["body", "fill"]),
        ({"fill": [{**fill, "to": "2026-12-01"}]}, ["body", "fill", 0, "to"]),
        ({"fill": [{**fill, "to": "2028-12-01"}]}, ["body", "fill", 0, "to"]),
        ({"fill": [{**fill, "pattern": []}]}, ["body", "fill", 0, "pattern"]),
        ({"fill": [{**fill, "pattern": [shift, theirs]}]}, ["body", "fill", 0, "pattern", 1]),
        (
            {"fill": [{**fill, "user_ids": [person.user_id, stranger.user_id]}]},
            ["body", "fill", 0, "user_ids", 1],
        ),
        ({"fill": [{**fill, "from": "2026-13-01"}]}, ["body", "fill", 0, "from"]),
        (
            {"entries": [{"user_id": person.user_id, "date": "2026-12-07"}]},
            ["body", "entries", 0, "shift_id"],
        ),
        (
            {"entries": [{"user_id": person.user_id, "date": "2026-12-07", "shift_id": "holiday"}]},
            ["body", "entries", 0, "shift_id"],
        ),
        (  # 50 fills × 3 people × 365 days: beyond one request's bound
            {"fill": [{**fill, "user_ids": ["a", "b", "c"], "to": "2027-12-06"}] * 50},
            ["body", "fill"],
        ),
    ]
    for body, where in cases:
        assert where in loc(await org.admin.put("/rosters", json=body)), (body, where)
    week = {"from": "2026-12-07", "to": "2026-12-13"}
    assert loc(await org.admin.get("/rosters", params={"from": "2026-12-07"})) == [["query", "to"]]
    assert loc(await org.admin.get("/rosters", params={**week, "to": "2026-12-01"})) == [
        ["query", "to"]
    ]
    assert loc(await org.admin.get("/rosters", params={**week, "to": "2028-01-01"})) == [
        ["query", "to"]
    ]
    assert (
        await org.admin.get("/rosters", params={**week, "user_id": stranger.user_id})
    ).status_code == 404


async def test_a_manager_rosters_only_their_teams(org: OrgKit, db: Database) -> None:
    shift = (await org.admin.ok("post", "/shifts", 201, json=DAY_SHIFT))["id"]
    team_a, team_b = await org.team("A"), await org.team("B")
    manager = await org.person("manager", team_id=team_a, managed_team_ids=[team_a])
    mine = await org.person("staff", team_id=team_a)
    theirs = await org.person("staff", team_id=team_b)
    entry = {"date": "2026-12-07", "shift_id": shift}
    await manager.ok("put", "/rosters", json={"entries": [{**entry, "user_id": mine.user_id}]})
    r = await manager.put("/rosters", json={"entries": [{**entry, "user_id": theirs.user_id}]})
    assert loc(r) == [["body", "entries", 0, "user_id"]]
    await org.admin.ok("put", "/rosters", json={"entries": [{**entry, "user_id": theirs.user_id}]})
    week = {"from": "2026-12-07", "to": "2026-12-13"}
    seen = await manager.ok("get", "/rosters", params=week)
    assert [p["user_id"] for p in seen["items"]] == [mine.user_id]
    assert (
        await manager.get("/rosters", params={**week, "user_id": theirs.user_id})
    ).status_code == 404
    assert (await manager.get("/rosters", params={**week, "team_id": team_b})).status_code == 404
    # Nothing of team B's person was written by the refused request.
    assert {u for u, _, _ in await dirty(db, org.org_id)} == {mine.user_id, theirs.user_id}


async def test_other_orgs_rosters_stay_apart(org: OrgKit, other_org: OrgKit) -> None:
    shift = (await other_org.admin.ok("post", "/shifts", 201, json=DAY_SHIFT))["id"]
    person = await other_org.person("staff")
    entry = {"user_id": person.user_id, "date": "2026-12-07", "shift_id": shift}
    await other_org.admin.ok("put", "/rosters", json={"entries": [entry]})
    week = {"from": "2026-12-07", "to": "2026-12-13"}
    assert (await org.admin.ok("get", "/rosters", params=week))["items"] == []
    assert (
        await org.admin.get("/rosters", params={**week, "user_id": person.user_id})
    ).status_code == 404
    assert loc(await org.admin.put("/rosters", json={"entries": [entry]})) == [
        ["body", "entries", 0, "user_id"],
        ["body", "entries", 0, "shift_id"],
    ]
