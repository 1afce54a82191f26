"""Anomalies through HTTP: detection in trusted-time order, review with permissions, policy."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from fieldpunch.config import Settings
from fieldpunch.db.engine import Database
from fieldpunch.geo.crs import wgs84_to_gcj02
from fieldpunch.jobs.models import OutboxEvent
from fieldpunch.punches.audit import verify
from fieldpunch.punches.models import LedgerHead
from tests.factories import Api, OrgKit
from tests.punching import OFFICE, punch

BEIJING = (39.9087, 116.3975)


def at(minutes_ago: float) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes_ago)


def offline(lat: float, lon: float, minutes_ago: float, **extra: object) -> dict:
    """A punch captured earlier and sent now (its device time is trusted: no proof)."""
    return punch(lat, lon, captured_at=at(minutes_ago), offline=True, **extra)


async def _intact(db: Database, settings: Settings, org_id: str) -> None:
    async with db.transaction(write=False) as session:
        assert (await verify(session, settings.signing_key, org_id)).broken == []


async def _rules(api: Api, punch_id: str) -> set[str]:
    return {a["rule"] for a in (await api.ok("get", f"/punches/{punch_id}"))["anomalies"]}


async def _team_with(org: OrgKit) -> tuple[str, Api, Api]:
    team = await org.team("East")
    manager = await org.person("manager", team_id=team, managed_team_ids=[team])
    staff = await org.person("staff", team_id=team)
    return team, manager, staff


async def test_teleport_is_flagged_with_evidence(org: OrgKit) -> None:
    _, manager, staff = await _team_with(org)
    await staff.ok(
        "post",
        "/punches",
        201,
        json=offline(*OFFICE, 20, kind="visit_in", customer_id=None, visit_id="v1"),
    )
    jump = await staff.ok(
        "post", "/punches", 201, json=offline(*BEIJING, 10, kind="visit_out", visit_id="v1")
    )
    assert jump["status"] == "flagged"
    queue = await manager.ok(
        "get", "/anomalies", params={"status": "open", "rule": "impossible_speed"}
    )
    assert [a["punch_id"] for a in queue["items"]] == [jump["id"]]
    item = queue["items"][0]
    assert item["severity"] == "critical" and item["evidence"]
    detail = await manager.ok("get", f"/anomalies/{item['id']}")
    assert detail["punch"]["id"] == jump["id"] and detail["previous_punch"] is not None
    assert detail["leg"]["distance_m"] > 1_000_000 and detail["leg"]["speed_kmh"] > 5000
    # Evidence positions follow `crs` like every other coordinate in an answer.
    ev = item["evidence"]
    for path in (f"/anomalies/{item['id']}", "/anomalies"):
        got = await manager.ok("get", path, params={"crs": "gcj02", "rule": "impossible_speed"})
        gcj = got["evidence"] if "evidence" in got else got["items"][0]["evidence"]
        for lat, lon in (("lat", "lon"), ("previous_lat", "previous_lon")):
            want_lon, want_lat = wgs84_to_gcj02(ev[lon], ev[lat])
            assert (gcj[lat], gcj[lon]) == (round(want_lat, 7), round(want_lon, 7))
        assert gcj["crs"] == "gcj02" and "crs" not in ev


async def test_late_clock_in_explains_an_earlier_clock_out(
    db: Database, settings: Settings, org: OrgKit
) -> None:
    staff = await org.person("staff")
    out = await staff.ok("post", "/punches", 201, json=offline(*OFFICE, 5, kind="clock_out"))
    assert "sequence" in await _rules(staff, out["id"])
    # The clock_in was captured earlier but reaches the server later (an offline queue).
    await staff.ok("post", "/punches", 201, json=offline(*OFFICE, 60, kind="clock_in"))
    assert "sequence" not in await _rules(staff, out["id"])
    gone = await org.admin.ok(
        "get", "/anomalies", params={"user_id": staff.user_id, "rule": "sequence"}
    )
    assert [a["status"] for a in gone["items"]] == ["superseded"]
    # Whoever closes review items on `anomaly.resolved` hears of the system's decision too.
    async with db.transaction(write=False) as session:
        resolved = (
            await session.execute(
                select(OutboxEvent.payload).where(
                    OutboxEvent.org_id == org.org_id, OutboxEvent.topic == "anomaly.resolved"
                )
            )
        ).scalars()
        assert [(e["data"]["id"], e["data"]["status"]) for e in resolved] == [
            (gone["items"][0]["id"], "superseded")
        ]
        created = list(
            (
                await session.execute(
                    select(OutboxEvent.payload).where(
                        OutboxEvent.org_id == org.org_id, OutboxEvent.topic == "anomaly.created"
                    )
                )
            ).scalars()
        )
        assert created  # the sequence finding of the early clock-out
        # Events carry the API's shape and time format, whichever path made them.
        for e in created:
            assert e["data"]["punch_time"].endswith("Z") and e["data"]["created_at"].endswith("Z")
    await _intact(db, settings, org.org_id)


async def test_a_finding_that_comes_back_reopens_its_row(
    db: Database, settings: Settings, org: OrgKit
) -> None:
    staff = await org.person("staff")
    out = await staff.ok("post", "/punches", 201, json=offline(*OFFICE, 5, kind="clock_out"))
    await staff.ok("post", "/punches", 201, json=offline(*OFFICE, 60, kind="clock_in"))
    assert "sequence" not in await _rules(staff, out["id"])
    # Another clock_out in between leaves the first one without its clock_in again.
    await staff.ok("post", "/punches", 201, json=offline(*OFFICE, 30, kind="clock_out"))
    assert "sequence" in await _rules(staff, out["id"])
    rows = await org.admin.ok(
        "get", "/anomalies", params={"user_id": staff.user_id, "rule": "sequence"}
    )
    mine = [a for a in rows["items"] if a["punch_id"] == out["id"]]
    assert [a["status"] for a in mine] == ["open"]  # the same row, reopened, not a second one
    await _intact(db, settings, org.org_id)


async def test_review_permissions_and_decisions(
    db: Database, settings: Settings, org: OrgKit
) -> None:
    _, manager, staff = await _team_with(org)
    other_team = await org.team("West")
    other_manager = await org.person("manager", team_id=other_team, managed_team_ids=[other_team])
    p = await staff.ok("post", "/punches", 201, json=offline(*OFFICE, 5, kind="clock_out"))
    (anomaly,) = (
        await manager.ok("get", "/anomalies", params={"status": "open", "user_id": staff.user_id})
    )["items"]
    decide = {"decision": "approve", "comment": "forgot to clock in, confirmed by phone"}
    # Staff may see their own anomaly but never decide it.
    assert (await staff.ok("get", f"/anomalies/{anomaly['id']}"))["id"] == anomaly["id"]
    assert (await staff.post(f"/anomalies/{anomaly['id']}/resolve", json=decide)).status_code == 403
    # Another team's manager does not even see it.
    assert (
        await other_manager.post(f"/anomalies/{anomaly['id']}/resolve", json=decide)
    ).status_code == 404
    assert (await other_manager.get(f"/anomalies/{anomaly['id']}")).status_code == 404
    done = await manager.ok("post", f"/anomalies/{anomaly['id']}/resolve", json=decide)
    assert (
        done["status"] == "approved" and done["resolved_by"] == manager.user_id and done["comment"]
    )
    assert (await staff.ok("get", f"/punches/{p['id']}"))["status"] == "approved"
    again = await manager.post(f"/anomalies/{anomaly['id']}/resolve", json=decide)
    assert again.status_code == 409
    trail = await org.admin.ok("get", "/audit-log", params={"subject_id": anomaly["id"]})
    assert [(e["action"], e["actor"]) for e in trail["items"]] == [
        ("anomaly.approved", manager.user_id)
    ]
    await _intact(db, settings, org.org_id)


async def test_managers_cannot_review_themselves_and_bulk_is_all_or_none(org: OrgKit) -> None:
    _, manager, staff = await _team_with(org)
    mine = await manager.ok("post", "/punches", 201, json=offline(*OFFICE, 5, kind="clock_out"))
    theirs = await staff.ok("post", "/punches", 201, json=offline(*OFFICE, 5, kind="clock_out"))
    open_ = await org.admin.ok("get", "/anomalies", params={"status": "open"})
    by_punch = {a["punch_id"]: a["id"] for a in open_["items"]}
    r = await manager.post(
        f"/anomalies/{by_punch[mine['id']]}/resolve", json={"decision": "approve"}
    )
    assert r.status_code == 403
    bulk = {
        "ids": [by_punch[theirs["id"]], by_punch[mine["id"]]],
        "decision": "reject",
        "comment": "no",
    }
    assert (await manager.post("/anomalies/resolve", json=bulk)).status_code == 403
    still = await org.admin.ok("get", "/anomalies", params={"status": "open"})
    assert len(still["items"]) == 2  # nothing half-done
    done = await org.admin.ok("post", "/anomalies/resolve", json=bulk)
    assert {a["status"] for a in done} == {"rejected"}
    assert (await staff.ok("get", f"/punches/{theirs['id']}"))["status"] == "rejected"


async def test_policy_layers_turn_rules_off(org: OrgKit) -> None:
    team, manager, staff = await _team_with(org)
    bad = await org.admin.put("/policy", json={"rules": {"teleport": {"enabled": False}}})
    assert bad.status_code == 422 and "teleport" in bad.json()["detail"]
    assert bad.json()["errors"][0]["loc"] == ["body", "rules", "teleport"]
    slow = await org.admin.put("/policy", json={"max_speed_kmh": -1})
    assert slow.status_code == 422 and slow.json()["errors"][0]["loc"] == ["body", "max_speed_kmh"]
    both = await org.admin.put("/policy", json={"max_speed_kmh": -1, "max_accuracy_m": "far"})
    assert both.status_code == 422  # every problem at once, each field named
    assert {tuple(e["loc"]) for e in both.json()["errors"]} == {
        ("body", "max_speed_kmh"),
        ("body", "max_accuracy_m"),
    }
    assert "max_speed_kmh" in both.json()["detail"] and "max_accuracy_m" in both.json()["detail"]
    assert (await manager.put("/policy", json={})).status_code == 403
    await org.admin.ok(
        "put", f"/policy/teams/{team}", json={"rules": {"sequence": {"enabled": False}}}
    )
    eff = await manager.ok("get", f"/policy/users/{staff.user_id}")
    assert eff["effective"]["rules"]["sequence"]["enabled"] is False
    # Team policies are read like teams: one's own, the managed ones, or all for admins.
    elsewhere = await org.team("West")
    assert (await staff.get(f"/policy/teams/{team}")).status_code == 200
    for who in (staff, manager):
        assert (await who.get(f"/policy/teams/{elsewhere}")).status_code == 404
    assert (await org.admin.get(f"/policy/teams/{elsewhere}")).status_code == 200
    p = await staff.ok("post", "/punches", 201, json=offline(*OFFICE, 60, kind="clock_out"))
    assert "sequence" not in await _rules(staff, p["id"])
    # The person's own override wins over the team's.
    await org.admin.ok(
        "put", f"/policy/users/{staff.user_id}", json={"rules": {"sequence": {"enabled": True}}}
    )
    p = await staff.ok("post", "/punches", 201, json=offline(*OFFICE, 1, kind="clock_out"))
    assert "sequence" in await _rules(staff, p["id"])
    trail = await org.admin.ok("get", "/audit-log", params={"subject_type": "policy.team"})
    assert trail["items"][0]["detail"]["after"] == {"rules": {"sequence": {"enabled": False}}}
    # Removing an override that does not exist changes nothing and audits nothing.
    await org.admin.ok("put", "/policy", json={})
    none = await org.admin.ok("get", "/audit-log", params={"subject_type": "policy.org"})
    assert none["items"] == []


async def test_every_rule_off_means_no_detector_findings_but_trust_checks_stay(
    org: OrgKit,
) -> None:
    staff = await org.person("staff")
    rules = (await org.admin.ok("get", "/policy"))["effective"]["rules"]
    off = {"rules": {name: {"enabled": False} for name in rules}}
    await org.admin.ok("put", "/policy", json=off)
    # Beijing, a mocked fix, clock_out without clock_in: three rules would fire.
    odd = offline(*BEIJING, 30, kind="clock_out")
    odd["location"]["mock"] = True
    p = await staff.ok("post", "/punches", 201, json=odd)
    assert await _rules(staff, p["id"]) == set() and p["status"] == "accepted"
    # A signature without a device is the pipeline's trust check, not a detector: it stays.
    forged = await staff.ok("post", "/punches", 201, json=punch(signature="A" * 86))
    assert await _rules(staff, forged["id"]) == {"unknown_device"}
    await org.admin.ok("put", "/policy", json={})
    again = await staff.ok("post", "/punches", 201, json=offline(*BEIJING, 20, kind="clock_out"))
    assert "sequence" in await _rules(staff, again["id"])


async def test_the_memory_stays_current_while_detection_is_off(org: OrgKit, db: Database) -> None:
    """Switching every rule off and on again needs no window: the steps went on meanwhile."""
    staff = await org.person("staff")
    # From yesterday noon in the org's zone: one local day, whatever the hour of the run.
    tz = ZoneInfo((await org.admin.ok("get", "/org"))["timezone"])
    noon = datetime.combine(datetime.now(tz).date() - timedelta(days=1), time(12), tz)
    since = (datetime.now(UTC) - noon).total_seconds() / 60
    await staff.ok("post", "/punches", 201, json=offline(*OFFICE, since, kind="clock_in"))
    rules = (await org.admin.ok("get", "/policy"))["effective"]["rules"]
    await org.admin.ok("put", "/policy", json={"rules": {n: {"enabled": False} for n in rules}})
    await staff.ok("post", "/punches", 201, json=offline(*OFFICE, since - 10, kind="clock_out"))
    seq, kept = await _memory(db, org.org_id, staff.user_id or "")
    assert kept is not None and kept["seq"] == seq and kept["kinds"]["clock_out"][0]
    await org.admin.ok("put", "/policy", json={})
    # The clock-out while detection was off counts: a second one is "clocked out again".
    again = await staff.ok(
        "post", "/punches", 201, json=offline(*OFFICE, since - 55, kind="clock_out")
    )
    found = (await staff.ok("get", f"/punches/{again['id']}"))["anomalies"]
    assert [a["evidence"]["reason"] for a in found if a["rule"] == "sequence"] == [
        "clock_out_twice"
    ]


async def test_a_rule_named_like_a_trust_check_never_loses_the_punch(org: OrgKit) -> None:
    # A signature without device_id is the trust check `unknown_device`; with the rule
    # `unknown_device` on as well, two findings of one rule once broke the anomalies' unique
    # key: 409 on every retry, the punch never stored (found while documenting the API).
    staff = await org.person("staff")
    await org.admin.ok("put", "/policy", json={"rules": {"unknown_device": {"enabled": True}}})
    body = punch(signature="A" * 86)
    first = await staff.ok("post", "/punches", 201, json=body)
    assert [a["rule"] for a in first["anomalies"]] == ["unknown_device"]
    assert first["anomalies"][0]["severity"] == "critical"  # the trust check's, the stricter
    assert (await staff.ok("post", "/punches", 200, json=body))["id"] == first["id"]
    # A later punch re-assesses the window without churning the first one's anomalies.
    await staff.ok("post", "/punches", 201, json=punch(kind="clock_out"))
    again = await staff.ok("get", f"/punches/{first['id']}")
    assert again["anomalies"] == first["anomalies"] and again["ledger"] == first["ledger"]


# One person's afternoon (minutes ago, where, kind): a visit that teleports to Beijing and back,
# a double tap on clock-out, a clock-out with no clock-in after it.
_AFTERNOON = [
    (300, OFFICE, "clock_in"),
    (250, OFFICE, "visit_in"),
    (240, BEIJING, "visit_out"),
    (200, OFFICE, "visit_in"),
    (190, OFFICE, "visit_out"),
    (100, OFFICE, "clock_out"),
    (98, OFFICE, "clock_out"),
    (40, OFFICE, "clock_out"),
]


async def _afternoon(staff: Api, order: list[int]) -> list[set[str]]:
    ids: dict[int, str] = {}
    for i in order:
        minutes, (lat, lon), kind = _AFTERNOON[i]
        extra = {"visit_id": f"v{i // 2}"} if kind.startswith("visit") else {}
        body = await staff.ok(
            "post", "/punches", 201, json=offline(lat, lon, minutes, kind=kind, **extra)
        )
        ids[i] = body["id"]
    return [await _rules(staff, ids[i]) for i in range(len(_AFTERNOON))]


async def _memory(db: Database, org_id: str, user_id: str) -> tuple[int, dict | None]:
    async with db.transaction(write=False) as session:
        head = await session.get(LedgerHead, (org_id, user_id))
        assert head is not None
        return head.seq, head.detector_memory


async def test_in_order_and_shuffled_arrival_give_the_same_findings(
    org: OrgKit, db: Database, settings: Settings
) -> None:
    """In order, each punch is judged from the memory on the chain head; shuffled, late ones
    re-fold the window. Both give the same findings, and the memory ends up current either way."""
    _, manager, first = await _team_with(org)
    second = await org.person("staff")
    in_order = await _afternoon(first, list(range(len(_AFTERNOON))))
    assert "impossible_speed" in in_order[2] and "duplicate" in in_order[6]
    assert "sequence" in in_order[7]
    seq, kept = await _memory(db, org.org_id, first.user_id or "")
    assert kept is not None and kept["seq"] == seq  # every in-order punch left a usable memory

    shuffled = [5, 0, 7, 2, 1, 6, 4, 3]
    assert await _afternoon(second, shuffled) == in_order
    seq, kept = await _memory(db, org.org_id, second.user_id or "")
    assert kept is not None and kept["seq"] == seq  # a late arrival still wrote a fresh one

    # A review decision moves the chain on: the memory is stale, and the next punch re-folds.
    queue = await manager.ok(
        "get", "/anomalies", params={"user_id": first.user_id, "rule": "duplicate"}
    )
    await manager.ok(
        "post",
        f"/anomalies/{queue['items'][0]['id']}/resolve",
        json={"decision": "approve", "comment": "double tap"},
    )
    seq, kept = await _memory(db, org.org_id, first.user_id or "")
    assert kept is not None and kept["seq"] != seq
    again = await first.ok("post", "/punches", 201, json=offline(*OFFICE, 39, kind="clock_out"))
    assert "duplicate" in await _rules(first, again["id"])  # judged against the 40-minute one
    seq, kept = await _memory(db, org.org_id, first.user_id or "")
    assert kept is not None and kept["seq"] == seq
    await _intact(db, settings, org.org_id)
