"""The manager console's serving at /console/: the field app's caching rules, its own build,
the map tile setting and a page policy that admits the tile server's images only."""

from __future__ import annotations

import gzip
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from fieldpunch.config import Settings
from fieldpunch.web import console, static

PROVIDERS = "https://*.is.autonavi.com https://*.map.gtimg.com"  # the orgs' map_provider tiles


def _build(root: Path, title: str) -> Path:
    dist = root / title
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(f"<!doctype html><title>{title}</title>")
    js = b"console.log(1)" * 200
    (dist / "assets" / "index-abc123.js").write_bytes(js)
    (dist / "assets" / "index-abc123.js.gz").write_bytes(gzip.compress(js))
    return dist


async def _client(tmp_path: Path, settings: Settings | None = None) -> httpx.AsyncClient:
    app = FastAPI()
    if settings is not None:
        app.state.settings = settings
    static.mount(app, _build(tmp_path, "field"), _build(tmp_path, "console"))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_the_console_is_served_beside_the_field_app(tmp_path: Path) -> None:
    async with await _client(tmp_path) as c:
        assert "field" in (await c.get("/app/")).text
        shell = await c.get("/console/")
        assert shell.status_code == 200 and "console" in shell.text
        assert shell.headers["cache-control"] == "no-cache"
        for route in ("/console/live", "/console/review", "/console/login?next=/live"):
            r = await c.get(route)
            assert r.status_code == 200 and "console" in r.text, route
        asset = await c.get("/console/assets/index-abc123.js", headers={"Accept-Encoding": "gzip"})
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert asset.headers["content-encoding"] == "gzip"
        assert asset.content == b"console.log(1)" * 200
        assert (await c.get("/console/assets/missing-1.js")).status_code == 404
        assert (await c.get("/console/../field/index.html")).status_code == 404
        redirect = await c.get("/console", follow_redirects=False)
        assert redirect.headers["location"] == "/console/"


async def test_the_tile_setting_reaches_the_console_and_its_policy(tmp_path: Path) -> None:
    tiles = "https://tiles.corp.example/{z}/{x}/{y}.png"
    settings = Settings(map_tile_url=tiles, map_tile_attribution="© Corp")
    async with await _client(tmp_path, settings) as c:
        r = await c.get("/console/settings.json")
        assert r.json() == {"tiles": {"url": tiles, "attribution": "© Corp"}}
        assert r.headers["cache-control"] == "no-cache"
        policy = (await c.get("/console/")).headers["content-security-policy"]
        assert f"img-src 'self' blob: data: https://tiles.corp.example {PROVIDERS};" in policy
        assert "connect-src 'self'" in policy and "script-src 'self';" in policy


async def test_without_settings_the_default_tiles_are_openstreetmaps(tmp_path: Path) -> None:
    async with await _client(tmp_path) as c:
        url = (await c.get("/console/settings.json")).json()["tiles"]["url"]
        assert url == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def test_tile_origins() -> None:
    assert console.tile_origin("") == ""
    assert console.tile_origin("/tiles/{z}/{x}/{y}.png") == ""  # our own origin: 'self'
    assert console.tile_origin("https://{s}.tile.example.com/{z}/{x}/{y}.png") == (
        "https://*.tile.example.com"
    )


@pytest.mark.parametrize("bad", ["ftp://x/{z}/{x}/{y}", "https://x/tiles.png", "tiles/{z}/{x}/{y}"])
def test_a_bad_tile_url_is_refused_at_start(bad: str) -> None:
    with pytest.raises(ValueError, match="map_tile_url"):
        Settings(map_tile_url=bad)


async def test_an_unbuilt_console_says_how_to_build_it(tmp_path: Path) -> None:
    app = FastAPI()
    static.mount(app, tmp_path / "none", tmp_path / "none-either")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get("/console/live")
        assert r.status_code == 503 and "make web" in r.text


async def test_the_field_app_admits_the_same_tiles(tmp_path: Path) -> None:
    """A manager's evidence map in the field app draws the console's tiles: same policy."""
    settings = Settings(map_tile_url="https://tiles.corp.example/{z}/{x}/{y}.png")
    async with await _client(tmp_path, settings) as c:
        policy = (await c.get("/app/")).headers["content-security-policy"]
        assert f"img-src 'self' blob: data: https://tiles.corp.example {PROVIDERS};" in policy
        assert "connect-src 'self'" in policy and "frame-ancestors 'none'" in policy
