"""The field sales day in a real browser (issue 15), at 390×844 in zh-CN: today's plan in time
order, one tap to check in at the planned customer, the visit form at check-out (a required
field holds it back), the visit done on the server with its duration and answers; an unplanned
visit from the nearby customers; a check-in and check-out made offline that arrive once; my
tasks; a manager's team today; the visits tab in English."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from tests.e2e.conftest import CUSTOMER_AT, Server
from tests.e2e.test_field_app import confirm_quick_punch, my_punches, sign_in, wait_queue

ROOT = Path(__file__).resolve().parents[2]
SHOT = ROOT / "docs" / "img" / "field-visits.png"
FORM = [
    {"key": "contact", "label": "接待人", "type": "text", "required": True},
    {"key": "qty", "label": "订货数量（箱）", "type": "number"},
    {"key": "stock", "label": "库存情况", "type": "choice", "options": ["充足", "偏少", "缺货"]},
]
OUTCOMES = [{"key": "order", "label": "已下单"}, {"key": "follow_up", "label": "需再跟进"}]
# The server pairs visit punches with visits in a job every 5 s.
PAIRED_WITHIN_S = 30


@pytest.fixture
def visit_form(server: Server) -> Iterator[None]:
    """The org's visit form and outcomes for this test only (the server is shared)."""
    before_form = server.api("get", "/visit-form")["fields"]
    before_outcomes = server.api("get", "/visit-outcomes")["outcomes"]
    server.api("put", "/visit-form", json={"fields": FORM})
    server.api("put", "/visit-outcomes", json={"outcomes": OUTCOMES})
    try:
        yield
    finally:
        server.api("put", "/visit-form", json={"fields": before_form})
        server.api("put", "/visit-outcomes", json={"outcomes": before_outcomes})


def _today_at(server: Server, hour: int) -> str:
    """`hour`:00 today in the org's zone: a plan with a start and no end is due by midnight,
    so it stays planned whatever the hour of the run."""
    tz = ZoneInfo(server.api("get", "/org")["timezone"])
    return (
        datetime.combine(datetime.now(tz).date(), datetime.min.time(), tz)
        .replace(hour=hour)
        .isoformat()
    )


