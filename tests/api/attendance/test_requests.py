"""Requests through HTTP: filed by the person, decided by their manager or an admin, cancelled,
never overlapping when approved; scopes (404 for a manager of another team), validation, audit
and the covered days left for the recompute."""

from __future__ import annotations

from datetime import date

from fieldpunch.db.engine import Database
from tests.api.attendance.harness import dirty, loc, trail
from tests.factories import Api, OrgKit

SICK = {
    "kind": "leave",
    "leave_type": "sick",
    "start": "2026-12-07T00:00:00+08:00",
    "end": "2026-12-09T00:00:00+08:00",
    "reason": "flu",
}
OUT = {
    "kind": "out",
    "start": "2026-12-10T14:00:00+08:00",
    "end": "2026-12-10T16:30:00+08:00",
    "reason": "bank",
}


async def _team(org: OrgKit, name: str) -> tuple[Api, Api]:
    team = await org.team(name)
    manager = await org.person("manager", team_id=team, managed_team_ids=[team])
    return manager, await org.person("staff", team_id=team)


async def test_file_approve_and_the_days_it_covers(org: OrgKit, db: Database) -> None:
    manager, staff = await _team(org, "A")
    made = await staff.ok("post", "/requests", 201, json=SICK)
    assert made["id"].startswith("req_") and made["status"] == "pending"
    assert made["user_id"] == staff.user_id and made["unit"] == "day"
    assert made["start"] == "2026-12-06T16:00:00Z" and made["end"] == "2026-12-08T16:00:00Z"
    assert {k: made[k] for k in ("kind", "leave_type", "reason")} == {
        "kind": "leave",
        "leave_type": "sick",
        "reason": "flu",
    }
    assert await staff.ok("get", f"/requests/{made['id']}") == made
    assert not {u for u, _, _ in await dirty(db, org.org_id)}  # pending: no day changes
    # Not by the person themselves, not without the scope.
    assert (await staff.post(f"/requests/{made['id']}/approve", json={})).status_code == 403
    done = await manager.ok(
        "post", f"/requests/{made['id']}/approve", json={"comment": "rest well"}
    )
    assert done["status"] == "approved" and done["decided_by"] == manager.user_id
    assert done["comment"] == "rest well" and done["decided_at"]
    # The covered local days, and the one before (a night shift started then reaches in).
    days = {d for u, d, c in await dirty(db, org.org_id) if u == staff.user_id and c == "request"}
    assert days == {date(2026, 12, 6), date(2026, 12, 7), date(2026, 12, 8)}
    assert (await manager.post(f"/requests/{made['id']}/reject", json={})).status_code == 409
    # An overlapping one cannot be filed, nor approved once filed before.
    r = await staff.post(
        "/requests",
        json={**OUT, "start": "2026-12-08T09:00:00+08:00", "end": "2026-12-08T10:00:00+08:00"},
    )
    assert r.status_code == 409 and made["id"] in r.json()["detail"]
    trip = await staff.ok("post", "/requests", 201, json={**OUT, "kind": "trip", "unit": "hour"})
    # The filer cannot cancel an approved request; their manager can.
    r = await staff.post(f"/requests/{made['id']}/cancel")
    assert r.status_code == 409
    before = await dirty(db, org.org_id)
    cancelled = await manager.ok("post", f"/requests/{made['id']}/cancel")
    assert cancelled["status"] == "cancelled" and cancelled["cancelled_by"] == manager.user_id
    assert await dirty(db, org.org_id) == before  # the same three days, marked again
    # The filer withdraws a pending one; a decider rejects rather than cancels a pending one.
    assert (await manager.post(f"/requests/{trip['id']}/cancel")).status_code == 409
    withdrawn = await staff.ok("post", f"/requests/{trip['id']}/cancel")
    assert withdrawn["status"] == "cancelled"
    assert (await staff.post(f"/requests/{trip['id']}/cancel")).status_code == 409
    audit = await trail(org, subject_type="request", subject_id=made["id"])
    assert [e["action"] for e in audit] == [
        "request.filed",
        "request.approved",
        "request.cancelled",
    ]
    assert audit[1]["actor"] == manager.user_id and audit[2]["detail"] == {"was": "approved"}


async def test_overlap_at_approval(org: OrgKit) -> None:
    manager, staff = await _team(org, "A")
    first = await staff.ok("post", "/requests", 201, json=OUT)
    second = await staff.ok("post", "/requests", 201, json={**OUT, "kind": "overtime"})
    await manager.ok("post", f"/requests/{second['id']}/approve", json={})
    r = await manager.post(f"/requests/{first['id']}/approve", json={})
    assert r.status_code == 409 and second["id"] in r.json()["detail"]
    rejected = await manager.ok("post", f"/requests/{first['id']}/reject", json={"comment": "no"})
    assert rejected["status"] == "rejected" and rejected["comment"] == "no"
    # Back to back is no overlap.
    after = {**OUT, "start": OUT["end"], "end": "2026-12-10T18:00:00+08:00"}
    nxt = await staff.ok("post", "/requests", 201, json=after)
    await org.admin.ok("post", f"/requests/{nxt['id']}/approve", json={})


