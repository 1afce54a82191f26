"""The interactive API docs at `/docs`, with Swagger UI served by fieldpunch itself.

FastAPI's default page loads Swagger UI from a CDN: blank offline, on closed networks and where
the CDN is blocked (often in China). `make web` copies swagger-ui-dist into the built app's
`docs/` folder; without a build the page falls back to the CDN rather than to nothing.
"""

from __future__ import annotations

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

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            swagger_favicon_url=f"{PREFIX}/icons/icon-192.png",
            **assets,
        )
