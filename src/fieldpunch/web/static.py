"""Serve the built field app at `/app/`: hashed assets cached for a year, the shell never stale.

- `/app/assets/*` carry a content hash in their names: `immutable`, one year.
- `index.html`, `sw.js`, `manifest.webmanifest` and the icons: `no-cache` (revalidate each time),
  so a new deployment is picked up on the next visit and the service worker updates itself.
- Any other path under `/app/` without a file extension is a client-side route: it answers
  `index.html` (SPA fallback); a missing file with an extension is a plain 404.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, PlainTextResponse, RedirectResponse, Response

DIST = Path(__file__).resolve().parent / "dist"
PREFIX = "/app"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# The app talks only to its own origin; images may be blob: (photos fetched with a token).
CSP = (
    "default-src 'self'; img-src 'self' blob: data:; font-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; worker-src 'self'; manifest-src 'self'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
NOT_BUILT = (
    "The field app is not built. Run `make web` (npm ci and vite build in web/), "
    "then reload this page.\n"
)

mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("text/javascript", ".js")


def _headers(rel: str) -> dict[str, str]:
    cache = IMMUTABLE if rel.startswith("assets/") else REVALIDATE
    headers = {
        "Cache-Control": cache,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
    if rel.endswith(".html"):
        headers["Content-Security-Policy"] = CSP
    if rel == "sw.js":
        headers["Service-Worker-Allowed"] = f"{PREFIX}/"
    return headers


def _file(dist: Path, rel: str) -> Path | None:
    """The file for `rel` inside `dist`, never outside it (no `..`, no symlink escape)."""
    if not rel or rel.endswith("/"):
        return None
    candidate = (dist / rel).resolve()
    if not candidate.is_relative_to(dist) or not candidate.is_file():
        return None
    return candidate


def _answer(request: Request, path: Path, rel: str) -> Response:
    response = FileResponse(path, headers=_headers(rel), stat_result=path.stat())
    etag = response.headers.get("etag")
    if etag and request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag, **_headers(rel)})
    return response


def mount(app: FastAPI, dist: Path = DIST) -> None:
    """Add the `/app/` routes to `app` (outside the OpenAPI document)."""
    dist = dist.resolve()

    @app.get(PREFIX, include_in_schema=False)
    async def app_root() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/")

    @app.get(PREFIX + "/{rel:path}", include_in_schema=False)
    async def app_file(request: Request, rel: str) -> Response:
        index = dist / "index.html"
        if not index.is_file():
            return PlainTextResponse(NOT_BUILT, status_code=503)
        if (found := _file(dist, rel)) is not None:
            return _answer(request, found, found.relative_to(dist).as_posix())
        last = rel.rsplit("/", 1)[-1]
        if "." in last:
            return PlainTextResponse("Not found\n", status_code=404, headers=_headers(rel))
        return _answer(request, index, "index.html")
