"""Problem details (RFC 9457) for every error the API answers."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

log = logging.getLogger("fieldpunch.errors")

PROBLEM_JSON = "application/problem+json"

Loc = Sequence[str | int]


class ProblemChoice(BaseModel):
    """One of the answers a conflict offers (sign-in: an organization to choose)."""

    id: str
    name: str


class ProblemItem(BaseModel):
    """One thing wrong with the request: where (`loc`, e.g. `["body", "location", "lat"]`)."""

    model_config = ConfigDict(extra="allow")

    loc: list[str | int]
    msg: str
    choices: list[ProblemChoice] | None = Field(
        None, description="What may be sent instead (a 409 that asks the caller to choose)"
    )


class Problem(BaseModel):
    """An error, as RFC 9457 problem details (`application/problem+json`)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="`/problems/<slug>`, e.g. `/problems/not-found`")
    title: str = Field(description="The slug in words, the same for every problem of a type")
    status: int = Field(description="The HTTP status code")
    detail: str = Field(description="What went wrong this time, for a person to read")
    errors: list[ProblemItem] | None = Field(
        None, description="Each field at fault, when the problem is about the input"
    )


class ValidationProblem(Problem):
    """Invalid input (422): every field at fault is named in `errors` (`loc` empty: the request
    as a whole, e.g. a value the database cannot hold)."""

    errors: list[ProblemItem]  # type: ignore[assignment]


class ProblemError(Exception):
    """A domain error that becomes a problem+json answer."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []

    def headers(self) -> dict[str, str] | None:
        return {"WWW-Authenticate": "Bearer"} if self.status == 401 else None

    def response(self) -> JSONResponse:
        """The answer, for a handler that must return it rather than raise (and roll back)."""
        return problem(self.status, self.slug, self.title, self.detail, self.errors, self.headers())


class NotFound(ProblemError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(ProblemError):
    status, slug, title = 409, "conflict", "Conflict"


class Unauthorized(ProblemError):
    status, slug, title = 401, "unauthorized", "Unauthorized"


class Forbidden(ProblemError):
    status, slug, title = 403, "forbidden", "Forbidden"


class TooManyRequests(ProblemError):
    status, slug, title = 429, "too-many-requests", "Too many requests"

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


class TooLarge(ProblemError):
    status, slug, title = 413, "too-large", "Payload too large"


class RequestTimeout(ProblemError):
    status, slug, title = 408, "request-timeout", "Request timeout"


class Busy(ProblemError):
    """The database (or its pool) cannot take the request now; the client should retry."""

    status, slug, title = 503, "busy", "Busy"

    def __init__(self, detail: str = "the server is busy; retry shortly", retry_after_s: int = 1):
        super().__init__(detail)
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


class Invalid(ProblemError):
    """Input that parsed but breaks a rule; names the offending field."""

    status, slug, title = 422, "validation", "Invalid input"

    def __init__(self, loc: Loc, msg: str) -> None:
        super().__init__(
            f"{'.'.join(str(p) for p in loc)}: {msg}", [{"loc": list(loc), "msg": msg}]
        )

    @classmethod
    def many(cls, errors: list[tuple[Loc, str]]) -> Invalid:
        """Several problems of one input at once (each field named), so all can be fixed."""
        first, *_ = errors
        out = cls(*first)
        out.errors = [{"loc": list(loc), "msg": msg} for loc, msg in errors]
        out.detail = "; ".join(f"{'.'.join(str(p) for p in loc)}: {msg}" for loc, msg in errors)
        return out


def problem_body(
    status: int,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    *,
    slug: str | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    """The one builder of a problem+json body (RFC 9457); slug and title default to the
    status's (`_HTTP_SLUGS`). Answers and batch items alike are built here."""
    default_slug, default_title = _HTTP_SLUGS.get(status, ("error", "Error"))
    body: dict[str, Any] = {
        "type": f"/problems/{slug or default_slug}",
        "title": title or default_title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return body


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = problem_body(status, detail, errors, slug=slug, title=title)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


_HTTP_SLUGS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    408: ("request-timeout", "Request timeout"),
    409: ("conflict", "Conflict"),
    413: ("too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation", "Invalid input"),
    429: ("too-many-requests", "Too many requests"),
    503: ("busy", "Busy"),
}


