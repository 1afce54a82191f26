"""The console's list pages ask before a delete or a revoke and say the server's refusal: teams
and API keys in a real browser against a real server, each result checked through the API."""

from __future__ import annotations

import secrets
from typing import Any

from tests.e2e.conftest import Server
from tests.e2e.test_console import console_sign_in, team_member

ADMIN = "admin@e2e.example.com"


def _box(page: Any, question: str) -> Any:
    """The confirmation box asking `question` (shown), to click one of its buttons."""
    box = page.locator(".el-message-box", has_text=question)
    box.wait_for()
    return box


def test_a_team_is_deleted_after_asking_and_one_with_people_is_refused_in_words(
    console: Any, server: Server
) -> None:
    empty = server.api("post", "/teams", json={"name": f"空组 {secrets.token_hex(2)}"})
    busy = server.api("post", "/teams", json={"name": f"在岗组 {secrets.token_hex(2)}"})
    team_member(server, busy["id"], "在岗 周敏")
    page = console.new_page()
    console_sign_in(page, ADMIN)
    page.wait_for_url("**/console/dashboard")
    page.goto("/console/teams")
    row = page.locator(f"[data-testid=team-row][data-team-id={empty['id']}]")
    row.wait_for()
    delete = row.locator("xpath=ancestor::tr").get_by_role("button", name="删除")

    # Cancelled: nothing is deleted.
    delete.click()
    box = _box(page, empty["name"])
    box.get_by_role("button", name="取消").click()
    box.wait_for(state="hidden")
    assert any(tm["id"] == empty["id"] for tm in server.api("get", "/teams")["items"])
    assert row.is_visible()

    # Confirmed: deleted, said, and gone from the tree.
    delete.click()
    _box(page, empty["name"]).get_by_role("button", name="删除").click()
    page.locator(".el-message--success", has_text="已删除").wait_for()
    row.wait_for(state="detached")
    assert not any(tm["id"] == empty["id"] for tm in server.api("get", "/teams")["items"])

    # A team with people: the API's 409 in its own words, and the team stays.
    busy_row = page.locator(f"[data-testid=team-row][data-team-id={busy['id']}]")
    busy_row.locator("xpath=ancestor::tr").get_by_role("button", name="删除").click()
    _box(page, busy["name"]).get_by_role("button", name="删除").click()
    page.locator(".el-message--error", has_text="the team has members").wait_for()
    assert busy_row.is_visible()
    assert any(tm["id"] == busy["id"] for tm in server.api("get", "/teams")["items"])


def test_an_api_key_is_revoked_after_asking(console: Any, server: Server) -> None:
    name = f"考勤导出 {secrets.token_hex(2)}"
    made = server.api("post", "/api-keys", json={"name": name, "scopes": ["teams:read"]})
    key_id = made["id"]
    assert server.api("get", "/teams", token=made["key"])["items"] is not None
    page = console.new_page()
    console_sign_in(page, ADMIN)
    page.wait_for_url("**/console/dashboard")
    page.goto("/console/apikeys")
    revoke = page.locator(f"[data-testid=key-revoke-{key_id}]")
    revoke.click()
    box = _box(page, name)
    box.get_by_role("button", name="取消").click()
    box.wait_for(state="hidden")
    assert revoke.is_visible()
    assert server.api("get", "/teams", token=made["key"])["items"] is not None  # still works

    revoke.click()
    _box(page, name).get_by_role("button", name="吊销").click()
    page.locator(f"[data-testid=key-revoked-{key_id}]").wait_for()
    r = server._client.get(
        f"{server.base}/api/v1/teams", headers={"Authorization": f"Bearer {made['key']}"}
    )
    assert r.status_code == 401
