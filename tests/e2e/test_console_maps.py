"""The console's maps on a Chinese map provider (the org's `map_provider`), in a real browser
against a real server: an admin chooses AMap on the org page; the places page then asks AMap for
its tiles (answered here with a blank image: no internet), draws a place's WGS-84 fence where
AMap's GCJ-02 tiles have it, and saves a polygon drawn on them in WGS-84."""

from __future__ import annotations

import base64
import math
import re
import secrets
from typing import Any

from fieldpunch.geo.crs import gcj02_to_wgs84, wgs84_to_gcj02
from tests.e2e.conftest import Server
from tests.e2e.test_console import console_sign_in
from tests.e2e.test_console_config import ADMIN, _metres, _somewhere

# A 1×1 transparent PNG: what the tile hosts answer here.
BLANK_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
AMAP_TILE = re.compile(r"^https://webrd0[1-4]\.is\.autonavi\.com/appmaptile\?.*x=\d+&y=\d+&z=\d+")
R = 6378137.0  # Leaflet's spherical Mercator (EPSG:3857)


def _project(lat: float, lon: float, zoom: float) -> tuple[float, float]:
    """A position in Leaflet's pixel space at a zoom (what it draws with)."""
    scale = 256 * 2**zoom
    x = R * math.radians(lon)
    y = R * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    k = 0.5 / (math.pi * R)
    return scale * (k * x + 0.5), scale * (-k * y + 0.5)


def _unproject(px: float, py: float, zoom: float) -> tuple[float, float]:
    scale = 256 * 2**zoom
    k = 0.5 / (math.pi * R)
    x, y = (px / scale - 0.5) / k, (0.5 - py / scale) / k
    return math.degrees(2 * math.atan(math.exp(y / R)) - math.pi / 2), math.degrees(x / R)


def _view(page: Any) -> dict[str, Any]:
    """The fence map's view: its centre (in the tiles' datum), zoom, size and page position, and
    the fence's centre on the page, read at once (the drawer may still be settling)."""
    return page.locator("[data-testid=fence-map]").evaluate(
        """el => {
          const r = el.getBoundingClientRect()
          const s = el.querySelector('[data-testid=fence-shape]').getBoundingClientRect()
          return { provider: el.dataset.provider, center: el.dataset.center, zoom: el.dataset.zoom,
                   left: r.left + el.clientLeft, top: r.top + el.clientTop,
                   width: el.clientWidth, height: el.clientHeight,
                   shape: [s.left + s.width / 2, s.top + s.height / 2] }
        }"""
    )


def _pixel_of(view: dict[str, Any], lat: float, lon: float) -> tuple[float, float]:
    """Where on the page a position (in the tiles' datum) is drawn."""
    zoom = float(view["zoom"])
    c_lat, c_lon = map(float, view["center"].split(","))
    cx, cy = _project(c_lat, c_lon, zoom)
    px, py = _project(lat, lon, zoom)
    return (
        view["left"] + view["width"] / 2 + (px - cx),
        view["top"] + view["height"] / 2 + (py - cy),
    )


def _position_at(view: dict[str, Any], x: float, y: float) -> tuple[float, float]:
    """The position (in the tiles' datum) under a point of the page."""
    zoom = float(view["zoom"])
    c_lat, c_lon = map(float, view["center"].split(","))
    cx, cy = _project(c_lat, c_lon, zoom)
    return _unproject(
        cx + (x - view["left"] - view["width"] / 2),
        cy + (y - view["top"] - view["height"] / 2),
        zoom,
    )


def test_an_admin_chooses_amap_and_the_maps_draw_and_save_in_gcj02(
    console: Any, server: Server
) -> None:
    name = f"高德测试点 {secrets.token_hex(3)}"
    lat, lon = _somewhere()
    place = server.api(
        "post",
        "/places",
        json={"name": name, "location": {"lat": lat, "lon": lon}, "radius_m": 120},
    )
    page = console.new_page()
    errors: list[Any] = []
    page.on("pageerror", lambda e: errors.append(e))
    tiles: list[str] = []

    def answer_tile(route: Any) -> None:
        tiles.append(route.request.url)
        route.fulfill(status=200, content_type="image/png", body=BLANK_PNG)

    page.route(AMAP_TILE, answer_tile)  # before the context's "refuse everything outside"
    try:
        console_sign_in(page, ADMIN)
        page.wait_for_url("**/console/dashboard")
        page.locator("[data-testid=menu-org]").click()
        page.wait_for_url("**/console/org")
        select = page.locator("[data-testid=org-map-provider]")
        select.click()
        page.locator(".el-select-dropdown__item:visible", has_text="高德地图").click()
        page.locator("[data-testid=org-save]").click()
        page.locator(".el-message--success").wait_for()
        assert server.api("get", "/org")["map_provider"] == "amap"

        page.locator("[data-testid=menu-places]").click()
        page.wait_for_url("**/console/places")
        search = page.locator("input[data-testid=places-search], [data-testid=places-search] input")
        search.fill(name)
        search.press("Enter")
        page.locator(f"[data-testid=record-{place['id']}]").click()
        shape = page.locator("[data-testid=fence-shape][data-shape=circle]")
        shape.wait_for()
        fence_map = page.locator("[data-testid=fence-map][data-provider=amap][data-zoom]")
        fence_map.wait_for()
        assert tiles, "the map asked AMap for no tile"
        assert all(AMAP_TILE.match(u) for u in tiles)

        # The circle is drawn where AMap's tiles have the place: its GCJ-02 position.
        view = _view(page)
        g_lon, g_lat = wgs84_to_gcj02(lon, lat)
        drawn = tuple(view["shape"])
        want = _pixel_of(view, g_lat, g_lon)
        wgs_pixel = _pixel_of(view, lat, lon)
        assert math.dist(drawn, want) < 2, (drawn, want)
        assert math.dist(drawn, wgs_pixel) > 50  # the shift is visible: not drawn as WGS-84

        # A polygon drawn on those tiles is saved in WGS-84.
        page.locator("[data-testid=draw-polygon]").click()
        page.wait_for_selector("[data-testid=draw-hint][data-drawing=Polygon]")
        view = _view(page)
        cx = round(view["left"] + view["width"] / 2)
        cy = round(view["top"] + view["height"] / 2)
        corners = [(cx - 150, cy - 100), (cx + 140, cy - 120), (cx + 160, cy + 110)]
        for x, y in corners:
            page.mouse.click(x, y)
        page.mouse.click(*corners[0])  # closes it
        page.locator("[data-testid=fence-summary][data-shape=polygon]").wait_for()
        assert _view(page)["center"] == view["center"]  # the map did not move while drawing
        page.locator("[data-testid=form-save]").click()
        page.locator(f"[data-testid=fence-of-{place['id']}]", has_text="多边形").wait_for()

        saved = server.api("get", f"/places/{place['id']}")
        ring = saved["polygon"]["coordinates"][0]
        assert len(ring) == 4 and ring[0] == ring[-1]
        for (x, y), (s_lon, s_lat) in zip(corners, ring[:3], strict=True):
            d_lat, d_lon = _position_at(view, x, y)  # GCJ-02, where it was clicked
            w_lon, w_lat = gcj02_to_wgs84(d_lon, d_lat)
            assert _metres((s_lat, s_lon), (w_lat, w_lon)) < 1.0
            assert _metres((s_lat, s_lon), (d_lat, d_lon)) > 100  # converted, not kept GCJ-02
        assert not errors
    finally:
        server.api("patch", "/org", json={"map_provider": "osm"})
