"""The console's attendance pages in a real browser against a real server: the month grid (a late
day in the late colour, the day's edges), the monthly report downloaded as XLSX, team scoping,
and the roster grid filled by a pattern and saved; each checked through the API."""

from __future__ import annotations

import secrets
import time
from datetime import date, datetime, timedelta
from io import BytesIO
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from tests.e2e.conftest import OFFICE, Server
from tests.e2e.test_console import console_sign_in, new_team, team_member

LATE_ORANGE = "rgb(229, 138, 0)"  # lib/attendance.ts: late


def _zone(server: Server) -> ZoneInfo:
    return ZoneInfo(server.api("get", "/me")["org"]["timezone"])


def _yesterday(server: Server) -> date:
    return datetime.now(_zone(server)).date() - timedelta(days=1)


def _fixed_group(server: Server, user_ids: list[str]) -> dict[str, Any]:
    """A 09:00–18:00 shift worked every day of the week by these people."""
    # The punches below are sent a day late, offline: not stale for this org.
    server.api("put", "/policy", json={"stale_offline_h": 24 * 30})
    shift = server.api(
        "post",
        "/shifts",
        json={
            "name": f"标准班 {secrets.token_hex(2)}",
            "periods": [{"start": "09:00", "end": "18:00"}],
        },
    )
    group: dict[str, Any] = server.api(
        "post",
        "/attendance-groups",
        json={
            "name": f"总部 {secrets.token_hex(2)}",
            "schedule": "fixed",
            "shift_id": shift["id"],
            "workdays": [1, 2, 3, 4, 5, 6, 7],
            "user_ids": user_ids,
        },
    )
    return group


def _punch_at(server: Server, token: str, at: datetime, kind: str) -> dict[str, Any]:
    """A punch captured at `at`, sent late from the office (offline: its device time counts)."""
    made: dict[str, Any] = server.api(
        "post",
        "/punches",
        token=token,
        json={
            "client_id": str(uuid4()),
            "kind": kind,
            "captured_at": at.isoformat(),
            "offline": True,
            "location": {"lat": OFFICE[0], "lon": OFFICE[1], "accuracy_m": 12, "source": "gps"},
        },
    )
    if made["status"] == "flagged":  # counted once a reviewer approves it
        found = server.api("get", "/anomalies", params={"user_id": made["user_id"], "limit": 500})
        ids = [a["id"] for a in found["items"] if a["punch_id"] == made["id"]]
        server.api(
            "post",
            "/anomalies/resolve",
            json={"ids": ids, "decision": "approve", "comment": "已核实"},
        )
    return made


def _computed(server: Server, user_id: str, d: date, want: str | None = None) -> dict[str, Any]:
    """Have the day recomputed and wait for the job (up to 60 s): the stored row."""
    server.api(
        "post",
        "/attendance/recompute",
        json={"from": d.isoformat(), "to": d.isoformat(), "user_id": user_id},
    )
    deadline = time.monotonic() + 60
    while True:
        items = server.api(
            "get",
            "/attendance/days",
            params={"user_id": user_id, "from": d.isoformat(), "to": d.isoformat()},
        )["items"]
        if items and items[0]["status"] and (want is None or items[0]["status"] == want):
            return dict(items[0])
        assert time.monotonic() < deadline, f"day not computed: {items}"
        time.sleep(0.5)  # polling the API for the job, not waiting on the page


def _late_day(
    server: Server, user_id: str, token: str
) -> tuple[date, dict[str, Any], dict[str, Any]]:
    """Yesterday: in at 09:20 local (20 min late), out at 18:05. (date, day row, the in punch)."""
    _fixed_group(server, [user_id])
    d = _yesterday(server)
    zone = _zone(server)
    came = _punch_at(
        server,
        token,
        datetime.combine(d, datetime.min.time(), zone).replace(hour=9, minute=20),
        "clock_in",
    )
    _punch_at(
        server,
        token,
        datetime.combine(d, datetime.min.time(), zone).replace(hour=18, minute=5),
        "clock_out",
    )
    return d, _computed(server, user_id, d, "late"), came


def _open_grid(page: Any, email: str, month: str) -> None:
    console_sign_in(page, email)
    page.wait_for_url("**/console/dashboard")
    page.goto(f"/console/attendance?month={month}")
    page.wait_for_selector("[data-testid=attendance-body][data-loaded=true]")


