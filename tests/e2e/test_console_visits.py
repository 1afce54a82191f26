"""The console's visit pages (/console/visits, /routes, /performance) in a real browser against
a real `fieldpunch serve`: a plan made from the console becomes a visit done by the rep's
punches, the day's route, team scoping, and the performance chart. Screenshot:
docs/img/console-visits.png (`FIELDPUNCH_UPDATE_SCREENSHOT=1`)."""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import httpx
from PIL import Image

from tests.e2e.conftest import CUSTOMER_AT, OFFICE, Server, desktop
from tests.e2e.test_console import console_sign_in, new_team, punch, team_member

IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def _eventually(check: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    """Poll the API until `check` answers (visits follow punches through a periodic job)."""
    deadline = time.monotonic() + timeout
    while not (got := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.25)
    return got


def _customer(
    server: Server, name: str, at: tuple[float, float] = CUSTOMER_AT, unique: bool = True
) -> str:
    named = f"{name} {secrets.token_hex(2)}" if unique else name
    body = {"name": named, "location": {"lat": at[0], "lon": at[1]}}
    return str(server.api("post", "/customers", json=body | {"radius_m": 120})["id"])


def _local_day(server: Server) -> str:
    tz = ZoneInfo(server.api("get", "/org")["timezone"])
    return datetime.now(tz).date().isoformat()


def _visit_punch(
    server: Server, token: str, kind: str, customer_id: str, minutes_ago: float, **extra: Any
) -> Any:
    """A visit punch made `minutes_ago` and sent now, as a phone's offline queue sends it."""
    at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    lat, lon = CUSTOMER_AT
    return server.api(
        "post",
        "/punches",
        token=token,
        json={
            "client_id": str(uuid4()),
            "kind": kind,
            "captured_at": at.isoformat(),
            "offline": True,
            "location": {"lat": lat + 0.00005, "lon": lon, "accuracy_m": 12},
            "customer_id": customer_id,
            **extra,
        },
    )


def _done(server: Server, visit_id: str) -> dict[str, Any]:
    return _eventually(  # type: ignore[no-any-return]
        lambda: (v := server.api("get", f"/visits/{visit_id}"))["state"] == "done" and v,
        f"visit {visit_id} done",
    )


def _photo(server: Server, token: str) -> str:
    """A photo uploaded by the rep (a plain JPEG, as the field app sends). Random blocks, so it
    is no other test's picture: the shared org judges every upload against earlier ones
    (`photo_reused`), and a plain colour would match every other plain colour."""
    buf = io.BytesIO()
    blocks = Image.frombytes("RGB", (16, 12), secrets.token_bytes(16 * 12 * 3))
    blocks.resize((640, 480), Image.Resampling.NEAREST).save(buf, "JPEG")
    r = httpx.post(
        f"{server.base}/api/v1/photos",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("shop.jpg", buf.getvalue(), "image/jpeg")},
        timeout=30,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _visit_done(
    server: Server, token: str, visit_id: str, customer_id: str, **at_check_in: Any
) -> dict[str, Any]:
    """Check in 30 minutes ago and out 5 minutes ago: a 25-minute visit."""
    _visit_punch(server, token, "visit_in", customer_id, 30, visit_id=visit_id, **at_check_in)
    _visit_punch(server, token, "visit_out", customer_id, 5, visit_id=visit_id)
    return _done(server, visit_id)


def _plan(server: Server, user_id: str, customer_id: str, token: str | None = None) -> Any:
    tz = ZoneInfo(server.api("get", "/org")["timezone"])
    late = datetime.combine(datetime.now(tz).date(), dt_time(23, 0), tz)  # still ahead: planned
    body = {
        "customer_id": customer_id,
        "user_id": user_id,
        "planned_start": late.isoformat(),
        "expected_min": 30,
        "purpose": "季度回访",
    }
    return server.api("post", "/visits", token=token, json=body)


def _choose(page: Any, select: str, option: str) -> None:
    page.locator(f"[data-testid={select}]").click()
    page.locator(f"[data-testid={option}]").click()


def test_a_plan_made_in_the_console_is_done_by_the_reps_punches(
    console: Any, server: Server
) -> None:
    team_id, email, _ = new_team(server)
    rep = f"销售 {secrets.token_hex(2)}"
    staff_id, staff_token = team_member(server, team_id, rep)
    customer_id = _customer(server, "浦东医药")
    page = console.new_page()
    errors: list[Any] = []
    page.on("pageerror", lambda e: errors.append(e))
    console_sign_in(page, email)
    page.wait_for_url("**/console/dashboard")
    page.locator("[data-testid=menu-visits]").click()
    page.wait_for_url("**/console/visits")
    page.wait_for_selector("[data-testid=visit-calendar]")

    page.locator("[data-testid=plan-one]").click()
    _choose(page, "plan-user", f"plan-user-{staff_id}")
    _choose(page, "plan-customer", f"plan-customer-{customer_id}")
    page.locator("input[data-testid=plan-purpose]").fill("新品介绍")
    page.locator("[data-testid=plan-save]").click()
    card = page.locator("[data-testid=calendar-visit][data-state=planned]")
    card.wait_for()
    visit_id = card.get_attribute("data-visit-id")
    stored = server.api("get", f"/visits/{visit_id}")
    assert stored["user_id"] == staff_id and stored["customer_id"] == customer_id
    assert stored["purpose"] == "新品介绍" and stored["planned"] is True
    assert stored["day"] == _local_day(server)
    today_cell = page.locator(f"[data-testid=calendar-day][data-day='{stored['day']}']")
    assert today_cell.locator(f"[data-visit-id={visit_id}]").count() == 1

    photo_id = _photo(server, staff_token)
    done = _visit_done(server, staff_token, str(visit_id), customer_id, photo_id=photo_id)
    assert done["duration_min"] == 25.0 and done["photo_ids"] == [photo_id]

    # The rep's record: outcome, note and an answer to the org's form (restored after).
    form_before = server.api("get", "/visit-form")["fields"]
    outcomes_before = server.api("get", "/visit-outcomes")["outcomes"]
    contact = {"key": "contact", "label": "接待人", "type": "text", "required": False}
    server.api("put", "/visit-outcomes", json={"outcomes": [{"key": "order", "label": "已下单"}]})
    server.api("put", "/visit-form", json={"fields": [contact]})
    try:
        server.api(
            "patch",
            f"/visits/{visit_id}",
            token=staff_token,
            json={"outcome": "order", "note": "试用装 20 盒", "answers": {"contact": "李主任"}},
        )
        _check_record(page, str(visit_id), rep)
    finally:
        server.api("put", "/visit-form", json={"fields": form_before})
        server.api("put", "/visit-outcomes", json={"outcomes": outcomes_before})
    assert not errors, [e.stack for e in errors]


def _check_record(page: Any, visit_id: str, rep: str) -> None:
    page.reload()
    page.locator("#tab-records").click()
    row = page.locator(
        f"[data-testid=record-list] [data-testid=row-visit][data-visit-id={visit_id}]"
    )
    row.wait_for()
    assert row.get_attribute("data-state") == "done"
    line = page.locator(
        "[data-testid=record-list] tr",
        has=page.locator(f"[data-testid=row-visit][data-visit-id={visit_id}]"),
    )
    assert line.locator("[data-testid=row-duration]").inner_text() == "25 分钟"
    line.locator("[data-testid=open-visit]").click()
    record = page.locator(f"[data-testid=visit-record][data-visit-id={visit_id}]")
    record.wait_for()
    assert record.locator("[data-testid=record-duration]").get_attribute("data-minutes") == "25"
    assert rep in record.inner_text() and "已完成" in record.inner_text()
    # The photo, fetched with the manager's token as the watermarked copy.
    img = record.locator("[data-testid=record-photo] img")
    img.wait_for()
    assert (img.get_attribute("src") or "").startswith("blob:")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=record-photo] img')?.naturalWidth === 640"
    )
    text = record.inner_text()
    assert "已下单" in text and "试用装 20 盒" in text
    answers = record.locator("[data-testid=record-answers]").inner_text()
    assert "接待人" in answers and "李主任" in answers
    assert "已下单" in line.inner_text()


