"""Problem details (RFC 9457) for every error the API answers."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("fieldpunch.errors")

PROBLEM_JSON = "application/problem+json"

Loc = Sequence[str | int]


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


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


_HTTP_SLUGS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation", "Invalid input"),
    429: ("too-many-requests", "Too many requests"),
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
        if not _is_bad_input(exc):
            return await _unexpected(request, exc)
        # Input the database cannot hold (e.g. NUL in a query string): the client's fault.
        log.info("database rejected input", extra={"error": str(exc.orig)[:200]})
        return problem(422, "validation", "Invalid input", "a value cannot be stored or compared")

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
        return problem(
            503, "busy", "Busy", "the server is busy; retry shortly", headers={"Retry-After": "1"}
        )

    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", exc_info=exc, extra={"path": request.url.path})
        return problem(500, "internal", "Internal error", "An unexpected error occurred.")

    app.add_exception_handler(Exception, _unexpected)


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
