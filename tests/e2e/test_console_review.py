"""The console's review queue in a real browser: an anomaly's evidence, decisions by keyboard
and in bulk, and a correction request (补卡) approved; each checked through the API."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.e2e.conftest import OFFICE, Server
from tests.e2e.test_console import console_sign_in, new_team, punch, team_member

FAR = (31.2600, 121.5300)  # ~3.6 km north-east of the office, outside every fence


def _statuses(server: Server, user_id: str) -> set[str]:
    items = server.api("get", "/anomalies", params={"user_id": user_id, "limit": 500})["items"]
    return {a["status"] for a in items}


def test_anomalies_are_reviewed_with_the_keyboard_and_in_bulk(console: Any, server: Server) -> None:
    team_id, email, _ = new_team(server, "审核组")
    a_id, a_token = team_member(server, team_id, "外勤 赵敏")
    b_id, b_token = team_member(server, team_id, "外勤 钱进")
    punch(server, a_token, OFFICE)  # in the office: the previous punch of the next one
    first = punch(server, a_token, FAR, "clock_out")
    second = punch(server, b_token, FAR)
    assert first["status"] == second["status"] == "flagged"

    page = console.new_page()
    errors: list[Any] = []
    page.on("pageerror", lambda e: errors.append(e))
    console_sign_in(page, email)
    page.wait_for_url("**/console/dashboard")
    page.locator("[data-testid=menu-review]").click()
    page.wait_for_url("**/console/review")
    items = page.locator("[data-testid=review-item]")
    items.nth(1).wait_for()
    assert items.count() == 2  # the manager's team only; oldest first
    assert items.nth(0).get_attribute("data-key") == first["id"]
    assert items.nth(0).get_attribute("data-current") == "true"
    # The evidence: the finding, the leg from the office punch, on the small map.
    detail = page.locator("[data-testid=review-detail]")
    detail.locator("[data-testid=review-finding][data-rule=outside_geofence]").wait_for()
    distance = detail.locator("[data-testid=review-distance]")
    page.wait_for_function(
        "el => / m$/.test(el.textContent)", arg=distance.element_handle(), timeout=5_000
    )
    assert 3000 < int(distance.inner_text().removesuffix(" m")) < 4500
    assert detail.locator("[data-testid=evidence-previous]").count() == 1

    page.keyboard.press("j")
    assert items.nth(1).get_attribute("data-current") == "true"
    page.keyboard.press("k")
    assert items.nth(0).get_attribute("data-current") == "true"
    page.locator("textarea[data-testid=review-comment]").fill("不在客户处，驳回")
    items.nth(0).click()  # out of the comment box: keys act again
    page.keyboard.press("r")
    page.wait_for_selector(f"[data-testid=review-item][data-key={first['id']}]", state="detached")
    assert _statuses(server, a_id) == {"rejected"}
    rejected = server.api("get", "/anomalies", params={"user_id": a_id})["items"]
    assert {x["comment"] for x in rejected} == {"不在客户处，驳回"}

    # What is left: ticked and approved in bulk.
    page.locator(f"[data-testid=select-{second['id']}]").click()
    page.locator("[data-testid=bulk-approve]").click()
    page.locator("[data-testid=review-empty]").wait_for()
    assert _statuses(server, b_id) == {"approved"}
    assert server.api("get", f"/punches/{second['id']}")["status"] == "approved"
    # A new flagged punch joins the open queue without a reload (the live feed).
    third = punch(server, b_token, FAR, "clock_out")
    page.locator(f"[data-testid=review-item][data-key={third['id']}]").wait_for(timeout=5_000)
    assert not errors, [e.stack for e in errors]


def test_a_correction_is_approved_from_the_queue(console: Any, server: Server) -> None:
    team_id, email, _ = new_team(server, "补卡组")
    staff_id, staff_token = team_member(server, team_id, "外勤 孙丽")
    zone = ZoneInfo(server.api("get", "/org")["timezone"])
    # Yesterday 09:00 in the org's zone: a past time whatever the hour the test runs.
    at = (datetime.now(zone) - timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    asked = server.api(
        "post",
        "/corrections",
        token=staff_token,
        json={
            "kind": "clock_in",
            "at": at.isoformat(),
            "reason": "手机没电，忘记打卡",
            "place_id": server.place["id"],
        },
    )
    page = console.new_page()
    console_sign_in(page, email)
    page.wait_for_url("**/console/dashboard")
    page.goto("/console/review")
    page.locator("[data-testid=tab-corrections]").click()
    item = page.locator(f"[data-testid=review-item][data-key={asked['id']}]")
    item.wait_for()
    assert "手机没电" in item.inner_text()
    page.locator("textarea[data-testid=review-comment]").fill("已核实")
    page.locator("[data-testid=review-approve]").click()
    item.wait_for(state="detached")
    decided = server.api("get", f"/corrections/{asked['id']}")
    assert decided["status"] == "approved" and decided["comment"] == "已核实"
    made = server.api("get", f"/punches/{decided['punch_id']}")
    assert made["source"] == "correction" and made["user_id"] == staff_id