def _clean_loc(loc: Sequence[Any]) -> list[str | int]:
    return [p if isinstance(p, int) else str(p) for p in loc]


def install(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _domain(_: Request, exc: ProblemError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": _clean_loc(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:5])
        return problem(422, "validation", "Invalid input", detail or "Invalid input", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug, title = _HTTP_SLUGS.get(exc.status_code, ("error", "Error"))
        headers = dict(exc.headers) if exc.headers else None
        return problem(exc.status_code, slug, title, str(exc.detail), headers=headers)

    @app.exception_handler(DBAPIError)
    async def _dbapi(request: Request, exc: DBAPIError) -> JSONResponse:
        if is_busy(exc):  # a lock not granted in time: overloaded for now, not broken
            log.warning("database busy", extra={"error": str(exc.orig)[:200]})
            return Busy().response()
        if not _is_bad_input(exc):
            return await _unexpected(request, exc)
        # Input the database cannot hold (e.g. NUL in a query string): the client's fault.
        log.info("database rejected input", extra={"error": str(exc.orig)[:200]})
        what = "a value cannot be stored or compared"
        return problem(422, "validation", "Invalid input", what, [{"loc": [], "msg": what}])

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        # A uniqueness race that passed the service's own check: someone else won.
        log.info("integrity conflict", extra={"error": str(exc.orig)[:200]})
        return problem(
            409, "conflict", "Conflict", "conflicts with existing data; retry or change it"
        )

    @app.exception_handler(PoolTimeout)
    async def _busy(_: Request, exc: PoolTimeout) -> JSONResponse:
        # Every pooled connection stayed busy for FIELDPUNCH_DB_POOL_TIMEOUT_S: overloaded.
        log.warning("no database connection free", extra={"error": str(exc)[:200]})
        return Busy().response()

    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", exc_info=exc, extra={"path": request.url.path})
        return problem(500, "internal", "Internal error", "An unexpected error occurred.")

    app.add_exception_handler(Exception, _unexpected)


async def handled(request: Request, exc: Exception) -> Response:
    """The app's answer to `exc` outside FastAPI's routing (a plain ASGI route or middleware):
    its handler for the nearest class, as Starlette looks it up."""
    handlers = request.app.exception_handlers
    for cls in type(exc).__mro__:
        handler = handlers.get(cls)
        if handler is not None:
            return await handler(request, exc)  # type: ignore[no-any-return]
    raise exc


# SQLite's messages for SQLITE_BUSY and SQLITE_LOCKED; PostgreSQL's SQLSTATEs for a lock or a
# snapshot not granted (lock_timeout, statement_timeout, deadlock, serialization) and for a
# server that takes no more connections for now.
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")
_PG_BUSY = frozenset({"55P03", "57014", "40P01", "40001", "53300", "57P03"})


def is_busy(exc: BaseException) -> bool:
    """A database error that says "not now" (retry later) rather than "wrong"."""
    if isinstance(exc, PoolTimeout):
        return True
    cause: BaseException | None = exc.orig if isinstance(exc, DBAPIError) else exc
    while cause is not None:
        if str(getattr(cause, "sqlstate", "") or "") in _PG_BUSY:
            return True
        if isinstance(cause, sqlite3.Error) and str(cause).startswith(_SQLITE_BUSY):
            return True
        cause = cause.__cause__
    return False


def _is_bad_input(exc: DBAPIError) -> bool:
    """A data error caused by the values sent (PostgreSQL SQLSTATE class 22), not by our SQL."""
    if isinstance(exc, DataError):
        return True
    cause: BaseException | None = exc.orig
    while cause is not None:
        if str(getattr(cause, "sqlstate", "") or "").startswith("22"):
            return True
        cause = cause.__cause__
    return False
