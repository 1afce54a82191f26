"""The console's configuration pages in a real browser against a real server: places and
customers with geofences drawn on the map (Leaflet-Geoman driven by mouse clicks), people,
API keys, and what a manager may not open. Each result is checked through the API."""

from __future__ import annotations

import math
import secrets
from typing import Any

from tests.e2e.conftest import Server
from tests.e2e.test_console import console_sign_in, new_team, punch, team_member

ADMIN = "admin@e2e.example.com"


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points."""
    la1, lo1, la2, lo2 = map(math.radians, (*a, *b))
    h = (
        math.sin((la2 - la1) / 2) ** 2
        + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def _somewhere() -> tuple[float, float]:
    """A spot ~8 km from the office, different for every test: no other fence near it."""
    return 31.30 + secrets.randbelow(1000) / 20_000, 121.58 + secrets.randbelow(1000) / 20_000


def _open_places(page: Any) -> None:
    console_sign_in(page, ADMIN)
    page.wait_for_url("**/console/dashboard")
    page.locator("[data-testid=menu-places]").click()
    page.wait_for_url("**/console/places")


def _field(page: Any, testid: str) -> Any:
    """An Element Plus input by its test id (on the input itself, or on its wrapper)."""
    t = testid
    return page.locator(
        f"input[data-testid={t}], textarea[data-testid={t}], [data-testid={t}] input"
    )


def _type_number(page: Any, testid: str, value: float) -> None:
    box = _field(page, testid)
    box.fill(str(value))
    box.press("Tab")  # the change is taken on blur


def _new_record(page: Any, name: str, at: tuple[float, float]) -> None:
    page.locator("[data-testid=record-new]").click()
    _field(page, "field-name").fill(name)
    _type_number(page, "field-lat", at[0])
    _type_number(page, "field-lon", at[1])
    page.wait_for_selector("[data-testid=fence-summary][data-shape=circle]")


def test_an_admin_draws_a_polygon_geofence_and_a_punch_inside_matches_it(
    console: Any, server: Server
) -> None:
    page = console.new_page()
    errors: list[Any] = []
    page.on("pageerror", lambda e: errors.append(e))
    _open_places(page)
    name = f"浦东仓库 {secrets.token_hex(2)}"
    _new_record(page, name, _somewhere())  # the map goes there (a circle until drawn)

    page.locator("[data-testid=draw-polygon]").click()
    page.wait_for_selector("[data-testid=draw-hint][data-drawing=Polygon]")
    box = page.locator("[data-testid=fence-map]").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    corners = [
        (cx - 160, cy - 110),
        (cx + 140, cy - 130),
        (cx + 170, cy + 120),
        (cx - 150, cy + 130),
    ]
    for x, y in corners:
        page.mouse.click(x, y)
    page.mouse.click(*corners[0])  # the first corner again closes the polygon
    summary = page.locator("[data-testid=fence-summary][data-shape=polygon]")
    summary.wait_for()
    assert "4 个顶点" in summary.inner_text()
    page.locator("[data-testid=form-save]").click()
    page.locator("[data-role=record]", has_text=name).wait_for()
    row_fence = page.locator("[data-testid^=fence-of-]", has_text="多边形，4 个顶点")
    assert row_fence.count() >= 1

    [place] = server.api("get", "/places", params={"q": name})["items"]
    ring = place["polygon"]["coordinates"][0]
    assert len(ring) == 5 and ring[0] == ring[-1]
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    centre = (place["location"]["lat"], place["location"]["lon"])
    assert min(lats) < centre[0] < max(lats) and min(lons) < centre[1] < max(lons)
    # Inside the polygon, away from its reference point: farther than its radius, so only the
    # polygon can match it; and outside every circle of the organization.
    inside = (
        centre[0] + 0.7 * (max(lats) - centre[0]),
        centre[1] - 0.7 * (centre[1] - min(lons)),
    )
    assert _metres(inside, centre) > place["radius_m"]
    for other in server.api("get", "/places", params={"limit": 200})["items"]:
        if other["id"] != place["id"] and other["polygon"] is None:
            loc = (other["location"]["lat"], other["location"]["lon"])
            assert _metres(inside, loc) > other["radius_m"]
    _, _, staff_token = server.new_staff("外勤 孙悦")
    made = punch(server, staff_token, inside)
    got = server.api("get", f"/punches/{made['id']}")
    assert got["place"] is not None and got["place"]["id"] == place["id"]
    # Beyond its northern edge, the same place does not match.
    outside = (max(lats) + 0.0005, centre[1])
    away = server.api("get", f"/punches/{punch(server, staff_token, outside, 'clock_out')['id']}")
    assert away["place"] is None or away["place"]["id"] != place["id"]
    assert not errors, [e.stack for e in errors]


def test_a_circle_place_is_created_and_edited(console: Any, server: Server) -> None:
    page = console.new_page()
    _open_places(page)
    name = f"静安门店 {secrets.token_hex(2)}"
    at = _somewhere()
    _new_record(page, name, at)
    _type_number(page, "field-radius", 120)
    _field(page, "field-wifi").fill("A4-5E-60-C1-22-01\n00:11:22:33:44:55")
    page.locator("[data-testid=form-save]").click()
    page.locator("[data-role=record]", has_text=name).wait_for()
    [place] = server.api("get", "/places", params={"q": name})["items"]
    assert place["polygon"] is None and place["radius_m"] == 120
    assert (
        abs(place["location"]["lat"] - at[0]) < 1e-6
        and abs(place["location"]["lon"] - at[1]) < 1e-6
    )
    assert place["wifi_bssids"] == ["a4:5e:60:c1:22:01", "00:11:22:33:44:55"]

    page.locator(f"[data-testid=record-{place['id']}]").click()
    page.wait_for_selector("[data-testid=fence-shape][data-shape=circle]")
    assert _field(page, "field-radius").input_value() == "120"
    _type_number(page, "field-radius", 300)
    _field(page, "field-address").fill("静安区南京西路 1000 号")
    page.locator("[data-testid=form-save]").click()
    page.locator(f"[data-testid=fence-of-{place['id']}]", has_text="半径 300 米").wait_for()
    again = server.api("get", f"/places/{place['id']}")
    assert again["radius_m"] == 300 and again["address"] == "静安区南京西路 1000 号"

    # A circle drawn with the mouse replaces it: a click on the centre, one on the edge.
    page.locator(f"[data-testid=record-{place['id']}]").click()
    page.wait_for_selector("[data-testid=fence-shape][data-shape=circle]")
    page.locator("[data-testid=draw-circle]").click()
    page.wait_for_selector("[data-testid=draw-hint][data-drawing=Circle]")
    box = page.locator("[data-testid=fence-map]").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(cx + 60, cy + 40)
    page.mouse.click(cx + 160, cy + 40)
    page.wait_for_selector("[data-testid=draw-hint][data-drawing='']")
    drawn = int(_field(page, "field-radius").input_value())
    assert drawn != 300 and drawn > 0
    page.locator("[data-testid=form-save]").click()
    page.locator(f"[data-testid=fence-of-{place['id']}]", has_text=f"半径 {drawn} 米").wait_for()
    moved = server.api("get", f"/places/{place['id']}")
    assert moved["polygon"] is None and moved["radius_m"] == drawn
    assert moved["location"]["lon"] > again["location"]["lon"]  # the centre moved east

    # Bad input is said, not swallowed: an invalid BSSID comes back as the API's detail.
    page.locator(f"[data-testid=record-{place['id']}]").click()
    _field(page, "field-wifi").fill("not-a-bssid")
    page.locator("[data-testid=form-save]").click()
    assert page.locator("[data-testid=form-error]").inner_text().startswith("出错了")


def test_a_customer_is_created_with_tags_and_a_fence_and_one_without(
    console: Any, server: Server
) -> None:
    page = console.new_page()
    _open_places(page)
    page.locator(".el-tabs__item", has_text="客户").click()
    page.locator("[data-testid=record-new]", has_text="新建客户").wait_for()
    name = f"联华超市 {secrets.token_hex(2)}"
    at = _somewhere()
    _new_record(page, name, at)
    _field(page, "field-tags").fill("重点客户，retail")
    page.locator("[data-testid=form-save]").click()
    page.locator("[data-role=record]", has_text=name).wait_for()
    [made] = server.api("get", "/customers", params={"q": name})["items"]
    assert made["tags"] == ["重点客户", "retail"] and made["radius_m"] == 150
    assert abs(made["location"]["lat"] - at[0]) < 1e-6 and made["polygon"] is None
    # A customer without a place on the map is allowed (a place is not).
    bare = f"电话客户 {secrets.token_hex(2)}"
    page.locator("[data-testid=record-new]").click()
    _field(page, "field-name").fill(bare)
    page.locator("[data-testid=form-save]").click()
    page.locator("[data-role=record]", has_text=bare).wait_for()
    [plain] = server.api("get", "/customers", params={"q": bare})["items"]
    assert plain["location"] is None


def test_a_person_is_created_and_deactivated_from_the_console(console: Any, server: Server) -> None:
    team = server.api("post", "/teams", json={"name": f"西区 {secrets.token_hex(2)}"})
    page = console.new_page()
    console_sign_in(page, ADMIN)
    page.wait_for_url("**/console/dashboard")
    page.locator("[data-testid=menu-people]").click()
    page.wait_for_url("**/console/people")
    email = f"new.{secrets.token_hex(4)}@example.com"
    page.locator("[data-testid=person-new]").click()
    _field(page, "person-email").fill(email)
    _field(page, "person-name").fill("外勤 何静")
    _field(page, "person-phone").fill("+86 139 0000 1111")
    page.locator("[data-testid=person-team]").click()
    page.locator(".el-select-dropdown__item:visible", has_text=team["name"]).click()
    _field(page, "person-password").fill("he-jing-2026")
    page.locator("[data-testid=person-save]").click()
    page.locator("[data-testid=person-form]").wait_for(state="detached")  # saved, closed
    [made] = server.api("get", "/users", params={"q": email})["items"]
    row = page.locator(f"[data-testid=person-row][data-user-id={made['id']}]")
    row.wait_for()
    assert made["name"] == "外勤 何静" and made["role"] == "staff" and made["active"]
    assert made["team_id"] == team["id"] and made["phone"].replace(" ", "").endswith("13900001111")
    server.login(email, "he-jing-2026")  # the password set here signs in

    # A bad phone is refused with the API's words, in the form.
    row.click()
    _field(page, "person-phone").fill("call me")
    page.locator("[data-testid=person-save]").click()
    assert page.locator("[data-testid=person-error]").inner_text().startswith("出错了")
    page.keyboard.press("Escape")

    page.locator(f"[data-testid=person-deactivate-{made['id']}]").click()
    page.locator(".el-message-box .el-button--primary").click()
    row.wait_for(state="detached")  # the list shows active people by default
    got = server.api("get", f"/users/{made['id']}")
    assert got["active"] is False
    page.locator("[data-testid=people-active]").click()
    page.locator(".el-select-dropdown__item:visible", has_text="仅已停用").click()
    state = page.locator(f"[data-testid=person-state-{made['id']}]")
    state.wait_for()
    assert state.get_attribute("data-active") == "false"


def test_an_api_key_is_created_with_one_scope_and_its_secret_shown_once(
    console: Any, server: Server
) -> None:
    page = console.new_page()
    console_sign_in(page, ADMIN)
    page.wait_for_url("**/console/dashboard")
    page.locator("[data-testid=menu-apikeys]").click()
    page.wait_for_url("**/console/apikeys")
    name = f"薪资同步 {secrets.token_hex(2)}"
    page.locator("[data-testid=key-new]").click()
    _field(page, "key-name").fill(name)
    page.locator("[data-testid=scope-teams\\:read]").click()
    page.locator("[data-testid=key-create]").click()
    secret = page.locator("[data-testid=key-secret]")
    secret.wait_for()
    key = secret.inner_text().strip()
    assert key.startswith("fpk_key_")
    [made] = [
        k
        for k in server.api("get", "/api-keys", params={"limit": 200})["items"]
        if k["name"] == name
    ]
    assert made["scopes"] == ["teams:read"] and key.endswith(made["hint"])
    assert "key" not in made  # the API keeps no secret to show again
    # The key works for its one scope, and only that.
    assert server.api("get", "/teams", token=key)["items"] is not None
    r = server._client.get(
        f"{server.base}/api/v1/users", headers={"Authorization": f"Bearer {key}"}
    )
    assert r.status_code == 403
    page.locator("[data-testid=key-secret-done]").click()
    secret.wait_for(state="hidden")
    assert page.locator(f"[data-testid=key-row][data-key-id={made['id']}]").is_visible()
    assert key not in page.content()  # shown once: gone from the page


def test_a_manager_does_not_see_pages_they_may_not_use(console: Any, server: Server) -> None:
    _, email, _ = new_team(server, "受限组")
    page = console.new_page()
    console_sign_in(page, email)
    page.wait_for_url("**/console/dashboard")
    page.locator("[data-testid=menu-places]").wait_for()
    assert page.locator("[data-testid=menu-people]").is_visible()
    assert page.locator("[data-testid=menu-apikeys]").count() == 0  # admins only
    assert page.locator("[data-testid=menu-audit]").count() == 0
    page.goto("/console/apikeys")  # nor by its address
    page.wait_for_url("**/console/dashboard")
    # Places are read-only for a manager: no new, no delete; the fence shows without tools.
    page.goto("/console/places")
    page.locator("[data-role=record]").first.wait_for()
    assert page.locator("[data-testid=record-new]").count() == 0
    assert page.locator("[data-testid^=delete-]").count() == 0
    # People: a manager reads, never writes; nobody outside their team shows.
    page.goto("/console/people")
    page.locator("[data-testid=person-row]").first.wait_for()
    assert page.locator("[data-testid=person-new]").count() == 0
    _, outsider_id, _ = server.new_staff("别队 钱多")
    page.locator("[data-testid=people-search] input, input[data-testid=people-search]").press(
        "Enter"
    )
    page.locator("[data-testid=person-row]").first.wait_for()
    assert page.locator(f"[data-testid=person-row][data-user-id={outsider_id}]").count() == 0


def test_teams_devices_audit_and_org_settings_open_for_an_admin(
    console: Any, server: Server
) -> None:
    page = console.new_page()
    errors: list[Any] = []
    page.on("pageerror", lambda e: errors.append(e))
    console_sign_in(page, ADMIN)
    page.wait_for_url("**/console/dashboard")
    # A sub-team made from the tree, under a team made through the API.
    parent = server.api("post", "/teams", json={"name": f"华北 {secrets.token_hex(2)}"})
    page.locator("[data-testid=menu-teams]").click()
    page.locator(f"[data-testid=team-row][data-team-id={parent['id']}]").wait_for()
    page.locator(f"[data-testid=team-row][data-team-id={parent['id']}]").locator(
        "xpath=ancestor::tr"
    ).get_by_text("添加下级").click()
    child = f"北京二组 {secrets.token_hex(2)}"
    _field(page, "team-name").fill(child)
    page.locator("[data-testid=team-save]").click()
    page.locator("[data-testid=team-row]", has_text=child).wait_for()
    [made] = [tm for tm in server.api("get", "/teams")["items"] if tm["name"] == child]
    assert made["parent_id"] == parent["id"]
    # Devices and the audit log list what the API has (here: maybe nothing), without errors.
    page.locator("[data-testid=menu-devices]").click()
    page.wait_for_url("**/console/devices")
    page.locator("[data-testid=devices]").wait_for()
    page.locator("[data-testid=menu-audit]").click()
    page.wait_for_url("**/console/audit")
    page.locator("[data-testid=audit]").wait_for()
    # The organization's name, changed here, is what GET /org answers.
    before = server.api("get", "/org")["name"]
    page.locator("[data-testid=menu-org]").click()
    name = _field(page, "org-name")
    name.wait_for()
    page.wait_for_function(
        "() => document.querySelector('input[data-testid=org-name]')?.value !== ''"
    )
    try:
        name.fill("云途测试（新名）")
        with page.expect_response(
            lambda r: r.url.endswith("/api/v1/org") and r.request.method == "PATCH"
        ) as answered:
            page.locator("[data-testid=org-save]").click()
        assert answered.value.status == 200
        assert server.api("get", "/org")["name"] == "云途测试（新名）"
        name.fill("")
        page.locator("[data-testid=org-save]").click()
        assert page.locator("[data-testid=org-error]").inner_text() == "请填写组织名称"
    finally:
        server.api("patch", "/org", json={"name": before})
    assert not errors, [e.stack for e in errors]


def test_the_dashboard_counts_what_waits_for_a_manager(console: Any, server: Server) -> None:
    team_id, email, _ = new_team(server, "看板组")
    _, token = team_member(server, team_id, "外勤 邓超")
    made = punch(server, token, (31.2600, 121.5300))  # outside every fence: an open anomaly
    assert made["status"] == "flagged"
    server.new_staff("别队 冯远")  # another team's people never count
    page = console.new_page()
    errors: list[Any] = []
    page.on("pageerror", lambda e: errors.append(e))
    console_sign_in(page, email)
    page.wait_for_url("**/console/dashboard")
    page.locator("[data-testid=menu-dashboard]").click()
    page.wait_for_url("**/console/dashboard")
    anomalies = page.locator("[data-testid=dash-anomalies] .value")
    anomalies.wait_for()
    assert anomalies.inner_text() == "1"
    page.locator("[data-testid=dash-present]").wait_for()  # today's attendance loaded
    assert page.locator("[data-testid=dash-corrections] .value").inner_text() == "0"
    page.locator("[data-testid=dash-anomalies]").click()
    page.wait_for_url("**/console/review")
    assert not errors, [e.stack for e in errors]


def test_the_places_screenshot(
    browser: Any, server: Server, built_console: Any, tmp_path: Any
) -> None:
    """docs/img/console-places.png: a place with a polygon geofence open for editing (1280×800,
    zh-CN). Written when FIELDPUNCH_UPDATE_SCREENSHOT=1 (`make screenshot`), else only taken."""
    import os
    import shutil
    from pathlib import Path

    from PIL import Image

    from tests.e2e.conftest import desktop

    lat, lon = _somewhere()
    ring = [
        [lon - 0.0016, lat - 0.0009],
        [lon + 0.0013, lat - 0.0011],
        [lon + 0.0017, lat + 0.0004],
        [lon + 0.0002, lat + 0.0012],
        [lon - 0.0014, lat + 0.0009],
    ]
    place = server.api(
        "post",
        "/places",
        json={
            "name": f"张江研发园区 {secrets.token_hex(1)}",
            "kind": "site",
            "address": "浦东新区张江路 88 号",
            "location": {"lat": lat, "lon": lon},
            "polygon": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
            "wifi_bssids": ["a4:5e:60:c1:22:01", "a4:5e:60:c1:22:02"],
        },
    )
    with desktop(browser, server, "zh-CN", width=1280) as ctx:
        page = ctx.new_page()
        page.set_viewport_size({"width": 1280, "height": 800})
        console_sign_in(page, ADMIN)
        page.wait_for_url("**/console/dashboard")
        page.goto("/console/places")
        page.locator(f"[data-testid=record-{place['id']}]").click()
        page.wait_for_selector("[data-testid=fence-shape][data-shape=polygon]")
        page.wait_for_selector(".el-drawer.open, .el-drawer", state="visible")
        page.wait_for_function(
            "() => !document.querySelector('.el-drawer')?.getAnimations?.().length"
        )
        shot = Path(tmp_path) / "console-places.png"
        page.screenshot(path=str(shot))
    with Image.open(shot) as img:
        assert img.size == (1280, 800)
    if os.environ.get("FIELDPUNCH_UPDATE_SCREENSHOT") == "1":
        img_dir = Path(__file__).resolve().parents[2] / "docs" / "img"
        shutil.copy(shot, img_dir / "console-places.png")
