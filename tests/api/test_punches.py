"""The punch through HTTP: idempotency, signatures, CRS, fusion, time proofs, matching, batches."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from sqlalchemy import text

from fieldpunch.app import create_app
from fieldpunch.config import Settings
from fieldpunch.db.engine import Database
from fieldpunch.geo.crs import wgs84_to_gcj02
from fieldpunch.geo.distance import haversine_m
from fieldpunch.punches.audit import verify
from tests.factories import Api, OrgKit
from tests.keys import new_p256
from tests.punching import OFFICE, punch, sign

OFFICE_BSSID = "a4:5e:60:c1:22:01"


async def _office(org: OrgKit, **extra: object) -> dict:
    body = {
        "name": "陆家嘴总部",
        "location": {"lat": OFFICE[0], "lon": OFFICE[1]},
        "radius_m": 100,
        "wifi_bssids": [OFFICE_BSSID],
        **extra,
    }
    return await org.admin.ok("post", "/places", 201, json=body)


async def _staff_with_device(org: OrgKit) -> tuple[Api, object, str]:
    staff = await org.person("staff")
    private, public = new_p256()
    device = await staff.ok(
        "post", "/devices", 201, json={"public_key": public, "platform": "android"}
    )
    return staff, private, device["id"]


async def test_punch_at_the_office(org: OrgKit) -> None:
    office = await _office(org)
    staff = await org.person("staff")
    r = await staff.post("/punches", json=punch(OFFICE[0] + 0.0003, OFFICE[1]))  # ~33 m north
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "accepted" and body["anomalies"] == []
    assert body["place"]["id"] == office["id"] and body["place"]["name"] == "陆家嘴总部"
    assert body["place"]["distance_m"] == 0.0
    assert body["ledger"]["seq"] == 1 and len(body["ledger"]["hash"]) == 64
    assert body["time_source"] == "server" and body["location"]["sources"] == ["gps"]
    assert await staff.ok("get", f"/punches/{body['id']}") == body


async def test_replay_is_idempotent_and_a_changed_copy_conflicts(org: OrgKit) -> None:
    staff = await org.person("staff")
    p = punch()
    first = await staff.ok("post", "/punches", 201, json=p)
    again = await staff.ok("post", "/punches", 200, json=p)
    assert again == first
    changed = {**p, "note": "edited"}
    r = await staff.post("/punches", json=changed)
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    listed = await staff.ok("get", "/punches")
    assert [x["id"] for x in listed["items"]] == [first["id"]]


async def test_signed_punch_and_a_tampered_byte(org: OrgKit) -> None:
    staff, private, device_id = await _staff_with_device(org)
    good = await staff.ok("post", "/punches", 201, json=sign(private, punch(), device_id))
    assert (
        good["signature_ok"] is True
        and good["status"] == "accepted"
        and good["device_id"] == device_id
    )
    signed = sign(private, punch(), device_id)
    signed["location"]["lat"] += 0.0001  # one changed digit after signing
    bad = await staff.ok("post", "/punches", 201, json=signed)
    assert bad["status"] == "rejected" and bad["signature_ok"] is False
    assert "bad_signature" in [a["rule"] for a in bad["anomalies"]]
    # Stored, not dropped: it shows up for review.
    rejected = await org.admin.ok("get", "/punches", params={"status": "rejected"})
    assert [x["id"] for x in rejected["items"]] == [bad["id"]]


async def test_device_problems_are_flagged(org: OrgKit) -> None:
    staff, private, device_id = await _staff_with_device(org)
    _, other_key, other_device = await _staff_with_device(org)
    # Another person's device, signed correctly with its key: still not this person's.
    foreign = await staff.ok("post", "/punches", 201, json=sign(other_key, punch(), other_device))
    assert foreign["status"] == "flagged" and "foreign_device" in {
        a["rule"] for a in foreign["anomalies"]
    }
    unknown = await staff.ok("post", "/punches", 201, json=sign(private, punch(), "dev_NOPE"))
    assert "unknown_device" in [a["rule"] for a in unknown["anomalies"]]
    await staff.ok("delete", f"/devices/{device_id}", 204)
    revoked = await staff.ok("post", "/punches", 201, json=sign(private, punch(), device_id))
    assert "revoked_device" in [a["rule"] for a in revoked["anomalies"]]
    assert revoked["status"] == "flagged"


async def test_a_revoke_is_seen_by_the_next_punch_in_every_process(
    org: OrgKit, settings: Settings
) -> None:
    """Whatever a server keeps in memory about devices, a committed revoke wins at once.

    A second app on the same database plays another server process: both have taken genuine
    signed punches from the device (so any per-process state about it is warm) before the
    revoke, which goes through the first; the very next punch in either process, single or
    batched, is flagged `revoked_device` (and with it, signature_ok no longer makes it genuine).
    """
    staff, private, device_id = await _staff_with_device(org)
    other_app = create_app(settings)
    async with other_app.router.lifespan_context(other_app):
        transport = httpx.ASGITransport(app=other_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c2:
            other = Api(c2, staff.token, staff.user_id)
            for api in (staff, other):
                ok = await api.ok("post", "/punches", 201, json=sign(private, punch(), device_id))
                batch = await api.ok(
                    "post", "/punches/batch", json={"punches": [sign(private, punch(), device_id)]}
                )
                for genuine in (ok, batch["results"][0]["punch"]):
                    assert genuine["signature_ok"] is True
                    assert not {"revoked_device", "unknown_device", "foreign_device"} & {
                        a["rule"] for a in genuine["anomalies"]
                    }
            await staff.ok("delete", f"/devices/{device_id}", 204)
            for api in (other, staff):
                after = await api.ok(
                    "post", "/punches", 201, json=sign(private, punch(), device_id)
                )
                assert "revoked_device" in [a["rule"] for a in after["anomalies"]]
                assert after["status"] == "flagged"
                # A batch naming two devices takes the other read path; same verdict.
                _, key2, device2 = await _staff_with_device(org)
                items = [sign(private, punch(), device_id), sign(key2, punch(), device2)]
                out = await api.ok("post", "/punches/batch", json={"punches": items})
                first = out["results"][0]["punch"]
                assert "revoked_device" in [a["rule"] for a in first["anomalies"]]
                assert "revoked_device" not in [
                    a["rule"] for a in out["results"][1]["punch"]["anomalies"]
                ]


async def test_cross_person_facts_through_the_database(org: OrgKit) -> None:
    """shared_device and too_perfect read other people's punches (one query for both rules)."""
    owner, private, device_id = await _staff_with_device(org)
    colleague = await org.person("staff")
    spot = (31.2397123, 121.4998456)  # seven decimals: a real fix never repeats exactly
    # The owner's first punch: their next is judged from the memory on their chain head, with
    # the cross-person reads in the idempotency check's round trip.
    await owner.ok("post", "/punches", 201, json=sign(private, punch(kind="clock_out"), device_id))
    buddy = await colleague.ok("post", "/punches", 201, json=sign(private, punch(*spot), device_id))
    assert "foreign_device" in {a["rule"] for a in buddy["anomalies"]}
    body = sign(private, punch(*spot), device_id)
    mine = await owner.ok("post", "/punches", 201, json=body)
    found = {a["rule"]: a["evidence"] for a in mine["anomalies"]}
    assert found["shared_device"]["other_user_ids"] == [colleague.user_id]
    assert found["too_perfect"]["identical_elsewhere"] == 1
    assert (await owner.ok("post", "/punches", 200, json=body))["id"] == mine["id"]  # replay
    # Only one of the two rules on: each query alone gives the same facts.
    for off, on in (("too_perfect", "shared_device"), ("shared_device", "too_perfect")):
        await org.admin.ok("put", "/policy", json={"rules": {off: {"enabled": False}}})
        again = await owner.ok("post", "/punches", 201, json=sign(private, punch(*spot), device_id))
        rules = {a["rule"] for a in again["anomalies"]}
        assert on in rules and off not in rules


