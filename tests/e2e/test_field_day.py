"""The field app's second pass in a real browser (issue 17), at 390×844 in zh-CN and English:
out of range before the tap (and a note when the org asks), a finished day, sign-in by phone,
and the app's JS sent compressed."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.e2e.conftest import OFFICE, PASSWORD, Server, phone
from tests.e2e.test_field_app import READY, UPDATE_OUT, confirm_quick_punch, my_punches, sign_in

ROOT = Path(__file__).resolve().parents[2]
OUT_OF_RANGE_SHOT = ROOT / "docs" / "img" / "out-of-range-390x844.png"
# 300 m north of the office's centre: 150 m outside its 150 m fence (1° of latitude ≈ 111.2 km).
OUTSIDE = (OFFICE[0] + 300 / 111_195, OFFICE[1])


@pytest.fixture
def english(browser: Any, server: Server) -> Iterator[Any]:
    """The `context` fixture's phone, with an English browser."""
    with phone(browser, server, "en-US") as ctx:
        yield ctx


@pytest.fixture
def note_required(server: Server) -> Iterator[None]:
    """The org asks for a note with a field punch, for this test only (the server is shared)."""
    server.api("patch", "/org", json={"field_punch_note_required": True})
    try:
        yield
    finally:
        server.api("patch", "/org", json={"field_punch_note_required": False})


def _outside(context: Any) -> None:
    context.set_geolocation({"latitude": OUTSIDE[0], "longitude": OUTSIDE[1], "accuracy": 15})


def test_out_of_range_shows_before_the_tap_and_asks_for_a_note(
    context: Any, server: Server, note_required: None, tmp_path: Path
) -> None:
    email, user_id, _ = server.new_staff("外勤 小陈")
    _outside(context)
    page = context.new_page()
    sign_in(page, email)

    # Before any tap: an orange 外勤打卡 with the distance, and why, under the button.
    button = page.wait_for_selector(f"{READY}[data-field=true]")
    assert button.get_attribute("data-kind") == "clock_in"
    text = button.inner_text()
    assert "外勤打卡" in text and "超出范围 150 米" in text
    hint = page.wait_for_selector("[data-testid=field-hint]").inner_text()
    assert "不在陆家嘴办公室打卡范围内（相距 150 米）" in hint and "填写备注" in hint
    color = button.evaluate("(b) => getComputedStyle(b).backgroundImage")
    assert "240, 138, 28" in color  # the orange of a field punch, not the blue of a normal one
    page.evaluate("document.fonts.ready")
    shot = tmp_path / "out-of-range.png"
    page.screenshot(path=str(shot))
    if os.environ.get("FIELDPUNCH_UPDATE_SCREENSHOT") == "1":
        with Image.open(shot) as img:
            img.resize((390, 844), Image.Resampling.LANCZOS).save(OUT_OF_RANGE_SHOT, optimize=True)

    # The tap asks for the note first; nothing is sent until it is given.
    button.click()
    sheet = page.wait_for_selector("[data-testid=field-sheet]")
    assert "相距 150 米" in sheet.inner_text()
    submit = page.locator("[data-testid=field-submit]")
    assert submit.is_disabled()
    assert my_punches(server, user_id) == []
    page.locator("[data-testid=field-note] textarea").fill("在华东精密仪器安装设备")
    assert "确认上班打卡" in submit.inner_text()
    submit.click()
    verdict = page.wait_for_selector("[data-testid=verdict][data-status=flagged]")
    assert "需主管复核" in verdict.inner_text() and "距打卡范围 150 米" in verdict.inner_text()
    [stored] = my_punches(server, user_id)
    assert stored["kind"] == "clock_in" and stored["note"] == "在华东精密仪器安装设备"
    assert [a["rule"] for a in stored["anomalies"]] == ["outside_geofence"]

    # Back inside the fence: one tap again, no sheet.
    context.set_geolocation({"latitude": OFFICE[0], "longitude": OFFICE[1], "accuracy": 15})
    page.wait_for_selector(f"{READY}[data-field=false][data-kind=clock_out]")
    page.locator(READY).click()
    confirm_quick_punch(page)
    page.wait_for_selector("[data-testid=verdict][data-status=accepted]")
    assert page.locator("[data-testid=field-sheet]").is_hidden()
    assert [p["kind"] for p in my_punches(server, user_id)] == ["clock_in", "clock_out"]


def test_out_of_range_in_english_is_one_tap_when_nothing_is_required(
    english: Any, server: Server
) -> None:
    email, user_id, _ = server.new_staff("Field Chen")
    _outside(english)
    page = english.new_page()
    sign_in(page, email)
    button = page.wait_for_selector(f"{READY}[data-field=true]")
    assert "Field punch" in button.inner_text() and "150 m out of range" in button.inner_text()
    assert "Outside the 陆家嘴办公室 area (by 150 m)" in page.inner_text("[data-testid=field-hint]")
    button.click()  # the org asks for nothing: no sheet
    verdict = page.wait_for_selector("[data-testid=verdict][data-status=flagged]")
    assert "a manager will review it" in verdict.inner_text()
    assert "150 m from the allowed area" in verdict.inner_text()
    assert [p["kind"] for p in my_punches(server, user_id)] == ["clock_in"]


