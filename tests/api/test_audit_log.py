"""The audit log answers who changed people, roles, teams and integration keys (never secrets)."""

from __future__ import annotations

from typing import Any

from tests.factories import OrgKit
from tests.keys import new_p256


async def _trail(org: OrgKit, **params: str) -> list[dict[str, Any]]:
    page = await org.admin.ok("get", "/audit-log", params=params)
    return list(page["items"])


async def test_people_teams_and_keys_leave_a_trail(org: OrgKit) -> None:
    east = await org.admin.ok("post", "/teams", 201, json={"name": "East"})
    west = await org.admin.ok("post", "/teams", 201, json={"name": "West"})
    await org.admin.ok("patch", f"/teams/{west['id']}", json={"parent_id": east["id"]})
    made = await org.admin.ok(
        "post",
        "/users",
        201,
        json={"email": "li.lei@acme.example.com", "name": "Li Lei", "role": "staff"},
    )
    await org.admin.ok(
        "patch",
        f"/users/{made['id']}",
        json={"role": "manager", "managed_team_ids": [east["id"]], "password": "n3w-pass-word"},
    )
    await org.admin.ok("delete", f"/teams/{west['id']}", 204)
    key = await org.admin.ok(
        "post", "/api-keys", 201, json={"name": "ERP", "scopes": ["punches:read"]}
    )
    await org.admin.ok("delete", f"/api-keys/{key['id']}", 204)

    people = await _trail(org, subject_type="user", subject_id=made["id"])
    assert [e["action"] for e in people] == ["user.created", "user.updated"]
    changed = people[1]["detail"]
    assert changed["before"] == {"role": "staff"}
    assert changed["after"] == {"role": "manager", "managed_team_ids": [east["id"]]}
    assert changed["password_changed"] is True
    assert "n3w-pass-word" not in str(people)  # a password never reaches the log
    teams = await _trail(org, subject_type="team", subject_id=west["id"])
    assert [e["action"] for e in teams] == ["team.created", "team.updated", "team.deleted"]
    assert teams[1]["detail"] == {"before": {"parent_id": None}, "after": {"parent_id": east["id"]}}
    keys = await _trail(org, subject_type="api_key")
    assert [e["action"] for e in keys] == ["api_key.created", "api_key.revoked"]
    assert keys[0]["detail"]["scopes"] == ["punches:read"] and key["key"] not in str(keys)
    assert all(e["actor"] for e in people + teams + keys)


async def test_geofences_and_devices_leave_a_trail(org: OrgKit) -> None:
    hq = {"name": "HQ", "location": {"lat": 31.2397, "lon": 121.4998}, "radius_m": 100}
    place = await org.admin.ok("post", "/places", 201, json=hq)
    # Widening a fence changes which punches count as on site: before and after are kept.
    await org.admin.ok("patch", f"/places/{place['id']}", json={"radius_m": 800, "name": "HQ"})
    await org.admin.ok("delete", f"/places/{place['id']}", 204)
    shop = await org.admin.ok("post", "/customers", 201, json={"name": "Shop", **hq})
    await org.admin.ok("patch", f"/customers/{shop['id']}", json={"radius_m": 300})
    await org.admin.ok("delete", f"/customers/{shop['id']}", 204)
    staff = await org.person("staff")
    _, public = new_p256()
    device = await staff.ok("post", "/devices", 201, json={"public_key": public})
    await org.admin.ok("delete", f"/devices/{device['id']}", 204)

    places = await _trail(org, subject_type="place")
    assert [e["action"] for e in places] == ["place.created", "place.updated", "place.deleted"]
    assert places[0]["detail"]["radius_m"] == 100
    assert places[1]["detail"] == {"before": {"radius_m": 100}, "after": {"radius_m": 800}}
    customers = await _trail(org, subject_type="customer")
    assert [e["action"] for e in customers] == [
        "customer.created",
        "customer.updated",
        "customer.deleted",
    ]
    assert customers[1]["detail"]["after"] == {"radius_m": 300}
    devices = await _trail(org, subject_type="device")
    assert [(e["action"], e["actor"]) for e in devices] == [
        ("device.enrolled", staff.user_id),
        ("device.revoked", org.admin.user_id),
    ]
