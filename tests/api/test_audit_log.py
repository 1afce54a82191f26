"""The audit log answers who changed people, roles, teams and integration keys (never secrets)."""

from __future__ import annotations

from typing import Any

from tests.factories import OrgKit


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
