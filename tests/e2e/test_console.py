"""The manager console (/console/) in a real browser against a real `fieldpunch serve`: sign-in,
who may use it, and the Live page fed by the WebSocket. The review queue: test_console_review.py."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from tests.e2e.conftest import OFFICE, PASSWORD, Server, desktop


def new_team(server: Server, name: str = "华东销售") -> tuple[str, str, str]:
    """A team and its manager: (team_id, the manager's email, the manager's user id)."""
    team = server.api("post", "/teams", json={"name": f"{name} {secrets.token_hex(2)}"})
    email = f"manager.{secrets.token_hex(4)}@example.com"
    manager = server.api(
        "post",
        "/users",
        json={
            "email": email,
            "name": "主管 李娜",
            "role": "manager",
            "password": PASSWORD,
            "managed_team_ids": [team["id"]],
        },
    )
    return team["id"], email, manager["id"]


def team_member(server: Server, team_id: str, name: str) -> tuple[str, str]:
    """A staff member of the team: (user_id, their access token)."""
    email = f"staff.{secrets.token_hex(4)}@example.com"
    user = server.api(
        "post",
        "/users",
        json={
            "email": email,
            "name": name,
            "role": "staff",
            "password": PASSWORD,
            "team_id": team_id,
        },
    )
    return user["id"], server.login(email)


def punch(
    server: Server, token: str, at: tuple[float, float] = OFFICE, kind: str = "clock_in"
) -> Any:
    """A punch now through the API, as a phone sends it (outside every fence: flagged)."""
    return server.api(
        "post",
        "/punches",
        token=token,
        json={
            "client_id": str(uuid4()),
            "kind": kind,
            "captured_at": datetime.now(UTC).isoformat(),
            "location": {"lat": at[0], "lon": at[1], "accuracy_m": 15},
        },
    )


def console_sign_in(page: Any, email: str, password: str = PASSWORD) -> None:
    page.goto("/console/")
    page.wait_for_url("**/console/login**")
    page.locator("input[data-testid=login-account]").fill(email)
    page.locator("input[data-testid=login-password]").fill(password)
    page.locator("[data-testid=login-submit]").click()


def test_a_manager_signs_in_and_sees_a_punch_arrive_live(console: Any, server: Server) -> None:
    team_id, email, _ = new_team(server)
    staff_id, staff_token = team_member(server, team_id, "外勤 王伟")
    page = console.new_page()
    errors: list[Any] = []
    page.on("pageerror", lambda e: errors.append(e))
    console_sign_in(page, email)
    page.wait_for_url("**/console/dashboard")
    page.locator("[data-testid=menu-live]").click()
    page.wait_for_url("**/console/live")
    page.wait_for_selector("[data-testid=live-link][data-state=live]")
    assert page.locator("[data-testid=who]").inner_text() == "主管 李娜"
    person = page.locator(f"[data-testid=person][data-user-id={staff_id}]")
    person.wait_for()
    assert page.locator(f"[data-testid=feed-item][data-user-id={staff_id}]").count() == 0

    made = punch(server, staff_token)  # over the API, while the page stays as it is
    item = page.locator(
        f"[data-testid=feed-item][data-type='punch.created'][data-user-id={staff_id}]"
    )
    item.wait_for(timeout=2_000)  # the bound: within 2 s, without reload
    assert "外勤 王伟" in item.inner_text() and "上班打卡" in item.inner_text()
    # On the map, in the colour of its status; the map has no tiles here and still shows it.
    pin = page.locator(f"[data-testid=map-person][data-user-id={staff_id}]")
    person.click()
    pin.wait_for()
    assert pin.get_attribute("data-status") == made["status"]
    # The person's day opens beside it.
    day = page.locator(f"[data-testid=day-punch][data-punch-id={made['id']}]")
    day.wait_for()
    # Nobody outside the manager's team shows.
    _, outsider_id, _ = server.new_staff("别队 张三")
    assert page.locator(f"[data-testid=person][data-user-id={outsider_id}]").count() == 0
    assert not errors, [e.stack for e in errors]


def test_staff_are_told_the_console_is_for_managers(console: Any, server: Server) -> None:
    email, _, _ = server.new_staff("外勤 小陈")
    page = console.new_page()
    console_sign_in(page, email)
    page.wait_for_url("**/console/staff")
    refused = page.locator("[data-testid=staff-refused]")
    assert "管理后台供管理者使用" in refused.inner_text()
    assert page.locator("[data-testid=open-field-app]").get_attribute("href") == "/app/"
    page.goto("/console/review")  # no page of the console opens for them
    page.wait_for_url("**/console/staff")


def test_wrong_password_is_said_and_sign_out_returns_to_sign_in(
    browser: Any, server: Server, built_console: Any
) -> None:
    _, email, _ = new_team(server)
    with desktop(browser, server, "en") as ctx:
        page = ctx.new_page()
        console_sign_in(page, email, "not-the-password")
        assert page.locator("[data-testid=login-error]").inner_text() == "Wrong account or password"
        page.locator("input[data-testid=login-password]").fill(PASSWORD)
        page.locator("[data-testid=login-submit]").click()
        page.wait_for_url("**/console/dashboard")
        assert page.locator("[data-testid=menu-review]").inner_text() == "Review"
        page.locator("[data-testid=sign-out]").click()
        page.wait_for_url("**/console/login")
        page.goto("/console/live")
        page.wait_for_url("**/console/login?next=/live")


def test_the_live_feed_catches_up_after_a_drop(console: Any, server: Server) -> None:
    """The socket is cut and refused for a while (a restart, a flaky network); a punch made
    meanwhile shows once the console is back, replayed from the outbox after `last_event_id`."""
    team_id, email, _ = new_team(server)
    staff_id, staff_token = team_member(server, team_id, "外勤 周杰")
    down = {"now": False}
    sockets: list[Any] = []

    def live_route(ws: Any) -> None:
        if down["now"]:
            ws.close(code=1013, reason="try again later")
            return
        ws.connect_to_server()  # passes everything through both ways
        sockets.append(ws)

    console.route_web_socket("**/api/v1/live", live_route)
    page = console.new_page()
    console_sign_in(page, email)
    page.wait_for_url("**/console/dashboard")
    page.locator("[data-testid=menu-live]").click()
    page.wait_for_url("**/console/live")
    link = page.locator("[data-testid=live-link]")
    page.wait_for_selector("[data-testid=live-link][data-state=live]")
    punch(server, staff_token)  # seen live first: the console has a seq to resume from
    page.locator(f"[data-testid=feed-item][data-user-id={staff_id}]").wait_for()

    down["now"] = True
    sockets[-1].close(code=1012, reason="server restart")
    page.wait_for_selector("[data-testid=live-link]:not([data-state=live])")
    missed = punch(server, staff_token, kind="clock_out")
    assert link.get_attribute("data-state") != "live"
    down["now"] = False
    page.wait_for_selector("[data-testid=live-link][data-state=live]")
    caught = page.locator(
        f"[data-testid=feed-item][data-type='punch.created'][data-user-id={staff_id}]"
    )
    caught.nth(1).wait_for()
    assert caught.count() == 2  # the missed one once, and the first not twice
    assert "replayed" in (caught.first.get_attribute("class") or "")
    assert "下班打卡" in caught.first.inner_text()
    person = page.locator(f"[data-testid=person][data-user-id={staff_id}]")
    assert "下班打卡" in person.inner_text()  # the resumed snapshot moved them to it
    assert missed["kind"] == "clock_out"


def test_on_a_tablet_the_menu_folds_and_nothing_overflows(
    browser: Any, server: Server, built_console: Any
) -> None:
    _, email, _ = new_team(server)
    with desktop(browser, server, width=820) as ctx:  # an iPad held upright
        page = ctx.new_page()
        console_sign_in(page, email)
        page.wait_for_url("**/console/dashboard")
        page.locator("[data-testid=menu-live]").click()
        page.wait_for_url("**/console/live")
        page.wait_for_selector("[data-testid=live-link][data-state=live]")
        assert page.locator("[data-testid=live-map]").bounding_box()["width"] > 600
        assert page.locator("[data-testid=live-feed]").is_visible()
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
        assert page.locator("[data-testid=console-menu]").bounding_box()["width"] < 80  # icons only