async def test_repeated_coordinates_count_by_the_org_s_local_day(org: OrgKit) -> None:
    """The same person at the same spot twice in one Shanghai morning is not too_perfect, even
    though 07:30 and 09:00 there fall on two UTC dates; the next morning it is."""
    staff = await org.person("staff")
    spot = (31.2397123, 121.4998456)
    shanghai = timezone(timedelta(hours=8))
    yesterday = (datetime.now(shanghai) - timedelta(days=2)).replace(second=0, microsecond=0)

    async def at(day: int, hour: int, minute: int) -> set[str]:
        t = yesterday.replace(hour=hour, minute=minute) + timedelta(days=day)
        body = punch(*spot, kind="clock_in" if hour < 8 else "clock_out", captured_at=t)
        out = await staff.ok("post", "/punches", 201, json={**body, "offline": True})
        return {a["rule"] for a in out["anomalies"]}

    assert "too_perfect" not in await at(0, 7, 30)  # 23:30 UTC the day before
    assert "too_perfect" not in await at(0, 9, 0)  # 01:00 UTC: another UTC date, same local day
    assert "too_perfect" in await at(1, 7, 30)  # the next local day: a replayed fix


async def test_org_can_require_signed_punches(org: OrgKit) -> None:
    staff = await org.person("staff")
    assert (await staff.ok("post", "/punches", 201, json=punch()))["status"] == "accepted"
    org_out = await org.admin.ok("patch", "/org", json={"require_signed_punches": True})
    assert org_out["require_signed_punches"] is True
    flagged = await staff.ok("post", "/punches", 201, json=punch())
    assert flagged["status"] == "flagged" and flagged["anomalies"][0]["rule"] == "unsigned"


