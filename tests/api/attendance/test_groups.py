"""Attendance groups through HTTP: members (own assignment over the team's), places, rules,
422 naming the field, 404 across orgs, 409 for a person or team in another group, dirty days."""

from __future__ import annotations

from fieldpunch.attendance.repository import AttendanceRepo
from fieldpunch.db.engine import Database
from tests.api.attendance.harness import DAY_SHIFT, dirty, loc, today, trail
from tests.factories import OrgKit

OFFICE = {"name": "HQ", "location": {"lat": 31.2397, "lon": 121.4998}}


async def _shift(org: OrgKit) -> str:
    return str((await org.admin.ok("post", "/shifts", 201, json=DAY_SHIFT))["id"])


async def test_create_with_every_field_read_list_update_delete(org: OrgKit, db: Database) -> None:
    shift = await _shift(org)
    place = await org.admin.ok("post", "/places", 201, json=OFFICE)
    sales = await org.team("Sales")
    east = await org.team("East", parent_id=sales)
    rep = await org.person("staff", team_id=east)
    lone = await org.person("staff")
    body = {
        "name": "Office",
        "schedule": "fixed",
        "shift_id": shift,
        "workdays": [5, 1, 2, 3, 4],
        "follows_calendar": True,
        "user_ids": [lone.user_id],
        "team_ids": [sales],
        "place_ids": [place["id"]],
        "field_punch": "needs_approval",
        "overtime_after_shift": True,
        "overtime_after_min": 60,
        "overtime_on_rest_days": True,
    }
    made = await org.admin.ok("post", "/attendance-groups", 201, json=body)
    assert made["id"].startswith("agp_") and made["required_min"] is None
    assert {k: made[k] for k in body} == {**body, "workdays": [1, 2, 3, 4, 5]}
    assert await org.admin.ok("get", f"/attendance-groups/{made['id']}") == made
    listed = await org.admin.ok("get", "/attendance-groups", params={"schedule": "fixed"})
    assert listed["items"] == [made]
    assert (await org.admin.ok("get", "/attendance-groups", params={"schedule": "free"}))[
        "items"
    ] == []
    # Joining reaches today's day of the person and of the sub-team's member.
    day = today()
    assert {(lone.user_id, day, "group"), (rep.user_id, day, "group")} <= await dirty(
        db, org.org_id
    )
    # A person's own group wins over their team's: the rep moves, the team stays.
    free = await org.admin.ok(
        "post",
        "/attendance-groups",
        201,
        json={"name": "Field", "schedule": "free", "required_min": 480, "user_ids": [rep.user_id]},
    )
    assert free["team_ids"] == [] and free["user_ids"] == [rep.user_id]
    changed = await org.admin.ok(
        "patch", f"/attendance-groups/{made['id']}", json={"user_ids": [], "workdays": [1, 2, 3]}
    )
    assert changed["user_ids"] == [] and changed["team_ids"] == [sales]
    assert changed["workdays"] == [1, 2, 3] and changed["shift_id"] == shift
    entries = await trail(org, subject_type="attendance_group", subject_id=made["id"])
    assert [e["action"] for e in entries] == [
        "attendance_group.created",
        "attendance_group.updated",
    ]
    assert entries[1]["detail"]["before"] == {
        "workdays": [1, 2, 3, 4, 5],
        "user_ids": [lone.user_id],
    }
    # A deleted place is no punch place of the group any more.
    await org.admin.ok("delete", f"/places/{place['id']}", 204)
    assert (await org.admin.ok("get", f"/attendance-groups/{made['id']}"))["place_ids"] == []
    await org.admin.ok("delete", f"/attendance-groups/{made['id']}", 204)
    assert (await org.admin.get(f"/attendance-groups/{made['id']}")).status_code == 404
    # The shift is free again.
    await org.admin.ok("delete", f"/shifts/{shift}", 204)


async def test_who_a_change_reaches(org: OrgKit, db: Database) -> None:
    team = await org.team("Ops")
    member = await org.person("staff", team_id=team)
    own = await org.person("staff", team_id=team)
    await org.admin.ok(
        "post",
        "/attendance-groups",
        201,
        json={"name": "Own", "schedule": "free", "required_min": 240, "user_ids": [own.user_id]},
    )
    group = await org.admin.ok(
        "post",
        "/attendance-groups",
        201,
        json={"name": "Team", "schedule": "free", "required_min": 480, "team_ids": [team]},
    )
    # Only the team's member is in the team's group: the other has a group of their own.
    async with db.transaction() as session:
        people = await AttendanceRepo(session).people_in_groups(org.org_id, [group["id"]])
    assert people == {member.user_id}
    before = await dirty(db, org.org_id)
    await org.admin.ok("patch", f"/attendance-groups/{group['id']}", json={"name": "Team A"})
    assert await dirty(db, org.org_id) == before  # a new name changes nobody's day
    await org.admin.ok("patch", f"/attendance-groups/{group['id']}", json={"required_min": 420})
    assert any(u == member.user_id and c == "group" for u, _, c in await dirty(db, org.org_id))


