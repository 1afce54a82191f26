"""补卡 through HTTP: quota, age, who decides, and the correction punch it creates."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tests.factories import OrgKit
from tests.punching import punch as punch_body

OFFICE = {"name": "HQ", "location": {"lat": 31.2397, "lon": 121.4998}, "radius_m": 100}


def hours_ago(h: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=h)).isoformat()


async def test_request_approve_creates_a_correction_punch(org: OrgKit) -> None:
    place = await org.admin.ok("post", "/places", 201, json=OFFICE)
    team = await org.team("East")
    manager = await org.person("manager", team_id=team, managed_team_ids=[team])
    staff = await org.person("staff", team_id=team)
    req = {
        "kind": "clock_in",
        "at": hours_ago(3),
        "reason": "phone battery died",
        "place_id": place["id"],
    }
    # Yesterday noon in the org's zone: both on one local day, whatever the hour of the run.
    tz = ZoneInfo((await org.admin.ok("get", "/org"))["timezone"])
    noon = datetime.combine(datetime.now(tz).date() - timedelta(days=1), time(12), tz)
    req["at"] = noon.isoformat()
    late = punch_body(captured_at=noon + timedelta(minutes=20), offline=True)
    genuine = await staff.ok("post", "/punches", 201, json=late)
    made = await staff.ok("post", "/corrections", 201, json=req)
    assert made["status"] == "pending" and made["user_id"] == staff.user_id
    # The reviewer sees the person's punches that day next to the request.
    seen = await manager.ok("get", f"/corrections/{made['id']}")
    assert [(p["id"], p["kind"]) for p in seen["same_day"]] == [(genuine["id"], "clock_in")]
    assert (await staff.post(f"/corrections/{made['id']}/approve", json={})).status_code == 403
    other_team = await org.team("West")
    outsider = await org.person("manager", team_id=other_team, managed_team_ids=[other_team])
    assert (await outsider.post(f"/corrections/{made['id']}/approve", json={})).status_code == 404
    done = await manager.ok("post", f"/corrections/{made['id']}/approve", json={"comment": "ok"})
    assert done["status"] == "approved" and done["punch_id"]
    punch = await staff.ok("get", f"/punches/{done['punch_id']}")
    assert punch["source"] == "correction" and punch["kind"] == "clock_in"
    assert punch["place"]["id"] == place["id"] and punch["time_source"] == "correction"
    assert (await manager.post(f"/corrections/{made['id']}/reject", json={})).status_code == 409
    mine = await staff.ok("get", "/corrections")
    assert [c["status"] for c in mine["items"]] == ["approved"]


async def test_quota_age_and_validation(org: OrgKit) -> None:
    place = await org.admin.ok("post", "/places", 201, json=OFFICE)
    await org.admin.ok(
        "put", "/policy", json={"correction_monthly_quota": 2, "correction_max_age_days": 3}
    )
    staff = await org.person("staff")
    base = {"kind": "clock_out", "reason": "forgot", "place_id": place["id"]}
    r = await staff.post("/corrections", json={**base, "at": hours_ago(24 * 4)})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "at"]
    r = await staff.post("/corrections", json={**base, "at": hours_ago(-2)})
    assert r.status_code == 422
    r = await staff.post(
        "/corrections", json={"kind": "clock_out", "reason": "forgot", "at": hours_ago(1)}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "place_id"]
    for h in (1, 2):
        await staff.ok("post", "/corrections", 201, json={**base, "at": hours_ago(h)})
    r = await staff.post("/corrections", json={**base, "at": hours_ago(3)})
    assert r.status_code == 409 and "quota" in r.json()["detail"]


async def test_reject_is_recorded_and_visible_to_the_person(org: OrgKit) -> None:
    place = await org.admin.ok("post", "/places", 201, json=OFFICE)
    staff = await org.person("staff")
    made = await staff.ok(
        "post",
        "/corrections",
        201,
        json={"kind": "clock_in", "at": hours_ago(2), "reason": "forgot", "place_id": place["id"]},
    )
    done = await org.admin.ok(
        "post", f"/corrections/{made['id']}/reject", json={"comment": "you were on leave"}
    )
    assert done["status"] == "rejected" and done["punch_id"] is None
    seen = await staff.ok("get", f"/corrections/{made['id']}")
    assert seen["comment"] == "you were on leave"
    assert (await staff.ok("get", "/punches"))["items"] == []


async def test_one_spot_own_evidence_and_a_customer_that_lost_its_location(org: OrgKit) -> None:
    place = await org.admin.ok("post", "/places", 201, json=OFFICE)
    shop = await org.admin.ok(
        "post", "/customers", 201, json={"name": "Shop", "location": OFFICE["location"]}
    )
    staff = await org.person("staff")
    both = {"reason": "forgot", "at": hours_ago(1), "place_id": place["id"]}
    r = await staff.post(
        "/corrections", json={**both, "kind": "visit_in", "customer_id": shop["id"]}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "place_id"]
    r = await staff.post(
        "/corrections", json={**both, "kind": "clock_in", "customer_id": shop["id"]}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "customer_id"]
    visit = {
        "kind": "visit_in",
        "reason": "no signal",
        "at": hours_ago(1),
        "customer_id": shop["id"],
    }
    r = await staff.post(
        "/corrections", json={**visit, "photo_id": "pho_01M8DS5GBX624JVX1GQ394VM39"}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "photo_id"]
    made = await staff.ok("post", "/corrections", 201, json=visit)
    # The customer loses its location before a manager decides: a clear 409, not a 500.
    await org.admin.ok("patch", f"/customers/{shop['id']}", json={"location": None})
    r = await org.admin.post(f"/corrections/{made['id']}/approve", json={})
    assert r.status_code == 409 and "no longer has a location" in r.json()["detail"]
    rejected = await org.admin.ok("post", f"/corrections/{made['id']}/reject", json={})
    assert rejected["status"] == "rejected"
