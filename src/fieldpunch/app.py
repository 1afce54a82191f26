"""The ASGI application: `create_app()` wires settings, database, errors, logs and routers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from sqlalchemy import text

from fieldpunch import __version__
from fieldpunch.alerts.endpoints import router as alerts_router
from fieldpunch.anomalies.endpoints import router as anomalies_router
from fieldpunch.attendance.days_endpoints import router as attendance_days_router
from fieldpunch.attendance.endpoints import router as attendance_router
from fieldpunch.auditlog.endpoints import router as audit_log_router
from fieldpunch.auth.endpoints import keys as api_keys_router
from fieldpunch.auth.endpoints import router as auth_router
from fieldpunch.auth.throttle import make_throttle
from fieldpunch.cells.endpoints import router as cells_router
from fieldpunch.config import Settings, load_settings
from fieldpunch.corrections.endpoints import router as corrections_router
from fieldpunch.customers.endpoints import router as customers_router
from fieldpunch.db import migrate
from fieldpunch.db.engine import Database, open_database
from fieldpunch.devices.endpoints import router as devices_router
from fieldpunch.jobs.endpoints import router as jobs_router
from fieldpunch.jobs.relay import Relay
from fieldpunch.jobs.worker import build_runner
from fieldpunch.kit import collector, errors, openapi
from fieldpunch.kit.bodyguard import BodyGuard
from fieldpunch.kit.headers import AllowedMethods, SecurityHeaders
from fieldpunch.kit.logs import RequestLog
from fieldpunch.live.endpoints import router as live_router
from fieldpunch.live.redis_hub import make_hub
from fieldpunch.notify.endpoints import robots_router
from fieldpunch.notify.endpoints import router as notify_router
from fieldpunch.orgs.endpoints import router as org_router
from fieldpunch.photos.decoding import Decoder
from fieldpunch.photos.endpoints import router as photos_router
from fieldpunch.places.endpoints import router as places_router
from fieldpunch.punches.asgi_route import punch_route
from fieldpunch.punches.endpoints import router as punches_router
from fieldpunch.punches.service import Intake
from fieldpunch.reports.endpoints import router as reports_router
from fieldpunch.tasks.endpoints import router as tasks_router
from fieldpunch.teams.endpoints import router as teams_router
from fieldpunch.users.endpoints import router as users_router
from fieldpunch.visits.endpoints import config_router as visit_config_router
from fieldpunch.visits.endpoints import router as visits_router
from fieldpunch.visits.reports.endpoints import router as visit_reports_router
from fieldpunch.visits.reports.geo_endpoints import router as visit_geo_router
from fieldpunch.visits.timeline import router as customer_timeline_router
from fieldpunch.web import apidocs as web_apidocs
from fieldpunch.web import static as web_static

API_PREFIX = "/api/v1"


_NOT_READY = {
    "description": "Not ready: the database does not answer, or migrations are pending",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"status": {"type": "string"}},
                "required": ["status"],
            }
        }
    },
}


def _operation_id(route: APIRoute) -> str:
    """Operation ids are the handler names (unique by construction: checked in tests)."""
    return route.name


def serve_app() -> FastAPI:
    """The app as `fieldpunch serve` runs it: its process is the server's alone, so the garbage
    collector is settled for serving once start-up is done (kit/collector.py)."""
    return create_app(settle_collector=True)


def create_app(
    settings: Settings | None = None,
    *,
    asgi_punch_route: bool = True,
    settle_collector: bool = False,
) -> FastAPI:
    """The app. `asgi_punch_route=False` leaves POST /punches to FastAPI (for a test)."""
    settings = settings or load_settings()
    settings.signing_key  # noqa: B018 - fail (or create the key file) now, not at first login

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = app.state.db = open_database(settings)
        app.state.hub = make_hub(settings.redis_url, settings.db_url)
        await app.state.hub.start()
        app.state.relay = Relay(db, app.state.hub)
        app.state.intake = Intake.of(settings)
        app.state.login_throttle = make_throttle(settings)
        # Photos decode in child processes (started on the first photo), stopped with the app.
        decoder = app.state.photo_decoder = Decoder()
        if settle_collector:  # before the relay and the jobs allocate anything lasting
            collector.settle()
        app.state.relay.start()
        # Embedded mode has no worker process: the job runner (and its schedules) runs here.
        app.state.jobs = None
        if settings.run_jobs_here:
            app.state.jobs = build_runner(
                db, settings, role="serve", after_job=app.state.relay.kick
            )
            await app.state.jobs.start()
        try:
            yield
        finally:
            if app.state.jobs is not None:
                await app.state.jobs.stop(settings.worker_grace_s)
            await app.state.relay.stop()
            await asyncio.to_thread(decoder.shutdown)
            await app.state.login_throttle.close()
            await app.state.intake.close()
            await app.state.hub.stop()  # closes the live sockets: clients resume elsewhere
            await db.dispose()

    app = FastAPI(
        title="fieldpunch",
        version=__version__,
        description="Field check-in you can trust. Errors are RFC 9457 problem+json.",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        openapi_url="/openapi.json",
        docs_url=None,  # ours, without a CDN: web/apidocs.py
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.migration_head = migrate.head()
    errors.install(app)
    openapi.install(app)  # kit/openapi.py: every answer, scope and problem declared

    api = APIRouter(prefix=API_PREFIX)
    for router in (
        auth_router,
        org_router,
        users_router,
        teams_router,
        places_router,
        customers_router,
        devices_router,
        api_keys_router,
        punches_router,
        cells_router,
        anomalies_router,
        corrections_router,
        attendance_router,
        attendance_days_router,
        visits_router,
        visit_config_router,
        tasks_router,
        audit_log_router,
        live_router,
        notify_router,
        robots_router,
        alerts_router,
        jobs_router,
        photos_router,
        reports_router,
        visit_reports_router,
        visit_geo_router,
        customer_timeline_router,
    ):
        api.include_router(router)
    app.include_router(api)
    if asgi_punch_route:  # first in the router, under every middleware (punches/asgi_route.py)
        app.router.routes.insert(0, punch_route(f"{API_PREFIX}/punches"))

    @app.get("/healthz", tags=["health"], include_in_schema=True)
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], responses={503: _NOT_READY})
    async def readyz(request: Request) -> JSONResponse:
        """Readiness: the database answers and its schema is at the code's migration head."""
        db: Database = request.app.state.db
        try:
            async with db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            current = await migrate.current(db.engine)
        except Exception as exc:
            return JSONResponse(
                {"status": "unavailable", "database": str(exc)[:200]}, status_code=503
            )
        head = request.app.state.migration_head
        if current != {head}:
            return JSONResponse(
                {"status": "migrations pending", "current": sorted(current), "head": head},
                status_code=503,
            )
        return JSONResponse({"status": "ok", "migration": head})

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/docs")

    web_static.mount(app)  # the field app at /app/ (built by `make web`)
    web_apidocs.mount(app)  # /docs, Swagger UI from the same build

    # Outside every route that reads a body: limit, caller, deadline.
    app.add_middleware(BodyGuard, settings=settings)
    app.add_middleware(AllowedMethods)
    app.add_middleware(SecurityHeaders, hsts=settings.base_url.startswith("https://"))
    app.add_middleware(RequestLog, enabled=settings.access_log)
    return app