async def test_gcj02_punch_matches_the_true_office(org: OrgKit) -> None:
    office = await _office(org)
    staff = await org.person("staff")
    glon, glat = wgs84_to_gcj02(OFFICE[1], OFFICE[0])  # what an AMap-based phone reports
    p = punch(glat, glon)
    p["location"]["crs"] = "gcj02"
    body = await staff.ok("post", "/punches", 201, json=p)
    assert body["place"]["id"] == office["id"]
    assert body["location"]["crs"] == "gcj02"  # answered in the CRS it was sent in
    assert haversine_m(glat, glon, body["location"]["lat"], body["location"]["lon"]) < 0.5
    stored = await staff.ok("post", "/punches", 200, json=p, params={"crs": "wgs84"})
    assert haversine_m(*OFFICE, stored["location"]["lat"], stored["location"]["lon"]) < 0.5
    out = await staff.ok("get", f"/punches/{body['id']}", params={"crs": "gcj02"})
    assert out["location"]["crs"] == "gcj02"
    assert haversine_m(glat, glon, out["location"]["lat"], out["location"]["lon"]) < 0.5
    # Read as WGS-84, the raw GCJ-02 pin would have been ~500 m off and outside the fence.
    assert haversine_m(*OFFICE, glat, glon) > 300


async def test_fusion_rejects_a_wrong_fix_and_uses_wifi(org: OrgKit) -> None:
    await _office(org)
    staff = await org.person("staff")
    p = punch(
        accuracy=15,
        fixes=[{"lat": OFFICE[0] + 0.018, "lon": OFFICE[1], "accuracy_m": 50, "source": "network"}],
        wifi=[{"bssid": OFFICE_BSSID.upper(), "ssid": "ACME", "rssi": -50}],
    )
    body = await staff.ok("post", "/punches", 201, json=p)
    assert body["location"]["rejected"] == ["network"]
    assert set(body["location"]["sources"]) == {"gps", "wifi"}
    assert haversine_m(*OFFICE, body["location"]["lat"], body["location"]["lon"]) < 30
    assert body["place"] is not None


