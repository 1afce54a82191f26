"""Notifications end to end on both databases: violation alerts and escalation, the inbox,
preferences and quiet hours, and the channels against real local receivers (aiosmtpd for email,
an HTTP server for the robots and for a push service). Jobs run by a runner the test drives
(`drain`), with a clock it moves: no sleeps.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.alerts.levels import escalation_levels
from fieldpunch.alerts.service import alert_anomaly
from fieldpunch.config import Settings, load_settings
from fieldpunch.db.engine import Database
from fieldpunch.jobs.models import Job, OutboxEvent
from fieldpunch.jobs.outbox import add_events, event_row
from fieldpunch.jobs.periodic import prune_outbox
from fieldpunch.jobs.queue import enqueue
from fieldpunch.jobs.runner import Claimed, JobContext, Runner
from fieldpunch.jobs.worker import build_runner
from fieldpunch.notify import robots, webpush
from fieldpunch.notify.channels import send_email
from fieldpunch.notify.decisions import notify_decision
from fieldpunch.notify.deliver import Message, deliver
from fieldpunch.notify.quiet import QuietHours, release_at
from fieldpunch.notify.reminders import (
    OrgWindows,
    PlannedVisit,
    PunchMark,
    ShiftWindow,
    due_reminders,
)
from tests.conftest import TEST_SECRET
from tests.factories import Api, OrgKit
from tests.punching import OFFICE, punch
from tests.receivers import (
    VENDOR_PATHS,
    VENDOR_QUERY,
    HookSink,
    MailSink,
    hook_sink,
    mail_sink,
    vendor_answer,
)

BASE_URL = "https://punch.example.com"
SHANGHAI = ZoneInfo("Asia/Shanghai")
DINGTALK_SECRET = "SEC-dingtalk-0123456789"
FEISHU_SECRET = "feishu-secret-abcdef"


@dataclass
class Clock:
    """Real time plus an offset the test moves (jobs enqueued by requests use real time)."""

    offset: timedelta = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **kw: float) -> None:
        self.offset += timedelta(**kw)


@pytest.fixture
def mail() -> Iterator[MailSink]:
    with mail_sink() as sink:
        yield sink


@pytest.fixture
def hooks() -> Iterator[HookSink]:
    with hook_sink(_answer) as sink:
        yield sink


PUSH_ANSWERS: dict[str, int] = {}


def _answer(path: str) -> tuple[int, bytes, dict[str, str]]:
    if path.startswith("/push/"):
        return PUSH_ANSWERS.get(path, 201), b"", {}
    if path == "/cgi-bin/webhook/bad":
        return 200, b'{"errcode":93000,"errmsg":"invalid webhook url"}', {}
    if path == "/cgi-bin/webhook/busy":
        return 200, b'{"errcode":45009,"errmsg":"api freq out of limit"}', {}
    return vendor_answer(path)


@pytest.fixture
def settings(db_url: str, tmp_path: Path, mail: MailSink) -> Settings:
    """Jobs run only when the test drains them; SMTP and hooks go to the local receivers."""
    return load_settings(
        database_url=db_url,
        data_dir=tmp_path,
        secret_key=TEST_SECRET,
        access_log=False,
        jobs_in_process=False,
        smtp_host="127.0.0.1",
        smtp_port=mail.port,
        smtp_tls="none",
        smtp_from="alerts@punch.example.com",
        base_url=BASE_URL,
        outbound_allow_hosts="127.0.0.1",
        vapid_private_key=webpush.new_private_key(),
        vapid_subject="mailto:ops@punch.example.com",
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def jobs(db: Database, settings: Settings, clock: Clock) -> AsyncIterator[Runner]:
    runner = build_runner(db, settings, clock=clock)
    yield runner
    await runner.http.aclose()


@dataclass
class Tree:
    """Region (managed by m2) ⊃ East (managed by m1) ∋ staff; plus the org admin."""

    region: str
    east: str
    m1: Api
    m2: Api
    staff: Api


async def _tree(org: OrgKit) -> Tree:
    region = await org.team("Region")
    east = await org.team("East", parent_id=region)
    m2 = await org.person("manager", team_id=region, managed_team_ids=[region])
    m1 = await org.person("manager", team_id=east, managed_team_ids=[east])
    staff = await org.person("staff", team_id=east)
    return Tree(region, east, m1, m2, staff)


def _mock_punch(**extra: Any) -> dict[str, Any]:
    body = punch(*OFFICE, **extra)
    body["location"]["mock"] = True  # the OS says the position is simulated: critical
    return body


async def _inbox(api: Api, **params: Any) -> dict[str, Any]:
    return await api.ok("get", "/notifications", params=params)  # type: ignore[no-any-return]


async def _email(org: OrgKit, api: Api) -> str:
    return str((await org.admin.ok("get", f"/users/{api.user_id}"))["email"])


async def _org_jobs(db: Database, org_id: str, kind: str | None = None) -> list[Job]:
    async with db.transaction(write=False) as session:
        stmt = select(Job).where(Job.org_id == org_id).order_by(Job.id)
        if kind:
            stmt = stmt.where(Job.kind == kind)
        return list((await session.execute(stmt)).scalars())


async def _robots(org: OrgKit, hooks: HookSink, kinds: Sequence[str]) -> dict[str, str]:
    made = {}
    for provider in robots.PROVIDERS:
        body: dict[str, Any] = {
            "name": f"{provider} group",
            "provider": provider,
            "url": hooks.base + VENDOR_PATHS[provider] + VENDOR_QUERY[provider],
            "kinds": list(kinds),
        }
        if provider == "dingtalk":
            body["secret"] = DINGTALK_SECRET
        if provider == "feishu":
            body["secret"] = FEISHU_SECRET
        made[provider] = (await org.admin.ok("post", "/robots", 201, json=body))["id"]
    return made


def _ctx(db: Database, settings: Settings, runner: Runner, kind: str, payload: dict) -> JobContext:
    job = Claimed(f"job_rerun_{secrets.token_hex(4)}", kind, payload, None, 1, 5, None)
    return JobContext(db, settings, runner.http, job, runner.clock)


# violation alerts --------------------------------------------------------------------------------


async def test_critical_live_anomaly_alerts_the_nearest_managers_once(
    org: OrgKit,
    db: Database,
    settings: Settings,
    jobs: Runner,
    mail: MailSink,
    hooks: HookSink,
) -> None:
    t = await _tree(org)
    robot_ids = await _robots(org, hooks, ["anomaly.critical"])
    made = await t.staff.ok("post", "/punches", 201, json=_mock_punch())
    assert made["status"] == "flagged"
    (anomaly,) = (await t.m1.ok("get", "/anomalies", params={"rule": "mock_location"}))["items"]
    await jobs.drain()

    # The nearest managers only (East's), not the person, not Region's yet, not the admins.
    inbox = await _inbox(t.m1)
    assert inbox["unread_count"] == 1
    (n,) = inbox["items"]
    assert n["kind"] == "anomaly.critical" and n["read_at"] is None
    assert n["data"]["anomaly_id"] == anomaly["id"] and n["data"]["punch_id"] == made["id"]
    assert n["data"]["url"] == f"{BASE_URL}/console/anomalies/{anomaly['id']}"
    assert "mock location" in n["title"] and "simulated" in n["body"]
    for other in (t.m2, t.staff, org.admin):
        assert (await _inbox(other))["items"] == []

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
    m1_email = await _email(org, t.m1)
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
    await alert_anomaly(_ctx(db, settings, jobs, "alert.anomaly", {"anomaly_id": anomaly["id"]}))
    await jobs.drain()
    assert len((await _inbox(t.m1))["items"]) == 1
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
    t = await _tree(org)
    await _robots(org, hooks, ["anomaly.escalated"])  # the group hears of escalations only
    conf = await org.admin.ok("put", "/alerts/settings", json={"escalate_after_min": 30})
    assert conf == {"enabled": True, "escalate_after_min": 30, "live_window_min": 15}
    assert (await t.m1.put("/alerts/settings", json={})).status_code == 403
    await t.staff.ok("post", "/punches", 201, json=_mock_punch())
    await jobs.drain()
    assert len((await _inbox(t.m1))["items"]) == 1 and hooks.hooks == []

    clock.advance(minutes=29)
    await jobs.drain()
    assert (await _inbox(t.m2))["items"] == []
    clock.advance(minutes=2)
    await jobs.drain()
    (up,) = (await _inbox(t.m2))["items"]
    assert up["kind"] == "anomaly.escalated" and up["data"]["level"] == 2
    assert "Unreviewed for 30 min" in up["title"]
    assert len(hooks.hooks) == 4  # each robot once for this escalation
    assert (await _inbox(org.admin))["items"] == []

    clock.advance(minutes=30)
    await jobs.drain()
    (top,) = (await _inbox(org.admin))["items"]
    assert top["data"]["level"] == 3 and "Unreviewed for 60 min" in top["title"]
    clock.advance(hours=5)
    await jobs.drain()
    # Nobody was asked twice; nothing above the admins.
    for api, count in ((t.m1, 1), (t.m2, 1), (org.admin, 1), (t.staff, 0)):
        assert len((await _inbox(api))["items"]) == count


async def test_a_reviewed_anomaly_does_not_escalate(
    org: OrgKit, db: Database, jobs: Runner, clock: Clock
) -> None:
    t = await _tree(org)
    await t.staff.ok("post", "/punches", 201, json=_mock_punch())
    await jobs.drain()
    (a,) = (await t.m1.ok("get", "/anomalies", params={"status": "open"}))["items"]
    await t.m1.ok("post", f"/anomalies/{a['id']}/resolve", json={"decision": "reject"})
    clock.advance(hours=3)
    await jobs.drain()
    assert (await _inbox(t.m2))["items"] == [] and (await _inbox(org.admin))["items"] == []
    (escalate,) = await _org_jobs(db, org.org_id, "alert.escalate")
    assert escalate.status == "done"  # ran, found it reviewed, sent nothing


async def test_old_offline_or_imported_punches_never_alert(
    org: OrgKit, db: Database, jobs: Runner
) -> None:
    t = await _tree(org)
    captured = datetime.now(UTC) - timedelta(hours=3)
    # An offline backlog: captured hours ago, sent now.
    await t.staff.ok("post", "/punches", 201, json=_mock_punch(captured_at=captured, offline=True))
    # Offline but recent (minutes): still a backlog, so still no alert.
    recent = datetime.now(UTC) - timedelta(minutes=2)
    await t.staff.ok("post", "/punches", 201, json=_mock_punch(captured_at=recent, offline=True))
    anomalies = (await t.m1.ok("get", "/anomalies", params={"rule": "mock_location"}))["items"]
    assert len(anomalies) == 2 and {a["severity"] for a in anomalies} == {"critical"}
    await jobs.drain()
    assert (await _inbox(t.m1))["items"] == []
    alert_jobs = await _org_jobs(db, org.org_id, "alert.anomaly")
    # The three-hour-old one is not even enqueued; the recent offline one is, and dropped.
    assert len(alert_jobs) == 1 and alert_jobs[0].status == "done"


# the inbox ---------------------------------------------------------------------------------------


async def test_inbox_read_state_and_privacy(
    org: OrgKit, client: Any, db: Database, jobs: Runner
) -> None:
    me = await org.person("staff")
    other = await org.person("staff")
    made = [await me.ok("post", "/me/notifications/test", 201) for _ in range(3)]
    assert made[0]["kind"] == "test" and made[0]["read_at"] is None
    inbox = await _inbox(me)
    assert [n["id"] for n in inbox["items"]] == [m["id"] for m in reversed(made)]  # newest first
    assert inbox["unread_count"] == 3
    page = await _inbox(me, limit=2)
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = await _inbox(me, limit=2, cursor=page["next_cursor"])
    assert [n["id"] for n in rest["items"]] == [made[0]["id"]] and rest["next_cursor"] is None

    read = await me.ok("post", f"/notifications/{made[1]['id']}/read")
    assert read["read_at"] is not None
    again = await me.ok("post", f"/notifications/{made[1]['id']}/read")
    assert again["read_at"] == read["read_at"]
    unread = await _inbox(me, unread="true")
    assert {n["id"] for n in unread["items"]} == {made[0]["id"], made[2]["id"]}
    # Someone else's notification does not exist for me.
    r = await other.post(f"/notifications/{made[0]['id']}/read")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert (await _inbox(other))["items"] == []
    assert (await me.ok("post", "/notifications/read-all")) == {"marked": 2}
    assert (await me.ok("post", "/notifications/read-all")) == {"marked": 0}
    assert (await _inbox(me))["unread_count"] == 0
    async with db.transaction(write=False) as session:
        topics = [
            e.topic
            for e in (
                await session.execute(
                    select(OutboxEvent)
                    .where(OutboxEvent.subject_user_id == me.user_id)
                    .order_by(OutboxEvent.id)
                )
            ).scalars()
        ]
    assert topics == ["notification.created"] * 3 + ["notification.read"] * 2
    # Integrations have no inbox.
    key = await org.admin.ok(
        "post", "/api-keys", 201, json={"name": "ERP", "scopes": ["users:read"]}
    )
    r = await Api(client, key["key"]).get("/notifications")
    assert r.status_code == 403
    r = await org.admin.post("/api-keys", json={"name": "x", "scopes": ["notifications:read"]})
    assert r.status_code == 422


async def test_preferences_channels_and_quiet_hours(
    org: OrgKit, db: Database, jobs: Runner, mail: MailSink
) -> None:
    t = await _tree(org)
    prefs = await t.m1.ok("get", "/me/notification-preferences")
    assert prefs["channels"]["anomaly.critical"] == ["email", "push"]
    assert prefs["quiet_hours"] is None and prefs["available_channels"] == ["email", "push"]
    assert {k["kind"] for k in prefs["kinds"]} >= {"anomaly.critical", "reminder.shift"}
    for bad in (
        {"channels": {"nope": ["email"]}},
        {"channels": {"anomaly.critical": ["sms"]}},
        {"channels": {"anomaly.critical": ["email", "email"]}},
        {"quiet_hours": {"start": "25:00", "end": "07:00"}},
        {"quiet_hours": {"start": "22:00", "end": "22:00"}},
        {"colour": "blue"},
    ):
        r = await t.m1.put("/me/notification-preferences", json=bad)
        assert r.status_code == 422, (bad, r.text)
    # m1: no email for critical alerts. m2 (escalations later): quiet all day but one minute.
    await t.m1.ok(
        "put", "/me/notification-preferences", json={"channels": {"anomaly.critical": []}}
    )
    local = datetime.now(SHANGHAI)
    end = (local + timedelta(minutes=90)).strftime("%H:%M")
    start = (local - timedelta(minutes=90)).strftime("%H:%M")
    quiet = {"quiet_hours": {"start": start, "end": end}}
    out = await t.m2.ok("put", "/me/notification-preferences", json=quiet)
    assert out["quiet_hours"] == {"start": start, "end": end}
    assert out["channels"]["anomaly.critical"] == ["email", "push"]  # left out: defaults

    await t.staff.ok("post", "/punches", 201, json=_mock_punch())
    await jobs.drain()
    assert len((await _inbox(t.m1))["items"]) == 1  # the inbox always
    assert await _org_jobs(db, org.org_id, "notify.email") == []

    # A test notification to m2 during quiet hours: inbox now, email when they end.
    n = await t.m2.ok("post", "/me/notifications/test", 201)
    (email_job,) = await _org_jobs(db, org.org_id, "notify.email")
    assert email_job.payload == {"notification_id": n["id"]} and email_job.status == "queued"
    # The test kind ignores quiet hours (it exists to check the channel).
    assert abs((email_job.run_at - datetime.now(UTC)).total_seconds()) < 60

    # An alert-kind notification during quiet hours waits until they end.
    async with db.transaction() as session:
        (nid,) = await deliver(
            session,
            jobs.settings,
            org_id=org.org_id,
            message=Message("anomaly.escalated", "x", "y"),
            recipients=[str(t.m2.user_id)],
            key="quiet-check",
            now=datetime.now(UTC),
        )
    (waiting,) = [
        j
        for j in await _org_jobs(db, org.org_id, "notify.email")
        if j.payload["notification_id"] == nid
    ]
    wanted = datetime.combine(
        (local + timedelta(minutes=90)).date(),
        (local + timedelta(minutes=90)).time().replace(second=0, microsecond=0),
        tzinfo=SHANGHAI,
    ).astimezone(UTC)
    assert waiting.run_at == wanted


# email -------------------------------------------------------------------------------------------


async def test_a_repeated_email_repeats_its_message_id(
    org: OrgKit, db: Database, settings: Settings, jobs: Runner, mail: MailSink
) -> None:
    me = await org.person("staff")
    n = await me.ok("post", "/me/notifications/test", 201)
    await jobs.drain()
    ctx = _ctx(db, settings, jobs, "notify.email", {"notification_id": n["id"]})
    await send_email(ctx)  # the worker died after the server took it: sent again
    address = await _email(org, me)
    first, second = [m for m in mail.mails if address in m.envelope_to]
    assert first.message_id == second.message_id == f"<{n['id']}@punch.example.com>"
    assert first.message["Date"] == second.message["Date"]
    assert first.message.get_content() == second.message.get_content()
    assert first.message["X-Fieldpunch-Notification"] == n["id"]


# robots ------------------------------------------------------------------------------------------


async def test_robot_admin_and_failures(
    org: OrgKit, db: Database, jobs: Runner, hooks: HookSink
) -> None:
    manager = await org.person("manager")
    body = {"name": "Ops", "provider": "wecom", "url": f"{hooks.base}/cgi-bin/webhook/bad"}
    assert (await manager.post("/robots", json=body)).status_code == 403
    r = await org.admin.post("/robots", json={**body, "url": "https://evil.example.com/hook"})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "url"]
    r = await org.admin.post("/robots", json={**body, "provider": "teams"})
    assert r.status_code == 422
    # An unbalanced bracket once made urlsplit raise: a 500 (found by schemathesis).
    r = await org.admin.post("/robots", json={**body, "url": "https://+]x.example.com/h"})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "url"]
    made = await org.admin.ok("post", "/robots", 201, json={**body, "secret": "s3cret"})
    assert made["has_secret"] is True and "url" not in made and "secret" not in made
    assert made["url_hint"].startswith(hooks.base) and made["kinds"] == ["anomaly.critical"]
    assert made["url_hint"].endswith("/bad")

    # A refusal that retrying cannot fix: dead at once, the reason on the robot and the job.
    queued = await org.admin.ok("post", f"/robots/{made['id']}/test", 202)
    await jobs.drain()
    robot = await org.admin.ok("get", f"/robots/{made['id']}")
    assert robot["last_error"] == "wecom error 93000: invalid webhook url"
    dead = await org.admin.ok("get", "/jobs", params={"status": "dead"})
    assert [(j["id"], j["last_error"]) for j in dead["items"]] == [
        (queued["job_id"], "wecom error 93000: invalid webhook url")
    ]
    assert (await manager.get("/jobs")).status_code == 403

    # Rate limited: tried again later.
    await org.admin.ok(
        "patch", f"/robots/{made['id']}", json={"url": f"{hooks.base}/cgi-bin/webhook/busy"}
    )
    busy = await org.admin.ok("post", f"/robots/{made['id']}/test", 202)
    await jobs.drain()
    (j,) = [x for x in await _org_jobs(db, org.org_id) if x.id == busy["job_id"]]
    assert j.status == "queued" and j.attempts == 1 and "45009" in (j.last_error or "")

    # Fixed: the dead job is retried by hand and goes through.
    await org.admin.ok(
        "patch",
        f"/robots/{made['id']}",
        json={"url": hooks.base + VENDOR_PATHS["wecom"] + VENDOR_QUERY["wecom"]},
    )
    retried = await org.admin.ok("post", f"/jobs/{queued['job_id']}/retry")
    assert retried["status"] == "queued" and retried["attempts"] == 0
    assert (await org.admin.post(f"/jobs/{queued['job_id']}/retry")).status_code == 409
    await jobs.drain()
    (ok,) = hooks.at(VENDOR_PATHS["wecom"])
    assert "is connected" in ok.json["markdown"]["content"]
    assert (await org.admin.ok("get", f"/robots/{made['id']}"))["last_error"] is None
    await org.admin.ok("delete", f"/robots/{made['id']}", 204)
    assert (await org.admin.get(f"/robots/{made['id']}")).status_code == 404


async def test_team_robots_hear_only_about_their_teams(
    org: OrgKit, jobs: Runner, hooks: HookSink
) -> None:
    t = await _tree(org)
    west = await org.team("West")
    for team, path in ((t.region, "wecom"), (west, "slack")):
        await org.admin.ok(
            "post",
            "/robots",
            201,
            json={
                "name": path,
                "provider": path,
                "url": hooks.base + VENDOR_PATHS[path] + VENDOR_QUERY[path],
                "team_id": team,
            },
        )
    r = await org.admin.post(
        "/robots",
        json={"name": "x", "provider": "slack", "url": hooks.base + "/x", "team_id": "team_nope"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "team_id"]
    await t.staff.ok("post", "/punches", 201, json=_mock_punch())
    await jobs.drain()
    # East is under Region: Region's robot hears; West's does not.
    assert len(hooks.at(VENDOR_PATHS["wecom"])) == 1 and hooks.at(VENDOR_PATHS["slack"]) == []


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
    assert {j.status for j in await _org_jobs(db, org.org_id, "notify.push")} == {"done"}
    other = await org.person("staff")
    assert (await other.delete(f"/me/push-subscriptions/{made['id']}")).status_code == 404


# reminders ---------------------------------------------------------------------------------------


def _shift(user: str, start: datetime, hours: float = 8, day: date | None = None) -> ShiftWindow:
    return ShiftWindow(user, "shf_day", day or start.date(), start, start + timedelta(hours=hours))


def test_due_reminders_before_and_after_shift_edges_and_visits() -> None:
    now = datetime(2026, 11, 27, 0, 50, tzinfo=UTC)  # 08:50 in Shanghai
    start = now + timedelta(minutes=10)  # 09:00
    shifts = [_shift("ann", start), _shift("bob", start), _shift("cai", start)]
    punches = {"bob": [PunchMark("clock_in", now - timedelta(minutes=5))]}
    leave = {("cai", start.date())}
    visits = [PlannedVisit("ann", "vis_1", start.date(), now + timedelta(minutes=30), "华为")]
    due = due_reminders(shifts, visits, punches, leave, now, SHANGHAI)
    assert [(r.user_id, r.kind, r.title) for r in due] == [
        ("ann", "reminder.shift", "Time to clock in"),
        ("ann", "reminder.visit", "Visit at 09:20: 华为"),
    ]
    assert due[0].body == "Your shift starts at 09:00."
    assert due[0].key == f"reminder:ann:shf_day:{start.date()}:start-10"
    # Ten minutes after the start: who has still not clocked in.
    later = due_reminders(shifts, [], punches, leave, start + timedelta(minutes=10), SHANGHAI)
    assert [(r.user_id, r.title) for r in later] == [("ann", "You have not clocked in")]
    # Too late to be useful: dropped, not sent at noon.
    assert due_reminders(shifts, [], {}, set(), start + timedelta(hours=3), SHANGHAI) == []
    # Before the end: everyone who has not clocked out; after a clock-out, nothing.
    end = start + timedelta(hours=8)
    out = due_reminders(
        shifts,
        [],
        {"bob": [PunchMark("clock_out", end - timedelta(minutes=7))]},
        set(),
        end - timedelta(minutes=5),
        SHANGHAI,
    )
    assert [(r.user_id, r.title, r.body) for r in out] == [
        ("ann", "Time to clock out", "Your shift ends at 17:00."),
        ("cai", "Time to clock out", "Your shift ends at 17:00."),
    ]
    # A visit already checked in needs no reminder.
    done = {"ann": [PunchMark("visit_in", now, "vis_1")]}
    assert due_reminders([], visits, done, set(), now, SHANGHAI) == []


class _Source:
    def __init__(self, org_id: str, shifts: list[ShiftWindow], leave: set[tuple[str, date]]):
        self.org_id, self.shifts, self.leave = org_id, shifts, leave

    async def windows(
        self, session: AsyncSession, start: datetime, end: datetime
    ) -> list[OrgWindows]:
        return [OrgWindows(self.org_id, SHANGHAI, self.shifts, [])]

    async def on_leave(
        self, session: AsyncSession, org_id: str, people: set[tuple[str, date]]
    ) -> set[tuple[str, date]]:
        return people & self.leave


async def test_reminder_scan_sends_each_reminder_once(
    org: OrgKit, db: Database, settings: Settings
) -> None:
    ann, bob, cai = [await org.person("staff") for _ in range(3)]
    start = datetime.now(UTC) + timedelta(minutes=8)  # "start −10 min" is due now
    await bob.ok("post", "/punches", 201, json=punch(kind="clock_in"))
    source = _Source(
        org.org_id,
        [_shift(str(p.user_id), start) for p in (ann, bob, cai)],
        {(str(cai.user_id), start.date())},
    )
    runner = build_runner(db, settings, reminders=source)
    for _ in range(2):  # overlapping scans (two workers, a retry): still once
        async with db.transaction() as session:
            await enqueue(session, "reminders.scan", {}, key=f"scan:{secrets.token_hex(4)}")
        await runner.drain()
    await runner.http.aclose()
    (r,) = (await _inbox(ann))["items"]
    assert r["kind"] == "reminder.shift" and r["title"] == "Time to clock in"
    assert (await _inbox(bob))["items"] == [] and (await _inbox(cai))["items"] == []
    async with db.transaction(write=False) as session:
        (event,) = (
            await session.execute(
                select(OutboxEvent).where(OutboxEvent.subject_user_id == ann.user_id)
            )
        ).scalars()
    assert event.topic == "reminder" and event.payload["data"]["id"] == r["id"]


# pure parts --------------------------------------------------------------------------------------


def test_quiet_hours() -> None:
    night = QuietHours.parse("22:00", "07:00")
    day = QuietHours.parse("12:00", "13:30")
    at = lambda h, m: datetime(2026, 11, 27, h, m, tzinfo=SHANGHAI).astimezone(UTC)  # noqa: E731
    assert release_at(at(21, 59), SHANGHAI, night) == at(21, 59)
    assert release_at(at(23, 30), SHANGHAI, night) == datetime(
        2026, 11, 28, 7, 0, tzinfo=SHANGHAI
    ).astimezone(UTC)
    assert release_at(at(6, 59), SHANGHAI, night) == at(7, 0)
    assert release_at(at(7, 0), SHANGHAI, night) == at(7, 0)
    assert release_at(at(12, 15), SHANGHAI, day) == at(13, 30)
    assert release_at(at(13, 30), SHANGHAI, day) == at(13, 30)
    assert release_at(at(3, 0), SHANGHAI, None) == at(3, 0)
    assert QuietHours.parse(None, "07:00") is None


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


def test_robot_answers() -> None:
    robots.check_answer("wecom", 200, b'{"errcode":0,"errmsg":"ok"}')
    robots.check_answer("feishu", 200, b'{"StatusCode":0,"StatusMessage":"success"}')
    robots.check_answer("slack", 200, b"ok")
    cases = [
        ("dingtalk", 200, b'{"errcode":310000,"errmsg":"sign not match"}', False),
        ("dingtalk", 200, b'{"errcode":130101,"errmsg":"send too fast"}', True),
        ("feishu", 200, b'{"code":19021,"msg":"sign match fail"}', False),
        ("slack", 404, b"no_service", False),
        ("slack", 429, b"", True),
        ("wecom", 502, b"bad gateway", True),
    ]
    for provider, status, body, retry in cases:
        with pytest.raises(robots.RobotRejected) as info:
            robots.check_answer(provider, status, body)  # type: ignore[arg-type]
        assert info.value.retry is retry, (provider, body)
    long = robots.build(
        "wecom", "https://qyapi.weixin.qq.com/x", robots.RobotMessage("t", "长" * 3000), None, 0
    )
    assert len(long.json["markdown"]["content"].encode()) <= 4096
    assert robots.host_allowed("https://hooks.slack.com/services/x", ("hooks.slack.com",), ())
    assert not robots.host_allowed("https://hooks.slack.com.evil.io/x", ("hooks.slack.com",), ())
    assert robots.host_allowed("https://chat.corp.cn/hooks/x", (), (".corp.cn",))
    assert not robots.host_allowed("https://corp.cn.evil/x", (), (".corp.cn",))


# decisions ---------------------------------------------------------------------------------------


async def test_the_person_hears_of_every_decision_about_them_once(
    org: OrgKit, db: Database, settings: Settings, jobs: Runner
) -> None:
    t = await _tree(org)
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
    flagged = await t.staff.ok("post", "/punches", 201, json=_mock_punch(kind="clock_out"))
    (anomaly,) = (await t.m1.ok("get", "/anomalies", params={"rule": "mock_location"}))["items"]
    await t.m1.ok(
        "post", f"/anomalies/{anomaly['id']}/resolve", json={"decision": "reject", "comment": "no"}
    )
    await jobs.drain()
    mine = {n["kind"]: n for n in (await _inbox(t.staff))["items"]}
    assert set(mine) == {"correction.decided", "anomaly.decided"}
    told = mine["correction.decided"]
    assert told["data"]["correction_id"] == asked["id"] and told["data"]["status"] == "approved"
    assert "approved" in told["title"] and "ok, noted" in told["body"]
    told = mine["anomaly.decided"]
    assert told["data"]["punch_id"] == flagged["id"] and told["data"]["status"] == "rejected"
    # A retried job (a worker killed after delivering) tells nobody twice.
    for kind_id in (("correction", asked["id"]), ("anomaly", anomaly["id"])):
        payload = {"subject": kind_id[0], "id": kind_id[1]}
        await notify_decision(_ctx(db, settings, jobs, "notify.decision", payload))
    assert (await _inbox(t.staff))["unread_count"] == 2
    # The deciding manager is not notified of their own decisions.
    assert not [n for n in (await _inbox(t.m1))["items"] if n["kind"].endswith(".decided")]


async def test_published_events_are_pruned_after_a_week_unpublished_never(
    org: OrgKit, db: Database, settings: Settings, jobs: Runner
) -> None:
    now = datetime.now(UTC)
    rows = {
        "old": event_row(org.org_id, "punch.created", {}, now - timedelta(days=9), None),
        "recent": event_row(org.org_id, "punch.created", {}, now - timedelta(days=1), None),
        "stuck": event_row(org.org_id, "punch.created", {}, now - timedelta(days=30), None),
    }
    rows["old"]["published_at"] = now - timedelta(days=8)
    rows["recent"]["published_at"] = now - timedelta(days=1)
    async with db.transaction() as session:
        await add_events(session, list(rows.values()))
    await prune_outbox(_ctx(db, settings, jobs, "outbox.prune", {}))
    async with db.transaction(write=False) as session:
        kept = set(
            (
                await session.execute(
                    select(OutboxEvent.event_id).where(OutboxEvent.org_id == org.org_id)
                )
            ).scalars()
        )
    assert kept == {rows["recent"]["event_id"], rows["stuck"]["event_id"]}
