"""The interactive API docs at `/docs`, with Swagger UI served by fieldpunch itself.

FastAPI's default page loads Swagger UI from a CDN: blank offline, on closed networks and where
the CDN is blocked (often in China). `make web` copies swagger-ui-dist into the built app's
`docs/` folder; without a build the page falls back to the CDN rather than to nothing.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from fieldpunch.web.static import DIST, PREFIX


def mount(app: FastAPI, dist: Path = DIST) -> None:
    local = (dist / "docs" / "swagger-ui-bundle.js").is_file()
    assets: dict[str, Any] = (
        {
            "swagger_js_url": f"{PREFIX}/docs/swagger-ui-bundle.js",
            "swagger_css_url": f"{PREFIX}/docs/swagger-ui.css",
        }
        if local
        else {}
    )

    page = get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title} API",
        swagger_favicon_url=f"{PREFIX}/icons/icon-192.png",
        **assets,
    )
    headers = {"Content-Security-Policy": csp(bytes(page.body).decode(), cdn=not local)}

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(page.body, headers=headers)


_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
CDN = "https://cdn.jsdelivr.net"


def csp(html: str, *, cdn: bool) -> str:
    """The page's policy: its own files (or the CDN's without a build), the inline start-up
    script by its hash, inline styles (Swagger UI sets them), and no framing."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(m.encode()).digest()).decode() + "'"
        for m in _INLINE_SCRIPT.findall(html)
    )
    origin = f"'self' {CDN}" if cdn else "'self'"
    return (
        f"default-src 'none'; script-src {origin} {hashes}; style-src {origin} 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )
