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
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from fieldpunch.db.engine import Database

_READ_ONLY = frozenset({"GET", "HEAD", "OPTIONS"})


async def in_transaction(
    request: Request, handler: Callable[[Request], Coroutine[Any, Any, Response]]
) -> Response:
    """`handler`'s answer once its transaction (`request.state.session`) has committed."""
    db: Database = request.app.state.db
    async with db.transaction(write=request.method not in _READ_ONLY) as session:
        request.state.session = session
        response = await handler(request)
    for hook in getattr(request.state, "after_commit", ()):
        hook()
    return response


async def plan_for_values(session: AsyncSession) -> None:
    """PostgreSQL: plan this transaction's statements for their own values (SQLite: nothing).

    asyncpg prepares each statement once per connection, and from its sixth run PostgreSQL may
    keep a generic plan that ignores the values: for a page of people (`user_id IN (500 ids)`)
    that plan read the org's whole month and took 2-3 s instead of ~0.2 s
    (docs/performance.md, "Summaries in SQL"). Only where such statements run, never on the
    punch path, whose generic plans save their planning."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


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
