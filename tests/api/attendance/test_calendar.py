"""The org calendar through HTTP: a year replaced, China's statutory year loaded, validation,
audit, other orgs apart, and the changed dates left for everyone's recompute."""

from __future__ import annotations

from datetime import date

from fieldpunch.attendance.models import EVERYONE
from fieldpunch.db.engine import Database
from tests.api.attendance.harness import dirty, loc, trail
from tests.factories import OrgKit

NEW_YEAR = {"date": "2026-01-01", "kind": "holiday", "name": "元旦"}
MAKEUP = {"date": "2026-01-04", "kind": "workday", "name": "元旦 调休"}


async def test_put_replaces_the_year(org: OrgKit, db: Database) -> None:
    assert await org.admin.ok("get", "/calendar/2026") == []
    days = await org.admin.ok("put", "/calendar/2026", json=[MAKEUP, NEW_YEAR])
    assert days == [NEW_YEAR, MAKEUP]  # in date order
    assert await org.admin.ok("get", "/calendar/2026") == days
    staff = await org.person("staff")
    assert await staff.ok("get", "/calendar/2026") == days  # everyone reads it
    assert (await staff.put("/calendar/2026", json=[])).status_code == 403
    marks = {(u, d) for u, d, c in await dirty(db, org.org_id) if c == "calendar"}
    assert marks == {(EVERYONE, date(2026, 1, 1)), (EVERYONE, date(2026, 1, 4))}
    # A new name changes no one's day; a date dropped (back to a plain Sunday) does.
    renamed = {**NEW_YEAR, "name": "New Year"}
    await org.admin.ok("put", "/calendar/2026", json=[renamed])
    audit = await trail(org, subject_type="calendar", subject_id="2026")
    assert [e["action"] for e in audit] == ["calendar.updated", "calendar.updated"]
    assert audit[1]["detail"]["changes"] == {
        "2026-01-01": [
            {"kind": "holiday", "name": "元旦"},
            {"kind": "holiday", "name": "New Year"},
        ],
        "2026-01-04": [{"kind": "workday", "name": "元旦 调休"}, None],
    }
    # Other years are untouched by a year's PUT.
    await org.admin.ok("put", "/calendar/2027", json=[{**NEW_YEAR, "date": "2027-01-01"}])
    assert await org.admin.ok("get", "/calendar/2026") == [renamed]


async def test_china_statutory_year(org: OrgKit, db: Database) -> None:
    loaded = await org.admin.ok("post", "/calendar/2026/china")
    kinds = {d["date"]: d["kind"] for d in loaded}
    assert kinds["2026-01-01"] == "holiday" and kinds["2026-10-01"] == "holiday"
    assert {"holiday", "rest", "workday"} == set(kinds.values())
    assert all(d["date"].startswith("2026-") and d["name"] for d in loaded)
    assert await org.admin.ok("get", "/calendar/2026") == loaded
    marked = {d for u, d, c in await dirty(db, org.org_id) if u == EVERYONE}
    assert marked == {date.fromisoformat(d) for d in kinds}
    entry = (await trail(org, subject_type="calendar", subject_id="2026"))[0]
    assert entry["detail"]["source"] == "china"
    # Editable afterwards: a company holiday of its own.
    own = {"date": "2026-06-01", "kind": "holiday", "name": "Founders' day"}
    await org.admin.ok("put", "/calendar/2026", json=[*loaded, own])
    assert own in await org.admin.ok("get", "/calendar/2026")
    r = await org.admin.post("/calendar/2099/china")
    assert loc(r) == [["path", "year"]]


async def test_validation_names_the_field(org: OrgKit) -> None:
    cases = [
        ([{**NEW_YEAR, "date": "2025-12-31"}], ["body", 0, "date"]),
        ([NEW_YEAR, {**NEW_YEAR, "name": "again"}], ["body", 1, "date"]),
        ([{**NEW_YEAR, "kind": "vacation"}], ["body", 0, "kind"]),
        ([{**NEW_YEAR, "date": "2026-02-30"}], ["body", 0, "date"]),
        ([{"date": "2026-01-01"}], ["body", 0, "kind"]),
        ({"days": []}, ["body"]),
    ]
    for body, where in cases:
        assert where in loc(await org.admin.put("/calendar/2026", json=body)), (body, where)
    assert loc(await org.admin.get("/calendar/1800")) == [["path", "year"]]
    assert loc(await org.admin.get("/calendar/twenty")) == [["path", "year"]]


async def test_other_orgs_calendars_stay_apart(org: OrgKit, other_org: OrgKit) -> None:
    await other_org.admin.ok("put", "/calendar/2026", json=[NEW_YEAR])
    assert await org.admin.ok("get", "/calendar/2026") == []
