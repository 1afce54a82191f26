"""Request bodies: capped, read only for a known caller, within a deadline, before the handler.

Every HTTP request that carries a body (a `Content-Length` above 0, or `Transfer-Encoding`)
passes here first, the plain ASGI punch route included:

1. its route's limit (`max_body_bytes`, or a larger one by operation id: `LIMITS`): a declared
   `Content-Length` over it is 413 at once, before anything is read;
2. for a route that needs a caller (its OpenAPI operation requires the bearer scheme, which is
   `auth.principal.current_principal`'s), the bearer token is checked before the body: an access
   token by its signature and expiry, an API key in a short read-only session; no genuine token
   is 401 with nothing read (`_authenticate` says why the caller is not kept from here);
3. the body is read whole, counting bytes (413 as soon as a chunked body passes the limit),
   within `body_timeout_s` plus a second per `body_min_rate` bytes received (else 408); a client
   that leaves mid-body is logged at info level, not as an error;
4. the app gets the body replayed from memory. Its transaction (`db.session.in_transaction`)
   therefore begins only once the whole body is here: a slow client never holds SQLite's write
   lock or a pooled connection while it uploads.

Every refusal here is problem+json with `Connection: close` (the rest of the body is not read).
The routes are learnt once from the app's OpenAPI document (its paths, operation ids and
security), the same description clients get; a route left out of it gets the default limit and
no early authentication (its own dependencies still authenticate it, after the body).
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import get_route_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fieldpunch.auth import apikeys, tokens
from fieldpunch.auth.principal import bearer_token, principal_of
from fieldpunch.config import Settings
from fieldpunch.kit import errors
from fieldpunch.photos.service import MAX_UPLOAD_BYTES

log = logging.getLogger("fieldpunch.bodyguard")

# A multipart form's boundaries and part headers around a photo's bytes.
FORM_ENVELOPE = 64 * 1024
# Bodies anyone may send without a token (sign-in, refresh, sign-out; a path no route has) are
# small: a stranger may not make the server hold a megabyte per connection.
PUBLIC_BODY_BYTES = 16 * 1024
_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def limits(settings: Settings) -> dict[str, int]:
    """Body limits by operation id, for the routes that take more than `max_body_bytes`."""
    return {
        "create_punches": settings.max_batch_bytes,
        "import_cells": settings.max_import_bytes,
        "upload_photo": MAX_UPLOAD_BYTES + FORM_ENVELOPE,
    }


@dataclass(frozen=True, slots=True)
class Rule:
    limit: int
    caller: bool  # resolve the caller from the bearer token before reading


class Rules:
    """Each operation's rule, by method and path, from an OpenAPI document."""

    def __init__(self, openapi: dict[str, Any], by_operation: dict[str, int], default: int):
        self.default = Rule(min(default, PUBLIC_BODY_BYTES), caller=False)
        self._exact: dict[tuple[str, str], Rule] = {}
        self._templated: list[tuple[str, re.Pattern[str], Rule]] = []
        schemes = openapi.get("components", {}).get("securitySchemes", {})
        bearer = {
            name
            for name, s in schemes.items()
            if s.get("type") == "http" and str(s.get("scheme", "")).lower() == "bearer"
        }
        for path, item in openapi.get("paths", {}).items():
            for method, op in item.items():
                if method not in _METHODS:
                    continue
                security = op.get("security", openapi.get("security", []))
                # Every alternative names the bearer scheme ([{}] would mean "anonymous too").
                caller = bool(security) and all(bearer & set(alt) for alt in security)
                limit = by_operation.get(op.get("operationId", ""), default)
                rule = Rule(limit if caller else min(limit, PUBLIC_BODY_BYTES), caller)
                if "{" in path:
                    self._templated.append((method.upper(), _pattern(path), rule))
                else:
                    self._exact[(method.upper(), path)] = rule

    def find(self, method: str, path: str) -> Rule:
        rule = self._exact.get((method, path))
        if rule is not None:
            return rule
        for m, pattern, rule in self._templated:
            if m == method and pattern.fullmatch(path):
                return rule
        return self.default


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{[^}]+\}", template)
    return re.compile("[^/]+".join(re.escape(p) for p in parts))