def test_a_late_day_shows_in_the_late_colour_and_opens_its_edges(
    console: Any, server: Server
) -> None:
    team_id, email, _ = new_team(server, "考勤一组")
    user_id, token = team_member(server, team_id, "外勤 孙丽")
    d, row, came = _late_day(server, user_id, token)
    assert row["late_min"] == 20

    page = console.new_page()
    errors: list[Any] = []
    page.on("pageerror", lambda e: errors.append(e))
    console_sign_in(page, email)
    page.wait_for_url("**/console/dashboard")
    page.locator("[data-testid=menu-attendance]").click()  # in the menu for a manager
    page.wait_for_url("**/console/attendance**")
    if d.strftime("%Y-%m") != datetime.now(_zone(server)).strftime("%Y-%m"):
        page.goto(f"/console/attendance?month={d:%Y-%m}")  # yesterday was last month
    cell = page.locator(
        f"[data-testid=day-cell][data-user-id={user_id}][data-date='{d.isoformat()}']"
    )
    cell.wait_for()
    assert cell.get_attribute("data-status") == "late"
    colour = cell.locator(".cell").evaluate("el => getComputedStyle(el).backgroundColor")
    assert colour == LATE_ORANGE
    assert "迟到" in page.locator("[data-testid=legend]").inner_text()

    cell.click()  # the day: each edge and what decided it
    detail = page.locator("[data-testid=day-detail]")
    detail.locator("[data-testid=day-status][data-status=late]").wait_for()
    states = detail.locator("[data-testid=edge-state]")
    assert [states.nth(i).get_attribute("data-state") for i in range(states.count())] == [
        "late",
        "ok",
    ]
    decided = detail.locator(f"[data-testid=edge-decided][data-punch-id={came['id']}]")
    assert "09:20" in decided.inner_text()
    detail.locator(f"[data-testid=day-punch][data-punch-id={came['id']}]").wait_for()
    assert not errors, [e.stack for e in errors]


def test_the_monthly_report_downloads_as_xlsx(console: Any, server: Server, tmp_path: Any) -> None:
    team_id, email, _ = new_team(server, "考勤二组")
    user_id, token = team_member(server, team_id, "外勤 周婷")
    d, _, _ = _late_day(server, user_id, token)

    page = console.new_page()
    _open_grid(page, email, f"{d:%Y-%m}")
    page.locator("[data-testid=download-button]").click()
    with page.expect_download() as info:
        page.locator("[data-testid=download-monthly-xlsx]").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    saved = tmp_path / "monthly.xlsx"
    download.save_as(saved)
    book = load_workbook(BytesIO(saved.read_bytes()), read_only=True)
    rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    header = rows[1]
    assert "姓名" in header and "迟到次数" in header
    mine = [r for r in rows[2:] if r[header.index("姓名")] == "外勤 周婷"]
    assert len(mine) == 1 and mine[0][header.index("迟到次数")] == 1
    # The CSV of the same report: UTF-8 with a BOM (for Excel), the person on a line.
    page.locator("[data-testid=download-button]").click()
    with page.expect_download() as info:
        page.locator("[data-testid=download-monthly-csv]").click()
    csv_path = tmp_path / "monthly.csv"
    info.value.save_as(csv_path)
    text = csv_path.read_bytes()
    assert text.startswith(b"\xef\xbb\xbf")
    assert any(line.startswith("外勤 周婷,") for line in text.decode("utf-8-sig").splitlines())


def test_a_manager_of_one_team_does_not_see_another_teams_people(
    console: Any, server: Server
) -> None:
    team_a, email_a, _ = new_team(server, "甲组")
    team_b, _, _ = new_team(server, "乙组")
    a_id, a_token = team_member(server, team_a, "甲组 吴昊")
    b_id, b_token = team_member(server, team_b, "乙组 郑爽")
    _fixed_group(server, [a_id, b_id])
    d = _yesterday(server)
    zone = _zone(server)
    at = datetime.combine(d, datetime.min.time(), zone).replace(hour=8, minute=55)
    _punch_at(server, a_token, at, "clock_in")
    _punch_at(server, b_token, at, "clock_in")
    _computed(server, a_id, d)
    _computed(server, b_id, d)  # both days are stored: the admin would see both

    page = console.new_page()
    _open_grid(page, email_a, f"{d:%Y-%m}")
    page.locator(f"[data-testid=grid-row][data-user-id={a_id}]").wait_for()
    assert page.locator(f"[data-testid=grid-row][data-user-id={b_id}]").count() == 0
    assert "乙组 郑爽" not in page.locator("[data-testid=attendance-grid]").inner_text()
    # Nor in the summaries, nor among the teams to filter by.
    page.locator("[data-testid=tab-monthly]").click()
    table = page.locator("[data-testid=table-monthly]")
    table.get_by_text("甲组 吴昊").wait_for()
    assert "乙组 郑爽" not in table.inner_text()
    page.locator("[data-testid=team-filter]").click()
    options = page.locator(".el-select-dropdown__item")
    options.first.wait_for()
    names = options.all_inner_texts()
    assert any(n.startswith("甲组") for n in names) and not any(n.startswith("乙组") for n in names)
    # Asking for team B by address is refused in words, and shows nobody.
    page.goto(f"/console/attendance?month={d:%Y-%m}&team={team_b}")
    error = page.locator("[data-testid=attendance-error]")
    error.wait_for()
    assert "找不到" in error.inner_text()
    assert page.locator("[data-testid=grid-row]").count() == 0