async def test_poor_accuracy_at_the_edge(org: OrgKit) -> None:
    await _office(org)  # 100 m circle
    staff = await org.person("staff")
    edge = (OFFICE[0] + 120 / 111_000, OFFICE[1])  # 120 m from the centre
    near = await staff.ok("post", "/punches", 201, json=punch(*edge, accuracy=30))
    assert near["place"] is not None and 15 < near["place"]["distance_m"] < 25
    sharp = await staff.ok("post", "/punches", 201, json=punch(*edge, accuracy=5))
    assert sharp["place"] is None


async def test_time_proof_beats_a_changed_phone_clock(org: OrgKit) -> None:
    staff = await org.person("staff")
    anchor = await staff.ok("get", "/time")
    anchor_at = datetime.fromisoformat(anchor["now"])
    proof = {
        "anchor_token": anchor["token"],
        "anchor_server_time": anchor["now"],
        "anchor_elapsed_ms": 5_000,
        "elapsed_ms": 5_000 + 60_000,
    }
    wrong_clock = datetime.now(UTC) - timedelta(hours=3)  # the phone claims 3 hours ago
    body = await staff.ok(
        "post", "/punches", 201, json=punch(captured_at=wrong_clock, offline=True, time_proof=proof)
    )
    assert body["time_source"] == "proof"
    assert datetime.fromisoformat(body["trusted_time"]) == anchor_at + timedelta(seconds=60)
    # Someone else's anchor is worthless here.
    other = await org.person("staff")
    forged = await other.ok(
        "post", "/punches", 201, json=punch(captured_at=wrong_clock, offline=True, time_proof=proof)
    )
    assert (
        forged["time_source"] == "device" and forged["anomalies"][0]["rule"] == "time_proof_invalid"
    )


async def test_visit_punches_measure_the_customer(org: OrgKit) -> None:
    customer = await org.admin.ok(
        "post",
        "/customers",
        201,
        json={
            "name": "上海恒丰五金",
            "location": {"lat": 31.2285, "lon": 121.4532},
            "radius_m": 50,
        },
    )
    staff = await org.person("staff")
    away = (31.2285 + 200 / 111_000, 121.4532)  # 200 m north: 150 m outside the fence
    body = await staff.ok(
        "post",
        "/punches",
        201,
        json=punch(*away, kind="visit_in", customer_id=customer["id"], note="送样品"),
    )
    assert body["customer"]["id"] == customer["id"] and 140 < body["customer"]["distance_m"] < 160
    assert body["note"] == "送样品"
    r = await staff.post("/punches", json=punch(kind="visit_in"))
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "customer_id"]
    r = await staff.post("/punches", json=punch(kind="visit_in", customer_id="cus_NOPE"))
    assert r.status_code == 422


async def test_bad_punches_name_the_field(org: OrgKit) -> None:
    staff = await org.person("staff")
    cases = [
        ({**punch(), "kind": "lunch"}, ["body", "kind"]),
        ({**punch(), "captured_at": "2026-11-27T08:00:00"}, ["body", "captured_at"]),
        ({**punch(), "location": {"lat": 95, "lon": 1}}, ["body", "location", "lat"]),
        ({**punch(), "client_id": "x"}, ["body", "client_id"]),
    ]
    for body, loc in cases:
        r = await staff.post("/punches", json=body)
        assert r.status_code == 422, body
        assert r.json()["errors"][0]["loc"] == loc


async def test_batch_in_order_with_a_bad_item(org: OrgKit) -> None:
    staff = await org.person("staff")
    items = [
        punch(),
        {"client_id": "broken-one", "kind": "clock_in"},
        punch(kind="clock_out"),
        "nonsense",
    ]
    body = await staff.ok("post", "/punches/batch", json={"punches": items})
    assert [r["status"] for r in body["results"]] == [201, 422, 201, 422]
    assert [r["index"] for r in body["results"]] == [0, 1, 2, 3]
    assert body["results"][1]["problem"]["errors"][0]["loc"][:3] == ["body", "punches", 1]
    seqs = [body["results"][i]["punch"]["ledger"]["seq"] for i in (0, 2)]
    assert seqs == [1, 2]
    again = await staff.ok(
        "post", "/punches/batch", json={"punches": [items[0], items[2], items[0]]}
    )
    assert [r["status"] for r in again["results"]] == [200, 200, 200]
    assert (
        await staff.post("/punches/batch", json={"punches": [punch()] * 1001})
    ).status_code == 422


