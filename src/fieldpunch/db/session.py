"""One transaction per request, committed before the answer leaves.

FastAPI runs the exit code of `yield` dependencies around sending the response, which
would let a client see 201 for a write that then failed to commit; a route class makes
the order explicit: handler → commit → response.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.db.engine import Database

_READ_ONLY = frozenset({"GET", "HEAD", "OPTIONS"})


class Retry(Exception):
    """A handler lost a race that a second run answers (the winner has committed by now): its
    transaction rolls back and the handler runs once more; if it loses again, `cause` is raised."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


async def in_transaction(
    request: Request, handler: Callable[[Request], Coroutine[Any, Any, Response]]
) -> Response:
    """`handler`'s answer once its transaction (`request.state.session`) has committed."""
    try:
        response = await _attempt(request, handler)
    except Retry:
        try:
            response = await _attempt(request, handler)
        except Retry as again:
            raise again.cause from again
    for hook in getattr(request.state, "after_commit", ()):
        hook()
    return response


async def _attempt(
    request: Request, handler: Callable[[Request], Coroutine[Any, Any, Response]]
) -> Response:
    db: Database = request.app.state.db
    request.state.after_commit = []  # a rolled-back attempt's hooks do not run
    async with db.transaction(write=request.method not in _READ_ONLY) as session:
        request.state.session = session
        return await handler(request)


class TxRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            return await in_transaction(request, handler)

        return run


def after_commit(request: Request, hook: Callable[[], None]) -> None:
    """Run `hook` once this request's transaction has committed (e.g. wake the outbox relay)."""
    hooks = getattr(request.state, "after_commit", None)
    if hooks is None:
        hooks = request.state.after_commit = []
    hooks.append(hook)


async def _session(request: Request) -> AsyncSession:  # async: no threadpool hop per request
    return request.state.session  # type: ignore[no-any-return]


Session = Annotated[AsyncSession, Depends(_session)]
