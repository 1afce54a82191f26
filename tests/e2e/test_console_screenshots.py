"""The console's README pictures (docs/img/console-live.png, console-review.png) from a small
demo-like team: people punching around Lujiazui, some outside every fence, one correction
request. `make screenshot` refreshes them (FIELDPUNCH_UPDATE_SCREENSHOT=1); otherwise they are
taken and checked, not written. No tiles are reachable here: the maps show their grid."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

from PIL import Image

from tests.e2e.conftest import CUSTOMER_AT, OFFICE, Server
from tests.e2e.test_console import console_sign_in, new_team, punch, team_member

IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
# (name, where, kind): around the office, at the customer, and a few far out (flagged).
TEAM = [
    ("王伟", OFFICE, "clock_in"),
    ("李静", (OFFICE[0] + 0.0004, OFFICE[1] - 0.0003), "clock_in"),
    ("张磊", (OFFICE[0] - 0.0003, OFFICE[1] + 0.0005), "clock_in"),
    ("刘洋", (OFFICE[0] + 0.0002, OFFICE[1] + 0.0002), "clock_out"),
    ("陈晨", CUSTOMER_AT, "visit_in"),
    ("杨帆", (CUSTOMER_AT[0] + 0.0003, CUSTOMER_AT[1]), "visit_in"),
    ("赵敏", (31.2600, 121.5300), "clock_in"),
    ("黄磊", (31.2205, 121.5440), "clock_in"),
    ("周婷", (31.2480, 121.4700), "clock_out"),
    ("吴昊", (31.2290, 121.4850), "visit_in"),
]


def _save(shot: Path, name: str) -> None:
    if os.environ.get("FIELDPUNCH_UPDATE_SCREENSHOT") == "1":
        IMG.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, IMG / name)


def _punch_as(server: Server, token: str, where: tuple[float, float], kind: str) -> Any:
    """A punch now; a visit names the customer (far from it, it is flagged)."""
    if kind != "visit_in":
        return punch(server, token, where, kind)
    return server.api(
        "post",
        "/punches",
        token=token,
        json={
            "client_id": str(uuid4()),
            "kind": "visit_in",
            "captured_at": datetime.now(UTC).isoformat(),
            "location": {"lat": where[0], "lon": where[1], "accuracy_m": 18},
            "customer_id": server.customer["id"],
        },
    )


def test_screenshot_of_the_console_live_and_review(
    console: Any, server: Server, tmp_path: Path
) -> None:
    team_id, email, _ = new_team(server, "上海外勤一组")
    members = [
        (name, *team_member(server, team_id, name), where, kind) for name, where, kind in TEAM
    ]
    for _, _, token, where, kind in members[:6]:
        _punch_as(server, token, where, kind)
    punch(server, members[6][2], OFFICE)  # 赵敏 starts at the office: her next punch has a leg
    zone = ZoneInfo(server.api("get", "/org")["timezone"])
    at = (datetime.now(zone) - timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    server.api(
        "post",
        "/corrections",
        token=members[1][2],
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
    page.locator("[data-testid=menu-live]").click()
    page.wait_for_url("**/console/live")
    page.wait_for_selector("[data-testid=live-link][data-state=live]")
    # These arrive live, into the feed.
    live_punches = [
        _punch_as(server, token, where, kind) for _, _, token, where, kind in members[6:]
    ]
    page.wait_for_function("() => document.querySelectorAll('[data-testid=feed-item]').length >= 8")
    page.evaluate("document.fonts.ready")
    live = tmp_path / "console-live.png"
    page.screenshot(path=str(live))
    with Image.open(live) as img:
        assert img.size == (1440, 900)
    _save(live, "console-live.png")

    page.locator("[data-testid=menu-review]").click()
    page.locator("[data-testid=review-item]").nth(2).wait_for()
    # 赵敏: the office punch before, the leg to where she is now.
    page.locator(f"[data-testid=review-item][data-key={live_punches[0]['id']}]").click()
    page.locator("[data-testid=evidence-map] [data-testid=evidence-previous]").wait_for()
    page.mouse.move(0, 0)
    page.evaluate("document.fonts.ready")
    review = tmp_path / "console-review.png"
    page.screenshot(path=str(review))
    _save(review, "console-review.png")