async def test_punch_visibility(client: httpx.AsyncClient, org: OrgKit) -> None:
    team = await org.team("East")
    manager = await org.person("manager", team_id=team, managed_team_ids=[team])
    mine = await org.person("staff", team_id=team)
    outsider = await org.person("staff")
    a = await mine.ok("post", "/punches", 201, json=punch())
    b = await outsider.ok("post", "/punches", 201, json=punch())
    assert {p["id"] for p in (await manager.ok("get", "/punches"))["items"]} == {a["id"]}
    assert (await mine.get(f"/punches/{b['id']}")).status_code == 404
    assert {p["id"] for p in (await org.admin.ok("get", "/punches"))["items"]} == {a["id"], b["id"]}
    key = await org.admin.ok(
        "post", "/api-keys", 201, json={"name": "payroll", "scopes": ["punches:read"]}
    )
    integration = Api(client, key["key"])
    assert (
        len((await integration.ok("get", "/punches", params={"user_id": mine.user_id}))["items"])
        == 1
    )
    assert (await integration.post("/punches", json=punch())).status_code == 403


async def test_fifty_concurrent_punches_one_chain(
    db: Database, settings: Settings, org: OrgKit
) -> None:
    staff = await org.person("staff")
    # The caller known already (cached): the chain head's lock is each punch's first statement.
    await staff.ok("get", "/time")
    results = await asyncio.gather(*(staff.post("/punches", json=punch()) for _ in range(50)))
    bad = [r.text for r in results if r.status_code != 201][:2]
    assert not bad
    seqs = [r.json()["ledger"]["seq"] for r in results]
    # Each punch got its own link; a request that committed after a later-timed one may also
    # have re-assessed it, which adds a reassessment link of its own to the same chain.
    assert len(set(seqs)) == 50
    async with db.transaction(write=False) as session:
        report = await verify(session, settings.signing_key, org.org_id)
    assert report.broken == []
    assert report.entries >= 50