def test_a_persons_day_drawn_as_a_route(console: Any, server: Server) -> None:
    team_id, email, _ = new_team(server)
    rep = f"销售 {secrets.token_hex(2)}"
    staff_id, staff_token = team_member(server, team_id, rep)
    customer_id = _customer(server, "张江药谷")
    visit = _plan(server, staff_id, customer_id)
    _visit_done(server, staff_token, visit["id"], customer_id)
    punch(server, staff_token, OFFICE)  # back at the office, ~800 m away
    day = _local_day(server)
    route = server.api("get", "/reports/route", params={"user_id": staff_id, "date": day})
    assert len(route["stops"]) == 1 and route["distance_m"] > 500

    page = console.new_page()
    console_sign_in(page, email)
    page.wait_for_url("**/console/dashboard")
    page.goto("/console/routes")
    _choose(page, "route-user", "route-user-" + staff_id)
    count = page.locator("[data-testid=route-stop-count]")
    count.wait_for()
    assert count.get_attribute("data-n") == "1" and count.inner_text() == "1 个拜访点"
    distance = page.locator("[data-testid=route-distance]")
    assert float(distance.get_attribute("data-m") or 0) == route["distance_m"]
    assert distance.inner_text() == f"行程 {round(route['distance_m'])} m"
    assert page.locator("[data-testid=route-point]").count() == 3
    assert page.locator("[data-testid=route-map] path.fp-route-line").count() == 1
    stop = page.locator(f"[data-testid=route-stop][data-visit-id={visit['id']}]")
    assert "停留 25 分钟" in stop.inner_text()


