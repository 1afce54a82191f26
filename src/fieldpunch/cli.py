"""`fieldpunch`: the one command line for operators and developers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shlex
import shutil
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from fieldpunch import startup
from fieldpunch.config import Settings

# Plain tracebacks: rich ones print local variables, which can hold passwords.
app = typer.Typer(
    no_args_is_help=True, add_completion=False, help=__doc__, pretty_exceptions_enable=False
)
log = logging.getLogger("fieldpunch.cli")


@app.callback()
def _options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of a start-up failure")
    ] = False,
) -> None:
    startup.debug = debug


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    import uvicorn

    from fieldpunch.kit.logs import configure

    startup.check_port(host, port, "serve")
    if workers > 1 and settings.embedded:
        raise startup.fail("--workers > 1 needs an external database (FIELDPUNCH_DATABASE_URL)", 2)
    startup.data_dir(settings)  # photos are kept there whatever the database
    if settings.embedded:
        startup.migrate(settings)
    startup.preflight(settings)
    configure(settings.log_level)
    # Worker processes rebuild settings from the environment: pass on what the CLI decided.
    os.environ["FIELDPUNCH_DATA_DIR"] = str(settings.data_dir)
    if settings.database_url:
        os.environ["FIELDPUNCH_DATABASE_URL"] = settings.database_url
    uvicorn.run(
        "fieldpunch.app:serve_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        server_header=False,
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Processes (external DB only)")] = 1,
) -> None:
    """Serve the API (and the web apps). Embedded SQLite under ./var/ unless configured."""
    _serve(startup.settings(), host, port, workers)


@app.command()
def migrate() -> None:
    """Apply database migrations (Alembic) up to the code's head."""
    settings = startup.settings()
    startup.migrate(settings)
    typer.echo("migrations applied")


@app.command("create-org")
def create_org(
    name: Annotated[str, typer.Option(help="Organization name")],
    admin_email: Annotated[str, typer.Option(help="First admin's email (their login)")],
    admin_password: Annotated[str, typer.Option(help="First admin's password (8+ characters)")],
    timezone: Annotated[
        str, typer.Option(help="IANA time zone for days and reports")
    ] = "Asia/Shanghai",
) -> None:
    """Create an organization and its first admin; prints {"org_id", "admin_user_id"} as JSON."""
    from pydantic import ValidationError

    from fieldpunch.db.engine import Database
    from fieldpunch.kit.errors import ProblemError
    from fieldpunch.orgs.service import create_org as create

    settings = startup.settings()
    startup.migrate(settings)

    async def run() -> dict[str, str]:
        db = Database(settings.db_url)
        try:
            async with db.transaction() as session:
                made = await create(
                    session,
                    name=name,
                    admin_email=admin_email,
                    admin_password=admin_password,
                    timezone=timezone,
                )
            return {"org_id": made.org_id, "admin_user_id": made.admin_user_id}
        finally:
            await db.dispose()

    try:
        with startup.starting(startup.db_name(settings), keep=(ValidationError, ProblemError)):
            result = asyncio.run(run())
    except ValidationError as exc:
        err = exc.errors()[0]
        field = {"email": "--admin-email", "password": "--admin-password"}.get(
            str(err["loc"][0]), str(err["loc"][0])
        )
        raise startup.fail(f"{field}: {err['msg']}", 2) from None
    except ProblemError as exc:
        raise startup.fail(f"--{exc.detail}", 2) from None
    typer.echo(json.dumps(result))


@app.command()
def worker(
    concurrency: Annotated[
        int | None, typer.Option(min=1, max=64, help="Jobs at once (FIELDPUNCH_WORKER_CONCURRENCY)")
    ] = None,
) -> None:
    """Run background jobs (alerts, notifications, reminders, checkpoints) until SIGTERM or SIGINT.

    Several workers may run at once: each job runs on one of them, each periodic task once.
    On SIGTERM running jobs get FIELDPUNCH_WORKER_GRACE_S to finish; the rest go back to the queue.
    """
    from fieldpunch.db.engine import open_database
    from fieldpunch.jobs.worker import build_runner
    from fieldpunch.kit.logs import configure

    settings = startup.settings(**({"worker_concurrency": concurrency} if concurrency else {}))
    startup.preflight(settings)  # before logging is set up: a refusal is one line, nothing more
    configure(settings.log_level)

    async def run() -> None:
        db = open_database(settings)
        try:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            runner = build_runner(db, settings)
            await runner.start()
            log.info(
                "worker ready",
                extra={
                    "worker": runner.name,
                    "kinds": sorted(runner.kinds),
                    "schedules": sorted(runner.schedules),
                    "concurrency": runner.concurrency,
                },
            )
            await stop.wait()
            log.info("worker stopping", extra={"worker": runner.name})
            await runner.stop(settings.worker_grace_s)
            stats = runner.stats
            log.info(
                "worker stopped",
                extra={
                    "worker": runner.name,
                    "done": stats.done,
                    "retried": stats.retried,
                    "dead": stats.dead,
                    "handed_back": stats.released,
                },
            )
        finally:
            await db.dispose()

    asyncio.run(run())


