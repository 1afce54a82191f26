"""The console's attendance rules in a real browser against a real server: a shift with two
periods (a refused value shown at its field), a fixed attendance group on it with a person,
edited; the holiday calendar loaded with China's holidays for a year, a day set and saved.
Each result is checked through the API too."""

from __future__ import annotations

import secrets
from typing import Any

from tests.e2e.conftest import Server
from tests.e2e.test_console import console_sign_in

ADMIN = "admin@e2e.example.com"
YEAR = 2024  # a past year: the other tests' days (this month) keep their calendar
HOLIDAY_ROSE = "rgb(214, 51, 108)"  # lib/attendance.ts: holiday
WORKDAY_BLUE = "rgb(21, 97, 212)"  # pages/holidays: a make-up workday


def _field(page: Any, testid: str) -> Any:
    """An Element Plus input by its test id (on the input itself, or on its wrapper)."""
    t = testid
    return page.locator(f"input[data-testid={t}], [data-testid={t}] input").first


def _time(page: Any, testid: str, hhmm: str) -> None:
    """Type a time into an Element Plus time picker and take it with Enter."""
    box = _field(page, testid)
    box.click()
    box.fill(hhmm)
    box.press("Enter")
    assert box.input_value() == hhmm


def _number(page: Any, testid: str, value: int) -> None:
    box = _field(page, testid)
    box.fill(str(value))
    box.press("Tab")  # taken on blur


def _choose(page: Any, testid: str, text: str) -> None:
    """Pick the option of an Element Plus (filterable) select whose label contains `text`."""
    page.locator(f"[data-testid={testid}]").click()
    page.keyboard.type(text)
    page.locator(".el-select-dropdown__item:visible", has_text=text).first.click()


def _open(page: Any, name: str) -> None:
    page.locator(f"[data-testid=menu-{name}]").click()
    page.wait_for_url(f"**/console/{name}**")


def test_an_admin_sets_up_a_two_period_shift_and_a_fixed_group_with_a_person(
    console: Any, server: Server
) -> None:
    tag = secrets.token_hex(3)
    person_name = f"考勤 张敏 {tag}"
    _, person_id, _ = server.new_staff(person_name)
    page = console.new_page()
    errors: list[Any] = []
    page.on("pageerror", lambda e: errors.append(e))
    console_sign_in(page, ADMIN)
    page.wait_for_url("**/console/dashboard")

    # A shift of two periods; a serious-late threshold under the grace is refused at its field.
    _open(page, "shifts")
    page.locator("[data-testid=shift-new]").click()
    shift_name = f"两头班 {tag}"
    _field(page, "shift-name").fill(shift_name)
    _time(page, "shift-period-0-end", "12:00")
    page.locator("[data-testid=shift-period-add]").click()
    _time(page, "shift-period-1-start", "13:30")
    _time(page, "shift-period-1-end", "18:00")
    _number(page, "shift-grace-late", 5)
    _number(page, "shift-serious-late", 3)
    page.locator("[data-testid=shift-save]").click()
    item = page.locator(".el-form-item", has=page.locator("[data-testid=shift-serious-late]"))
    item.locator(
        ".el-form-item__error", has_text="serious late is more than the late grace"
    ).wait_for()
    assert server.api("get", "/shifts", params={"q": shift_name})["items"] == []

    _number(page, "shift-serious-late", 30)
    page.locator("[data-testid=shift-save]").click()
    page.locator("[data-testid=shift-dialog]").wait_for(state="hidden")
    (shift,) = server.api("get", "/shifts", params={"q": shift_name})["items"]
    assert [(p["start"], p["end"]) for p in shift["periods"]] == [
        ("09:00", "12:00"),
        ("13:30", "18:00"),
    ]
    assert (shift["grace_late_min"], shift["serious_late_min"]) == (5, 30)
    periods = page.locator(f"[data-testid=shift-periods-{shift['id']}]")
    assert periods.inner_text() == "09:00–12:00 / 13:30–18:00"

    # A fixed group on that shift, Monday to Friday, with the person.
    _open(page, "groups")
    page.locator("[data-testid=group-new]").click()
    group_name = f"上海总部 {tag}"
    _field(page, "group-name").fill(group_name)
    page.locator("[data-testid=group-own-wins]").wait_for()
    _choose(page, "group-shift", shift_name)
    _choose(page, "group-people", person_name)
    page.locator("[data-testid=group-dialog] .el-dialog__title").click()  # the list closes
    page.locator("[data-testid=group-save]").click()
    page.locator("[data-testid=group-dialog]").wait_for(state="hidden")
    (group,) = [
        g for g in server.api("get", "/attendance-groups")["items"] if g["name"] == group_name
    ]
    assert (group["schedule"], group["shift_id"], group["user_ids"]) == (
        "fixed",
        shift["id"],
        [person_id],
    )
    assert group["workdays"] == [1, 2, 3, 4, 5]
    gid = group["id"]
    assert page.locator(f"[data-testid=group-schedule-{gid}]").inner_text() == "固定班制"
    assert (
        "09:00–12:00 / 13:30–18:00" in page.locator(f"[data-testid=group-rule-{gid}]").inner_text()
    )
    assert page.locator(f"[data-testid=group-workdays-{gid}]").inner_text() == "周一至周五"
    assert page.locator(f"[data-testid=group-members-{gid}]").inner_text() == "1 人，0 个团队"

    # Edited: Saturdays too, and field punches need approval.
    page.locator(f"[data-testid=group-row][data-group-id='{gid}']").click()
    page.locator("[data-testid=workday-6]").click()
    page.locator("[data-testid=field-punch-needs_approval]").click()
    page.locator("[data-testid=group-save]").click()
    page.locator("[data-testid=group-dialog]").wait_for(state="hidden")
    workdays = page.locator(f"[data-testid=group-workdays-{gid}]")
    workdays.filter(has_text="周一至周六").wait_for()
    edited = server.api("get", f"/attendance-groups/{gid}")
    assert (edited["workdays"], edited["field_punch"]) == ([1, 2, 3, 4, 5, 6], "needs_approval")
    assert edited["user_ids"] == [person_id]

    # The shift is in use: its delete is refused with the API's reason.
    _open(page, "shifts")
    page.locator(f"[data-testid=shift-delete-{shift['id']}]").click()
    page.locator(".el-message-box__btns .el-button--primary").click()
    page.locator(".el-message--error").wait_for()
    assert server.api("get", f"/shifts/{shift['id']}")["name"] == shift_name
    assert errors == []


