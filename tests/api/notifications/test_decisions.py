"""The person hears of every decision about them (corrections, anomalies) once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fieldpunch.config import Settings
from fieldpunch.db.engine import Database
from fieldpunch.jobs.runner import Runner
from fieldpunch.notify.decisions import notify_decision
from tests.api.notifications.harness import (
    job_context,
    make_tree,
    mock_punch,
    read_inbox,
)
from tests.factories import OrgKit
from tests.punching import OFFICE

# decisions ---------------------------------------------------------------------------------------


async def test_the_person_hears_of_every_decision_about_them_once(
    org: OrgKit, db: Database, settings: Settings, jobs: Runner
) -> None:
    t = await make_tree(org)
    place = await org.admin.ok(
        "post",
        "/places",
        201,
        json={"name": "HQ", "location": {"lat": OFFICE[0], "lon": OFFICE[1]}, "radius_m": 100},
    )
    at = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    asked = await t.staff.ok(
        "post",
        "/corrections",
        201,
        json={"kind": "clock_in", "at": at, "reason": "battery died", "place_id": place["id"]},
    )
    await t.m1.ok("post", f"/corrections/{asked['id']}/approve", json={"comment": "ok, noted"})
    flagged = await t.staff.ok("post", "/punches", 201, json=mock_punch(kind="clock_out"))
    (anomaly,) = (await t.m1.ok("get", "/anomalies", params={"rule": "mock_location"}))["items"]
    await t.m1.ok(
        "post", f"/anomalies/{anomaly['id']}/resolve", json={"decision": "reject", "comment": "no"}
    )
    await jobs.drain()
    mine = {n["kind"]: n for n in (await read_inbox(t.staff))["items"]}
    assert set(mine) == {"correction.decided", "anomaly.decided"}
    told = mine["correction.decided"]
    assert told["data"]["correction_id"] == asked["id"] and told["data"]["status"] == "approved"
    assert "approved" in told["title"] and "ok, noted" in told["body"]
    told = mine["anomaly.decided"]
    assert told["data"]["punch_id"] == flagged["id"] and told["data"]["status"] == "rejected"
    # A retried job (a worker killed after delivering) tells nobody twice.
    for kind_id in (("correction", asked["id"]), ("anomaly", anomaly["id"])):
        payload = {"subject": kind_id[0], "id": kind_id[1]}
        await notify_decision(job_context(db, settings, jobs, "notify.decision", payload))
    assert (await read_inbox(t.staff))["unread_count"] == 2
    # The deciding manager is not notified of their own decisions.
    assert not [n for n in (await read_inbox(t.m1))["items"] if n["kind"].endswith(".decided")]
