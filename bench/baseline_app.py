"""The yardstick for `bench ingest`: validate a punch's JSON and INSERT it, nothing else.

    python -m bench.baseline_app --port P      (database from FIELDPUNCH_DATABASE_URL, else
                                                 the SQLite file under FIELDPUNCH_DATA_DIR)

The same stack as `fieldpunch serve` (FastAPI, pydantic, SQLAlchemy async with fieldpunch's
engine settings: asyncpg or aiosqlite, same pool, WAL and BEGIN IMMEDIATE on SQLite) and the same
uvicorn options, but no authentication, signature, fusion, place matching, ledger or outbox:
`POST /api/v1/punches` (the path fieldpunch serves, so the very same request bytes work)
validates the body with fieldpunch's own `PunchIn` model and runs one INSERT into its own table
(`bench_baseline`, with a unique client_id as the idempotency key would have) in one
transaction, answering 201 with the new id.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Column, DateTime, Float, MetaData, String, Table, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from fieldpunch.db.engine import WRITE_OPTION, make_engine
from fieldpunch.db.types import JSONType
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.ids import new_id
from fieldpunch.punches.schemas import PunchIn

metadata = MetaData()
baseline = Table(
    "bench_baseline",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("client_id", String(64), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("captured_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("payload", JSONType, nullable=False),
)


def database_url() -> str:
    url = os.environ.get("FIELDPUNCH_DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url:
        return url
    data_dir = Path(os.environ.get("FIELDPUNCH_DATA_DIR", "var"))
    return f"sqlite+aiosqlite:///{(data_dir / 'fieldpunch.sqlite3').as_posix()}"


def create_app() -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(database_url())
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        app.state.engine = engine.execution_options(**{WRITE_OPTION: True})
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(title="fieldpunch baseline", lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/v1/punches", status_code=201)  # the path fieldpunch serves, same bytes
    async def create_punch(request: Request, body: PunchIn) -> JSONResponse:
        engine: AsyncEngine = request.app.state.engine
        row: dict[str, Any] = {
            "id": new_id("pun"),
            "client_id": body.client_id,
            "kind": body.kind.value,
            "captured_at": body.captured_at,
            "received_at": utcnow(),
            "lat": body.location.lat,
            "lon": body.location.lon,
            "payload": await request.json(),  # the JSON as sent, as fieldpunch keeps it
        }
        async with engine.begin() as conn:
            await conn.execute(insert(baseline), row)
        return JSONResponse({"id": row["id"], "client_id": body.client_id}, status_code=201)

    return app


def main(argv: list[str]) -> int:
    """Serve the baseline with the same uvicorn options as `fieldpunch serve`."""
    import uvicorn

    parser = argparse.ArgumentParser(prog="bench.baseline_app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    uvicorn.run(
        "bench.baseline_app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        server_header=False,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