def test_a_manager_of_team_a_does_not_see_team_b_visits(console: Any, server: Server) -> None:
    team_a, email_a, _ = new_team(server, "A组")
    team_b, _, _ = new_team(server, "B组")
    a_id, _ = team_member(server, team_a, f"甲 {secrets.token_hex(2)}")
    b_id, _ = team_member(server, team_b, f"乙 {secrets.token_hex(2)}")
    customer_id = _customer(server, "虹桥商贸")
    mine = _plan(server, a_id, customer_id)
    theirs = _plan(server, b_id, customer_id)

    page = console.new_page()
    console_sign_in(page, email_a)
    page.wait_for_url("**/console/dashboard")
    page.goto("/console/visits")
    page.locator(f"[data-testid=calendar-visit][data-visit-id={mine['id']}]").wait_for()
    assert page.locator(f"[data-visit-id={theirs['id']}]").count() == 0
    page.locator("[data-testid=plans-view] >> text=列表").click()
    page.locator(f"[data-testid=visit-list] [data-visit-id={mine['id']}]").wait_for()
    assert page.locator(f"[data-visit-id={theirs['id']}]").count() == 0
    # Nor in the person filter, nor on the route page (the API answers 404 for them).
    page.locator("[data-testid=filter-user]").click()
    options = page.locator(".el-select-dropdown__item:visible")
    options.first.wait_for()
    names = options.all_inner_texts()
    assert not any(n.startswith("乙 ") for n in names) and any(n.startswith("甲 ") for n in names)