def _clock_in_and_out(page: Any) -> None:
    page.locator(f"{READY}[data-kind=clock_in]").click()
    page.wait_for_selector("[data-testid=verdict][data-status=accepted]")
    page.locator(f"{READY}[data-kind=clock_out]").click()
    confirm_quick_punch(page)  # a clock-out seconds after the clock-in asks first
    page.wait_for_selector("[data-testid=day-done]")


def test_after_clock_out_the_day_is_done(context: Any, server: Server) -> None:
    email, user_id, _ = server.new_staff()
    page = context.new_page()
    sign_in(page, email)
    _clock_in_and_out(page)

    # The success card leads, with the time and the place, its button clear of the tab bar.
    verdict = page.wait_for_selector("[data-testid=verdict][data-status=accepted]")
    assert "打卡成功" in verdict.inner_text() and "陆家嘴办公室" in verdict.inner_text()
    dismiss = page.locator("[data-testid=verdict-dismiss]").bounding_box()
    tabbar = page.locator(".van-tabbar").bounding_box()
    assert dismiss["y"] + dismiss["height"] <= tabbar["y"]
    # Technical detail (trusted time) one tap away, not on the card.
    assert "可信时间" not in verdict.inner_text()
    page.locator("[data-testid=verdict-details-toggle]").click()
    assert "可信时间" in page.inner_text("[data-testid=verdict-details]")

    done = page.locator("[data-testid=day-done]")
    assert "今日打卡已完成" in done.inner_text()
    assert page.locator("[data-testid=punch-button]").count() == 0  # no second clock-in offered
    summary = page.inner_text("[data-testid=day-summary]")
    assert "上班打卡" in summary and "下班打卡" in summary

    # A reload rebuilds the day from GET /punches.
    page.reload()
    page.wait_for_selector("[data-testid=day-done]:has-text('今日打卡已完成')")
    # The clock-out may be updated; the day stays done, and only clock-outs were added.
    # (Seconds after the first, the server calls it a duplicate; hours later it would not.)
    page.locator(UPDATE_OUT).click()
    page.wait_for_selector("[data-testid=verdict][data-status=accepted], [data-status=flagged]")
    page.wait_for_selector("[data-testid=day-done]")
    kinds = [p["kind"] for p in my_punches(server, user_id)]
    assert kinds == ["clock_in", "clock_out", "clock_out"]


def test_after_clock_out_the_day_is_done_in_english(english: Any, server: Server) -> None:
    email, _, _ = server.new_staff()
    page = english.new_page()
    sign_in(page, email)
    _clock_in_and_out(page)
    assert "Clocked out" in page.inner_text("[data-testid=verdict]")
    page.wait_for_selector("[data-testid=day-done]:has-text('Done for today')")
    assert "Update clock-out" in page.inner_text("[data-testid=update-clock-out]")


def test_sign_in_with_a_phone_number(context: Any, english: Any, server: Server) -> None:
    mobile = "137" + "".join(secrets.choice("0123456789") for _ in range(8))
    email = f"phone.{secrets.token_hex(4)}@example.com"
    user = server.api(
        "post",
        "/users",
        json={
            "email": email,
            "name": "手机 登录",
            "role": "staff",
            "password": PASSWORD,
            "phone": mobile,
        },
    )
    page = context.new_page()
    page.goto("/app/")
    page.wait_for_url("**/app/login")
    assert "手机号或邮箱" in page.inner_text("[data-testid=login-email]")
    # Typed the way people say it: +86, spaces, a dash.
    sign_in(page, f"+86 {mobile[:3]} {mobile[3:7]}-{mobile[7:]}")
    me = page.evaluate("() => JSON.parse(localStorage.getItem('fieldpunch.me') || 'null')")
    assert me["user_id"] == user["id"]

    page = english.new_page()
    page.goto("/app/")
    page.wait_for_url("**/app/login")
    assert "Phone or email" in page.inner_text("[data-testid=login-email]")
    sign_in(page, mobile)


def test_the_apps_js_arrives_compressed(context: Any, server: Server) -> None:
    page = context.new_page()
    scripts: list[Any] = []
    page.on(
        "response",
        lambda r: scripts.append(r) if "/app/assets/" in r.url and r.url.endswith(".js") else None,
    )
    page.goto("/app/")
    page.wait_for_selector("[data-testid=login-submit]")
    assert scripts, "the app's JS was not loaded"
    for response in scripts:
        headers = response.all_headers()
        assert headers.get("content-encoding") in ("br", "gzip"), headers
        assert "accept-encoding" in headers.get("vary", "").lower()
        assert "immutable" in headers["cache-control"]