@app.command()
def demo(
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    employees: Annotated[int, typer.Option(min=1, max=5000, help="Field staff to create")] = 30,
    customers: Annotated[int, typer.Option(min=0, max=100_000, help="Customers to create")] = 200,
    days: Annotated[
        int, typer.Option(min=0, max=90, help="Days of punch history before today")
    ] = 14,
    reset: Annotated[bool, typer.Option(help="Throw away the demo database and seed anew")] = False,
    seed_only: Annotated[bool, typer.Option(help="Seed, print the logins and exit")] = False,
) -> None:
    """Seed a demo company in Shanghai (kept in ./var/demo/) and serve it."""
    from fieldpunch.db.engine import Database
    from fieldpunch.demo import data as demo_data
    from fieldpunch.demo.seed import DemoInfo, find_demo, seed

    if not seed_only:
        startup.check_port(host, port, "demo")
    base = startup.settings()
    data_dir = base.data_dir if base.database_url else base.data_dir / "demo"
    settings = startup.settings(data_dir=data_dir)
    if reset and settings.embedded:
        for suffix in ("", "-wal", "-shm"):
            Path(settings.db_url.split("///", 1)[1] + suffix).unlink(missing_ok=True)
    startup.migrate(settings)

    async def run() -> DemoInfo:
        db = Database(settings.db_url)
        try:
            return await find_demo(db) or await seed(
                db,
                secret=settings.signing_key,
                employees=employees,
                customers=customers,
                days=days,
            )
        finally:
            await db.dispose()

    info = asyncio.run(run())
    base_url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"  # noqa: S104
    typer.echo(f"\nfieldpunch demo: {info.org_name}")
    counts = f"{info.teams} teams, {info.staff} field staff, {info.places} places"
    typer.echo(f"  {counts}, {info.customers} customers, {info.punches:,} punches")
    typer.echo(f"  Field app: {base_url}/app/   (a phone PWA: sign in as a staff login)")
    typer.echo(f"  Console:   {base_url}/console/   (managers, HR and admins)")
    hq = demo_data.PLACES[0]
    typer.echo(
        f"  Office:    {hq.name} at {hq.lat}, {hq.lon} (WGS-84): emulate that location "
        "in the browser to punch inside the fence"
    )
    typer.echo(f"  API docs:  {base_url}/docs")
    typer.echo(f"  API:       {base_url}/api/v1")
    typer.echo("  Logins (email or phone / password):")
    for login in info.logins:
        phone = login.phone or ""
        typer.echo(
            f"    {login.role:<8} {login.email:<40} {phone:<12} {login.password}   {login.name}"
        )
    # The demo keeps its own database (and key) under data_dir/demo: point the audit there.
    where = "" if base.database_url else f"FIELDPUNCH_DATA_DIR={shlex.quote(str(data_dir))} "
    typer.echo(f"  Audit:     {where}{_this_command()} audit verify")
    typer.echo("")
    sys.stdout.flush()
    if not seed_only:
        _serve(settings, host, port, 1)


def _this_command() -> str:
    """How to call fieldpunch again from here (a venv's bin is rarely on PATH)."""
    exe = Path(sys.executable).parent / "fieldpunch"
    if not exe.exists() or shutil.which("fieldpunch") == str(exe):
        return "fieldpunch"
    with contextlib.suppress(ValueError):
        return shlex.quote(str(exe.relative_to(Path.cwd())))
    return shlex.quote(str(exe))


audit = typer.Typer(no_args_is_help=True, help="Check that no punch was edited or deleted.")
app.add_typer(audit, name="audit")


@audit.command("verify")
def audit_verify(
    org: Annotated[str | None, typer.Option(help="Only this organization")] = None,
) -> None:
    """Recompute every hash chain; exit 0 when intact, 1 naming the first broken entry."""
    from fieldpunch.db.engine import Database
    from fieldpunch.punches.audit import Report, verify

    settings = startup.settings()

    async def run() -> Report:
        await startup.at_head(settings)
        db = Database(settings.db_url)
        try:
            async with db.snapshot() as session:  # concurrent punches must not look like breaks
                return await verify(session, settings.signing_key, org)
        finally:
            await db.dispose()

    report = asyncio.run(run())
    summary = (
        f"{report.orgs} orgs, {report.people} people, {report.entries} entries, "
        f"{report.checkpoints} checkpoints"
    )
    if not report.ok:
        typer.echo(f"BROKEN: {report.broken[0]}")
        typer.echo(f"checked {summary}")
        raise typer.Exit(1)
    typer.echo(f"intact: {summary}")


@audit.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign the current chain heads of every organization (the server does this periodically)."""
    from fieldpunch.db.engine import Database
    from fieldpunch.punches.audit import checkpoint_all

    settings = startup.settings()

    async def run() -> int:
        await startup.at_head(settings)
        db = Database(settings.db_url)
        try:
            async with db.transaction() as session:
                return await checkpoint_all(session, settings.signing_key)
        finally:
            await db.dispose()

    typer.echo(f"{asyncio.run(run())} checkpoints written")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def bench(
    ctx: typer.Context,
    name: Annotated[
        str, typer.Argument(help="Which benchmark: a module of bench/ (ingest, geofence)")
    ],
) -> None:
    """Run a benchmark from bench/ (a checkout's folder); extra options go to the benchmark."""
    import importlib
    import re

    root = Path(__file__).resolve().parents[2]
    # A benchmark is a module of bench/ with a main(argv); the others are its shared parts.
    available = sorted(
        p.stem
        for p in (root / "bench").glob("[a-z]*.py")
        if "\ndef main(argv" in p.read_text(encoding="utf-8")
    )
    if name not in available or not re.fullmatch(r"[a-z_]+", name):
        raise startup.fail(
            f"no benchmark '{name}' (available: {', '.join(available) or 'none'})", 2
        )
    sys.path.insert(0, str(root))
    module = importlib.import_module(f"bench.{name}")
    raise typer.Exit(module.main(list(ctx.args)) or 0)