def _eventually(check: Callable[[], Any], what: str, timeout: float = PAIRED_WITHIN_S) -> Any:
    """Poll the server until `check` answers (the visit follower is a periodic job)."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.25)


def _visit(server: Server, visit_id: str, state: str) -> dict[str, Any]:
    return _eventually(
        lambda: (v := server.api("get", f"/visits/{visit_id}")) and v["state"] == state and v,
        f"visit {visit_id} {state}",
    )


def _far_customer(server: Server) -> dict[str, Any]:
    [far] = [
        c for c in server.api("get", "/customers", params={"limit": 500})["items"]
        if c["name"] == "远方客户"
    ]  # fmt: skip
    return far


def _at_customer(context: Any) -> None:
    context.set_geolocation(
        {"latitude": CUSTOMER_AT[0], "longitude": CUSTOMER_AT[1], "accuracy": 10}
    )


def test_todays_plan_check_in_with_one_tap_and_check_out_with_the_form(
    context: Any, server: Server, visit_form: None, tmp_path: Path
) -> None:
    email, user_id, _ = server.new_staff("销售 小周")
    far = _far_customer(server)
    # Planned out of order: the later one first. The app lists them by time.
    later = server.api(
        "post", "/visits",
        json={"customer_id": far["id"], "user_id": user_id,
              "planned_start": _today_at(server, 9), "purpose": "回访"},
    )  # fmt: skip
    first = server.api(
        "post", "/visits",
        json={"customer_id": server.customer["id"], "user_id": user_id,
              "planned_start": _today_at(server, 8), "purpose": "送样品"},
    )  # fmt: skip
    _at_customer(context)
    page = context.new_page()
    sign_in(page, email)

    page.locator("[data-testid=tab-today]").click()
    rows = page.locator("[data-testid=plan-row]")
    rows.nth(1).wait_for()
    assert [rows.nth(i).get_attribute("data-visit-id") for i in range(2)] == [
        first["id"],
        later["id"],
    ]
    row = rows.first
    assert "华东精密仪器" in row.inner_text() and "08:00" in row.inner_text()
    assert row.get_attribute("data-state") == "planned"
    assert "待拜访" in row.locator("[data-testid=plan-state]").inner_text()
    assert "就在附近" in row.inner_text()  # we stand inside its fence
    assert "公里" in rows.nth(1).locator("[data-testid=plan-distance]").inner_text()
    page.evaluate("document.fonts.ready")
    shot = tmp_path / "field-visits.png"
    page.screenshot(path=str(shot))
    if os.environ.get("FIELDPUNCH_UPDATE_SCREENSHOT") == "1":
        with Image.open(shot) as img:
            img.resize((390, 844), Image.Resampling.LANCZOS).save(SHOT, optimize=True)

    # One tap: a signed visit_in naming the plan, at the planned customer.
    row.locator("[data-testid=plan-check-in]").click()
    page.wait_for_selector("[data-testid=verdict][data-status=accepted]")
    page.wait_for_selector(
        f"[data-testid=plan-row][data-visit-id={first['id']}][data-state=in_progress]"
    )
    [visit_in] = my_punches(server, user_id)
    assert visit_in["kind"] == "visit_in" and visit_in["signature_ok"] is True
    assert visit_in["customer"]["id"] == server.customer["id"]
    assert visit_in["visit_id"] == first["id"]
    _visit(server, first["id"], "in_progress")

    # Check-out opens the form; the required field holds it back until it is filled.
    page.locator(f"[data-visit-id={first['id']}] [data-testid=plan-check-out]").click()
    page.wait_for_selector("[data-testid=visit-form]")
    submit = page.locator("[data-testid=visit-submit][data-kind=visit_out]")
    assert submit.get_attribute("data-blocked") == "true"
    submit.click()
    assert "还有 1 项必填内容" in page.inner_text("[data-testid=form-missing]")
    assert "请填写“接待人”" in page.inner_text("[data-testid=form-problem]")
    assert [p["kind"] for p in my_punches(server, user_id)] == ["visit_in"]  # nothing sent

    page.locator("[data-key=contact] input").fill("王经理")
    page.locator("[data-key=qty] input").fill("１２")  # full-width digits, as phones type them
    page.locator("[data-key=stock] [data-option=偏少]").click()
    page.locator("[data-testid=form-outcome] [data-outcome=order]").click()
    follow_up = (date.today() + timedelta(days=7)).isoformat()
    page.locator("[data-testid=form-follow-up]").fill(follow_up)
    page.locator("[data-testid=visit-note] textarea").fill("样品已送到，下周回访。")
    assert submit.get_attribute("data-blocked") == "false"
    submit.click()
    confirm_quick_punch(page)  # a check-out within a minute of the check-in asks first
    page.wait_for_selector("[data-testid=verdict][data-status]:not([data-status=queued])")

    done = _visit(server, first["id"], "done")
    assert done["duration_min"] is not None and done["duration_min"] >= 0
    assert done["ended_at"] and done["out_punch_id"]
    done = _eventually(
        lambda: (v := server.api("get", f"/visits/{first['id']}"))["answers"] and v,
        "the form's answers on the visit",
    )
    assert done["answers"] == {"contact": "王经理", "qty": 12, "stock": "偏少"}
    assert done["outcome"] == "order" and done["next_follow_up"] == follow_up
    assert done["note"] == "样品已送到，下周回访。"
    assert len(my_punches(server, user_id)) == 2

    # Back on today's plan: done, with its duration; the later visit still to do.
    page.locator("[data-testid=tab-today]").click()
    done_row = page.wait_for_selector(f"[data-visit-id={first['id']}][data-state=done]")
    assert "已完成" in done_row.inner_text() and "用时" in done_row.inner_text()
    page.wait_for_selector("[data-testid=records-pending]", state="detached")
    assert rows.nth(1).get_attribute("data-state") == "planned"


def test_an_unplanned_visit_from_the_nearby_customers(context: Any, server: Server) -> None:
    email, user_id, _ = server.new_staff("销售 小吴")
    _at_customer(context)
    page = context.new_page()
    sign_in(page, email)
    page.locator("[data-testid=tab-today]").click()
    page.wait_for_selector("[data-testid=today-empty]")
    page.locator("[data-testid=today-unplanned]").click()
    rows = page.locator("[data-testid=customer-row]")
    rows.first.wait_for()
    assert rows.first.get_attribute("data-customer-id") == server.customer["id"]  # the nearest
    page.locator("[data-testid=customer-search] input").fill("精密")
    page.wait_for_selector("[data-testid=customer-row] >> nth=0")
    assert rows.count() == 1
    rows.first.click()
    page.locator("[data-testid=visit-submit][data-kind=visit_in]").click()
    page.wait_for_selector("[data-testid=verdict][data-status=accepted]")

    page.locator("[data-testid=tab-today]").click()
    row = page.wait_for_selector("[data-testid=plan-row][data-state=in_progress]")
    assert "计划外" in row.inner_text() and "华东精密仪器" in row.inner_text()
    [visit_in] = my_punches(server, user_id)
    visits = _eventually(
        lambda: server.api("get", "/visits", params={"user_id": user_id})["items"],
        "the unplanned visit",
    )
    assert [(v["planned"], v["state"], v["in_punch_id"]) for v in visits] == [
        (False, "in_progress", visit_in["id"])
    ]


def test_offline_check_in_and_out_arrive_once_with_the_form(
    context: Any, server: Server, visit_form: None
) -> None:
    email, user_id, _ = server.new_staff("销售 小郑")
    planned = server.api(
        "post", "/visits",
        json={"customer_id": server.customer["id"], "user_id": user_id,
              "planned_start": _today_at(server, 8)},
    )  # fmt: skip
    _at_customer(context)
    page = context.new_page()
    sign_in(page, email)
    page.locator("[data-testid=tab-today]").click()
    page.wait_for_selector(f"[data-visit-id={planned['id']}][data-state=planned]")
    page.wait_for_function("navigator.serviceWorker.controller !== null")

    context.set_offline(True)
    page.wait_for_selector("[data-testid=online-status][data-online=false]")
    page.locator("[data-testid=plan-check-in]").click()
    page.wait_for_selector("[data-testid=verdict][data-status=queued]")
    row = f"[data-visit-id={planned['id']}]"
    page.wait_for_selector(f"{row}[data-state=in_progress]")  # the phone knows before the server
    page.locator(f"{row} [data-testid=plan-check-out]").click()
    page.wait_for_selector("[data-testid=visit-form]")  # the form, cached, offline
    page.locator("[data-key=contact] input").fill("李主任")
    page.locator("[data-testid=form-outcome] [data-outcome=follow_up]").click()
    page.locator("[data-testid=visit-submit][data-kind=visit_out]").click()
    confirm_quick_punch(page)
    wait_queue(page, 2)
    page.locator("[data-testid=tab-today]").click()
    page.wait_for_selector(f"{row}[data-state=done]")
    assert "1 份拜访记录待上传" in page.inner_text("[data-testid=records-pending]")
    assert my_punches(server, user_id) == []

    context.set_offline(False)
    wait_queue(page, 0)
    page.wait_for_selector("[data-testid=records-pending]", state="detached", timeout=60_000)
    done = _visit(server, planned["id"], "done")
    assert done["answers"] == {"contact": "李主任"} and done["outcome"] == "follow_up"
    assert done["duration_min"] is not None
    punches = my_punches(server, user_id)
    assert [p["kind"] for p in punches] == ["visit_in", "visit_out"]
    assert all(
        p["offline"] and p["signature_ok"] and p["visit_id"] == planned["id"] for p in punches
    )

    # A reload sends nothing again.
    page.reload()
    page.wait_for_selector(f"{row}[data-state=done]")
    wait_queue(page, 0)
    assert len(my_punches(server, user_id)) == 2
    assert len(server.api("get", "/visits", params={"user_id": user_id})["items"]) == 1


def test_my_tasks_marked_done_with_a_comment(context: Any, server: Server) -> None:
    email, user_id, _ = server.new_staff("销售 小钱")
    tz = ZoneInfo(server.api("get", "/org")["timezone"])
    overdue = datetime.now(tz) - timedelta(days=1)
    task = server.api(
        "post", "/tasks",
        json={"title": "给华东精密仪器送报价单", "customer_id": server.customer["id"],
              "assignee_id": user_id, "due": overdue.isoformat(), "priority": "high"},
    )  # fmt: skip
    server.api("post", "/tasks", json={"title": "整理样品", "assignee_id": user_id})
    page = context.new_page()
    sign_in(page, email)
    page.locator("[data-testid=tab-today]").click()
    page.wait_for_selector("[data-testid=due-task]:has-text('给华东精密仪器送报价单')")
    page.locator("[data-testid=all-tasks]").click()
    rows = page.locator("[data-testid=task]")
    rows.nth(1).wait_for()
    first = rows.first
    assert first.get_attribute("data-task-id") == task["id"]  # overdue first
    text = first.inner_text()
    assert "已逾期" in text and "高" in text and "华东精密仪器" in text
    first.locator("button.head").click()
    first.locator("[data-testid=task-comment] textarea").fill("报价单已发邮件")
    first.locator("[data-testid=task-send]").click()
    page.wait_for_selector("[data-testid=task-comments] li:has-text('报价单已发邮件')")
    first.locator("[data-testid=task-done]").click()
    page.wait_for_selector(f"[data-testid=task][data-task-id={task['id']}]", state="detached")
    assert rows.count() == 1
    stored = server.api("get", f"/tasks/{task['id']}")
    assert stored["status"] == "done" and stored["completed_at"]
    comments = server.api("get", f"/tasks/{task['id']}/comments")["items"]
    assert [c["body"] for c in comments] == ["报价单已发邮件"]


def test_a_manager_sees_the_team_today(context: Any, server: Server) -> None:
    from tests.e2e.test_field_day import _flagged_punch, _team_with_manager

    manager, staff_id, staff_token, _ = _team_with_manager(server, "三")
    _flagged_punch(server, staff_token)  # clocked in 3 km from the office
    page = context.new_page()
    sign_in(page, manager)
    page.locator("[data-testid=tab-review]").click()
    row = page.wait_for_selector(f"[data-testid=team-row][data-user-id={staff_id}]")
    assert row.get_attribute("data-state") in ("working", "late")
    text = row.inner_text()
    assert "外勤 小赵" in text and "上班" in text and "范围外打卡" in text
    assert "已打卡 1/1 人" in page.inner_text("[data-testid=team-summary]")


def test_the_visits_tab_in_english(browser: Any, server: Server, visit_form: None) -> None:
    from tests.e2e.conftest import phone

    email, user_id, _ = server.new_staff("Rep Zhou")
    planned = server.api(
        "post",
        "/visits",
        json={"customer_id": server.customer["id"], "user_id": user_id,
              "planned_start": _today_at(server, 8)},
    )  # fmt: skip
    with phone(browser, server, "en-US") as english:
        _at_customer(english)
        page = english.new_page()
        sign_in(page, email)
        page.locator("[data-testid=tab-today]").click()
        row = page.wait_for_selector(f"[data-visit-id={planned['id']}][data-state=planned]")
        assert "Planned" in row.inner_text() and "You are here" in row.inner_text()
        assert "Today's visits" in page.inner_text("[data-testid=today-plan]")
        page.locator("[data-testid=plan-check-in]").click()
        page.wait_for_selector(f"[data-visit-id={planned['id']}][data-state=in_progress]")
        assert "In progress" in page.inner_text(f"[data-visit-id={planned['id']}]")
        page.locator("[data-testid=plan-check-out]").click()
        page.locator("[data-testid=visit-submit][data-kind=visit_out]").click()
        assert "Fill in the 1 required field to check out" in page.inner_text(
            "[data-testid=form-missing]"
        )
        assert "“接待人” is required" in page.inner_text("[data-testid=form-problem]")
        assert [p["kind"] for p in my_punches(server, user_id)] == ["visit_in"]
