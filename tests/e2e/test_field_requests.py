"""The manager's phone review, second part (issue 17), in a real browser at 390×844: leave and
overtime requests decided on the phone (zh-CN and English, and a request someone else decided
first), a flagged punch's evidence on a small map, and no review tab for staff."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import OFFICE, PASSWORD, Server, phone
from tests.e2e.test_field_app import sign_in
from tests.e2e.test_field_day import _team_with_manager


@pytest.fixture
def english(browser: Any, server: Server) -> Iterator[Any]:
    with phone(browser, server, "en-US") as ctx:
        yield ctx


def _no_tiles(ctx: Any, server: Server) -> None:
    """Nothing but the server answers (tile hosts included): the map must draw on its grid."""
    ctx.route(lambda url: not url.startswith(server.base), lambda route: route.abort())


def _leave_tomorrow(server: Server, token: str, reason: str) -> tuple[dict[str, Any], date]:
    """A one-day annual leave for the org's tomorrow, filed by the staff member themselves."""
    zone = ZoneInfo(server.api("get", "/org")["timezone"])
    day = datetime.now(zone).date() + timedelta(days=1 + len(reason) % 20)
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    made = server.api(
        "post",
        "/requests",
        token=token,
        json={
            "kind": "leave",
            "leave_type": "annual",
            "unit": "day",
            "start": start.isoformat(),
            "end": (start + timedelta(days=1)).isoformat(),
            "reason": reason,
        },
    )
    assert made["status"] == "pending"
    return dict(made), day


def _open_review(page: Any) -> None:
    page.wait_for_selector("[data-testid=tab-review]")
    page.locator("[data-testid=tab-review]").click()
    page.wait_for_url("**/app/review")


def test_a_manager_approves_a_leave_request_on_the_phone(context: Any, server: Server) -> None:
    manager, staff_id, staff_token, _ = _team_with_manager(server, "请假")
    req, day = _leave_tomorrow(server, staff_token, "孩子开家长会")
    page = context.new_page()
    sign_in(page, manager)
    _open_review(page)

    item = page.locator(f"[data-testid=review-request][data-request-id='{req['id']}']")
    item.wait_for()
    text = item.inner_text()
    assert "外勤 小赵" in text and "年假" in text and "孩子开家长会" in text
    span = item.locator("[data-testid=request-span]").inner_text()
    assert f"{day.month}月{day.day}日" in span and "1 天" in span, span

    item.locator("[data-testid=review-comment] textarea").fill("同意，注意交接")
    item.locator("[data-testid=review-approve]").click()
    item.wait_for(state="detached")  # it leaves the queue
    page.wait_for_selector("[data-testid=requests-empty]")
    got = server.api("get", f"/requests/{req['id']}")
    assert got["status"] == "approved" and got["comment"] == "同意，注意交接"
    page.reload()  # gone for good, not only from the page
    page.wait_for_selector("[data-testid=requests-empty]")
    assert page.locator(f"[data-request-id='{req['id']}']").count() == 0
    assert staff_id == got["user_id"]


def test_in_english_a_request_decided_elsewhere_reloads_the_queue(
    english: Any, server: Server
) -> None:
    manager, _, staff_token, _ = _team_with_manager(server, "英文")
    first, day = _leave_tomorrow(server, staff_token, "Family visit")
    second, _ = _leave_tomorrow(server, staff_token, "Moving house, second day")
    page = english.new_page()
    sign_in(page, manager)
    _open_review(page)
    item = page.locator(f"[data-testid=review-request][data-request-id='{first['id']}']")
    item.wait_for()
    assert "Annual leave" in item.inner_text()
    span = item.locator("[data-testid=request-span]").inner_text()
    assert day.strftime("%b") in span and str(day.day) in span and "1 day" in span, span

    # The admin decides the first one while the manager is looking at it.
    server.api("post", f"/requests/{first['id']}/reject", json={"comment": "busy week"})
    item.locator("[data-testid=review-approve]").click()
    notice = page.locator("[data-testid=requests-notice]")
    notice.wait_for()
    assert "already decided" in notice.inner_text()
    item.wait_for(state="detached")
    assert server.api("get", f"/requests/{first['id']}")["status"] == "rejected"  # unchanged

    other = page.locator(f"[data-testid=review-request][data-request-id='{second['id']}']")
    other.locator("[data-testid=review-reject]").click()
    other.wait_for(state="detached")
    assert server.api("get", f"/requests/{second['id']}")["status"] == "rejected"


