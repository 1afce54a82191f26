"""Violation alerts: the nearest managers hear of a critical live anomaly once, escalation up
the team tree to the admins, and nothing for reviewed anomalies or old, offline or imported punches.
"""

from __future__ import annotations

import base64
import hmac
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from fieldpunch.alerts.levels import escalation_levels
from fieldpunch.alerts.service import alert_anomaly
from fieldpunch.config import Settings
from fieldpunch.db.engine import Database
from fieldpunch.jobs.models import OutboxEvent
from fieldpunch.jobs.runner import Runner
from tests.api.notifications.harness import (
    BASE_URL,
    DINGTALK_SECRET,
    FEISHU_SECRET,
    Clock,
    add_robots,
    email_of,
    job_context,
    make_tree,
    mock_punch,
    org_jobs,
    read_inbox,
)
from tests.factories import OrgKit
from tests.receivers import (
    VENDOR_PATHS,
    HookSink,
    MailSink,
)

# violation alerts --------------------------------------------------------------------------------


async def test_critical_live_anomaly_alerts_the_nearest_managers_once(
    org: OrgKit,
    db: Database,
    settings: Settings,
    jobs: Runner,
    mail: MailSink,
    hooks: HookSink,
) -> None:
    t = await make_tree(org)
    robot_ids = await add_robots(org, hooks, ["anomaly.critical"])
    made = await t.staff.ok("post", "/punches", 201, json=mock_punch())
    assert made["status"] == "flagged"
    (anomaly,) = (await t.m1.ok("get", "/anomalies", params={"rule": "mock_location"}))["items"]
    await jobs.drain()

    # The nearest managers only (East's), not the person, not Region's yet, not the admins.
    inbox = await read_inbox(t.m1)
    assert inbox["unread_count"] == 1
    (n,) = inbox["items"]
    assert n["kind"] == "anomaly.critical" and n["read_at"] is None
    assert n["data"]["anomaly_id"] == anomaly["id"] and n["data"]["punch_id"] == made["id"]
    assert n["data"]["url"] == f"{BASE_URL}/console/anomalies/{anomaly['id']}"
    assert "mock location" in n["title"] and "simulated" in n["body"]
    for other in (t.m2, t.staff, org.admin):
        assert (await read_inbox(other))["items"] == []

    # The live feed gets it as an event addressed to the recipient.
    async with db.transaction(write=False) as session:
        events = [
            e
            for e in (
                await session.execute(
                    select(OutboxEvent).where(
                        OutboxEvent.org_id == org.org_id,
                        OutboxEvent.topic == "notification.created",
                    )
                )
            ).scalars()
        ]
    assert [(e.subject_user_id, e.payload["data"]["id"]) for e in events] == [
        (t.m1.user_id, n["id"])
    ]

    # Email, with a Message-ID made from the notification id.
    m1_email = await email_of(org, t.m1)
    (sent,) = [m for m in mail.mails if m1_email in m.envelope_to]
    assert sent.message_id == f"<{n['id']}@punch.example.com>"
    assert sent.message["Subject"] == n["title"] and sent.message["Auto-Submitted"]
    assert n["data"]["url"] in sent.message.get_content()

    # Each robot once, in its vendor's format.
    _check_robot_messages(hooks, n["title"], n["body"], n["data"]["url"])
    listed = {r["id"]: r for r in await org.admin.ok("get", "/robots")}
    assert all(
        listed[i]["last_sent_at"] and not listed[i]["last_error"] for i in robot_ids.values()
    )

    # Running the alert again (a worker killed before marking it done) sends nothing twice.
    await alert_anomaly(
        job_context(db, settings, jobs, "alert.anomaly", {"anomaly_id": anomaly["id"]})
    )
    await jobs.drain()
    assert len((await read_inbox(t.m1))["items"]) == 1
    assert len([m for m in mail.mails if m1_email in m.envelope_to]) == 1
    assert len(hooks.hooks) == 4


def _check_robot_messages(hooks: HookSink, title: str, body: str, url: str) -> None:
    (wecom,) = hooks.at(VENDOR_PATHS["wecom"])
    assert wecom.query == {"key": ["wk-123"]}
    assert wecom.json == {
        "msgtype": "markdown",
        "markdown": {"content": f"**{title}**\n{body}\n[Open]({url})"},
    }
    (ding,) = hooks.at(VENDOR_PATHS["dingtalk"])
    assert ding.json == {
        "msgtype": "markdown",
        "markdown": {"title": title[:60], "text": f"#### {title}\n\n{body}\n\n[Open]({url})"},
    }
    ts = ding.query["timestamp"][0]
    expected = base64.b64encode(
        hmac.new(DINGTALK_SECRET.encode(), f"{ts}\n{DINGTALK_SECRET}".encode(), "sha256").digest()
    ).decode()
    assert ding.query["access_token"] == ["dt-456"] and ding.query["sign"] == [expected]
    assert abs(int(ts) / 1000 - time.time()) < 600
    (feishu,) = hooks.at(VENDOR_PATHS["feishu"])
    fs = feishu.json
    assert {k: v for k, v in fs.items() if k not in ("timestamp", "sign")} == {
        "msg_type": "text",
        "content": {"text": f"{title}\n{body}\n{url}"},
    }
    key = f"{fs['timestamp']}\n{FEISHU_SECRET}".encode()
    assert fs["sign"] == base64.b64encode(hmac.new(key, b"", "sha256").digest()).decode()
    (slack,) = hooks.at(VENDOR_PATHS["slack"])
    assert slack.json == {"text": f"*{title}*\n{body}\n<{url}|Open>"}
    for h in (wecom, ding, feishu, slack):
        assert h.headers["content-type"] == "application/json; charset=utf-8"
        assert h.headers["x-fieldpunch-delivery"].startswith("job_")


