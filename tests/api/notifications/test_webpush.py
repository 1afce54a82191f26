"""Web push: RFC 8291 encryption, VAPID, subscriptions, delivery, expiry and takeover."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from fieldpunch.db.engine import Database
from fieldpunch.jobs.runner import Runner
from fieldpunch.notify import webpush
from tests.api.notifications.harness import (
    PUSH_ANSWERS,
    browser_subscription,
    org_jobs,
)
from tests.factories import OrgKit
from tests.receivers import (
    HookSink,
)

# web push ----------------------------------------------------------------------------------------

# RFC 8291, Appendix A.
RFC = {
    "plaintext": b"When I grow up, I want to be a watermelon",
    "as_private": "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw",
    "ua_private": "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94",
    "ua_public": "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyP"
    "js7Vd8pZGH6SRpkNtoIAiw4",
    "salt": "DGv6ra1nlYgDCS1FRnbzlw",
    "auth": "BTBZMqHH6r4Tts7J_aSIgg",
    "body": "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml"
    "mlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPT"
    "pK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN",
}


def _key(b64: str) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int.from_bytes(webpush.unb64url(b64), "big"), ec.SECP256R1())


def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def browser_decrypt(body: bytes, ua_private: ec.EllipticCurvePrivateKey, auth: bytes) -> bytes:
    """The user agent's side of RFC 8291 / RFC 8188, written from the RFC with plain HMAC."""
    salt, rs, idlen = body[:16], int.from_bytes(body[16:20], "big"), body[20]
    as_public, ciphertext = body[21 : 21 + idlen], body[21 + idlen :]
    assert rs >= 18 and len(ciphertext) <= rs
    ua_public = ua_private.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), as_public)
    shared = ua_private.exchange(ec.ECDH(), peer)
    ikm = _hmac(_hmac(auth, shared), b"WebPush: info\x00" + ua_public + as_public + b"\x01")
    prk = _hmac(salt, ikm)
    cek = _hmac(prk, b"Content-Encoding: aes128gcm\x00\x01")[:16]
    nonce = _hmac(prk, b"Content-Encoding: nonce\x00\x01")[:12]
    padded = AESGCM(cek).decrypt(nonce, ciphertext, None).rstrip(b"\x00")
    assert padded.endswith(b"\x02")  # the last record's delimiter
    return padded[:-1]


def test_push_encryption_reproduces_rfc_8291_appendix_a() -> None:
    body = webpush.encrypt(
        RFC["plaintext"],
        webpush.unb64url(RFC["ua_public"]),
        webpush.unb64url(RFC["auth"]),
        salt=webpush.unb64url(RFC["salt"]),
        sender=_key(RFC["as_private"]),
    )
    assert webpush.b64url(body) == RFC["body"]
    assert (
        browser_decrypt(body, _key(RFC["ua_private"]), webpush.unb64url(RFC["auth"]))
        == (RFC["plaintext"])
    )


def test_push_encryption_round_trip_and_vapid_token() -> None:
    ua = ec.generate_private_key(ec.SECP256R1())
    auth = secrets.token_bytes(16)
    p256dh = webpush.b64url(
        ua.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    )
    vapid = webpush.load_private_key(webpush.new_private_key())
    payload = json.dumps({"title": "打卡提醒", "body": "x" * 3000}, ensure_ascii=False).encode()
    endpoint = "https://fcm.googleapis.com/fcm/send/abc:def"
    req = webpush.build_request(
        endpoint,
        p256dh,
        webpush.b64url(auth),
        payload,
        vapid,
        "mailto:ops@example.com",
        topic="ntf_1",
        urgency="high",
    )
    assert browser_decrypt(req.body, ua, auth) == payload
    assert len(req.body) <= 4096
    h = req.headers
    assert h["Content-Encoding"] == "aes128gcm" and h["TTL"] == "86400" and h["Topic"] == "ntf_1"
    assert h["Urgency"] == "high"
    scheme, rest = h["Authorization"].split(" ", 1)
    parts = dict(p.split("=", 1) for p in rest.split(", "))
    assert scheme == "vapid" and parts["k"] == webpush.public_key_of(vapid)
    public = ec.EllipticCurvePublicKey.from_encoded_point(
        ec.SECP256R1(), webpush.unb64url(parts["k"])
    )
    claims = jwt.decode(
        parts["t"], public, algorithms=["ES256"], audience="https://fcm.googleapis.com"
    )
    assert claims["sub"] == "mailto:ops@example.com"
    assert 0 < claims["exp"] - time.time() <= 24 * 3600
    assert jwt.get_unverified_header(parts["t"]) == {"alg": "ES256", "typ": "JWT"}
    with pytest.raises(ValueError, match="at most"):
        webpush.encrypt(b"x" * 4000, webpush.unb64url(p256dh), auth)