def test_the_performance_page_draws_a_chart_of_the_apis_numbers(
    console: Any, server: Server
) -> None:
    team_id, email, _ = new_team(server)
    rep = f"销售 {secrets.token_hex(2)}"
    staff_id, staff_token = team_member(server, team_id, rep)
    customer_id = _customer(server, "陆家嘴金融")
    done = _plan(server, staff_id, customer_id)
    _plan(server, staff_id, customer_id)  # planned, not done
    _visit_done(server, staff_token, done["id"], customer_id)
    day = _local_day(server)
    api = server.api(
        "get",
        "/reports/performance",
        token=server.login(email),
        params={"view": "person", "from": day[:8] + "01", "to": day},
    )
    [row] = [r for r in api["items"] if r["user_id"] == staff_id]
    assert row["planned"] == 2 and row["done"] == 1

    page = console.new_page()
    console_sign_in(page, email)
    page.wait_for_url("**/console/dashboard")
    page.goto("/console/performance")
    chart = page.locator("[data-testid=perf-chart-visits] canvas")
    chart.wait_for()
    box = chart.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 200
    for key in ("planned", "done", "completion_rate_pct", "customer_min"):
        cell = page.locator(f"[data-testid=perf-table] [data-key={key}][data-row='{rep}']")
        assert float(cell.inner_text()) == row[key], key
    # The chart draws the table's numbers: the series it was given, per person in the API's order.
    drawn = json.loads(
        page.locator("[data-testid=perf-chart-visits] [data-testid=chart]").get_attribute(
            "data-series"
        )
        or "[]"
    )
    i = [r["name"] for r in api["items"]].index(rep)
    assert drawn[0][i] == row["planned"] and drawn[1][i] == row["done"]


def test_a_week_planned_at_once_one_cancelled_customers_and_the_heat_map(
    console: Any, server: Server
) -> None:
    team_id, email, manager_id = new_team(server)
    rep = f"销售 {secrets.token_hex(2)}"
    staff_id, staff_token = team_member(server, team_id, rep)
    customer_id = _customer(server, "金桥制造")
    # A customer the rep owns and nobody visited: listed as not visited, with its timeline.
    idle = server.api(
        "post",
        "/customers",
        json={"name": f"久未拜访 {secrets.token_hex(2)}", "owner_id": staff_id,
              "location": {"lat": CUSTOMER_AT[0] + 0.01, "lon": CUSTOMER_AT[1]}},
    )  # fmt: skip
    page = console.new_page()
    console_sign_in(page, email)
    page.wait_for_url("**/console/dashboard")
    page.goto("/console/visits")
    page.locator("[data-testid=next-week]").click()  # next week: every day still ahead
    page.locator("[data-testid=plan-week]").click()
    _choose(page, "plan-user", f"plan-user-{staff_id}")
    _choose(page, "plan-customer", f"plan-customer-{customer_id}")
    page.locator("[data-testid=plan-save]").click()
    cards = page.locator("[data-testid=calendar-visit]")
    cards.nth(4).wait_for()
    assert cards.count() == 5  # Monday to Friday, ticked by default
    made = server.api("get", "/visits", params={"user_id": staff_id})["items"]
    assert len(made) == 5 and {v["state"] for v in made} == {"planned"}
    assert len({v["day"] for v in made}) == 5

    page.locator("[data-testid=plans-view] >> text=列表").click()
    first = sorted(made, key=lambda v: v["day"])[0]
    line = page.locator(
        "[data-testid=visit-list] tr",
        has=page.locator(f"[data-testid=row-visit][data-visit-id={first['id']}]"),
    )
    line.locator("[data-testid=cancel-visit]").click()
    box = page.locator(".fp-cancel-visit")
    box.locator("input").fill("客户出差")
    box.locator(".el-message-box__btns .el-button--primary").click()
    page.wait_for_selector(
        f"[data-testid=visit-list] [data-visit-id={first['id']}][data-state=cancelled]"
    )
    cancelled = server.api("get", f"/visits/{first['id']}")
    assert cancelled["state"] == "cancelled" and cancelled["cancel_reason"] == "客户出差"
    assert cancelled["cancelled_by"] == manager_id

    page.locator("#tab-customers").click()
    row = page.locator(f"[data-testid=not-visited-customer][data-customer-id={idle['id']}]")
    row.wait_for()
    row.click()
    timeline = page.locator("[data-testid=customer-timeline]")
    timeline.wait_for()
    assert "已完成拜访 0 次" in timeline.inner_text() and "从未拜访" in timeline.inner_text()

    # The heat map: this rep's visit today at the customer is one cell.
    today = _plan(server, staff_id, customer_id)
    _visit_done(server, staff_token, today["id"], customer_id)
    page.goto("/console/routes")
    page.locator("#tab-heatmap").click()
    cells = page.locator("[data-testid=heat-cells]")
    cells.wait_for()
    _choose(page, "heat-user", f"heat-user-{staff_id}")
    page.wait_for_selector("[data-testid=heat-cells][data-n='1']")
    assert page.locator("[data-testid=heat-map] path.fp-heat-cell").count() == 1
    _choose(page, "heat-resolution", "heat-resolution-5")
    page.wait_for_selector("[data-testid=heat-cells][data-n='1']:has-text('共 1 次')")