def _punch(server: Server, token: str, kind: str, at: tuple[float, float]) -> dict[str, Any]:
    return dict(
        server.api(
            "post",
            "/punches",
            token=token,
            json={
                "client_id": str(uuid4()),
                "kind": kind,
                "captured_at": datetime.now(UTC).isoformat(),
                "location": {"lat": at[0], "lon": at[1], "accuracy_m": 20},
            },
        )
    )


def test_a_flagged_punchs_evidence_opens_on_a_small_map(context: Any, server: Server) -> None:
    manager, _, staff_token, _ = _team_with_manager(server, "证据")
    _punch(server, staff_token, "clock_in", OFFICE)
    flagged = _punch(server, staff_token, "clock_out", (31.2600, 121.5300))  # ~3.8 km away
    assert flagged["status"] == "flagged"
    _no_tiles(context, server)
    page = context.new_page()
    scripts: list[str] = []
    page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    sign_in(page, manager)
    _open_review(page)
    item = page.locator(f"[data-testid=review-item][data-punch-id='{flagged['id']}']")
    item.wait_for()
    assert page.locator("[data-testid=evidence-map]").count() == 0  # not on the list itself
    # Leaflet is not part of the app's first load: its chunk comes with the first tap.
    assert scripts and not [u for u in scripts if "EvidenceMap" in u], scripts
    first = page.evaluate(
        "[...document.scripts].map(s => s.src).concat("
        "[...document.querySelectorAll('link[rel=modulepreload]')].map(l => l.href))"
    )
    assert not [u for u in first if "EvidenceMap" in u], first

    item.locator("[data-testid=review-evidence]").click()
    sheet = page.locator("[data-testid=evidence-sheet]")
    sheet.locator("[data-testid=evidence-map]").wait_for()
    assert [u for u in scripts if "EvidenceMap" in u], scripts
    sheet.locator("[data-testid=evidence-this]").wait_for()
    sheet.locator("[data-testid=evidence-previous]").wait_for()
    assert (
        sheet.locator("[data-testid=evidence-this], [data-testid=evidence-previous]").count() == 2
    )

    anomaly_id = server.api("get", "/anomalies", params={"status": "open", "limit": 500})["items"]
    anomaly = next(a for a in anomaly_id if a["punch_id"] == flagged["id"])
    leg = server.api("get", f"/anomalies/{anomaly['id']}")["leg"]
    assert leg is not None
    distance = sheet.locator("[data-testid=evidence-distance]").inner_text()
    assert distance == f"{leg['distance_m'] / 1000:.1f} 公里", (distance, leg)
    assert "陆家嘴办公室" in sheet.locator("[data-testid=evidence-place]").inner_text()
    assert "公里/小时" in sheet.locator("[data-testid=evidence-speed]").inner_text()
    # Both markers sit inside the map's box: drawn, not off-screen or collapsed.
    box = sheet.locator("[data-testid=evidence-map]").bounding_box()
    assert box and box["height"] >= 200 and box["width"] >= 300
    for testid in ("evidence-this", "evidence-previous"):
        pin = sheet.locator(f"[data-testid={testid}]").bounding_box()
        assert pin and box["x"] <= pin["x"] <= box["x"] + box["width"]
        assert box["y"] <= pin["y"] <= box["y"] + box["height"]