def _team_with_manager(server: Server, tag: str) -> tuple[str, str, str, str]:
    """A team, its manager and one staff member: (manager email, staff id, staff token, team)."""
    team = server.api("post", "/teams", json={"name": f"外勤{tag}组 {secrets.token_hex(2)}"})
    manager = f"manager.{secrets.token_hex(4)}@example.com"
    server.api(
        "post",
        "/users",
        json={
            "email": manager,
            "name": "主管 老周",
            "role": "manager",
            "password": PASSWORD,
            "managed_team_ids": [team["id"]],
        },
    )
    staff = f"staff.{secrets.token_hex(4)}@example.com"
    made = server.api(
        "post",
        "/users",
        json={
            "email": staff,
            "name": "外勤 小赵",
            "role": "staff",
            "password": PASSWORD,
            "team_id": team["id"],
        },
    )
    return manager, made["id"], server.login(staff), team["id"]


def _flagged_punch(server: Server, token: str) -> dict[str, Any]:
    """A clock-in 3 km from the office, sent straight to the API: flagged outside_geofence."""
    from datetime import UTC, datetime
    from uuid import uuid4

    punch = server.api(
        "post",
        "/punches",
        token=token,
        json={
            "client_id": str(uuid4()),
            "kind": "clock_in",
            "captured_at": datetime.now(UTC).isoformat(),
            "location": {"lat": 31.2600, "lon": 121.5300, "accuracy_m": 20},
        },
    )
    assert punch["status"] == "flagged"
    return dict(punch)


REVIEW_SHOT = ROOT / "docs" / "img" / "review-390x844.png"


def test_a_manager_approves_a_flagged_punch_from_the_phone(
    context: Any, server: Server, tmp_path: Path
) -> None:
    manager, staff_id, staff_token, _ = _team_with_manager(server, "一")
    punch = _flagged_punch(server, staff_token)
    page = context.new_page()
    sign_in(page, manager)

    # The manager's tab, with what waits as its badge; staff never see it.
    page.wait_for_selector("[data-testid=tab-review][data-badge='1']")
    page.locator("[data-testid=tab-review]").click()
    item = page.locator(f"[data-testid=review-item][data-punch-id='{punch['id']}']")
    item.wait_for()
    text = item.inner_text()
    assert "外勤 小赵" in text and "不在打卡范围内" in text and "距打卡范围" in text
    page.evaluate("document.fonts.ready")
    shot = tmp_path / "review.png"
    page.screenshot(path=str(shot))
    if os.environ.get("FIELDPUNCH_UPDATE_SCREENSHOT") == "1":
        with Image.open(shot) as img:
            img.resize((390, 844), Image.Resampling.LANCZOS).save(REVIEW_SHOT, optimize=True)

    item.locator("[data-testid=review-comment] textarea").fill("在客户处，已电话确认")
    item.locator("[data-testid=review-approve]").click()
    item.wait_for(state="detached")  # it leaves the queue
    page.wait_for_selector("[data-testid=review-empty]")
    page.wait_for_selector("[data-testid=tab-review][data-badge='0']")
    anomalies = server.api("get", "/anomalies", params={"user_id": staff_id})["items"]
    assert anomalies and all(a["status"] == "approved" for a in anomalies)
    assert {a["comment"] for a in anomalies} == {"在客户处，已电话确认"}
    assert server.api("get", f"/punches/{punch['id']}")["status"] == "approved"
    page.reload()  # gone for good, not just from the page
    page.wait_for_selector("[data-testid=review-empty]")


def test_a_manager_decides_in_english_and_staff_have_no_review_tab(
    english: Any, server: Server
) -> None:
    manager, staff_id, staff_token, _ = _team_with_manager(server, "二")
    punch = _flagged_punch(server, staff_token)
    page = english.new_page()
    sign_in(page, manager)
    page.locator("[data-testid=tab-review]:has-text('Approvals')").click()
    item = page.locator(f"[data-testid=review-item][data-punch-id='{punch['id']}']")
    assert "Outside the allowed area" in item.inner_text()
    item.locator("[data-testid=review-reject]").click()
    item.wait_for(state="detached")
    assert server.api("get", f"/punches/{punch['id']}")["status"] == "rejected"

    # The staff member, on their own phone: no review tab, and the route refuses them.
    email = server.api("get", f"/users/{staff_id}")["email"]
    other = english.browser.new_context(
        base_url=server.base, viewport={"width": 390, "height": 844}, locale="en-US"
    )
    try:
        p = other.new_page()
        p.goto("/app/")
        p.locator("[data-testid=login-email] input").fill(email)
        p.locator("[data-testid=login-password] input").fill(PASSWORD)
        p.locator("[data-testid=login-submit]").click()
        p.wait_for_selector("[data-testid=tab-me]")
        assert p.locator("[data-testid=tab-review]").count() == 0
        p.goto("/app/review")
        p.wait_for_url("**/app/")  # the route itself is refused, not only the tab hidden
    finally:
        other.close()
