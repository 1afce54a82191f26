"""An app of the test's own settings, started, with an org on an in-process client: for tests
that need settings other than the `app` fixture's (a small pool, a short lock timeout, workers)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from fieldpunch.app import create_app
from fieldpunch.config import Settings
from tests.factories import OrgKit, new_org


@asynccontextmanager
async def app_with_org(settings: Settings, name: str) -> AsyncIterator[tuple[FastAPI, OrgKit]]:
    """The app made from `settings`, through its lifespan, and a new org `name` (admin in)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield app, await new_org(client, app.state.db, name)
