"""Another organization's data is invisible: every id-bearing endpoint answers 404.

The walk reads the live OpenAPI document, so each endpoint added later is walked too; a new
kind of path id must be added to `foreign_ids` or this test fails and says so.
"""

from __future__ import annotations

import io
import re
import secrets

import httpx
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from PIL import Image

from fieldpunch.devices.keys import b64url_encode
from tests.factories import Api, OrgKit
from tests.keys import new_p256
from tests.punching import punch

ID_PARAM = re.compile(r"\{(\w+)\}")
# Path parameters that name no object of an organization (every org has a calendar year).
NOT_IDS = {"year"}
# The bodies some id-bearing operations require (by the path's end); others get `{}`.
VALID_BODIES = {
    "/resolve": {"decision": "approve"},
    "/visits/{visit_id}/cancel": {"reason": "walk"},
    "/tasks/{task_id}/comments": {"body": "walk"},
}


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(out, "PNG")
    return out.getvalue()


async def _foreign_ids(other: OrgKit) -> dict[str, str]:
    """One of every resource in the other organization, by path parameter name."""
    team = await other.team("Rival team")
    staff = await other.person("staff", team_id=team)
    place = await other.admin.ok(
        "post", "/places", 201, json={"name": "HQ", "location": {"lat": 31.2, "lon": 121.4}}
    )
    customer = await other.admin.ok("post", "/customers", 201, json={"name": "Client"})
    device = await staff.ok("post", "/devices", 201, json={"public_key": new_p256()[1]})
    key = await other.admin.ok(
        "post", "/api-keys", 201, json={"name": "k", "scopes": ["users:read"]}
    )
    punch_made = await staff.ok("post", "/punches", 201, json=punch())
    await staff.ok(
        "post", "/punches", 201, json=punch(kind="clock_out")
    )  # right after: a duplicate
    anomaly = (await other.admin.ok("get", "/anomalies"))["items"][0]
    correction = await staff.ok(
        "post",
        "/corrections",
        201,
        json={
            "kind": "clock_in",
            "at": punch_made["trusted_time"],
            "reason": "forgot",
            "place_id": place["id"],
        },
    )
    photo = await staff.ok("post", "/photos", 201, files={"file": ("p.png", _png(), "image/png")})
    notification = await staff.ok("post", "/me/notifications/test", 201)
    mocked = punch()
    mocked["location"]["mock"] = True  # critical and live: an alert job for the admins
    await staff.ok("post", "/punches", 201, json=mocked)
    alert_job = (await other.admin.ok("get", "/jobs", params={"kind": "alert.anomaly"}))["items"][0]
    # Disabled, so nothing is ever sent to the vendor from a test.
    robot = await other.admin.ok(
        "post",
        "/robots",
        201,
        json={
            "name": "Ops group",
            "provider": "wecom",
            "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
            "enabled": False,
        },
    )
    ua = new_p256()[0].public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    subscription = await staff.ok(
        "post",
        "/me/push-subscriptions",
        201,
        json={
            "endpoint": f"https://fcm.googleapis.com/fcm/send/{secrets.token_hex(8)}",
            "keys": {"p256dh": b64url_encode(ua), "auth": b64url_encode(b"0123456789abcdef")},
        },
    )
    shift = await other.admin.ok(
        "post",
        "/shifts",
        201,
        json={"name": "Day", "periods": [{"start": "09:00", "end": "18:00"}]},
    )
    group = await other.admin.ok(
        "post",
        "/attendance-groups",
        201,
        json={"name": "Office", "schedule": "free", "required_min": 480},
    )
    leave = await staff.ok(
        "post",
        "/requests",
        201,
        json={
            "kind": "out",
            "start": "2026-11-27T09:00:00+08:00",
            "end": "2026-11-27T11:00:00+08:00",
            "reason": "bank",
        },
    )
    visit = await other.admin.ok(
        "post",
        "/visits",
        201,
        json={"customer_id": customer["id"], "user_id": staff.user_id},
    )
    task = await other.admin.ok(
        "post", "/tasks", 201, json={"title": "Call back", "visit_id": visit["id"]}
    )
    return {
        "visit_id": visit["id"],
        "task_id": task["id"],
        "shift_id": shift["id"],
        "group_id": group["id"],
        "request_id": leave["id"],
        "team_id": team,
        "user_id": str(staff.user_id),
        "place_id": place["id"],
        "customer_id": customer["id"],
        "device_id": device["id"],
        "key_id": key["id"],
        "punch_id": punch_made["id"],
        "anomaly_id": anomaly["id"],
        "correction_id": correction["id"],
        "photo_id": photo["id"],
        "notification_id": notification["id"],
        "job_id": alert_job["id"],
        "robot_id": robot["id"],
        "subscription_id": subscription["id"],
    }


