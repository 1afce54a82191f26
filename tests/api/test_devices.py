"""Device enrolment: real P-256 keys, one owner per key, revocation and visibility."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from fieldpunch.devices.keys import b64url_encode
from tests.factories import OrgKit
from tests.keys import new_p256


async def test_enrol_list_revoke(org: OrgKit) -> None:
    team = await org.team("Field")
    staff = await org.person("staff", team_id=team)
    _, public = new_p256()
    dev = await staff.ok(
        "post",
        "/devices",
        201,
        json={"public_key": public, "platform": "android", "label": "Mi 14"},
    )
    assert (
        dev["id"].startswith("dev_") and dev["user_id"] == staff.user_id and dev["active"] is True
    )
    # The same key again is the same device (a retried enrolment is harmless).
    again = await staff.ok(
        "post", "/devices", 200, json={"public_key": public, "platform": "android"}
    )
    assert again["id"] == dev["id"]
    # Nobody else can claim that key.
    other = await org.person("staff", team_id=team)
    r = await other.post("/devices", json={"public_key": public})
    assert r.status_code == 409
    assert (await other.get(f"/devices/{dev['id']}")).status_code == 404
    assert [d["id"] for d in (await staff.ok("get", "/devices"))["items"]] == [dev["id"]]
    manager = await org.person("manager", team_id=team, managed_team_ids=[team])
    assert dev["id"] in {d["id"] for d in (await manager.ok("get", "/devices"))["items"]}
    await manager.ok("delete", f"/devices/{dev['id']}", 204)
    revoked = await staff.ok("get", f"/devices/{dev['id']}")
    assert revoked["active"] is False and revoked["revoked_at"]
    assert [
        d["id"] for d in (await staff.ok("get", "/devices", params={"active": "false"}))["items"]
    ] == [dev["id"]]
    # After revocation the key may be enrolled anew (a fresh device id).
    fresh = await staff.ok("post", "/devices", 201, json={"public_key": public})
    assert fresh["id"] != dev["id"]


async def test_only_p256_spki_keys(org: OrgKit) -> None:
    staff = await org.person("staff")
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    p384 = ec.generate_private_key(ec.SECP384R1()).public_key()
    for key in (rsa_key, p384):
        spki = b64url_encode(key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo))
        r = await staff.post("/devices", json={"public_key": spki})
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "public_key"]
    garbage = base64.urlsafe_b64encode(b"x" * 91).decode()
    assert (await staff.post("/devices", json={"public_key": garbage})).status_code == 422


async def test_api_key_cannot_enrol(client, org: OrgKit) -> None:
    from tests.factories import Api

    key = await org.admin.ok(
        "post", "/api-keys", 201, json={"name": "k", "scopes": ["devices:write"]}
    )
    r = await Api(client, key["key"]).post("/devices", json={"public_key": new_p256()[1]})
    assert r.status_code == 403