async def test_who_sees_and_decides(org: OrgKit, other_org: OrgKit) -> None:
    manager_a, staff_a = await _team(org, "A")
    manager_b, staff_b = await _team(org, "B")
    mine = await staff_a.ok("post", "/requests", 201, json=OUT)
    theirs = await staff_b.ok("post", "/requests", 201, json=OUT)
    own = await manager_a.ok("post", "/requests", 201, json=SICK)
    # Staff see their own; a manager their team's and their own; an admin all.
    assert [r["id"] for r in (await staff_a.ok("get", "/requests"))["items"]] == [mine["id"]]
    seen = {r["id"] for r in (await manager_a.ok("get", "/requests"))["items"]}
    assert seen == {mine["id"], own["id"]}
    mine_only = await manager_a.ok("get", "/requests", params={"mine": "true"})
    assert [r["id"] for r in mine_only["items"]] == [own["id"]]
    every = await org.admin.ok("get", "/requests", params={"status": "pending", "kind": "out"})
    assert {r["id"] for r in every["items"]} == {mine["id"], theirs["id"]}
    by_person = await org.admin.ok("get", "/requests", params={"user_id": staff_b.user_id})
    assert [r["id"] for r in by_person["items"]] == [theirs["id"]]
    # A manager of team A: team B's person's request is not found, whatever the verb.
    assert (await manager_a.get(f"/requests/{theirs['id']}")).status_code == 404
    for verb in ("approve", "reject"):
        r = await manager_a.post(f"/requests/{theirs['id']}/{verb}", json={})
        assert r.status_code == 404, verb
    assert (await manager_a.post(f"/requests/{theirs['id']}/cancel")).status_code == 404
    assert (await staff_a.get(f"/requests/{theirs['id']}")).status_code == 404
    # A manager's own request is decided by someone else.
    assert (await manager_a.post(f"/requests/{own['id']}/approve", json={})).status_code == 403
    await org.admin.ok("post", f"/requests/{own['id']}/approve", json={})
    await manager_b.ok("post", f"/requests/{theirs['id']}/approve", json={})
    # Another organization's ids are not found, and its lists show none of ours.
    for path, kw in (
        (f"/requests/{mine['id']}", {}),
        (f"/requests/{mine['id']}/approve", {"json": {}}),
        (f"/requests/{mine['id']}/cancel", {}),
    ):
        method = "get" if "json" not in kw and not path.endswith("cancel") else "post"
        assert (await getattr(other_org.admin, method)(path, **kw)).status_code == 404, path
    assert (await other_org.admin.ok("get", "/requests"))["items"] == []


async def test_validation_names_the_field(org: OrgKit) -> None:
    staff = await org.person("staff")
    cases = [
        ({**SICK, "leave_type": None}, ["body", "leave_type"]),
        ({**OUT, "leave_type": "sick"}, ["body", "leave_type"]),
        ({**SICK, "leave_type": "holiday"}, ["body", "leave_type"]),
        ({**SICK, "kind": "vacation"}, ["body", "kind"]),
        ({**SICK, "end": SICK["start"]}, ["body", "end"]),
        ({**SICK, "end": "2026-12-01T00:00:00+08:00"}, ["body", "end"]),
        ({**SICK, "end": "2028-12-01T00:00:00+08:00"}, ["body", "end"]),
        ({**SICK, "start": "2026-12-07T00:00:00"}, ["body", "start"]),  # no offset
        ({**SICK, "start": "2026-12-07T09:00:00+08:00"}, ["body", "start"]),  # not a whole day
        ({**SICK, "unit": "half_day", "end": "2026-12-07T13:00:00+08:00"}, ["body", "end"]),
        ({**OUT, "unit": "day"}, ["body", "unit"]),
        ({**SICK, "reason": ""}, ["body", "reason"]),
        ({**SICK, "days": 2}, ["body", "days"]),
    ]
    for body, where in cases:
        assert where in loc(await staff.post("/requests", json=body)), (body, where)
    half = await staff.ok(
        "post",
        "/requests",
        201,
        json={**SICK, "unit": "half_day", "end": "2026-12-07T12:00:00+08:00"},
    )
    assert half["unit"] == "half_day"
    made = await staff.ok("post", "/requests", 201, json=OUT)
    assert made["unit"] == "hour" and made["leave_type"] is None
    r = await org.admin.post(f"/requests/{made['id']}/approve", json={"comment": "x" * 2001})
    assert loc(r) == [["body", "comment"]]


async def test_an_api_key_files_nothing(org: OrgKit) -> None:
    created = await org.admin.ok(
        "post",
        "/api-keys",
        201,
        json={"name": "hr", "scopes": ["attendance:read", "attendance:request"]},
    )
    key = Api(org.client, created["key"])
    r = await key.post("/requests", json=OUT)
    assert r.status_code == 403 and "person" in r.json()["detail"]
    assert (await key.ok("get", "/requests"))["items"] == []
    assert (await key.post("/shifts", json={})).status_code == 403
