"""The manager console at `/console/` (source in web/console, docs/console.md).

Served by the same rules as the field app (static.py), with two differences:

- `/console/settings.json` tells the console the server's map tiles (`FIELDPUNCH_MAP_TILE_URL`
  and `_ATTRIBUTION`); read on every start, never cached, so a changed setting shows on reload.
- Its page policy lets images come from the tile server's origin and the tile hosts of the
  Chinese providers an org may choose (`map_provider`), and nothing else from outside.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from fieldpunch.config import Settings
from fieldpunch.web.static import CONSOLE_PREFIX, REVALIDATE, Spa, mount_spa

NOT_BUILT = (
    "The manager console is not built. Run `make web` (npm ci and vite build in web/), "
    "then reload this page.\n"
)
DEFAULTS = Settings.model_fields
# Tile hosts of `map_provider` amap and tencent (web/console/src/lib/tiles.ts).
PROVIDER_ORIGINS = "https://*.is.autonavi.com https://*.map.gtimg.com"


def _tiles(request: Request) -> tuple[str, str]:
    settings: Any = getattr(request.app.state, "settings", None)
    if settings is None:  # an app without settings (tests of the static files alone)
        return DEFAULTS["map_tile_url"].default, DEFAULTS["map_tile_attribution"].default
    return settings.map_tile_url, settings.map_tile_attribution


def tile_origin(url: str) -> str:
    """The origin images come from for a tile URL template: `''` for none or our own."""
    if not url.startswith(("http://", "https://")):
        return ""
    parts = urlsplit(url.replace("{s}", "*"))
    return f"{parts.scheme}://{parts.netloc}"


def csp(request: Request) -> str:
    origin = tile_origin(_tiles(request)[0])
    return (
        f"default-src 'self'; img-src 'self' blob: data: {origin}".rstrip()
        + f" {PROVIDER_ORIGINS}; font-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; connect-src 'self'; worker-src 'self'; manifest-src 'self'; "
        "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
    )


def mount(app: FastAPI, dist: Path) -> None:
    @app.get(f"{CONSOLE_PREFIX}/settings.json", include_in_schema=False)
    async def console_settings(request: Request) -> JSONResponse:
        url, attribution = _tiles(request)
        return JSONResponse(
            {"tiles": {"url": url, "attribution": attribution}},
            headers={"Cache-Control": REVALIDATE, "X-Content-Type-Options": "nosniff"},
        )

    mount_spa(app, Spa(CONSOLE_PREFIX, dist, NOT_BUILT, csp))
