"""Security review (issue 12) through HTTP: time proofs that back-date online punches, anchors
that expire, unsigned punches from people whose phone signs, and the per-person rate limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fieldpunch.auth import timeproof
from fieldpunch.config import Settings
from tests.conftest import TEST_SECRET
from tests.factories import Api, OrgKit
from tests.keys import new_p256
from tests.punching import punch, sign


def _rules(body: dict[str, Any]) -> set[str]:
    return {a["rule"] for a in body["anomalies"]}


def _proof(org: OrgKit, staff: Api, anchor_at: datetime, claimed: datetime) -> dict[str, Any]:
    """A proof on an anchor issued at `anchor_at` (as GET /time would have), elapsed to `claimed`.

    The elapsed values are the phone's word: anything a client likes.
    """
    assert staff.user_id is not None
    at = anchor_at.astimezone(UTC).replace(microsecond=anchor_at.microsecond // 1000 * 1000)
    return {
        "anchor_token": timeproof.make(TEST_SECRET, org.org_id, staff.user_id, at),
        "anchor_server_time": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "anchor_elapsed_ms": 1_000,
        "elapsed_ms": 1_000 + int((claimed - at) / timedelta(milliseconds=1)),
    }


# Item 5: time proofs ------------------------------------------------------------------------


async def test_an_online_punch_is_not_back_dated_by_its_proof(org: OrgKit) -> None:
    staff = await org.person("staff")
    now = datetime.now(UTC)
    anchor_at = now - timedelta(minutes=10)
    # Made-up elapsed values: the proof says two minutes before the punch arrives.
    body = punch(
        offline=False, time_proof=_proof(org, staff, anchor_at, now - timedelta(minutes=2))
    )
    made = await staff.ok("post", "/punches", 201, json=body)
    received = datetime.fromisoformat(made["received_at"])
    assert made["time_source"] == "server"
    assert datetime.fromisoformat(made["trusted_time"]) == received
    assert made["status"] == "flagged" and "time_proof_mismatch" in _rules(made)
    (finding,) = [a for a in made["anomalies"] if a["rule"] == "time_proof_mismatch"]
    assert finding["severity"] == "warning"
    assert 110 < finding["evidence"]["seconds_before_arrival"] < 200
    queue = await org.admin.ok("get", "/anomalies", params={"rule": "time_proof_mismatch"})
    assert [a["punch_id"] for a in queue["items"]] == [made["id"]]


async def test_one_anchor_serves_several_honest_punches(org: OrgKit) -> None:
    """An anchor fetched once dates every punch made on it: online ones within the network's
    slack of their arrival, and an offline queue's, made hours apart."""
    staff = await org.person("staff")
    now = datetime.now(UTC)
    anchor_at = now - timedelta(hours=5)
    online = punch(time_proof=_proof(org, staff, anchor_at, now - timedelta(seconds=3)))
    made = await staff.ok("post", "/punches", 201, json=online)
    assert made["time_source"] == "proof" and made["anomalies"] == []
    queue = [
        punch(
            kind=kind,
            offline=True,
            captured_at=now - timedelta(hours=hours),
            time_proof=_proof(org, staff, anchor_at, now - timedelta(hours=hours)),
        )
        for kind, hours in (("clock_in", 4), ("clock_out", 1))
    ]
    results = (await staff.ok("post", "/punches/batch", json={"punches": queue}))["results"]
    for sent, result in zip(queue, results, strict=True):
        assert result["status"] == 201
        stored = result["punch"]
        assert stored["time_source"] == "proof" and stored["anomalies"] == []
        assert stored["trusted_time"].startswith(sent["captured_at"][:19])


async def test_anchors_expire(org: OrgKit, settings: Settings) -> None:
    staff = await org.person("staff")
    answer = await staff.ok("get", "/time")
    ttl = timedelta(hours=settings.time_anchor_ttl_h)
    assert ttl == timedelta(hours=72)
    issued = datetime.fromisoformat(answer["now"])
    assert datetime.fromisoformat(answer["expires_at"]) == issued + ttl
    now = datetime.now(UTC)
    anchor_at = now - ttl - timedelta(hours=8)
    # Made offline 5 h ago on an anchor 75 h older: dated by the phone's clock, with a finding.
    late = now - timedelta(hours=5)
    body = punch(offline=True, captured_at=late, time_proof=_proof(org, staff, anchor_at, late))
    made = await staff.ok("post", "/punches", 201, json=body)
    assert made["time_source"] == "device" and "time_anchor_expired" in _rules(made)
    (finding,) = [a for a in made["anomalies"] if a["rule"] == "time_anchor_expired"]
    assert finding["severity"] == "warning" and finding["evidence"]["ttl_h"] == 72
    # Online: dated by its arrival.
    body = punch(time_proof=_proof(org, staff, anchor_at, now))
    made = await staff.ok("post", "/punches", 201, json=body)
    assert made["time_source"] == "server" and "time_anchor_expired" in _rules(made)
    # Within the TTL the same anchor still dates a punch (an offline phone, days later).
    early = anchor_at + ttl - timedelta(minutes=30)
    body = punch(offline=True, captured_at=early, time_proof=_proof(org, staff, anchor_at, early))
    made = await staff.ok("post", "/punches", 201, json=body)
    assert made["time_source"] == "proof" and "time_anchor_expired" not in _rules(made)


