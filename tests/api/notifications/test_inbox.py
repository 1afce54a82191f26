"""The inbox (read state, privacy) and preferences: channels and quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from fieldpunch.db.engine import Database
from fieldpunch.jobs.models import OutboxEvent
from fieldpunch.jobs.runner import Runner
from fieldpunch.notify.deliver import Message, deliver
from fieldpunch.notify.quiet import QuietHours, release_at
from tests.api.notifications.harness import (
    SHANGHAI,
    make_tree,
    mock_punch,
    org_jobs,
    read_inbox,
)
from tests.factories import Api, OrgKit
from tests.receivers import (
    MailSink,
)

# the inbox ---------------------------------------------------------------------------------------


async def test_inbox_read_state_and_privacy(
    org: OrgKit, client: Any, db: Database, jobs: Runner
) -> None:
    me = await org.person("staff")
    other = await org.person("staff")
    made = [await me.ok("post", "/me/notifications/test", 201) for _ in range(3)]
    assert made[0]["kind"] == "test" and made[0]["read_at"] is None
    inbox = await read_inbox(me)
    assert [n["id"] for n in inbox["items"]] == [m["id"] for m in reversed(made)]  # newest first
    assert inbox["unread_count"] == 3
    page = await read_inbox(me, limit=2)
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = await read_inbox(me, limit=2, cursor=page["next_cursor"])
    assert [n["id"] for n in rest["items"]] == [made[0]["id"]] and rest["next_cursor"] is None

    read = await me.ok("post", f"/notifications/{made[1]['id']}/read")
    assert read["read_at"] is not None
    again = await me.ok("post", f"/notifications/{made[1]['id']}/read")
    assert again["read_at"] == read["read_at"]
    unread = await read_inbox(me, unread="true")
    assert {n["id"] for n in unread["items"]} == {made[0]["id"], made[2]["id"]}
    # Someone else's notification does not exist for me.
    r = await other.post(f"/notifications/{made[0]['id']}/read")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert (await read_inbox(other))["items"] == []
    assert (await me.ok("post", "/notifications/read-all")) == {"marked": 2}
    assert (await me.ok("post", "/notifications/read-all")) == {"marked": 0}
    assert (await read_inbox(me))["unread_count"] == 0
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
    t = await make_tree(org)
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

    await t.staff.ok("post", "/punches", 201, json=mock_punch())
    await jobs.drain()
    assert len((await read_inbox(t.m1))["items"]) == 1  # the inbox always
    assert await org_jobs(db, org.org_id, "notify.email") == []

    # A test notification to m2 during quiet hours: inbox now, email when they end.
    n = await t.m2.ok("post", "/me/notifications/test", 201)
    (email_job,) = await org_jobs(db, org.org_id, "notify.email")
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
        for j in await org_jobs(db, org.org_id, "notify.email")
        if j.payload["notification_id"] == nid
    ]
    wanted = datetime.combine(
        (local + timedelta(minutes=90)).date(),
        (local + timedelta(minutes=90)).time().replace(second=0, microsecond=0),
        tzinfo=SHANGHAI,
    ).astimezone(UTC)
    assert waiting.run_at == wanted


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