def test_staff_have_no_review_tab(context: Any, server: Server) -> None:
    email, _, token = server.new_staff("外勤 小李")
    _leave_tomorrow(server, token, "看牙医")
    page = context.new_page()
    sign_in(page, email, PASSWORD)
    page.wait_for_selector("[data-testid=tab-me]")
    assert page.locator("[data-testid=tab-review]").count() == 0
    page.goto("/app/review")
    page.wait_for_url("**/app/")  # the route itself is refused
    assert page.locator("[data-testid=review-requests]").count() == 0


def test_staff_file_leave_on_the_phone_see_it_decided_and_withdraw_one(
    context: Any, browser: Any, server: Server
) -> None:
    manager, staff_id, _, _ = _team_with_manager(server, "自助")
    email = server.api("get", f"/users/{staff_id}")["email"]
    zone = ZoneInfo(server.api("get", "/org")["timezone"])
    day = datetime.now(zone).date() + timedelta(days=3)

    page = context.new_page()
    sign_in(page, email)
    page.locator("[data-testid=tab-me]").click()
    page.locator("[data-testid=request-open]").click()
    page.locator("[data-testid=request-kind]").select_option("leave")
    page.locator("[data-testid=request-leave-type]").select_option("sick")
    page.locator("[data-testid=request-from]").fill(day.isoformat())
    page.locator("[data-testid=request-to]").fill(day.isoformat())
    page.locator("[data-testid=request-reason]").fill("发烧，去医院")
    page.locator("[data-testid=request-submit]").click()
    page.wait_for_selector("[data-testid=request-sent]")
    mine = page.locator("[data-testid=my-request][data-status=pending]")
    mine.wait_for()
    assert "病假" in mine.inner_text() and "审批中" in mine.inner_text()
    filed = server.api("get", "/requests", params={"user_id": staff_id})["items"]
    assert len(filed) == 1 and filed[0]["leave_type"] == "sick"
    start = datetime.fromisoformat(filed[0]["start"]).astimezone(zone)
    assert (start.date(), start.hour) == (day, 0)  # the org's local midnight

    # The manager approves it on their phone; the staff member sees it approved.
    with phone(browser, server, "zh-CN") as boss:
        p = boss.new_page()
        sign_in(p, manager)
        _open_review(p)
        item = p.locator(f"[data-testid=review-request][data-request-id='{filed[0]['id']}']")
        item.locator("[data-testid=review-approve]").click()
        item.wait_for(state="detached")
    page.reload()
    page.wait_for_selector(f"[data-request-id='{filed[0]['id']}'][data-status=approved]")

    # An overtime request filed and then withdrawn while still pending.
    page.locator("[data-testid=request-open]").click()
    page.locator("[data-testid=request-kind]").select_option("overtime")
    # The same day first: it overlaps the approved leave, and the form says so.
    page.locator("[data-testid=request-from]").fill(day.isoformat())
    page.locator("[data-testid=request-start-time]").fill("19:00")
    page.locator("[data-testid=request-end-time]").fill("21:30")
    page.locator("[data-testid=request-reason]").fill("版本上线")
    page.locator("[data-testid=request-submit]").click()
    error = page.locator("[data-testid=request-error]")
    error.wait_for()
    assert "已批准的申请时间重叠" in error.inner_text()
    page.locator("[data-testid=request-from]").fill((day + timedelta(days=1)).isoformat())
    page.locator("[data-testid=request-start-time]").fill("19:00")
    page.locator("[data-testid=request-end-time]").fill("21:30")
    page.locator("[data-testid=request-reason]").fill("版本上线")
    page.locator("[data-testid=request-submit]").click()
    pending = page.locator("[data-testid=my-request][data-status=pending]")
    pending.wait_for()
    assert "2.5 小时" in pending.inner_text()
    pending.locator("[data-testid=request-cancel]").click()
    page.wait_for_selector("[data-testid=my-request][data-status=cancelled]")
    got = server.api("get", "/requests", params={"user_id": staff_id, "kind": "overtime"})
    assert [r["status"] for r in got["items"]] == ["cancelled"]
