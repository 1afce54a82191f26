"""The field app in a real browser against a real server: sign in, enrol, punch, offline, visit."""

from __future__ import annotations

import io
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image

from tests.e2e.conftest import CUSTOMER_AT, Server

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "img" / "punch-390x844.png"
READY = "[data-testid=punch-button]:not([disabled])"


def sign_in(page: Any, email: str, password: str = "field-app-e2e-2026") -> None:
    page.goto("/app/")
    page.wait_for_url("**/app/login")
    page.locator("[data-testid=login-email] input").fill(email)
    page.locator("[data-testid=login-password] input").fill(password)
    page.locator("[data-testid=login-submit]").click()
    page.wait_for_url("**/app/")
    page.wait_for_selector(READY)


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

    # State picks the next kind; away from the office the verdict says why, in plain words.
    page.wait_for_selector(f"{READY}[data-kind=clock_out]")
    context.set_geolocation({"latitude": 31.2600, "longitude": 121.5300, "accuracy": 20})
    page.wait_for_selector("[data-testid=accuracy]:has-text('±20')")
    page.locator(READY).click()
    flagged = page.wait_for_selector("[data-testid=verdict][data-status=flagged]")
    text = flagged.inner_text()
    assert "需主管复核" in text and "不在打卡范围内" in text
    assert page.locator("[data-testid=verdict-anomalies] [data-rule=outside_geofence]").count()
    assert [p["kind"] for p in my_punches(server, user_id)] == ["clock_in", "clock_out"]

    # English at a tap, kept across pages (each test has a fresh profile: no reset needed).
    page.locator("[data-testid=tab-me]").click()
    page.locator("[data-testid=me-lang]").click()
    page.locator("[data-testid=tab-punch]").click()
    page.wait_for_selector(f"{READY}:has-text('Clock in')")


def test_offline_punches_survive_a_reload_and_arrive_once(context: Any, server: Server) -> None:
    email, user_id, _ = server.new_staff()
    page = context.new_page()
    sign_in(page, email)
    # The service worker controls the page: the shell is cached for offline opening.
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.wait_for_selector("[data-testid=online-status][data-online=true]")

    context.set_offline(True)
    page.wait_for_selector("[data-testid=online-status][data-online=false]")
    for i, kind in enumerate(["clock_in", "clock_out", "clock_in"], start=1):
        page.locator(f"{READY}[data-kind={kind}]").click()
        wait_queue(page, i)
        page.wait_for_selector("[data-testid=verdict][data-status=queued]")
    queued = outbox(page)
    assert [q["kind"] for q in queued] == ["clock_in", "clock_out", "clock_in"]
    assert all(q["offline"] and q["has_proof"] and q["state"] == "pending" for q in queued)
    assert my_punches(server, user_id) == []

    page.reload()  # offline: only the service worker can answer this
    page.wait_for_selector(READY)
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
    page.wait_for_selector(READY)
    wait_queue(page, 0)
    assert len(my_punches(server, user_id)) == 3


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _photo_with_gps() -> bytes:
    image = Image.new("RGB", (800, 600), (40, 120, 200))
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
    page.wait_for_selector("[data-testid=verdict][data-status=queued]")
    wait_queue(page, 1)
    context.set_offline(False)
    wait_queue(page, 0)
    page.wait_for_selector("[data-testid=verdict][data-status=accepted]")

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
    page.locator("[data-testid=correction-kind]").select_option("clock_out")
    page.locator("[data-testid=correction-reason]").fill("忘记打下班卡")
    page.locator("[data-testid=correction-submit]").click()
    page.wait_for_selector("[data-testid=my-corrections] li:has-text('忘记打下班卡')")
    [correction] = server.api("get", "/corrections", params={"user_id": user_id})["items"]
    assert correction["kind"] == "clock_out" and correction["status"] == "pending"


def test_screenshot_of_the_punch_screen(context: Any, server: Server, tmp_path: Path) -> None:
    """390×844 (iPhone 12–15): the README picture; `make screenshot` refreshes docs/img."""
    email, _, _ = server.new_staff("外勤 张敏")
    page = context.new_page()
    sign_in(page, email)
    page.wait_for_selector("[data-testid=nearest-place]")
    page.locator(READY).click()
    page.wait_for_selector("[data-testid=verdict][data-status=accepted]")
    page.wait_for_selector("[data-testid=today] li")
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
