"""The console's configuration of checks and alerts in a real browser against a real server: the
anomaly policy at a team's level, group robots tested against a real HTTP receiver, the alert
escalation settings, and the visit outcomes and form. Each result is checked through the API."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import PASSWORD, Server, desktop
from tests.e2e.test_console import console_sign_in, new_team
from tests.receivers import VENDOR_PATHS, HookSink, hook_sink, vendor_answer
from tests.server import env_for, run, serving

ADMIN = "admin@e2e.example.com"


def _open(page: Any, path: str, email: str = ADMIN) -> None:
    console_sign_in(page, email)
    page.wait_for_url("**/console/dashboard")
    page.goto(f"/console/{path}")


def _choose(page: Any, select: Any, label: str) -> None:
    """Pick an option of an Element Plus select by its visible label."""
    select.click()
    page.locator(".el-select-dropdown__item:visible", has_text=label).first.click()


def test_an_admin_turns_a_rule_off_for_a_team_and_sets_a_threshold(
    console: Any, server: Server
) -> None:
    team = server.api("post", "/teams", json={"name": f"规则测试组 {secrets.token_hex(3)}"})
    org_speed = server.api("get", "/policy")["effective"]["max_speed_kmh"]
    page = console.new_page()
    errors: list[Any] = []
    page.on("pageerror", lambda e: errors.append(e))
    _open(page, "policy")
    page.locator("[data-testid=level-team]").click()
    _choose(page, page.locator("[data-testid=policy-team]"), team["name"])
    rule = page.locator("[data-testid=policy-rule][data-rule=duplicate]")
    rule.wait_for()
    assert "重复打卡" in rule.inner_text()  # the rule's name in words, with what it checks
    assert rule.get_attribute("data-enabled") == "true"
    assert rule.get_attribute("data-origin") == "inherited"

    page.locator("[data-testid=rule-enabled-duplicate]").click()
    page.wait_for_selector(
        "[data-testid=policy-rule][data-rule=duplicate][data-enabled=false][data-origin=override]"
    )
    speed = page.locator("[data-testid=threshold-max_speed_kmh]")
    assert "公里/小时" in speed.inner_text()
    speed.locator("input").fill("180")
    speed.locator("input").press("Tab")
    page.wait_for_selector("[data-testid=threshold-max_speed_kmh][data-origin=override]")
    # What the team would inherit is said beside the change.
    assert f"继承值：{org_speed:g} 公里/小时" in speed.inner_text()
    page.locator("[data-testid=policy-save]").click()
    page.wait_for_selector("[data-testid=policy-save]:disabled:not(.is-loading)")
    stored = server.api("get", f"/policy/teams/{team['id']}")["override"]
    assert stored == {"rules": {"duplicate": {"enabled": False}}, "max_speed_kmh": 180}

    # After a reload (the team is in the address) the page shows what was stored.
    assert f"team={team['id']}" in page.url
    page.reload()
    page.wait_for_selector(
        "[data-testid=policy-rule][data-rule=duplicate][data-enabled=false][data-origin=override]"
    )
    assert page.locator("[data-testid=threshold-max_speed_kmh] input").input_value() == "180"
    other = page.locator("[data-testid=policy-rule][data-rule=mock_location]")
    assert other.get_attribute("data-origin") == "inherited"

    # A member of the team inherits both: the person's level shows the team's values.
    member = server.api(
        "post",
        "/users",
        json={
            "email": f"staff.{secrets.token_hex(4)}@example.com",
            "name": "外勤 小周",
            "role": "staff",
            "password": PASSWORD,
            "team_id": team["id"],
        },
    )
    page.goto(f"/console/policy?user={member['id']}")
    page.wait_for_selector(
        "[data-testid=policy-rule][data-rule=duplicate][data-enabled=false][data-origin=inherited]"
    )
    assert page.locator("[data-testid=threshold-max_speed_kmh] input").input_value() == "180"
    page.goto(f"/console/policy?team={team['id']}")
    page.wait_for_selector("[data-testid=threshold-max_speed_kmh][data-origin=override]")

    # Reset both to what the organization says, and save: the team's override is gone.
    page.locator("[data-testid=reset-duplicate]").click()
    page.locator("[data-testid=reset-max_speed_kmh]").click()
    page.wait_for_selector(
        "[data-testid=policy-rule][data-rule=duplicate][data-enabled=true][data-origin=inherited]"
    )
    page.locator("[data-testid=policy-save]").click()
    page.wait_for_selector("[data-testid=policy-save]:disabled:not(.is-loading)")
    assert server.api("get", f"/policy/teams/{team['id']}")["override"] == {}
    assert not errors, errors


@pytest.fixture(scope="module")
def hooked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, HookSink]]:
    """A server of its own that may call a loopback HTTP receiver (the shared one may call
    no such host), with that receiver answering as the vendors do."""
    with hook_sink(vendor_answer) as sink:
        data_dir = tmp_path_factory.mktemp("e2e-robots")
        env = env_for(
            data_dir, FIELDPUNCH_ACCESS_LOG="false", FIELDPUNCH_OUTBOUND_ALLOW_HOSTS=sink.base
        )
        made = run(
            [
                "create-org",
                "--name",
                "机器人测试",
                "--admin-email",
                ADMIN,
                "--admin-password",
                PASSWORD,
            ],
            env,
        )
        assert made.returncode == 0, made.stderr
        with serving(["serve"], env, data_dir / "serve.log") as served, httpx.Client() as client:
            r = client.post(
                f"{served.base}/api/v1/auth/token",
                data={"username": ADMIN, "password": PASSWORD},
            )
            assert r.status_code == 200, r.text
            org = json.loads(made.stdout)["org_id"]
            yield Server(served.base, r.json()["access_token"], org, {}, {}, data_dir, client), sink


def test_an_admin_adds_a_robot_tests_it_and_sets_escalation(
    browser: Any, built_console: Any, hooked: tuple[Server, HookSink]
) -> None:
    server, sink = hooked
    name = f"华东告警群 {secrets.token_hex(2)}"
    path = VENDOR_PATHS["wecom"]
    with desktop(browser, server) as ctx:
        page = ctx.new_page()
        _open(page, "notifications")
        page.locator("[data-testid=robot-new]").click()
        page.locator("input[data-testid=robot-name]").fill(name)
        page.locator("input[data-testid=robot-url]").fill(f"{sink.base}{path}?key=wk-e2e")
        page.locator("[data-testid=robot-save]").click()
        row = page.locator("[data-testid=robot-row]", has_text=name)
        row.wait_for()
        robot_id = row.get_attribute("data-robot-id")
        line = page.locator("[data-testid=robots] tr", has=row)
        assert "企业微信" in line.inner_text() and "严重异常" in line.inner_text()
        robot = server.api("get", f"/robots/{robot_id}")
        assert robot["provider"] == "wecom" and robot["kinds"] == ["anomaly.critical"]
        assert "wk-e2e" not in json.dumps(robot)  # the URL is a credential: only a hint

        page.locator(f"[data-testid=robot-test-{robot_id}]").click()
        status = page.locator(f"[data-testid=robot-status-{robot_id}]")
        status.locator("[data-outcome=delivered]").wait_for()
        assert "测试消息已送达" in status.inner_text()
        got = sink.at(path)
        assert len(got) == 1 and got[0].query == {"key": ["wk-e2e"]}
        assert name in got[0].json["markdown"]["content"]

        # Pointed at a path the receiver does not serve, the test says the error.
        page.locator(f"[data-testid=robot-edit-{robot_id}]").click()
        page.locator("input[data-testid=robot-url]").fill(f"{sink.base}/cgi-bin/gone?key=x")
        page.locator("[data-testid=robot-save]").click()
        page.locator(".el-dialog:visible").wait_for(state="hidden")
        page.locator(f"[data-testid=robot-test-{robot_id}]").click()
        status.locator("[data-outcome=failed]").wait_for()
        assert "HTTP 404" in status.inner_text()

        # A URL the server may not call is refused, said at the field.
        page.locator(f"[data-testid=robot-edit-{robot_id}]").click()
        page.locator("input[data-testid=robot-url]").fill("https://evil.example.com/hook")
        page.locator("[data-testid=robot-save]").click()
        problem = page.locator(".el-dialog:visible .el-form-item__error")
        problem.wait_for()
        assert "not an allowed host" in problem.inner_text()
        page.locator(".el-dialog:visible").get_by_role("button", name="取消").click()

        # Escalation after 45 minutes.
        box = page.locator("[data-testid=alerts-escalate] input")
        box.fill("45")
        box.press("Tab")
        page.locator("[data-testid=alerts-save]").click()
        page.locator(".el-message--success", has_text="告警设置已保存").wait_for()
        assert server.api("get", "/alerts/settings")["escalate_after_min"] == 45

        # Delete asks first.
        page.locator(f"[data-testid=robot-delete-{robot_id}]").click()
        page.locator(".el-message-box").get_by_role("button", name="删除").click()
        row.wait_for(state="detached")
        assert all(r["id"] != robot_id for r in server.api("get", "/robots"))


def test_an_admin_adds_a_visit_outcome_and_a_form_field(console: Any, server: Server) -> None:
    before_form = server.api("get", "/visit-form")["fields"]
    before_outcomes = server.api("get", "/visit-outcomes")["outcomes"]
    outcome = f"意向强烈 {secrets.token_hex(2)}"
    field = f"竞品品牌 {secrets.token_hex(2)}"
    # Two outcomes to start from (the org's own, or these), restored at the end.
    start = (
        before_outcomes
        if len(before_outcomes) >= 2
        else [
            {"key": "order", "label": "已下单"},
            {"key": "follow_up", "label": "需跟进"},
        ]
    )
    try:
        server.api("put", "/visit-outcomes", json={"outcomes": start})
        page = console.new_page()
        _open(page, "visitsettings")
        rows = page.locator("[data-testid=outcome-row]")
        rows.nth(len(start) - 1).wait_for()
        renamed = f"{start[0]['label']} {secrets.token_hex(1)}"
        rows.first.locator("input").fill(renamed)  # a rename keeps the key
        page.locator("[data-testid=outcome-add]").click()
        rows.last.locator("input").fill(outcome)
        rows.last.locator("[data-testid=outcome-up]").click()  # before the last one
        page.locator("[data-testid=outcomes-save]").click()
        page.wait_for_selector("[data-testid=outcomes-save]:disabled:not(.is-loading)")
        stored = server.api("get", "/visit-outcomes")["outcomes"]
        labels = [renamed, *(o["label"] for o in start[1:-1]), outcome, start[-1]["label"]]
        assert [o["label"] for o in stored] == labels
        keys = [o["key"] for o in stored]
        assert keys[:-2] + keys[-1:] == [o["key"] for o in start]
        assert keys[-2] not in keys[:-2] + keys[-1:]

        page.locator("[data-testid=field-add]").click()
        new = page.locator("[data-testid=field-row]").last
        new.locator("input[data-testid=field-label]").fill(field)
        _choose(page, new.locator("[data-testid=field-type]"), "单选")
        new.locator("[data-testid=field-required]").click()
        page.locator("[data-testid=form-save]").click()
        # A choice with no choices is said at the field, and nothing is sent.
        assert "单选字段至少需要一个选项" in new.locator("[data-testid=field-error]").inner_text()
        new.locator("textarea[data-testid=field-options]").fill("国产\n进口\n")
        page.locator("[data-testid=form-save]").click()
        page.wait_for_selector("[data-testid=form-save]:disabled:not(.is-loading)")
        fields = server.api("get", "/visit-form")["fields"]
        assert fields[:-1] == before_form
        assert {k: v for k, v in fields[-1].items() if k != "key"} == {
            "label": field,
            "type": "choice",
            "required": True,
            "options": ["国产", "进口"],
        }

        page.reload()
        page.locator("[data-testid=field-row]").last.wait_for()
        labels = page.locator("[data-testid=field-row] input[data-testid=field-label]")
        assert labels.last.input_value() == field
        outcomes = page.locator("[data-testid=outcome-row] input")
        assert outcome in [outcomes.nth(i).input_value() for i in range(outcomes.count())]
    finally:
        server.api("put", "/visit-form", json={"fields": before_form})
        server.api("put", "/visit-outcomes", json={"outcomes": before_outcomes})


def test_a_manager_reads_the_rules_and_alerts_but_changes_nothing(
    console: Any, server: Server
) -> None:
    team_id, email, _ = new_team(server)
    page = console.new_page()
    console_sign_in(page, email)
    page.wait_for_url("**/console/dashboard")
    assert page.locator("[data-testid=menu-policy]").is_visible()
    assert page.locator("[data-testid=menu-visitsettings]").count() == 0  # visits:configure
    page.goto(f"/console/policy?team={team_id}")
    page.wait_for_selector("[data-testid=policy-rule][data-rule=duplicate]")
    assert page.locator("[data-testid=rule-enabled-duplicate].is-disabled").count() == 1
    assert page.locator("[data-testid=threshold-max_speed_kmh] input").is_disabled()
    assert page.locator("[data-testid=policy-save]").count() == 0
    page.goto("/console/notifications")
    page.wait_for_selector("[data-testid=alerts-escalate] input:disabled")
    assert page.locator("[data-testid=robot-new]").count() == 0
    assert page.locator("[data-testid=alerts-save]").count() == 0
