"""Group robots (WeCom, DingTalk, Feishu, Slack): admin, failures, outbound URL rules, teams,
and how each vendor answers.
"""

from __future__ import annotations

from typing import Any

import pytest

from fieldpunch.config import Settings
from fieldpunch.db.engine import Database
from fieldpunch.jobs.runner import Runner
from fieldpunch.jobs.worker import build_runner
from fieldpunch.notify import robots
from tests.api.notifications.harness import (
    browser_subscription,
    make_tree,
    mock_punch,
    org_jobs,
)
from tests.factories import OrgKit
from tests.receivers import (
    VENDOR_PATHS,
    VENDOR_QUERY,
    HookSink,
)

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
    (j,) = [x for x in await org_jobs(db, org.org_id) if x.id == busy["job_id"]]
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


async def test_outbound_urls_are_https_on_the_default_port_of_an_allowed_host(
    org: OrgKit, hooks: HookSink
) -> None:
    def refused(r: Any, field: str, says: str) -> None:
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        (error,) = r.json()["errors"]
        assert error["loc"] == ["body", field] and says in error["msg"], error

    body = {"name": "Ops", "provider": "dingtalk"}
    token = "/robot/send?access_token=abc"
    for url, says in (
        (f"http://oapi.dingtalk.com{token}", "must be https://oapi.dingtalk.com"),
        (f"https://oapi.dingtalk.com:8443{token}", "must be https://oapi.dingtalk.com"),
        (f"https://oapi.dingtalk.com:80{token}", "must be https://oapi.dingtalk.com"),
        (f"https://robot:pw@oapi.dingtalk.com{token}", "user name or password"),
        (f"https://oapi.dingtalk.com@127.0.0.1{token}", "user name or password"),
        (f"https://127.0.0.1\\@oapi.dingtalk.com{token}", "backslash"),
        (f"https://169.254.169.254{token}", "not an allowed host"),
        (f"https://[::1]{token}", "not an allowed host"),
        # The hook receiver is allowed as http on its own port, not as a host on every port.
        (hooks.base.replace("http://", "https://") + token, "must be http://127.0.0.1:"),
        (hooks.base.rsplit(":", 1)[0] + ":5432" + token, "must be http://127.0.0.1:"),
    ):
        refused(await org.admin.post("/robots", json={**body, "url": url}), "url", says)
    made = await org.admin.ok(
        "post", "/robots", 201, json={**body, "url": f"https://oapi.dingtalk.com{token}"}
    )
    await org.admin.ok(
        "post", "/robots", 201, json={**body, "url": f"https://oapi.dingtalk.com:443{token}"}
    )
    r = await org.admin.patch(
        f"/robots/{made['id']}", json={"url": f"http://oapi.dingtalk.com{token}"}
    )
    refused(r, "url", "must be https://oapi.dingtalk.com")

    me = await org.person("staff")
    sub, _, _ = browser_subscription("http://fcm.googleapis.com/fcm/send/abc")
    refused(await me.post("/me/push-subscriptions", json=sub), "endpoint", "must be https://")
    sub["endpoint"] = "https://fcm.googleapis.com:8080/fcm/send/abc"
    refused(await me.post("/me/push-subscriptions", json=sub), "endpoint", "must be https://")
    sub["endpoint"] = "https://fcm.googleapis.com/fcm/send/abc"
    await me.ok("post", "/me/push-subscriptions", 201, json=sub)

    # An allow-list entry is https on 443 unless it names its scheme and port.
    hook = "https://chat.corp.cn/hooks/x"
    assert robots.host_allowed(hook, (), ("chat.corp.cn",))
    assert robots.host_allowed(hook, (), (".corp.cn",))
    assert not robots.host_allowed("http://chat.corp.cn/hooks/x", (), ("chat.corp.cn",))
    assert not robots.host_allowed("https://chat.corp.cn:8443/x", (), ("chat.corp.cn",))
    assert robots.host_allowed("https://chat.corp.cn:8443/x", (), ("chat.corp.cn:8443",))
    assert robots.host_allowed("http://chat.lan:8065/x", (), ("http://chat.lan:8065",))
    assert not robots.host_allowed("http://chat.lan:8066/x", (), ("http://chat.lan:8065",))
    assert not robots.host_allowed("http://chat.lan/x", (), ("http://chat.lan:8065",))


async def test_a_stored_url_is_checked_again_before_each_call(
    org: OrgKit, db: Database, settings: Settings, hooks: HookSink
) -> None:
    """Robots stored before the allow-list changed (or before this check) are not called."""
    made = await org.admin.ok(
        "post",
        "/robots",
        201,
        json={"name": "Ops", "provider": "wecom", "url": f"{hooks.base}/cgi-bin/webhook/send"},
    )
    queued = await org.admin.ok("post", f"/robots/{made['id']}/test", 202)
    narrowed = settings.model_copy(update={"outbound_allow_hosts": "127.0.0.1"})
    runner = build_runner(db, narrowed)
    try:
        await runner.drain()
    finally:
        await runner.http.aclose()
    assert hooks.at("/cgi-bin/webhook/send") == []
    robot = await org.admin.ok("get", f"/robots/{made['id']}")
    assert robot["last_error"].startswith("webhook not allowed: must be https://127.0.0.1")
    (job,) = [j for j in await org_jobs(db, org.org_id) if j.id == queued["job_id"]]
    assert job.status == "dead"


async def test_team_robots_hear_only_about_their_teams(
    org: OrgKit, jobs: Runner, hooks: HookSink
) -> None:
    t = await make_tree(org)
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
    await t.staff.ok("post", "/punches", 201, json=mock_punch())
    await jobs.drain()
    # East is under Region: Region's robot hears; West's does not.
    assert len(hooks.at(VENDOR_PATHS["wecom"])) == 1 and hooks.at(VENDOR_PATHS["slack"]) == []


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
