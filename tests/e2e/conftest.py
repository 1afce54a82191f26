"""Browser tests: the real `fieldpunch serve` process and Debian's Chromium driven by Playwright.

Chromium comes from `FIELDPUNCH_CHROMIUM`, else /usr/bin/chromium (Debian's package, what
`make test` installs as root), else a browser installed by `playwright install chromium`.
Without a browser or without the built app (`make web`) these tests skip, and fail instead
when FIELDPUNCH_REQUIRE_SERVICES=1 (CI).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from fieldpunch.web.static import DIST
from tests.server import env_for, run, serving
from tests.services import required

OFFICE = (31.2397, 121.4998)  # Lujiazui, WGS-84
CUSTOMER_AT = (31.2450, 121.5060)  # ~800 m north-east of the office
PASSWORD = "field-app-e2e-2026"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 20_000


def _missing(what: str) -> None:
    if required():
        pytest.fail(f"{what} (FIELDPUNCH_REQUIRE_SERVICES=1)")
    pytest.skip(what)


def chromium_path() -> str | None:
    for candidate in (os.environ.get("FIELDPUNCH_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            bundled = p.chromium.executable_path
        return bundled if os.access(bundled, os.X_OK) else None
    except Exception:
        return None


@dataclass
class Server:
    base: str
    admin_token: str
    org_id: str
    place: dict[str, Any]
    customer: dict[str, Any]
    data_dir: Path
    _client: httpx.Client = field(repr=False, default_factory=httpx.Client)

    def api(self, method: str, path: str, token: str | None = None, **kw: Any) -> Any:
        r = self._client.request(
            method,
            f"{self.base}/api/v1{path}",
            headers={"Authorization": f"Bearer {token or self.admin_token}"},
            timeout=30,
            **kw,
        )
        assert r.is_success, f"{method} {path}: {r.status_code} {r.text}"
        return r.json() if r.content else None

    def login(self, email: str, password: str = PASSWORD) -> str:
        r = self._client.post(
            f"{self.base}/api/v1/auth/token", data={"username": email, "password": password}
        )
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])

    def new_staff(self, name: str = "外勤 小王") -> tuple[str, str, str]:
        """A fresh staff member: (email, user_id, their own access token)."""
        email = f"staff.{secrets.token_hex(4)}@example.com"
        user = self.api(
            "post",
            "/users",
            json={"email": email, "name": name, "role": "staff", "password": PASSWORD},
        )
        return email, user["id"], self.login(email)


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        _missing("no Chromium: apt-get install chromium, or playwright install chromium")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def built_app() -> Path:
    if not (DIST / "index.html").is_file() or not (DIST / "sw.js").is_file():
        _missing(f"the field app is not built ({DIST}): run `make web`")
    return DIST


@pytest.fixture(scope="session")
def server(built_app: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("e2e-data")
    env = env_for(data_dir, FIELDPUNCH_ACCESS_LOG="false")
    made = run(
        [
            "create-org",
            "--name",
            "云途测试",
            "--admin-email",
            "admin@e2e.example.com",
            "--admin-password",
            PASSWORD,
        ],
        env,
    )
    assert made.returncode == 0, made.stderr
    org = json.loads(made.stdout)
    with serving(["serve"], env, data_dir / "serve.log") as served:
        client = httpx.Client()
        r = client.post(
            f"{served.base}/api/v1/auth/token",
            data={"username": "admin@e2e.example.com", "password": PASSWORD},
        )
        assert r.status_code == 200, r.text
        s = Server(served.base, r.json()["access_token"], org["org_id"], {}, {}, data_dir, client)
        s.place = s.api(
            "post",
            "/places",
            json={
                "name": "陆家嘴办公室",
                "location": {"lat": OFFICE[0], "lon": OFFICE[1]},
                "radius_m": 150,
            },
        )
        s.customer = s.api(
            "post",
            "/customers",
            json={
                "name": "华东精密仪器",
                "address": "浦东新区世纪大道 100 号",
                "location": {"lat": CUSTOMER_AT[0], "lon": CUSTOMER_AT[1]},
                "radius_m": 120,
            },
        )
        s.api(
            "post", "/customers", json={"name": "远方客户", "location": {"lat": 31.4, "lon": 121.2}}
        )
        try:
            yield s
        finally:
            client.close()


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Any]:
    """One browser per module. Not per session: Playwright's sync API keeps an event loop
    running in this thread while it is started, and the async tests that pytest runs after
    the browser tests need the thread's loop free."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@contextlib.contextmanager
def phone(browser: Any, server: Server, locale: str) -> Iterator[Any]:
    """A fresh profile at phone size in `locale`, located at the office, in Shanghai time."""
    ctx = browser.new_context(
        base_url=server.base,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale=locale,
        timezone_id="Asia/Shanghai",
        geolocation={"latitude": OFFICE[0], "longitude": OFFICE[1], "accuracy": 15},
        permissions=["geolocation"],
        service_workers="allow",
    )
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def context(browser: Any, server: Server) -> Iterator[Any]:
    """A fresh profile at phone size, located at the office, in Shanghai time."""
    with phone(browser, server, "zh-CN") as ctx:
        yield ctx


@contextlib.contextmanager
def desktop(
    browser: Any, server: Server, locale: str = "zh-CN", width: int = 1440
) -> Iterator[Any]:
    """A fresh profile at desktop size (the manager console), in Shanghai time. Map tiles are
    refused, as on a machine with no internet: the console's maps must work without them."""
    ctx = browser.new_context(
        base_url=server.base,
        viewport={"width": width, "height": 900},
        locale=locale,
        timezone_id="Asia/Shanghai",
    )
    ctx.set_default_timeout(TIMEOUT_MS)
    # Nothing but the server answers (tile servers included): the offline case, deterministic.
    ctx.route(lambda url: not url.startswith(server.base), lambda route: route.abort())
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture(scope="session")
def built_console() -> Path:
    from fieldpunch.web.static import CONSOLE_DIST

    if not (CONSOLE_DIST / "index.html").is_file():
        _missing(f"the manager console is not built ({CONSOLE_DIST}): run `make web`")
    return CONSOLE_DIST


@pytest.fixture
def console(browser: Any, server: Server, built_console: Path) -> Iterator[Any]:
    """A desktop profile for the manager console (zh-CN)."""
    with desktop(browser, server) as ctx:
        yield ctx
