"""Shifts through HTTP: every field, validation naming the field, 404 across orgs, 409 in use."""

from __future__ import annotations

from datetime import timedelta

from fieldpunch.db.engine import Database
from tests.api.attendance.harness import DAY_SHIFT, NIGHT_SHIFT, dirty, loc, today, trail
from tests.factories import OrgKit

TWO_PERIODS = {
    "name": "Split",
    "periods": [{"start": "09:00", "end": "12:00"}, {"start": "13:30", "end": "18:00"}],
    "grace_late_min": 5,
    "grace_early_min": 5,
    "serious_late_min": 30,
    "absent_late_min": 120,
    "flex_min": 30,
    "earliest_in_min": 60,
    "latest_in_min": 90,
    "earliest_out_min": 60,
    "latest_out_min": 300,
}


async def test_create_read_list_update_delete(org: OrgKit) -> None:
    made = await org.admin.ok("post", "/shifts", 201, json=TWO_PERIODS)
    assert made["id"].startswith("shf_")
    assert {k: made[k] for k in TWO_PERIODS} == TWO_PERIODS
    assert made["breaks"] == [] and made["created_at"]
    night = await org.admin.ok("post", "/shifts", 201, json=NIGHT_SHIFT)
    assert night["earliest_in_min"] == 120 and night["latest_out_min"] == 360
    lunch = await org.admin.ok(
        "post", "/shifts", 201, json={**DAY_SHIFT, "breaks": [{"start": "12:00", "end": "13:00"}]}
    )
    assert lunch["breaks"] == [{"start": "12:00", "end": "13:00"}]
    assert await org.admin.ok("get", f"/shifts/{made['id']}") == made
    page = await org.admin.ok("get", "/shifts", params={"limit": 2})
    assert [s["id"] for s in page["items"]] == [made["id"], night["id"]]
    rest = await org.admin.ok("get", "/shifts", params={"cursor": page["next_cursor"]})
    assert [s["id"] for s in rest["items"]] == [lunch["id"]] and rest["next_cursor"] is None
    staff = await org.person("staff")
    assert len((await staff.ok("get", "/shifts"))["items"]) == 3  # staff read the rules
    assert (await staff.post("/shifts", json=DAY_SHIFT)).status_code == 403
    changed = await org.admin.ok("patch", f"/shifts/{made['id']}", json={"grace_late_min": 10})
    assert changed["grace_late_min"] == 10 and changed["serious_late_min"] == 30
    await org.admin.ok("delete", f"/shifts/{made['id']}", 204)
    assert (await org.admin.get(f"/shifts/{made['id']}")).status_code == 404
    actions = [e["action"] for e in await trail(org, subject_type="shift", subject_id=made["id"])]
    assert actions == ["shift.created", "shift.updated", "shift.deleted"]
    updated = (await trail(org, subject_id=made["id"], action="shift.updated"))[0]
    assert updated["detail"] == {"before": {"grace_late_min": 5}, "after": {"grace_late_min": 10}}


