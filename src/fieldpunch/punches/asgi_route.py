"""`POST /api/v1/punches` as a plain Starlette route, mounted first in the app's router.

The busiest request by far. FastAPI's way to it (matching every route before it, solving the
dependencies, validating through its body field) costs CPU per punch that this route skips,
well above the 5 % a bypass must earn: measured alone, A/B (docs/performance.md, "Each bypass on
its own"). A route like any other: every middleware, exception handler, security header and
the request log apply to it.
It runs FastAPI's steps by hand, in FastAPI's order, with the same code where there is code to
share: the transaction (`db.session.in_transaction`), the body as FastAPI reads it (JSON only
for a JSON content type; a decoding error first), the caller from the bearer token
(`auth.principal`), then the query and the body validated together, then the very handler the
FastAPI route calls (`endpoints.one_punch`). The FastAPI route stays: it documents the endpoint
and serves it when this is not mounted (`create_app(asgi_punch_route=False)`), and a test sends
both the same requests and compares the answers.
"""

from __future__ import annotations

import email.message
import json
from typing import Any

from fastapi.exceptions import HTTPException, RequestValidationError
from pydantic import TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fieldpunch.auth.principal import bearer_token, principal_of
from fieldpunch.auth.scopes import Scope as Permission
from fieldpunch.db.session import in_transaction
from fieldpunch.geo.crs import CRS
from fieldpunch.punches.endpoints import one_punch
from fieldpunch.punches.schemas import PunchIn

_PUNCH = TypeAdapter(PunchIn)
_CRS = TypeAdapter(CRS | None)
_NO_BODY = object()


def punch_route(path: str) -> Route:
    """`POST {path}`, to be mounted before the FastAPI routes (other methods fall through)."""

    async def create_punch_route(request: Request) -> Response:
        return await in_transaction(request, _punch)

    return Route(path, create_punch_route, methods=["POST"], include_in_schema=False)


async def _punch(request: Request) -> Response:
    try:
        body = _json(await request.body(), request.headers.get("content-type"))
    except (RequestValidationError, HTTPException):
        raise
    except Exception as exc:  # a disconnect, nesting too deep, bytes that are no text: as FastAPI
        raise HTTPException(400, "There was an error parsing the body") from exc
    session = request.state.session
    p = await principal_of(request, session, bearer_token(request.headers.get("authorization")))
    p.require(Permission.punches_write)
    errors: list[dict[str, Any]] = []
    crs: CRS | None = None
    try:
        crs = _CRS.validate_python(request.query_params.get("crs"))
    except ValidationError as exc:
        errors += _located(exc, ("query", "crs"))
    punch: PunchIn | None = None
    if body is _NO_BODY:
        errors.append({"type": "missing", "loc": ("body",), "msg": "Field required", "input": None})
    else:
        try:
            punch = _PUNCH.validate_python(body, from_attributes=True)
        except ValidationError as exc:
            errors += _located(exc, ("body",))
    if errors or punch is None:
        raise RequestValidationError(errors)
    return await one_punch(request, session, p, body, punch, crs)


def _json(raw: bytes, content_type: str | None) -> Any:
    """The body as FastAPI reads it: parsed only when the content type says JSON."""
    if not raw:
        return _NO_BODY
    if not content_type:
        return raw
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    if message.get_content_maintype() != "application" or not (
        subtype == "json" or subtype.endswith("+json")
    ):
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        error = {"type": "json_invalid", "loc": ("body", exc.pos), "msg": "JSON decode error"}
        raise RequestValidationError([{**error, "input": {}, "ctx": {"error": exc.msg}}]) from exc


def _located(exc: ValidationError, prefix: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{**e, "loc": (*prefix, *e["loc"])} for e in exc.errors()]
