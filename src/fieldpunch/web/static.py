"""Serve the built web apps: the field app at `/app/` and the manager console at `/console/`
(web/console, built into `console/dist/`), each with these rules: hashed assets cached for a
year, the shell never stale.

- `/app/assets/*` carry a content hash in their names: `immutable`, one year.
- `index.html`, `sw.js`, `manifest.webmanifest` and the icons: `no-cache` (revalidate each time),
  so a new deployment is picked up on the next visit and the service worker updates itself.
- Any other path under the prefix without a file extension is a client-side route: it answers
  `index.html` (SPA fallback); a missing file with an extension is a plain 404.
- The build writes `x.br` and `x.gz` beside each text file (web/vite.config.ts, `precompress`):
  the answer is the best one the client accepts (`Content-Encoding`, `Vary: Accept-Encoding`),
  read from disk as is, so nothing is compressed per request.
- HEAD answers as GET does, without the body.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, PlainTextResponse, RedirectResponse, Response

DIST = Path(__file__).resolve().parent / "dist"
PREFIX = "/app"
CONSOLE_DIST = Path(__file__).resolve().parent / "console" / "dist"
CONSOLE_PREFIX = "/console"
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


@dataclass(frozen=True, slots=True)
class Spa:
    """One single-page app: where it is served, where its build is, its page policy."""

    prefix: str
    dist: Path
    not_built: str
    csp: Callable[[Request], str] = lambda _request: CSP


def _headers(spa: Spa, rel: str, request: Request) -> dict[str, str]:
    cache = IMMUTABLE if rel.startswith("assets/") else REVALIDATE
    headers = {
        "Cache-Control": cache,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
    if rel.endswith(".html"):
        headers["Content-Security-Policy"] = spa.csp(request)
    if rel == "sw.js":
        headers["Service-Worker-Allowed"] = f"{spa.prefix}/"
    return headers


def _file(dist: Path, rel: str) -> Path | None:
    """The file for `rel` inside `dist`, never outside it (no `..`, no symlink escape)."""
    if not rel or rel.endswith("/"):
        return None
    candidate = (dist / rel).resolve()
    if not candidate.is_relative_to(dist) or not candidate.is_file():
        return None
    return candidate


# Preferred first: brotli is ~12 % smaller than gzip on the app's JS.
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))


def accepted(header: str | None) -> set[str]:
    """The codings an `Accept-Encoding` value allows (q=0 refuses one; `*` allows any)."""
    allowed: set[str] = set()
    refused: set[str] = set()
    for part in (header or "").lower().split(","):
        name, _, params = part.strip().partition(";")
        if not name:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        (allowed if q > 0 else refused).add(name.strip())
    if "*" in allowed:
        allowed |= {name for name, _ in ENCODINGS}
    return allowed - refused


def _encoded(path: Path, header: str | None) -> tuple[Path, str | None]:
    """The precompressed sibling of `path` to send, and its coding; else `path` itself."""
    ok = accepted(header)
    for coding, suffix in ENCODINGS:
        if coding in ok and (sibling := path.with_name(path.name + suffix)).is_file():
            return sibling, coding
    return path, None


def _answer(spa: Spa, request: Request, path: Path, rel: str) -> Response:
    headers = _headers(spa, rel, request)
    compressible = any(path.with_name(path.name + s).is_file() for _, s in ENCODINGS)
    if compressible:
        headers["Vary"] = "Accept-Encoding"
    body, coding = _encoded(path, request.headers.get("accept-encoding"))
    if coding:
        headers["Content-Encoding"] = coding
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    response = FileResponse(body, headers=headers, media_type=media_type, stat_result=body.stat())
    etag = response.headers.get("etag")
    if etag and request.headers.get("if-none-match") == etag:
        headers.pop("Content-Encoding", None)
        return Response(status_code=304, headers={"ETag": etag, **headers})
    return response


def mount(app: FastAPI, dist: Path = DIST, console: Path = CONSOLE_DIST) -> None:
    """Add the `/app/` and `/console/` routes to `app` (outside the OpenAPI document)."""
    from fieldpunch.web import console as console_app  # its settings and policy

    # The field app's policy is the console's: a manager's evidence map shows the same tiles.
    mount_spa(app, Spa(PREFIX, dist.resolve(), NOT_BUILT, console_app.csp))
    console_app.mount(app, console.resolve())


def mount_spa(app: FastAPI, spa: Spa) -> None:
    """Serve `spa.dist` under `spa.prefix`: files, precompressed answers, the shell fallback."""
    dist = spa.dist

    @app.api_route(spa.prefix, methods=["GET", "HEAD"], include_in_schema=False)
    async def app_root() -> RedirectResponse:
        return RedirectResponse(f"{spa.prefix}/")

    @app.api_route(spa.prefix + "/{rel:path}", methods=["GET", "HEAD"], include_in_schema=False)
    async def app_file(request: Request, rel: str) -> Response:
        index = dist / "index.html"
        if not index.is_file():
            return PlainTextResponse(spa.not_built, status_code=503)
        if rel.endswith((".br", ".gz")):  # the encodings are answers to negotiation, not files
            return PlainTextResponse(
                "Not found\n", status_code=404, headers=_headers(spa, rel, request)
            )
        if (found := _file(dist, rel)) is not None:
            return _answer(spa, request, found, found.relative_to(dist).as_posix())
        last = rel.rsplit("/", 1)[-1]
        if "." in last:
            return PlainTextResponse(
                "Not found\n", status_code=404, headers=_headers(spa, rel, request)
            )
        return _answer(spa, request, index, "index.html")