def test_a_roster_is_filled_by_pattern_and_saved(console: Any, server: Server) -> None:
    team_id, email, _ = new_team(server, "排班组")
    user_id, _ = team_member(server, team_id, "门店 林晓")
    tag = secrets.token_hex(2)
    early = server.api(
        "post",
        "/shifts",
        json={"name": f"早班{tag}", "periods": [{"start": "07:00", "end": "15:00"}]},
    )
    late = server.api(
        "post",
        "/shifts",
        json={"name": f"晚班{tag}", "periods": [{"start": "14:00", "end": "22:00"}]},
    )
    first = (datetime.now(_zone(server)).date().replace(day=1) + timedelta(days=32)).replace(day=1)
    second = first + timedelta(days=1)  # the first two days of next month

    page = console.new_page()
    console_sign_in(page, email)
    page.wait_for_url("**/console/dashboard")
    page.goto(f"/console/rosters?month={first:%Y-%m}")
    page.wait_for_selector("[data-testid=roster-body][data-loaded=true]")
    page.locator(
        f"[data-testid=roster-row][data-user-id={user_id}] [data-testid=roster-tick]"
    ).click()
    to = page.locator("[data-testid=pattern-fill] input").nth(1)
    to.fill(second.isoformat())
    to.press("Enter")
    page.locator(f"[data-testid=pattern-add-{early['id']}]").click()
    page.locator(f"[data-testid=pattern-add-{late['id']}]").click()
    assert page.locator("[data-testid=pattern-step]").count() == 2
    page.locator("[data-testid=fill-apply]").click()
    cell = f"[data-testid=roster-cell][data-user-id={user_id}]"
    assert page.locator(f"{cell}[data-date='{first}']").get_attribute("data-shift") == early["id"]
    assert page.locator(f"{cell}[data-date='{second}']").get_attribute("data-shift") == late["id"]
    assert (
        page.locator(f"{cell}[data-date='{second + timedelta(days=1)}']").get_attribute(
            "data-shift"
        )
        == ""
    )
    assert "2" in page.locator("[data-testid=roster-pending]").inner_text()
    page.locator("[data-testid=roster-save]").click()
    page.wait_for_selector("[data-testid=roster-pending]", state="detached")

    stored = server.api(
        "get",
        "/rosters",
        params={
            "from": first.isoformat(),
            "to": (first + timedelta(days=6)).isoformat(),
            "user_id": user_id,
        },
    )["items"]
    assert stored == [
        {
            "user_id": user_id,
            "days": [
                {"date": first.isoformat(), "shift_id": early["id"]},
                {"date": second.isoformat(), "shift_id": late["id"]},
            ],
        }
    ]
    # One cell by hand: the chooser sets the third day to a day off.
    page.locator(f"{cell}[data-date='{second + timedelta(days=1)}']").click()
    page.locator(".el-select-dropdown__item", has_text="休息").click()
    page.locator("[data-testid=roster-save]").click()
    page.wait_for_selector("[data-testid=roster-pending]", state="detached")
    days = server.api(
        "get",
        "/rosters",
        params={"from": first.isoformat(), "to": first.isoformat()[:8] + "03", "user_id": user_id},
    )["items"][0]["days"]
    assert days[-1] == {"date": (second + timedelta(days=1)).isoformat(), "shift_id": "rest"}


# The README picture: a team's last month, people × days, in Chinese.
MONTH_TEAM = [
    "王伟",
    "李静",
    "张磊",
    "刘洋",
    "陈晨",
    "杨帆",
    "赵敏",
    "黄磊",
    "周婷",
    "吴昊",
    "徐丽",
    "孙浩",
    "马骏",
    "朱琳",
]