class _Gone(Exception):
    """The client disconnected before its body was complete."""


class BodyGuard:
    """Pure ASGI middleware; install it outside every route that reads a body."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self._rules: Rules | None = None

    def rules(self, scope: Scope) -> Rules:
        if self._rules is None:
            s = self.settings
            self._rules = Rules(scope["app"].openapi(), limits(s), s.max_body_bytes)
        return self._rules

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                self.rules(scope)  # at start-up, not in the first request
            await self.app(scope, receive, send)
            return
        length = _length(scope["headers"])
        if length == 0:  # no body: nothing to guard
            await self.app(scope, receive, send)
            return
        rule = self.rules(scope).find(scope["method"], get_route_path(scope))
        try:
            if length is not None and length > rule.limit:
                raise errors.TooLarge(_too_large(rule.limit))
            if rule.caller and (refusal := await _authenticate(scope)) is not None:
                await _refuse(refusal, scope, receive, send)
                return
            body = await self._read(receive, rule.limit)
        except errors.ProblemError as exc:
            await _refuse(exc.response(), scope, receive, send)
            return
        except _Gone as exc:
            log.info("client left before sending the whole body", extra={"path": scope["path"]})
            gone = errors.problem(400, "bad-request", "Bad request", str(exc))
            await _refuse(gone, scope, receive, send)  # nobody reads it; the log line says 400
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive, limit: int) -> bytes:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.body_timeout_s
        chunks: list[bytes] = []
        size = 0
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise errors.RequestTimeout(
                    f"the body did not arrive in time ({size} bytes received)"
                ) from None
            if message["type"] != "http.request":
                raise _Gone(f"the client disconnected after {size} bytes of the body")
            chunk = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > limit:
                    raise errors.TooLarge(_too_large(limit))
                chunks.append(chunk)
                deadline += len(chunk) / self.settings.body_min_rate
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _length(headers: list[tuple[bytes, bytes]]) -> int | None:
    """The declared body length: 0 for none, None for a body of unknown length (chunked)."""
    length: int | None = 0
    for name, value in headers:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses such framing; count what comes
        if name == b"transfer-encoding":
            length = None
    return length


def _too_large(limit: int) -> str:
    return f"the body is larger than this route takes ({limit} bytes)"


async def _authenticate(scope: Scope) -> Response | None:
    """None when the bearer token is genuine, else the answer (401; 503 when the database is busy).

    An access token by its signature, type and expiry (no database); an API key, which only the
    database can tell, by `principal_of` in a short read-only session. That is all this decides:
    the request's own dependency resolves the caller again inside its transaction, where a
    revocation committed meanwhile still counts. The lookup here writes into a state of its own
    (the key's last-use stamp is the request's to schedule).
    """
    request = Request({**scope, "state": {}})
    try:
        token = bearer_token(request.headers.get("authorization"))
        if token.startswith(apikeys.PREFIX):
            async with request.app.state.db.session(write=False) as session:  # reads; rolls back
                await principal_of(request, session, token)
        elif tokens.read(request.app.state.settings.signing_key, token, "access") is None:
            raise errors.Unauthorized("invalid or expired access token")
    except Exception as exc:
        return await errors.handled(request, exc)
    return None


async def _refuse(response: Response, scope: Scope, receive: Receive, send: Send) -> None:
    response.headers["connection"] = "close"  # the rest of the body stays unread
    await response(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body in one message; after it, the server's own receive (a disconnect, in time)."""
    pending: Message | None = {"type": "http.request", "body": body, "more_body": False}

    async def replay() -> Message:
        nonlocal pending
        if pending is None:
            return await receive()
        message, pending = pending, None
        return message

    return replay
