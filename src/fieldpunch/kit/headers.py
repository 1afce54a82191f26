"""Security headers on every response, and `OPTIONS` / `405` answers that list every method.

Pure ASGI (no BaseHTTPMiddleware): it edits the `http.response.start` message, so bodies stream
through untouched and the punch route pays one header merge. A response that sets a header
itself (the web apps' and `/docs`' own Content-Security-Policy, a photo's Cache-Control) keeps
its own value. HSTS is sent only when `FIELDPUNCH_BASE_URL` is https: a plain-http deployment
would otherwise lock browsers out of it (docs/security.md).
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.routing import Match, get_route_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# JSON and problem answers are never rendered as pages: nothing may load or frame them.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
HSTS = "max-age=31536000"

_BASE: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
_CSP = (b"content-security-policy", API_CSP.encode())
_NO_STORE = (b"cache-control", b"no-store")
_API_PREFIX = "/api/"
_SCRIPT_TYPES = (b"text/javascript", b"application/javascript")


def defaults(*, hsts: bool) -> tuple[tuple[bytes, bytes], ...]:
    """The headers every response carries unless it sets its own."""
    return (*_BASE, (b"strict-transport-security", HSTS.encode())) if hsts else _BASE


def _is_script(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    return any(k.lower() == b"content-type" and v.startswith(_SCRIPT_TYPES) for k, v in headers)


def merged(
    headers: Iterable[tuple[bytes, bytes]], extra: Iterable[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    """`headers` plus each of `extra` whose name is not already there (names compared lowercase)."""
    out = list(headers)
    present = {name.lower() for name, _ in out}
    out.extend((name, value) for name, value in extra if name not in present)
    return out


class SecurityHeaders:
    """Adds the security headers. Pages and data get a deny-all CSP unless they bring their own;
    API answers are also `Cache-Control: no-store` unless they say otherwise (they carry people's
    data and tokens; RFC 6749 §5.1 for the token answers)."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.headers = defaults(hsts=hsts)
        self.with_csp = (*self.headers, _CSP)
        self.api_headers = (*self.with_csp, _NO_STORE)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The path the router matches (decoded, without root_path): `/%61pi/...` is an API
        # answer too. Not raw_path, which is optional in ASGI and still percent-encoded.
        api = get_route_path(scope).startswith(_API_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", ())
                # A script's CSP governs it when it runs as a worker (the app's service worker
                # fetches the API): scripts keep only their own.
                extra = (
                    self.api_headers
                    if api
                    else self.headers
                    if _is_script(headers)
                    else self.with_csp
                )
                message["headers"] = merged(headers, extra)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class AllowedMethods:
    """`OPTIONS` on a known path answers 204 with every method its routes take, and a 405 lists
    them all too. Starlette's router names only the first route that matches the path (so
    `OPTIONS /users/{id}` said `Allow: GET` though PATCH and DELETE exist too). `HEAD` is
    answered wherever `GET` is (RFC 9110 §9.3.2): the GET's status and headers, no body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            allow = _allow(_methods(scope))
            if allow:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 204,
                        "headers": [(b"allow", allow.encode())],
                    }
                )
                await send({"type": "http.response.body", "body": b""})
                return

        if scope["method"] == "HEAD" and "GET" in _methods(scope):
            await self.app({**scope, "method": "GET"}, receive, _headers_only(send))
            return

        async def send_complete_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                allow = _allow(_methods(scope))
                if allow:
                    kept = [(k, v) for k, v in message.get("headers", ()) if k.lower() != b"allow"]
                    message["headers"] = [*kept, (b"allow", allow.encode())]
            await send(message)

        await self.app(scope, receive, send_complete_allow)


def _headers_only(send: Send) -> Send:
    async def send_without_body(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return
            message = {"type": "http.response.body", "body": b""}
        await send(message)

    return send_without_body


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _methods(scope: Scope) -> set[str]:
    """Every method some route takes at the request's path. Asked of the routes themselves, one
    method at a time: an included router matches as one route, its members cannot be listed."""
    routes = getattr(scope.get("app"), "routes", ())
    return {
        method
        for method in _METHODS
        if any(route.matches({**scope, "method": method})[0] is Match.FULL for route in routes)
    }


def _allow(methods: set[str]) -> str:
    """The Allow header for `methods` (with HEAD for GET, and OPTIONS), "" for none."""
    if not methods:
        return ""
    extra = {"HEAD", "OPTIONS"} if "GET" in methods else {"OPTIONS"}
    return ", ".join(sorted(methods | extra))
