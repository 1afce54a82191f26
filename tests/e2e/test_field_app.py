"""The field app in a real browser against a real server: sign in, enrol, punch, offline, visit."""

from __future__ import annotations

import io
import os
import secrets
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image

from tests.e2e.conftest import CUSTOMER_AT, PASSWORD, Server
from tests.server import env_for, run

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "img" / "punch-390x844.png"
READY = "[data-testid=punch-button]:not([disabled])"
UPDATE_OUT = "[data-testid=update-clock-out]:not([disabled])"


def sign_in(page: Any, email: str, password: str = "field-app-e2e-2026") -> None:
    page.goto("/app/")
    page.wait_for_url("**/app/login")
    page.locator("[data-testid=login-email] input").fill(email)
    page.locator("[data-testid=login-password] input").fill(password)
    page.locator("[data-testid=login-submit]").click()
    page.wait_for_url("**/app/")
    page.wait_for_selector(READY)


def confirm_quick_punch(page: Any) -> None:
    """A punch of the opposite kind within a minute asks first: confirm it."""
    page.locator(".fp-confirm .van-dialog__confirm").click()
    page.wait_for_selector(".fp-confirm", state="hidden")


def wait_queue(page: Any, n: int) -> None:
    page.wait_for_selector(f"[data-testid=queue-count][data-count='{n}']")


def outbox(page: Any) -> list[dict[str, Any]]:
    """The outbox as IndexedDB holds it (what survives a reload or a closed tab)."""
    return page.evaluate(
        """() => new Promise((resolve, reject) => {
            const open = indexedDB.open('fieldpunch')
            open.onerror = () => reject(open.error)
            open.onsuccess = () => {
              const req = open.result.transaction('outbox').objectStore('outbox').getAll()
              req.onsuccess = () => resolve(req.result.map((i) => ({
                client_id: i.client_id, state: i.state, kind: i.body.kind,
                captured_at: i.body.captured_at, offline: i.body.offline,
                has_proof: !!i.body.time_proof, signature: i.body.signature,
              })))
              req.onerror = () => reject(req.error)
            }
          })"""
    )


def my_punches(server: Server, user_id: str) -> list[dict[str, Any]]:
    items = server.api("get", "/punches", params={"user_id": user_id, "limit": 500})["items"]
    return sorted(items, key=lambda p: p["captured_at"])


def test_sign_in_enrol_punch_and_see_the_verdict(context: Any, server: Server) -> None:
    email, user_id, _ = server.new_staff()
    page = context.new_page()
    sign_in(page, email)

    # Enrolled: one active web device for this person, whose id the app shows.
    devices = server.api("get", "/devices", params={"user_id": user_id})["items"]
    assert len(devices) == 1 and devices[0]["active"] and devices[0]["platform"] == "web"
    page.locator("[data-testid=tab-me]").click()
    page.locator("[data-testid=device-details-toggle]").click()  # technical detail: one tap away
    page.wait_for_selector(f"[data-testid=device-id]:has-text('{devices[0]['id']}')")
    page.locator("[data-testid=tab-punch]").click()

    # The live readout: accuracy and the matched office.
    page.wait_for_selector("[data-testid=accuracy]:has-text('±15')")
    page.wait_for_selector("[data-testid=nearest-place]:has-text('陆家嘴办公室')")
    button = page.locator(READY)
    assert button.get_attribute("data-kind") == "clock_in"
    assert "上班打卡" in button.inner_text()

    button.click()  # one tap
    verdict = page.wait_for_selector("[data-testid=verdict][data-status=accepted]")
    assert "打卡成功" in verdict.inner_text()
    assert "陆家嘴办公室" in verdict.inner_text()
    wait_queue(page, 0)

    [stored] = my_punches(server, user_id)
    assert stored["kind"] == "clock_in" and stored["status"] == "accepted"
    assert stored["signature_ok"] is True  # WebCrypto's signature, verified by the server
    assert stored["device_id"] == devices[0]["id"]
    assert stored["time_source"] == "proof"
    assert stored["place"]["id"] == server.place["id"]
    assert stored["client_id"] == verdict.get_attribute("data-client-id")

    # State picks the next kind; away from the office the button says so before the tap (外勤)
    # and the verdict says why, in plain words.
    page.wait_for_selector(f"{READY}[data-kind=clock_out]")
    context.set_geolocation({"latitude": 31.2600, "longitude": 121.5300, "accuracy": 20})
    page.wait_for_selector("[data-testid=accuracy]:has-text('±20')")
    page.wait_for_selector(f"{READY}[data-field=true]:has-text('外勤打卡')")
    page.locator(READY).click()
    confirm_quick_punch(page)  # a clock-out seconds after the clock-in asks first
    flagged = page.wait_for_selector("[data-testid=verdict][data-status=flagged]")
    text = flagged.inner_text()
    assert "需主管复核" in text and "不在打卡范围内" in text
    # The reason in plain Chinese with its numbers, not the server's English detail.
    assert "距打卡范围" in text and "超出定位误差" in text and "geofence" not in text
    assert page.locator("[data-testid=verdict-anomalies] [data-rule=outside_geofence]").count()
    assert [p["kind"] for p in my_punches(server, user_id)] == ["clock_in", "clock_out"]

    # English at a tap, kept across pages (each test has a fresh profile: no reset needed).
    page.locator("[data-testid=tab-me]").click()
    page.locator("[data-testid=me-lang]").click()
    page.locator("[data-testid=tab-punch]").click()
    page.wait_for_selector("[data-testid=day-done]:has-text('Done for today')")