async def test_validation_names_the_field(org: OrgKit, other_org: OrgKit) -> None:
    shift = await _shift(org)
    theirs = await other_org.admin.ok("post", "/shifts", 201, json=DAY_SHIFT)
    foreign_team = await other_org.team("Rival")
    fixed = {"name": "G", "schedule": "fixed", "shift_id": shift}
    cases = [
        ({"name": "G", "schedule": "fixed"}, ["body", "shift_id"]),
        ({**fixed, "shift_id": theirs["id"]}, ["body", "shift_id"]),
        ({**fixed, "workdays": [1, 8]}, ["body", "workdays", 1]),
        ({**fixed, "workdays": [0]}, ["body", "workdays", 0]),
        ({**fixed, "workdays": [1, 1]}, ["body", "workdays"]),
        ({**fixed, "required_min": 480}, ["body", "required_min"]),
        ({"name": "G", "schedule": "free"}, ["body", "required_min"]),
        ({"name": "G", "schedule": "free", "required_min": 0}, ["body", "required_min"]),
        ({"name": "G", "schedule": "rostered", "shift_id": shift}, ["body", "shift_id"]),
        ({"name": "G", "schedule": "weekly"}, ["body", "schedule"]),
        ({**fixed, "field_punch": "sometimes"}, ["body", "field_punch"]),
        ({**fixed, "overtime_after_min": -5}, ["body", "overtime_after_min"]),
        ({**fixed, "team_ids": [foreign_team]}, ["body", "team_ids", 0]),
        ({**fixed, "user_ids": ["usr_01M8DE7PSKWDQYP0Z5P6H7F740"]}, ["body", "user_ids", 0]),
        ({**fixed, "place_ids": ["plc_01M8DE7PSKWDQYP0Z5P6H7F740"]}, ["body", "place_ids", 0]),
    ]
    for body, where in cases:
        assert where in loc(await org.admin.post("/attendance-groups", json=body)), (body, where)
    made = await org.admin.ok("post", "/attendance-groups", 201, json=fixed)
    # A PATCH is checked as a whole: a fixed group cannot lose its shift.
    r = await org.admin.patch(f"/attendance-groups/{made['id']}", json={"shift_id": None})
    assert loc(r) == [["body", "shift_id"]]
    r = await org.admin.patch(f"/attendance-groups/{made['id']}", json={"schedule": "free"})
    assert ["body", "shift_id"] in loc(r) and ["body", "required_min"] in loc(r)
    changed = await org.admin.ok(
        "patch",
        f"/attendance-groups/{made['id']}",
        json={"schedule": "free", "shift_id": None, "required_min": 300},
    )
    assert changed["schedule"] == "free" and changed["shift_id"] is None


async def test_one_group_per_person_and_team(org: OrgKit) -> None:
    team = await org.team("Ops")
    person = await org.person("staff")
    free = {"schedule": "free", "required_min": 480}
    first = await org.admin.ok(
        "post",
        "/attendance-groups",
        201,
        json={"name": "A", **free, "user_ids": [person.user_id], "team_ids": [team]},
    )
    for members in ({"user_ids": [person.user_id]}, {"team_ids": [team]}):
        r = await org.admin.post("/attendance-groups", json={"name": "B", **free, **members})
        assert r.status_code == 409 and "'A'" in r.json()["detail"], r.text
    second = await org.admin.ok("post", "/attendance-groups", 201, json={"name": "B", **free})
    r = await org.admin.patch(f"/attendance-groups/{second['id']}", json={"team_ids": [team]})
    assert r.status_code == 409
    # Out of the first, into the second.
    await org.admin.ok("patch", f"/attendance-groups/{first['id']}", json={"team_ids": []})
    await org.admin.ok("patch", f"/attendance-groups/{second['id']}", json={"team_ids": [team]})


async def test_roles_and_other_orgs(org: OrgKit, other_org: OrgKit) -> None:
    theirs = await other_org.admin.ok(
        "post",
        "/attendance-groups",
        201,
        json={"name": "G", "schedule": "free", "required_min": 60},
    )
    for method, kw in (("get", {}), ("patch", {"json": {"name": "x"}}), ("delete", {})):
        r = await getattr(org.admin, method)(f"/attendance-groups/{theirs['id']}", **kw)
        assert r.status_code == 404, method
    manager = await org.person("manager")
    assert (await manager.ok("get", "/attendance-groups"))["items"] == []
    r = await manager.post(
        "/attendance-groups", json={"name": "G", "schedule": "free", "required_min": 60}
    )
    assert r.status_code == 403