async def test_every_endpoint_hides_other_orgs_ids(
    client: httpx.AsyncClient, org: OrgKit, other_org: OrgKit
) -> None:
    ids = await _foreign_ids(other_org)
    spec = (await client.get("/openapi.json")).json()
    walked = 0
    for path, ops in spec["paths"].items():
        params = ID_PARAM.findall(path)
        if not set(params) - NOT_IDS:
            continue
        missing = [p for p in params if p not in ids]
        assert not missing, f"tenancy walk: add an id of the other org for {missing} ({path})"
        url = ID_PARAM.sub(lambda m: ids[m.group(1)], path).removeprefix("/api/v1")
        for method in ops:
            # A valid body, so that only the foreign id can be the reason for refusal.
            body = next((b for end, b in VALID_BODIES.items() if path.endswith(end)), {})
            kwargs = {"json": body} if method in ("post", "patch", "put") else {}
            r = await getattr(org.admin, method)(url, **kwargs)
            assert r.status_code == 404, (
                f"{method.upper()} {path} with a foreign id: {r.status_code} {r.text}"
            )
            assert r.headers["content-type"] == "application/problem+json"
            walked += 1
    assert walked >= 15
    # Nothing was changed by the attempts.
    assert (await other_org.admin.ok("get", f"/users/{ids['user_id']}"))["active"] is True
    assert (await other_org.admin.ok("get", f"/devices/{ids['device_id']}"))["active"] is True


async def test_lists_never_show_other_orgs_rows(org: OrgKit, other_org: OrgKit) -> None:
    ids = set((await _foreign_ids(other_org)).values())
    for path in (
        "/users",
        "/teams",
        "/places",
        "/customers",
        "/devices",
        "/api-keys",
        "/punches",
        "/anomalies",
        "/corrections",
        "/shifts",
        "/attendance-groups",
        "/requests",
        "/visits",
        "/tasks",
        "/audit-log",
    ):
        body = await org.admin.ok("get", path, params={"limit": 500})
        assert not ids & {item["id"] for item in body["items"]}, path


async def test_body_references_to_other_orgs_are_rejected(org: OrgKit, other_org: OrgKit) -> None:
    ids = await _foreign_ids(other_org)
    cases = [
        (
            "/users",
            {"email": "x1@example.com", "name": "X", "role": "staff", "team_id": ids["team_id"]},
            "team_id",
        ),
        (
            "/users",
            {
                "email": "x2@example.com",
                "name": "X",
                "role": "manager",
                "managed_team_ids": [ids["team_id"]],
            },
            "managed_team_ids",
        ),
        ("/teams", {"name": "Sub", "parent_id": ids["team_id"]}, "parent_id"),
        ("/customers", {"name": "C", "owner_id": ids["user_id"]}, "owner_id"),
        ("/visits", {"customer_id": ids["customer_id"], "user_id": ids["user_id"]}, "user_id"),
        ("/tasks", {"title": "T", "visit_id": ids["visit_id"]}, "visit_id"),
        ("/tasks", {"title": "T", "assignee_id": ids["user_id"]}, "assignee_id"),
    ]
    for path, body, field in cases:
        r = await org.admin.post(path, json=body)
        assert r.status_code == 422, (path, r.text)
        assert r.json()["errors"][0]["loc"][1] == field
    listed = await org.admin.ok("get", "/users", params={"q": "example.com", "limit": 500})
    assert not {"x1@example.com", "x2@example.com"} & {u["email"] for u in listed["items"]}


async def test_api_key_is_confined_to_its_org(
    client: httpx.AsyncClient, org: OrgKit, other_org: OrgKit
) -> None:
    ids = await _foreign_ids(other_org)
    created = await org.admin.ok(
        "post", "/api-keys", 201, json={"name": "all", "scopes": ["users:read", "teams:read"]}
    )
    key = Api(client, created["key"])
    assert (await key.get(f"/users/{ids['user_id']}")).status_code == 404
    assert (await key.get(f"/teams/{ids['team_id']}")).status_code == 404