# Item 18: signature downgrade ---------------------------------------------------------------


async def test_an_unsigned_punch_from_a_person_whose_phone_signs(org: OrgKit) -> None:
    staff = await org.person("staff")
    private, public = new_p256()
    device = await staff.ok("post", "/devices", 201, json={"public_key": public})
    signed = await staff.ok("post", "/punches", 201, json=sign(private, punch(), device["id"]))
    assert signed["status"] == "accepted"
    downgraded = await staff.ok("post", "/punches", 201, json=punch(kind="clock_out"))
    assert downgraded["status"] == "flagged" and _rules(downgraded) == {"unsigned"}
    assert downgraded["signature_ok"] is None
    (finding,) = downgraded["anomalies"]
    assert finding["severity"] == "critical" and finding["evidence"] == {"enrolled_device": True}
    # In a batch too, alone (no device named) and beside a signed punch (one device named).
    alone = (await staff.ok("post", "/punches/batch", json={"punches": [punch()]}))["results"]
    assert _rules(alone[0]["punch"]) >= {"unsigned"}
    mixed = [sign(private, punch(kind="clock_out"), device["id"]), punch(kind="clock_in")]
    results = (await staff.ok("post", "/punches/batch", json={"punches": mixed}))["results"]
    assert "unsigned" not in _rules(results[0]["punch"])
    assert "unsigned" in _rules(results[1]["punch"])


async def test_unsigned_punches_stay_clean_without_an_active_device(org: OrgKit) -> None:
    """People who never enrolled a device, or whose only device was revoked, punch unsigned as
    before; another person's device is not theirs."""
    staff = await org.person("staff")
    other = await org.person("staff")
    await other.ok("post", "/devices", 201, json={"public_key": new_p256()[1]})
    first = await staff.ok("post", "/punches", 201, json=punch())
    assert first["status"] == "accepted" and first["anomalies"] == []
    device = await staff.ok("post", "/devices", 201, json={"public_key": new_p256()[1]})
    await staff.ok("delete", f"/devices/{device['id']}", 204)
    batch = {"punches": [punch(kind="clock_out"), punch(kind="clock_in")]}
    for result in (await staff.ok("post", "/punches/batch", json=batch))["results"]:
        assert "unsigned" not in _rules(result["punch"])  # (a `duplicate`, two taps at once)


# Item 17: coordinates chosen on a map ---------------------------------------------------------


async def test_a_punch_on_the_stored_centre_is_flagged(org: OrgKit) -> None:
    # The admin picked the office on AMap: stored in WGS-84, answered in both.
    place = await org.admin.ok(
        "post",
        "/places",
        201,
        json={"name": "HQ", "location": {"lat": 31.2416634, "lon": 121.4999815, "crs": "gcj02"}},
    )
    stored = await org.admin.ok("get", f"/places/{place['id']}")
    wgs = stored["location"]
    staff = await org.person("staff")
    copied = await staff.ok("post", "/punches", 201, json=punch(wgs["lat"], wgs["lon"]))
    assert copied["status"] == "flagged" and _rules(copied) == {"chosen_location"}
    (finding,) = copied["anomalies"]
    assert finding["evidence"]["fence_id"] == place["id"]
    assert finding["evidence"]["point"] == "centre" and finding["evidence"]["crs"] == "wgs84"
    # The AMap pick itself, sent as GCJ-02, and the same numbers mislabelled as WGS-84.
    picked = punch(31.2416634, 121.4999815, kind="clock_out")
    picked["location"]["crs"] = "gcj02"
    made = await staff.ok("post", "/punches", 201, json=picked)
    assert "chosen_location" in _rules(made)
    mislabelled = await staff.ok(
        "post", "/punches", 201, json=punch(31.2416634, 121.4999815, kind="clock_in")
    )
    assert "chosen_location" in _rules(mislabelled)
    # A receiver's fix a metre away, at full precision: clean.
    honest = await staff.ok(
        "post",
        "/punches",
        201,
        json=punch(wgs["lat"] + 9.1e-6, wgs["lon"] - 4.3e-6, kind="clock_out"),
    )
    assert "chosen_location" not in _rules(honest)