def _seed_month(server: Server, team_id: str, first: date) -> list[str]:
    """Every workday of the month punched for each person of the team: mostly on time, some
    late, very late, early, a missing clock-out, an absent day, annual leave and a trip."""
    import random

    rng = random.Random(16)
    zone = _zone(server)
    people = [team_member(server, team_id, name) for name in MONTH_TEAM]
    server.api("put", "/policy", json={"stale_offline_h": 24 * 90})
    shift = server.api(
        "post",
        "/shifts",
        json={
            "name": f"标准班 {secrets.token_hex(2)}",
            "periods": [{"start": "09:00", "end": "18:00"}],
            "grace_late_min": 5,
            "serious_late_min": 30,
        },
    )
    server.api(
        "post",
        "/attendance-groups",
        json={
            "name": f"上海外勤 {secrets.token_hex(2)}",
            "schedule": "fixed",
            "shift_id": shift["id"],
            "user_ids": [u for u, _ in people],
        },
    )
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]

    def at(d: date, hh: int, mm: int) -> str:
        return (
            datetime.combine(d, datetime.min.time(), zone).replace(hour=hh, minute=mm).isoformat()
        )

    for n, (_, token) in enumerate(people):
        away = {days[8 + n % 9]} if n % 4 == 1 else set()  # a day of annual leave
        trip = {days[15 + n % 5], days[16 + n % 5]} if n % 5 == 2 else set()
        punches: list[dict[str, Any]] = []
        for d in days:
            if d.isoweekday() > 5 or d in away or d in trip:
                continue
            roll = rng.random()
            if roll < 0.03:
                continue  # absent
            came = (8, 40 + rng.randrange(15))
            if roll < 0.12:
                came = (9, 8 + rng.randrange(15))  # late
            elif roll < 0.15:
                came = (9, 40 + rng.randrange(15))  # very late
            left: tuple[int, int] | None = (18, rng.randrange(40))
            if 0.15 <= roll < 0.19:
                left = (17, 20 + rng.randrange(30))  # left early
            elif 0.19 <= roll < 0.22:
                left = None  # forgot to clock out
            for kind, hm in (("clock_in", came), ("clock_out", left)):
                if hm:
                    punches.append(
                        {
                            "client_id": str(uuid4()),
                            "kind": kind,
                            "captured_at": at(d, *hm),
                            "offline": True,
                            "location": {
                                "lat": OFFICE[0],
                                "lon": OFFICE[1],
                                "accuracy_m": 12,
                                "source": "gps",
                            },
                        }
                    )
        server.api("post", "/punches/batch", token=token, json={"punches": punches})
        for kind, leave_days, extra in (
            ("leave", away, {"leave_type": "annual"}),
            ("trip", trip, {}),
        ):
            if leave_days:
                start, end = min(leave_days), max(leave_days) + timedelta(days=1)
                made = server.api(
                    "post",
                    "/requests",
                    token=token,
                    json={
                        "kind": kind,
                        "unit": "day",
                        "start": at(start, 0, 0),
                        "end": at(end, 0, 0),
                        "reason": "年假" if kind == "leave" else "去苏州客户处",
                        **extra,
                    },
                )
                server.api("post", f"/requests/{made['id']}/approve", json={"comment": "同意"})
    server.api(
        "post",
        "/attendance/recompute",
        json={"from": days[0].isoformat(), "to": days[-1].isoformat(), "team_id": team_id},
    )
    want = len(people) * len(days)
    deadline = time.monotonic() + 120
    while True:
        got = server.api(
            "get",
            "/attendance/days",
            params={
                "from": days[0].isoformat(),
                "to": days[-1].isoformat(),
                "team_id": team_id,
                "limit": 500,
            },
        )
        done = [r for r in got["items"] if r["status"]]
        if len(done) >= want and not got["next_cursor"]:
            break
        assert time.monotonic() < deadline, f"{len(done)} of {want} days computed"
        time.sleep(1)  # polling the API for the job
    return [u for u, _ in people]


def test_screenshot_of_the_attendance_grid(
    browser: Any, server: Server, built_console: Any, tmp_path: Any
) -> None:
    """docs/img/console-attendance.png: last month of a team of 14 (FIELDPUNCH_UPDATE_SCREENSHOT=1
    writes it; otherwise it is taken and checked)."""
    import os
    import shutil
    from pathlib import Path

    from PIL import Image

    team_id, email, _ = new_team(server, "上海外勤一组")
    first = (datetime.now(_zone(server)).date().replace(day=1) - timedelta(days=1)).replace(day=1)
    people = _seed_month(server, team_id, first)
    ctx = browser.new_context(
        base_url=server.base,
        viewport={"width": 1280, "height": 800},
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    ctx.route(lambda url: not url.startswith(server.base), lambda route: route.abort())
    try:
        page = ctx.new_page()
        _open_grid(page, email, f"{first:%Y-%m}")
        rows = page.locator("[data-testid=grid-row]")
        rows.nth(len(people) - 1).wait_for()
        assert rows.count() == len(people)
        statuses = set(
            page.locator("[data-testid=day-cell]").evaluate_all(
                "els => els.map(e => e.dataset.status)"
            )
        )
        assert {"normal", "late", "rest", "leave"} <= statuses
        shot = tmp_path / "console-attendance.png"
        page.screenshot(path=str(shot))
    finally:
        ctx.close()
    with Image.open(shot) as img:
        assert img.size == (1280, 800)
    if os.environ.get("FIELDPUNCH_UPDATE_SCREENSHOT") == "1":
        img_dir = Path(__file__).resolve().parents[2] / "docs" / "img"
        shutil.copy(shot, img_dir / "console-attendance.png")
