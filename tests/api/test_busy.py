"""A process whose every database connection is busy answers 503 (problem+json), not a hang."""

from __future__ import annotations

import httpx

from fieldpunch.app import create_app
from fieldpunch.config import Settings
from tests.factories import new_org


async def test_no_free_connection_is_503_with_retry_after(settings: Settings) -> None:
    small = settings.model_copy(update={"db_pool_size": 1, "db_pool_timeout_s": 0.3})
    app = create_app(small)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            org = await new_org(client, app.state.db, "Busy")
            assert (await org.admin.get("/punches")).status_code == 200
            # The pool's one connection is taken (max_overflow is 0: no second one opens).
            async with app.state.db.engine.connect() as held:
                await held.exec_driver_sql("SELECT 1")
                r = await org.admin.get("/punches")
            assert r.status_code == 503
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.headers["retry-after"] == "1"
            assert r.json()["type"] == "/problems/busy"
            # Free again: served as before.
            assert (await org.admin.get("/punches")).status_code == 200