def test_offline_punches_survive_a_reload_and_arrive_once(context: Any, server: Server) -> None:
    email, user_id, _ = server.new_staff()
    page = context.new_page()
    sign_in(page, email)
    # The service worker controls the page: the shell is cached for offline opening.
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.wait_for_selector("[data-testid=online-status][data-online=true]")

    context.set_offline(True)
    page.wait_for_selector("[data-testid=online-status][data-online=false]")
    # Clock in, clock out, then update the clock-out (the day is done: no second clock-in).
    taps = [f"{READY}[data-kind=clock_in]", f"{READY}[data-kind=clock_out]", UPDATE_OUT]
    for i, tap in enumerate(taps, start=1):
        page.locator(tap).click()
        if i == 2:
            confirm_quick_punch(page)
        wait_queue(page, i)
        page.wait_for_selector("[data-testid=verdict][data-status=queued]")
    queued = outbox(page)
    assert [q["kind"] for q in queued] == ["clock_in", "clock_out", "clock_out"]
    assert all(q["offline"] and q["has_proof"] and q["state"] == "pending" for q in queued)
    assert my_punches(server, user_id) == []

    page.reload()  # offline: only the service worker can answer this
    page.wait_for_selector(UPDATE_OUT)  # the queued punches alone say the day is done
    wait_queue(page, 3)
    assert outbox(page) == queued
    assert my_punches(server, user_id) == []

    context.set_offline(False)
    wait_queue(page, 0)
    page.wait_for_selector("[data-testid=online-status][data-online=true]")
    stored = my_punches(server, user_id)
    assert len(stored) == 3
    assert [p["client_id"] for p in stored] == [q["client_id"] for q in queued]
    for p, q in zip(stored, queued, strict=True):
        assert _instant(p["captured_at"]) == _instant(q["captured_at"])
        assert p["offline"] is True and p["signature_ok"] is True
        assert p["time_source"] == "proof"  # dated by the anchor fetched before going offline
        assert abs((_instant(p["trusted_time"]) - _instant(q["captured_at"])).total_seconds()) < 5
    assert outbox(page) == []

    # Sending again changes nothing: the same client_ids are replays, not new punches.
    page.reload()
    page.wait_for_selector(UPDATE_OUT)
    wait_queue(page, 0)
    assert len(my_punches(server, user_id)) == 3


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _photo_with_gps() -> bytes:
    # Random blocks: the shared org judges each upload against earlier ones (`photo_reused`).
    blocks = Image.frombytes("RGB", (16, 12), secrets.token_bytes(16 * 12 * 3))
    image = blocks.resize((800, 600), Image.Resampling.NEAREST)
    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (31.0, 14.0, 42.0), "E", (121.0, 30.0, 21.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_visit_at_a_customer_with_a_note_and_a_photo(context: Any, server: Server) -> None:
    email, user_id, token = server.new_staff("销售 小李")
    context.set_geolocation(
        {"latitude": CUSTOMER_AT[0], "longitude": CUSTOMER_AT[1], "accuracy": 10}
    )
    page = context.new_page()
    sign_in(page, email)

    page.locator("[data-testid=tab-customers]").click()
    rows = page.locator("[data-testid=customer-row]")
    rows.first.wait_for()
    # Sorted by distance: the customer we stand at comes first, inside its fence.
    assert rows.first.get_attribute("data-customer-id") == server.customer["id"]
    page.locator("[data-testid=customer-search] input").fill("华东")
    page.wait_for_selector("[data-testid=customer-row] >> nth=0")
    assert rows.count() == 1
    rows.first.click()

    page.wait_for_selector("[data-testid=visit-customer]:has-text('华东精密仪器')")
    page.wait_for_selector("[data-testid=visit-distance]:has-text('范围内')")
    note = "拜访王经理：确认续约，下周送样品。"
    page.locator("[data-testid=visit-note] textarea").fill(note)
    page.locator("[data-testid=visit-photo]").set_input_files(
        {"name": "visit.jpg", "mimeType": "image/jpeg", "buffer": _photo_with_gps()}
    )
    page.wait_for_selector("[data-testid=visit-photo-preview]")
    page.locator("[data-testid=visit-submit][data-kind=visit_in]").click()
    verdict = page.wait_for_selector("[data-testid=verdict][data-status=accepted]")
    assert "华东精密仪器" in verdict.inner_text()
    page.wait_for_selector("[data-testid=visit-submit][data-kind=visit_out]")

    # Checking out offline, with a photo: both wait in the outbox and go up together.
    context.set_offline(True)
    page.wait_for_selector("[data-testid=online-status][data-online=false]")
    page.locator("[data-testid=visit-note] textarea").fill("样品已签收。")
    page.locator("[data-testid=visit-photo]").set_input_files(
        {"name": "out.jpg", "mimeType": "image/jpeg", "buffer": _photo_with_gps()}
    )
    page.wait_for_selector("[data-testid=visit-photo-preview]")
    page.locator("[data-testid=visit-submit][data-kind=visit_out]").click()
    confirm_quick_punch(page)  # checking out within a minute of checking in asks first
    page.wait_for_selector("[data-testid=verdict][data-status=queued]")
    wait_queue(page, 1)
    context.set_offline(False)
    wait_queue(page, 0)
    # Seconds after the check-in: shorter than the org's minimum visit, said in plain Chinese.
    short = page.wait_for_selector("[data-testid=verdict][data-status=flagged]")
    assert "拜访时间过短" in short.inner_text() and "这次拜访只有" in short.inner_text()

    visit_in, visit_out = my_punches(server, user_id)
    assert [visit_in["kind"], visit_out["kind"]] == ["visit_in", "visit_out"]
    assert visit_in["customer"]["id"] == server.customer["id"]
    assert (visit_in["note"], visit_out["note"]) == (note, "样品已签收。")
    assert visit_in["signature_ok"] is True and visit_out["signature_ok"] is True
    assert visit_out["offline"] is True
    assert visit_in["photo_id"] and visit_out["photo_id"]
    assert visit_in["photo_id"] != visit_out["photo_id"]
    for punch in (visit_in, visit_out):
        photo = server.api("get", f"/photos/{punch['photo_id']}", token=token)
        assert (photo["width"], photo["height"]) == (800, 600)
        content = server._client.get(
            f"{server.base}{photo['url']}", headers={"Authorization": f"Bearer {token}"}
        )
        assert content.status_code == 200
        assert not Image.open(io.BytesIO(content.content)).getexif().get_ifd(0x8825)


def test_me_shows_my_month_and_asks_for_a_correction(context: Any, server: Server) -> None:
    email, user_id, _ = server.new_staff()
    page = context.new_page()
    sign_in(page, email)
    page.locator(READY).click()
    page.wait_for_selector("[data-testid=verdict][data-status=accepted]")
    page.locator("[data-testid=tab-me]").click()
    page.wait_for_selector("[data-testid=month-punches] li")
    page.wait_for_selector("[data-testid=me-summary] [data-stat=punchCount] dd:text-is('1')")
    page.locator("[data-testid=correction-open]").click()  # one tap from the top of Me
    page.locator("[data-testid=correction-kind]").select_option("clock_out")
    page.locator("[data-testid=correction-reason]").fill("忘记打下班卡")
    page.locator("[data-testid=correction-submit]").click()
    page.wait_for_selector("[data-testid=my-corrections] li:has-text('忘记打下班卡')")
    [correction] = server.api("get", "/corrections", params={"user_id": user_id})["items"]
    assert correction["kind"] == "clock_out" and correction["status"] == "pending"


def test_a_double_tap_punches_once(context: Any, server: Server) -> None:
    """Two taps 300 ms apart: the first answer is back in ~0.1 s, yet the second tap is ignored."""
    email, user_id, _ = server.new_staff()
    page = context.new_page()
    sign_in(page, email)
    box = page.locator(READY).bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    page.wait_for_timeout(300)  # the gap between the two taps is the input, not a wait for sync
    page.mouse.click(x, y)
    page.wait_for_selector("[data-testid=verdict][data-status=accepted]")
    wait_queue(page, 0)
    assert outbox(page) == []
    assert [p["kind"] for p in my_punches(server, user_id)] == ["clock_in"]

    # After the cool-down, a clock-out within the minute asks first. The dialog's confirm button
    # is nowhere near the punch button, so a stray third tap cannot confirm it.
    page.locator(f"{READY}[data-kind=clock_out]").click()
    confirm = page.locator(".fp-confirm .van-dialog__confirm")
    confirm.wait_for()
    c = confirm.bounding_box()
    assert c["y"] > box["y"] + box["height"] or c["y"] + c["height"] < box["y"]
    page.mouse.click(x, y)  # lands on the overlay: nothing happens
    assert page.locator(".fp-confirm").is_visible()
    page.locator(".fp-confirm .van-dialog__cancel").click()
    page.wait_for_selector(".fp-confirm", state="hidden")
    page.wait_for_selector(f"{READY}[data-kind=clock_out]")
    assert [p["kind"] for p in my_punches(server, user_id)] == ["clock_in"]


def test_server_words_are_said_in_the_apps_language(context: Any, server: Server) -> None:
    email, _, _ = server.new_staff()
    page = context.new_page()
    page.goto("/app/")
    page.locator("[data-testid=login-email] input").fill(email)
    page.locator("[data-testid=login-password] input").fill("not-the-password")
    page.locator("[data-testid=login-submit]").click()
    error = page.wait_for_selector("[data-testid=login-error]")
    assert error.inner_text() == "手机号、邮箱或密码不正确。"
    sign_in(page, email)

    page.locator("[data-testid=tab-me]").click()
    page.locator("[data-testid=correction-open]").click()
    page.locator("[data-testid=correction-reason]").fill("忘记打卡")
    # Older than the policy allows: the server's 422 names body.at; the app says it plainly.
    page.locator("[data-testid=correction-at]").fill("2020-01-06T09:00")
    page.locator("[data-testid=correction-submit]").click()
    text = page.wait_for_selector("[data-testid=correction-error]").inner_text()
    assert "补卡时间" in text and "body" not in text
    # In the future: said before anything is sent.
    page.locator("[data-testid=correction-at]").fill("2099-01-06T09:00")
    page.locator("[data-testid=correction-submit]").click()
    page.wait_for_selector("[data-testid=correction-error]:has-text('补卡时间不能晚于现在')")
    # Offline: no "Failed to fetch".
    page.locator("[data-testid=correction-at]").fill("2026-01-01T09:00")
    context.set_offline(True)
    page.locator("[data-testid=correction-submit]").click()
    page.wait_for_selector("[data-testid=correction-error]:has-text('没有网络连接')")
    assert "fetch" not in page.locator("[data-testid=correction-error]").inner_text()
    context.set_offline(False)


def test_notifications_in_me_with_a_badge(context: Any, server: Server) -> None:
    email, _, token = server.new_staff()
    server.api("post", "/me/notifications/test", token=token)
    page = context.new_page()
    sign_in(page, email)
    page.wait_for_selector("[data-testid=tab-me][data-badge='1'] .van-badge:text-is('1')")
    page.locator("[data-testid=tab-me]").click()
    item = page.locator("[data-testid=notification-list] li[data-read=false]")
    assert "测试通知" in item.inner_text()  # the kind's title in Chinese, not the server's English
    item.locator("button").click()
    page.wait_for_selector("[data-testid=notification-list] li[data-read=true]")
    page.wait_for_selector("[data-testid=tab-me][data-badge='0']")
    assert server.api("get", "/notifications", token=token)["unread_count"] == 0


def test_every_screen_opens_at_the_top(context: Any, server: Server) -> None:
    email, _, _ = server.new_staff()
    page = context.new_page()
    sign_in(page, email)
    page.locator("[data-testid=tab-me]").click()
    page.wait_for_selector("[data-testid=me-name]")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_function("window.scrollY > 0")
    page.locator("[data-testid=tab-customers]").click()
    page.locator("[data-testid=customer-row]").first.wait_for()
    assert page.evaluate("window.scrollY") == 0
    page.evaluate("window.scrollTo(0, 56)")
    page.locator(f"[data-testid=customer-row][data-customer-id='{server.customer['id']}']").click()
    page.wait_for_selector("[data-testid=visit-customer]")
    assert page.evaluate("window.scrollY") == 0
    page.locator("[data-testid=tab-me]").click()
    page.wait_for_selector("[data-testid=me-name]")
    assert page.evaluate("window.scrollY") == 0


CONTRAST = """(selector) => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number)
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4 }
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b)
  }
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor)
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3)
    }
    return [255, 255, 255]
  }
  return [...document.querySelectorAll(selector)]
    .filter((el) => el.offsetParent !== null && el.textContent.trim())
    .map((el) => {
      const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(background(el))]
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)
      return { text: el.textContent.trim().slice(0, 30), ratio: Math.round(ratio * 100) / 100 }
    })
}"""
LOW_CONTRAST_SUSPECTS = ".van-tag, .muted, .van-cell__label, .van-cell__value, .warn, .stats dt"


def test_text_contrast_reaches_wcag_aa_outdoors(context: Any, server: Server) -> None:
    """Tags (范围内, 正常, 待复核), addresses and distances: at least 4.5:1 against their fill."""
    email, _, _ = server.new_staff()
    context.set_geolocation(
        {"latitude": CUSTOMER_AT[0], "longitude": CUSTOMER_AT[1], "accuracy": 10}
    )
    page = context.new_page()
    sign_in(page, email)
    page.locator(READY).click()  # away from the office: 待复核 (flagged), an orange tag
    page.wait_for_selector("[data-testid=verdict][data-status=flagged]")
    page.wait_for_selector("[data-testid=today] .van-tag--warning")
    seen = page.evaluate(CONTRAST, LOW_CONTRAST_SUSPECTS)
    page.locator("[data-testid=tab-customers]").click()
    page.wait_for_selector("[data-testid=customer-row] .van-tag")  # 范围内
    seen += page.evaluate(CONTRAST, LOW_CONTRAST_SUSPECTS)
    page.locator("[data-testid=tab-me]").click()
    page.wait_for_selector("[data-testid=month-punches] .van-tag")
    seen += page.evaluate(CONTRAST, LOW_CONTRAST_SUSPECTS)
    assert len(seen) > 10
    low = [s for s in seen if s["ratio"] < 4.5]
    assert low == []


def test_a_coarse_fix_is_not_called_in_range(context: Any, server: Server) -> None:
    email, _, _ = server.new_staff()
    context.set_geolocation({"latitude": 31.2397, "longitude": 121.4998, "accuracy": 900})
    page = context.new_page()
    sign_in(page, email)
    warning = page.wait_for_selector("[data-testid=accuracy-warning]")
    assert "定位精度差（±900 米），打卡会交主管复核" in warning.inner_text()
    place = page.wait_for_selector("[data-testid=nearest-place][data-claim=uncertain]")
    assert "范围内" not in place.inner_text() and "陆家嘴办公室" in place.inner_text()
    page.locator(READY).click()  # still allowed; the server flags it
    flagged = page.wait_for_selector("[data-testid=verdict][data-status=flagged]")
    assert "定位精度只有 ±900 米（上限 200 米）" in flagged.inner_text()


def test_location_denied_says_so_on_the_button(browser: Any, server: Server) -> None:
    ctx = browser.new_context(
        base_url=server.base,
        viewport={"width": 390, "height": 844},
        locale="zh-CN",
        permissions=[],
    )
    try:
        email, _, _ = server.new_staff()
        page = ctx.new_page()
        page.goto("/app/")
        page.locator("[data-testid=login-email] input").fill(email)
        page.locator("[data-testid=login-password] input").fill("field-app-e2e-2026")
        page.locator("[data-testid=login-submit]").click()
        page.wait_for_url("**/app/")
        page.wait_for_selector("[data-testid=position-missing][data-error=denied]")
        button = page.locator("[data-testid=punch-button]")
        assert button.is_disabled() and "未允许定位" in button.inner_text()
        assert "允许" in page.locator("[data-testid=position-missing]").inner_text()
        assert page.locator("[data-testid=location-retry]").is_visible()
    finally:
        ctx.close()


def test_an_english_browser_gets_english(browser: Any, server: Server) -> None:
    ctx = browser.new_context(base_url=server.base, locale="en-US")
    try:
        page = ctx.new_page()
        page.goto("/app/")
        page.wait_for_selector("[data-testid=login-submit]:has-text('Sign in')")
        assert page.evaluate("document.documentElement.lang") == "en"
        page.locator("[data-testid=lang-toggle]").click()  # an explicit choice wins and is kept
        page.reload()
        page.wait_for_selector("[data-testid=login-submit]:has-text('登录')")
    finally:
        ctx.close()


def test_screenshot_of_the_punch_screen(context: Any, server: Server, tmp_path: Path) -> None:
    """390×844 (iPhone 12–15): the README picture; `make screenshot` refreshes docs/img."""
    email, _, _ = server.new_staff("外勤 张敏")
    page = context.new_page()
    sign_in(page, email)
    page.wait_for_selector("[data-testid=nearest-place]")
    page.locator(READY).click()
    page.wait_for_selector("[data-testid=verdict][data-status=accepted]")
    page.wait_for_selector("[data-testid=today] li")
    page.wait_for_selector(f"{READY}[data-kind=clock_out]")  # the cool-down after the punch is over
    page.evaluate("document.fonts.ready")
    shot = tmp_path / "punch-390x844.png"
    page.screenshot(path=str(shot))
    with Image.open(shot) as img:
        assert img.size == (780, 1688)  # 390×844 CSS pixels at device scale 2
    if os.environ.get("FIELDPUNCH_UPDATE_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        with Image.open(shot) as img:
            img.resize((390, 844), Image.Resampling.LANCZOS).save(SCREENSHOT, optimize=True)
        shutil.copy(shot, tmp_path / "kept.png")


# The ids of the operations Swagger UI has on the page now (`operations-<tag>-<operationId>`).
SHOWN_OPERATIONS = "() => [...document.querySelectorAll('.opblock')].map((o) => o.id)"
# One screen further down, after the list has drawn what the last scroll showed; true at the end.
SCROLL_ON = """async () => {
  await new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)))
  const end = window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 1
  window.scrollBy(0, window.innerHeight / 2)
  await new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)))
  return end
}"""


def test_the_api_docs_render_with_no_internet(context: Any, server: Server) -> None:
    # Swagger UI comes from the server itself: nothing outside it is reachable from the page.
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(server.base) else outside.append(r.url))
    # The page's Content-Security-Policy lets Swagger UI run (its inline start-up by hash).
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    page.goto(f"{server.base}/docs")
    page.wait_for_selector(".swagger-ui .opblock-tag", timeout=30_000)
    document = page.evaluate("() => fetch('/openapi.json').then((r) => r.json())")
    operations = {op["operationId"] for path in document["paths"].values() for op in path.values()}
    assert len(operations) > 100
    # Swagger UI renders a long list as it is scrolled into view: scroll to the end, collecting.
    seen: set[str] = set()
    for _ in range(200):
        seen |= set(page.evaluate(SHOWN_OPERATIONS))
        if page.evaluate(SCROLL_ON):
            break
    assert {o for o in operations if not any(s.endswith(f"-{o}") for s in seen)} == set()
    assert outside == []
    assert refused == []


def test_one_email_in_two_organizations_chooses_where_to_sign_in(
    context: Any, server: Server
) -> None:
    # The same email and password in another organization (emails are unique per organization).
    email, user_id, _ = server.new_staff("两边都有的人")
    made = run(
        [
            "create-org",
            "--name",
            "另一家公司",
            "--admin-email",
            email,
            "--admin-password",
            PASSWORD,
        ],
        env_for(server.data_dir, FIELDPUNCH_ACCESS_LOG="false"),
    )
    assert made.returncode == 0, made.stderr
    page = context.new_page()
    page.goto("/app/")
    page.wait_for_url("**/app/login")
    page.locator("[data-testid=login-email] input").fill(email)
    page.locator("[data-testid=login-password] input").fill(PASSWORD)
    page.locator("[data-testid=login-submit]").click()
    choices = page.locator("[data-testid=login-orgs]")
    choices.wait_for()
    assert "另一家公司" in choices.inner_text() and "云途测试" in choices.inner_text()
    page.locator(f"[data-testid=login-org-{server.org_id}]").click()
    page.wait_for_url("**/app/")
    page.wait_for_selector(READY)
    me = page.evaluate("() => JSON.parse(localStorage.getItem('fieldpunch.me') || 'null')")
    assert me is not None and me["user_id"] == user_id