async def test_validation_names_the_field(org: OrgKit) -> None:
    cases = [
        ({**DAY_SHIFT, "periods": []}, ["body", "periods"]),
        (
            {**DAY_SHIFT, "periods": [{"start": "9:00", "end": "18:00"}]},
            ["body", "periods", 0, "start"],
        ),
        (
            {**DAY_SHIFT, "periods": [{"start": "09:00", "end": "24:00"}]},
            ["body", "periods", 0, "end"],
        ),
        (
            {**DAY_SHIFT, "periods": [{"start": "09:00", "end": "09:00"}]},
            ["body", "periods", 0, "end"],
        ),
        (
            {**DAY_SHIFT, "periods": [{"start": "09:00", "end": "12:00"}] * 3},
            ["body", "periods"],
        ),
        (  # the second period overlaps the first
            {
                **DAY_SHIFT,
                "periods": [{"start": "09:00", "end": "13:00"}, {"start": "12:00", "end": "18:00"}],
            },
            ["body", "periods"],
        ),
        ({**DAY_SHIFT, "grace_late_min": -1}, ["body", "grace_late_min"]),
        ({**DAY_SHIFT, "flex_min": 2000}, ["body", "flex_min"]),
        ({**DAY_SHIFT, "grace_late_min": 10, "serious_late_min": 10}, ["body", "serious_late_min"]),
        ({**DAY_SHIFT, "serious_late_min": 60, "absent_late_min": 30}, ["body", "absent_late_min"]),
        ({**DAY_SHIFT, "latest_in_min": 600}, ["body", "latest_in_min"]),
        ({**DAY_SHIFT, "earliest_in_min": 600, "latest_out_min": 600}, ["body", "latest_out_min"]),
        ({**DAY_SHIFT, "breaks": [{"start": "17:00", "end": "19:00"}]}, ["body", "breaks"]),
        ({**DAY_SHIFT, "colour": "red"}, ["body", "colour"]),
        ({"periods": DAY_SHIFT["periods"]}, ["body", "name"]),
    ]
    for body, where in cases:
        assert where in loc(await org.admin.post("/shifts", json=body)), (body, where)
    made = await org.admin.ok(
        "post", "/shifts", 201, json={**DAY_SHIFT, "grace_late_min": 5, "serious_late_min": 20}
    )
    # A PATCH is checked with the stored fields: the rule across them still holds.
    r = await org.admin.patch(f"/shifts/{made['id']}", json={"grace_late_min": 30})
    assert loc(r) == [["body", "serious_late_min"]]
    assert loc(await org.admin.patch(f"/shifts/{made['id']}", json={"name": None})) == [
        ["body", "name"]
    ]


async def test_other_orgs_shifts_are_not_found(org: OrgKit, other_org: OrgKit) -> None:
    theirs = await other_org.admin.ok("post", "/shifts", 201, json=DAY_SHIFT)
    for method, kw in (("get", {}), ("patch", {"json": {"name": "x"}}), ("delete", {})):
        r = await getattr(org.admin, method)(f"/shifts/{theirs['id']}", **kw)
        assert r.status_code == 404, method
    assert (await org.admin.ok("get", "/shifts"))["items"] == []


async def test_a_shift_in_use_is_not_deleted(org: OrgKit, db: Database) -> None:
    used = await org.admin.ok("post", "/shifts", 201, json=DAY_SHIFT)
    staff = await org.person("staff")
    group = await org.admin.ok(
        "post",
        "/attendance-groups",
        201,
        json={
            "name": "Office",
            "schedule": "fixed",
            "shift_id": used["id"],
            "user_ids": [staff.user_id],
        },
    )
    r = await org.admin.delete(f"/shifts/{used['id']}")
    assert r.status_code == 409 and "attendance group" in r.json()["detail"]
    # A rule change reaches today's day of the group's people.
    before = await dirty(db, org.org_id)
    await org.admin.ok("patch", f"/shifts/{used['id']}", json={"grace_late_min": 15})
    assert (staff.user_id, today(), "shift") in await dirty(db, org.org_id)
    assert before != await dirty(db, org.org_id)
    await org.admin.ok("delete", f"/attendance-groups/{group['id']}", 204)
    # On the roster from today on: still in use.
    tomorrow = (today() + timedelta(days=1)).isoformat()
    entry = {"user_id": staff.user_id, "date": tomorrow, "shift_id": used["id"]}
    await org.admin.ok("put", "/rosters", json={"entries": [entry]})
    r = await org.admin.delete(f"/shifts/{used['id']}")
    assert r.status_code == 409 and "roster" in r.json()["detail"]
    await org.admin.ok("put", "/rosters", json={"entries": [{**entry, "shift_id": "rest"}]})
    await org.admin.ok("delete", f"/shifts/{used['id']}", 204)