async def test_unreviewed_anomaly_escalates_up_the_tree_then_to_admins(
    org: OrgKit, jobs: Runner, clock: Clock, hooks: HookSink
) -> None:
    t = await make_tree(org)
    await add_robots(org, hooks, ["anomaly.escalated"])  # the group hears of escalations only
    conf = await org.admin.ok("put", "/alerts/settings", json={"escalate_after_min": 30})
    assert conf == {"enabled": True, "escalate_after_min": 30, "live_window_min": 15}
    assert (await t.m1.put("/alerts/settings", json={})).status_code == 403
    await t.staff.ok("post", "/punches", 201, json=mock_punch())
    await jobs.drain()
    assert len((await read_inbox(t.m1))["items"]) == 1 and hooks.hooks == []

    clock.advance(minutes=29)
    await jobs.drain()
    assert (await read_inbox(t.m2))["items"] == []
    clock.advance(minutes=2)
    await jobs.drain()
    (up,) = (await read_inbox(t.m2))["items"]
    assert up["kind"] == "anomaly.escalated" and up["data"]["level"] == 2
    assert "Unreviewed for 30 min" in up["title"]
    assert len(hooks.hooks) == 4  # each robot once for this escalation
    assert (await read_inbox(org.admin))["items"] == []

    clock.advance(minutes=30)
    await jobs.drain()
    (top,) = (await read_inbox(org.admin))["items"]
    assert top["data"]["level"] == 3 and "Unreviewed for 60 min" in top["title"]
    clock.advance(hours=5)
    await jobs.drain()
    # Nobody was asked twice; nothing above the admins.
    for api, count in ((t.m1, 1), (t.m2, 1), (org.admin, 1), (t.staff, 0)):
        assert len((await read_inbox(api))["items"]) == count


async def test_a_reviewed_anomaly_does_not_escalate(
    org: OrgKit, db: Database, jobs: Runner, clock: Clock
) -> None:
    t = await make_tree(org)
    await t.staff.ok("post", "/punches", 201, json=mock_punch())
    await jobs.drain()
    (a,) = (await t.m1.ok("get", "/anomalies", params={"status": "open"}))["items"]
    await t.m1.ok("post", f"/anomalies/{a['id']}/resolve", json={"decision": "reject"})
    clock.advance(hours=3)
    await jobs.drain()
    assert (await read_inbox(t.m2))["items"] == [] and (await read_inbox(org.admin))["items"] == []
    (escalate,) = await org_jobs(db, org.org_id, "alert.escalate")
    assert escalate.status == "done"  # ran, found it reviewed, sent nothing


async def test_old_offline_or_imported_punches_never_alert(
    org: OrgKit, db: Database, jobs: Runner
) -> None:
    t = await make_tree(org)
    captured = datetime.now(UTC) - timedelta(hours=3)
    # An offline backlog: captured hours ago, sent now.
    await t.staff.ok("post", "/punches", 201, json=mock_punch(captured_at=captured, offline=True))
    # Offline but recent (minutes): still a backlog, so still no alert.
    recent = datetime.now(UTC) - timedelta(minutes=2)
    await t.staff.ok("post", "/punches", 201, json=mock_punch(captured_at=recent, offline=True))
    anomalies = (await t.m1.ok("get", "/anomalies", params={"rule": "mock_location"}))["items"]
    assert len(anomalies) == 2 and {a["severity"] for a in anomalies} == {"critical"}
    await jobs.drain()
    assert (await read_inbox(t.m1))["items"] == []
    alert_jobs = await org_jobs(db, org.org_id, "alert.anomaly")
    # The three-hour-old one is not even enqueued; the recent offline one is, and dropped.
    assert len(alert_jobs) == 1 and alert_jobs[0].status == "done"


def test_escalation_levels() -> None:
    parents = {"east": "region", "region": "hq", "hq": None, "west": "region"}
    managers = {"east": {"m1", "m1b"}, "region": {"m2", "m1"}, "hq": {"boss"}}
    admins = {"admin", "boss"}
    assert escalation_levels("s", "east", parents, managers, admins) == [
        frozenset({"m1", "m1b"}),
        frozenset({"m2"}),
        frozenset({"boss"}),
        frozenset({"admin"}),
    ]
    # Nobody manages West itself: Region's managers are the first level.
    assert escalation_levels("s", "west", parents, managers, admins)[0] == {"m1", "m2"}
    # A manager's own anomaly goes to the others, never to them.
    assert escalation_levels("m1", "east", parents, managers, admins)[0] == {"m1b"}
    # No team: the admins. A cycle in corrupt data ends.
    assert escalation_levels("s", None, parents, managers, admins) == [frozenset(admins)]
    assert escalation_levels("s", "a", {"a": "b", "b": "a"}, {"b": {"x"}}, set()) == [{"x"}]