def test_screenshot_of_the_visits_page(browser: Any, server: Server, built_console: Any) -> None:
    team_id, email, _ = new_team(server, "浦东拜访组")
    people = [team_member(server, team_id, n) for n in ("王伟", "李静", "张磊")]
    customers = [
        # Shared org: not the field app's customer's name nor its spot (its tests search and
        # list the nearest customers), so 440 m and more north of it.
        _customer(server, n, (CUSTOMER_AT[0] + 0.004 + i * 0.002, CUSTOMER_AT[1]), unique=False)
        for i, n in enumerate(("沪西精工机械", "浦江药业", "申城物流", "东方商厦", "金桥制造"))
    ]
    tz = ZoneInfo(server.api("get", "/org")["timezone"])
    now = datetime.now(tz)
    monday = now.date() - timedelta(days=now.weekday())
    done: list[str] = []
    planned = 0
    for d in range(7):
        day = monday + timedelta(days=d)
        for k, (uid, token) in enumerate(people[: 1 + (d + 1) % 3]):
            start = datetime.combine(day, dt_time(9 + 2 * k + d % 2, 30), tz)
            cid = customers[(d + k) % 5]
            v = server.api("post", "/visits", json={
                "customer_id": cid, "user_id": uid, "planned_start": start.isoformat(),
                "expected_min": 60, "purpose": "季度回访"})  # fmt: skip
            planned += 1
            if start + timedelta(minutes=50) < now and (d + k) % 4:
                # Done that day: checked in and out from the phone's offline queue.
                for kind, after in (("visit_in", 5), ("visit_out", 45 + 10 * k)):
                    ago = (now - start).total_seconds() / 60 - after
                    _visit_punch(server, token, kind, cid, ago, visit_id=v["id"])
                done.append(v["id"])
    for visit_id in done:  # the follower is a job: every one done before the picture
        _done(server, visit_id)
    with desktop(browser, server, width=1280) as ctx:
        page = ctx.new_page()
        page.set_viewport_size({"width": 1280, "height": 800})
        console_sign_in(page, email)
        page.wait_for_url("**/console/dashboard")
        page.goto("/console/visits")
        state = "[data-state=done]" if done else ""  # none yet early on a Monday
        page.locator(f"[data-testid=calendar-visit]{state}").first.wait_for()
        page.wait_for_selector(".el-loading-mask", state="detached")
        cards = page.locator("[data-testid=calendar-visit]")
        assert cards.count() == planned
        assert page.locator("[data-testid=calendar-visit][data-state=done]").count() == len(done)
        shot = server.data_dir / "console-visits.png"
        page.screenshot(path=str(shot))
    assert Image.open(shot).size == (1280, 800)
    if os.environ.get("FIELDPUNCH_UPDATE_SCREENSHOT") == "1":
        IMG.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, IMG / "console-visits.png")