def test_an_admin_loads_chinas_holidays_and_sets_a_day(console: Any, server: Server) -> None:
    before = server.api("get", f"/calendar/{YEAR}")
    page = console.new_page()
    errors: list[Any] = []
    page.on("pageerror", lambda e: errors.append(e))
    try:
        console_sign_in(page, ADMIN)
        page.wait_for_url("**/console/dashboard")
        page.goto(f"/console/holidays?year={YEAR}")
        months = page.locator(f"[data-testid=holidays-months][data-year='{YEAR}']")
        months.and_(page.locator("[data-loaded=true]")).wait_for()

        page.locator("[data-testid=holidays-load-china]").click()
        page.locator(".el-message-box__btns .el-button--primary").click()
        national = page.locator(f"[data-testid=day-{YEAR}-10-01]")
        page.locator(f"[data-testid=day-{YEAR}-10-01][data-kind=holiday]").wait_for()
        assert national.evaluate("e => getComputedStyle(e).backgroundColor") == HOLIDAY_ROSE
        makeup = page.locator(f"[data-testid=day-{YEAR}-10-12]")  # a Saturday worked (调休)
        assert makeup.get_attribute("data-kind") == "workday"
        assert makeup.evaluate("e => getComputedStyle(e).backgroundColor") == WORKDAY_BLUE
        assert "班" in makeup.inner_text()
        assert page.locator(f"[data-testid=day-{YEAR}-10-04]").get_attribute("data-kind") == "rest"
        national_break = page.locator("[data-testid='break-国庆节']")
        assert "10月1日" in national_break.inner_text()
        assert "10月12日" in national_break.inner_text()
        loaded = {d["date"]: d["kind"] for d in server.api("get", f"/calendar/{YEAR}")}
        assert (loaded[f"{YEAR}-10-01"], loaded[f"{YEAR}-09-29"]) == ("holiday", "workday")

        # A day set off, and the make-up Saturday back to the plain week; saved.
        page.locator(f"[data-testid=day-{YEAR}-03-08]").click()
        page.locator("[data-testid=day-kind-rest]").click()
        _field(page, "day-name").fill("妇女节")
        page.locator("[data-testid=day-apply]").click()
        makeup.click()
        page.locator("[data-testid=day-kind-default]").click()
        page.locator("[data-testid=day-apply]").click()
        assert page.locator("[data-testid=holidays-pending]").inner_text() == "2 处未保存的修改"
        page.locator("[data-testid=holidays-save]").click()
        page.locator("[data-testid=holidays-pending]").wait_for(state="hidden")

        page.reload()
        months.and_(page.locator("[data-loaded=true]")).wait_for()
        page.locator(f"[data-testid=day-{YEAR}-03-08][data-kind=rest]").wait_for()
        assert makeup.get_attribute("data-kind") == "default"
        assert national.get_attribute("data-kind") == "holiday"
        saved = {d["date"]: (d["kind"], d["name"]) for d in server.api("get", f"/calendar/{YEAR}")}
        assert saved[f"{YEAR}-03-08"] == ("rest", "妇女节")
        assert f"{YEAR}-10-12" not in saved
        assert errors == []
    finally:
        server.api("put", f"/calendar/{YEAR}", json=before)