async def test_push_subscription_delivery_and_expiry(
    org: OrgKit, db: Database, jobs: Runner, hooks: HookSink
) -> None:
    me = await org.person("staff")
    key = (await me.ok("get", "/push/vapid-public-key"))["public_key"]
    assert webpush.unb64url(key)[0] == 4 and len(webpush.unb64url(key)) == 65
    ua = ec.generate_private_key(ec.SECP256R1())
    auth = secrets.token_bytes(16)
    sub = {
        "endpoint": f"{hooks.base}/push/{secrets.token_hex(4)}",
        "keys": {
            "p256dh": webpush.b64url(
                ua.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
            ),
            "auth": webpush.b64url(auth),
        },
        "expirationTime": None,
    }
    made = await me.ok("post", "/me/push-subscriptions", 201, json=sub)
    assert (await me.ok("post", "/me/push-subscriptions", 200, json=sub))["id"] == made["id"]
    bad = {**sub, "keys": {**sub["keys"], "p256dh": webpush.b64url(b"\x04" + b"\x01" * 64)}}
    assert (await me.post("/me/push-subscriptions", json=bad)).status_code == 422
    far = {**sub, "endpoint": "https://push.example.net/abc"}
    r = await me.post("/me/push-subscriptions", json=far)
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "endpoint"]

    n = await me.ok("post", "/me/notifications/test", 201)
    await jobs.drain()
    path = sub["endpoint"].removeprefix(hooks.base)
    (got,) = hooks.at(path)
    assert got.headers["content-encoding"] == "aes128gcm" and got.headers["topic"] == n["id"]
    assert got.headers["authorization"].startswith("vapid t=")
    message = json.loads(browser_decrypt(got.body, ua, auth))
    assert message["id"] == n["id"] and message["title"] == "Test notification"
    listed = await me.ok("get", "/me/push-subscriptions")
    assert listed[0]["last_success_at"] is not None

    # The push service says the subscription is gone: forgotten, the job done.
    PUSH_ANSWERS[path] = 410
    await me.ok("post", "/me/notifications/test", 201)
    await jobs.drain()
    assert await me.ok("get", "/me/push-subscriptions") == []
    assert {j.status for j in await org_jobs(db, org.org_id, "notify.push")} == {"done"}
    other = await org.person("staff")
    assert (await other.delete(f"/me/push-subscriptions/{made['id']}")).status_code == 404


async def test_a_push_endpoint_is_not_taken_over_without_its_keys(
    org: OrgKit, other_org: OrgKit, db: Database, jobs: Runner, hooks: HookSink
) -> None:
    owner = await org.person("staff")
    colleague = await org.person("staff")
    stranger = await other_org.person("staff")
    sub, ua, auth = browser_subscription(f"{hooks.base}/push/{secrets.token_hex(4)}")
    made = await owner.ok("post", "/me/push-subscriptions", 201, json=sub)

    # Anyone who only knows the endpoint (another org's user, or a colleague) gets nothing:
    # with keys of their own the endpoint stays the owner's, and pushes keep reaching them.
    for who in (stranger, colleague):
        forged, _, _ = browser_subscription(sub["endpoint"])
        r = await who.post("/me/push-subscriptions", json=forged)
        assert r.status_code == 409, r.text
        assert r.json()["errors"][0]["loc"] == ["body", "endpoint"]
        assert await who.ok("get", "/me/push-subscriptions") == []
    assert [s["id"] for s in await owner.ok("get", "/me/push-subscriptions")] == [made["id"]]
    n = await owner.ok("post", "/me/notifications/test", 201)
    await jobs.drain()
    (got,) = hooks.at(sub["endpoint"].removeprefix(hooks.base))
    assert json.loads(browser_decrypt(got.body, ua, auth))["id"] == n["id"]

    # The same browser (its keys prove it) changes hands: a shared tablet, even across orgs.
    # A message queued for the first owner is not pushed to the browser's new owner.
    await owner.ok("post", "/me/notifications/test", 201)
    moved = await stranger.ok("post", "/me/push-subscriptions", 200, json=sub)
    assert moved["id"] == made["id"]
    assert await owner.ok("get", "/me/push-subscriptions") == []
    await jobs.drain()
    assert len(hooks.at(sub["endpoint"].removeprefix(hooks.base))) == 1
    # The owner's own browser renews its keys for the same endpoint: theirs to change.
    renewed, _, _ = browser_subscription(sub["endpoint"])
    await stranger.ok("post", "/me/push-subscriptions", 200, json=renewed)