async def test_two_copies_waiting_on_the_lock_make_one_punch_and_one_replay(
    db: Database, settings: Settings, org: OrgKit
) -> None:
    """Two copies of a punch (a phone retrying after a timeout) wait on the person's lock
    together: the first stores the punch, the second reads it after the lock and answers as a
    replay (200, the same punch), neither a conflict nor a second row."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite takes one writer at a time: the second copy starts after the first")
    staff = await org.person("staff")
    await staff.ok("post", "/punches", 201, json=punch())  # the chain head exists; caller cached
    copy = punch()
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND query LIKE '%ledger_heads%'"
    )
    async with db.engine.connect() as holder, db.engine.connect() as watcher:
        await holder.execute(
            text("SELECT 1 FROM ledger_heads WHERE org_id = :o AND user_id = :u FOR UPDATE"),
            {"o": org.org_id, "u": staff.user_id},
        )
        both = [asyncio.ensure_future(staff.post("/punches", json=copy)) for _ in range(2)]
        for _ in range(1000):  # until both requests wait for the lock (bounded: 10 s)
            if (await watcher.execute(waiting)).scalar() == 2:
                break
            await watcher.rollback()  # the activity view is a snapshot per transaction
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the two copies never waited for the person's lock")
        await holder.rollback()
        answers = await asyncio.gather(*both)
    assert sorted(r.status_code for r in answers) == [200, 201], [r.text for r in answers]
    assert answers[0].json() == answers[1].json()
    listed = await staff.ok("get", "/punches")
    assert [p["id"] for p in listed["items"]].count(answers[0].json()["id"]) == 1
    async with db.transaction(write=False) as session:
        assert (await verify(session, settings.signing_key, org.org_id)).broken == []


async def test_punch_created_event_is_published_after_commit(app, org: OrgKit) -> None:
    queue = app.state.hub.subscribe()
    staff = await org.person("staff")
    made = await staff.ok("post", "/punches", 201, json=punch())

    async def next_of_this_org() -> dict:
        # The relay also publishes what earlier apps on this database left unpublished.
        while (event := await queue.get())["org_id"] != org.org_id:
            pass
        return event

    event = await asyncio.wait_for(next_of_this_org(), 10)
    assert event["type"] == "punch.created" and event["data"]["id"] == made["id"]


async def test_a_time_with_no_utc_form_is_refused_naming_the_field(org: OrgKit) -> None:
    # 0001-01-01T03:00+04:00 is before the first day Python has in UTC: once a 500 (fuzzing).
    staff = await org.person("staff")
    early = punch(offline=True) | {"captured_at": "0001-01-01T03:00:05+04:00"}
    one = await staff.post("/punches", json=early)
    assert one.status_code == 422 and one.json()["errors"][0]["loc"] == ["body", "captured_at"]
    batch = await staff.ok("post", "/punches/batch", json={"punches": [early, punch()]})
    assert [r["status"] for r in batch["results"]] == [422, 201]
    assert batch["results"][0]["problem"]["errors"][0]["loc"] == [
        "body",
        "punches",
        0,
        "captured_at",
    ]
    # In UTC, but not a time anything happened at: two days' arithmetic around it would fail.
    first_day = punch(offline=True) | {"captured_at": "0001-01-01T00:00:05Z"}
    refused = await staff.post("/punches", json=first_day)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["loc"] == ["body", "captured_at"]
    # A phone whose clock was reset says 1970: taken, and judged (the device's time is stale).
    reset = await staff.ok(
        "post", "/punches", 201, json=punch(offline=True) | {"captured_at": "1970-01-01T00:00:05Z"}
    )
    assert reset["time_source"] == "device" and reset["status"] == "flagged"
    late = await staff.get("/punches", params={"to": "9999-12-31T23:00:00-05:00"})
    assert late.status_code == 422 and "to" in late.json()["errors"][0]["loc"]
    key = {"name": "never", "scopes": ["punches:read"], "expires_at": "9999-12-31T23:00:00-05:00"}
    refused = await org.admin.post("/api-keys", json=key)
    assert refused.status_code == 422 and "expires_at" in refused.json()["errors"][0]["loc"]


async def test_absurd_times_are_findings_not_server_errors(org: OrgKit) -> None:
    # An elapsed time near 2^53 ms once overflowed the calendar: a 500 (found by schemathesis).
    staff = await org.person("staff")
    anchor = await staff.ok("get", "/time")
    proof = {
        "anchor_token": anchor["token"],
        "anchor_server_time": anchor["now"],
        "anchor_elapsed_ms": 0,
        "elapsed_ms": 2**53 - 1,
    }
    body = await staff.ok("post", "/punches", 201, json=punch(offline=True, time_proof=proof))
    assert body["time_source"] == "device"
    assert "time_proof_invalid" in {a["rule"] for a in body["anomalies"]}
    forged = {**proof, "anchor_token": "x" * 20, "anchor_server_time": "0192-05-24T12:49:14-00:30"}
    ancient = datetime(929, 10, 16, 3, 46, tzinfo=timezone(timedelta(hours=-6, minutes=-42)))
    old = await staff.ok(
        "post", "/punches", 201, json=punch(captured_at=ancient, offline=True, time_proof=forged)
    )
    # Device time, told in UTC like every other time the API returns.
    assert old["time_source"] == "device" and old["trusted_time"] == "0929-10-16T10:28:00Z"
    # Beyond 2^53 an integer has no canonical JSON (nor a JavaScript number): refused, named.
    big = punch()
    big["location"]["altitude_m"] = 2**64
    r = await staff.post("/punches", json=big)
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "location", "altitude_m"]
    batch = await staff.ok("post", "/punches/batch", json={"punches": [punch(), big]})
    assert batch["results"][1]["problem"]["errors"][0]["loc"][-2:] == ["location", "altitude_m"]
