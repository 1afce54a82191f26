"""What a command does before it runs: settings, the data folder, migrations, the database at
the code's schema, Redis, a free port; each failure said in one line (exit 2), never a traceback
unless `--debug` asked for it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import traceback
from collections.abc import Iterator
from pathlib import Path

import typer

from fieldpunch.config import ConfigError, Settings, load_settings

debug = False  # --debug: start-up failures print their traceback too


def settings(**overrides: object) -> Settings:
    try:
        settings = load_settings(**overrides)
        settings.signing_key  # noqa: B018 - surfaces a missing secret as a config error
    except ConfigError as exc:
        typer.echo(f"fieldpunch: bad configuration: {exc}", err=True)
        raise typer.Exit(2) from None
    except OSError as exc:  # the generated key cannot be written or read in the data folder
        where = overrides.get("data_dir") or os.environ.get("FIELDPUNCH_DATA_DIR", "var")
        if debug:
            traceback.print_exc()
        raise fail(f"cannot start: the data folder {where}: {say(exc)}", 2) from None
    return settings


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"fieldpunch: {message}", err=True)
    return typer.Exit(code)


def root(exc: BaseException) -> BaseException:
    """The innermost cause: the driver's error under SQLAlchemy's, the OS error under both."""
    seen: set[int] = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        inner = getattr(exc, "orig", None) or exc.__cause__
        if inner is None and not exc.__suppress_context__:
            inner = exc.__context__
        if not isinstance(inner, BaseException):
            break
        exc = inner
    return exc


def say(exc: BaseException) -> str:
    """One line for an error: its message, or its kind when it has none."""
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror + (f": {exc.filename}" if exc.filename else "")
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def db_name(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(settings.db_url)
    if url.get_backend_name() == "sqlite":
        return f"the SQLite database {url.database}"
    return f"the database {url.render_as_string(hide_password=True)}"


@contextlib.contextmanager
def starting(what: str, keep: tuple[type[Exception], ...] = ()) -> Iterator[None]:
    """Turn a failure while starting into one line naming `what` and its cause, and exit 2.

    Errors of the `keep` kinds pass through (the command answers them itself).
    """
    passing: tuple[type[BaseException], ...] = (typer.Exit, typer.Abort, KeyboardInterrupt, *keep)
    try:
        yield
    except passing:
        raise
    except Exception as exc:
        if debug:
            traceback.print_exc()
        raise fail(f"cannot start: {what}: {say(root(exc))}", 2) from None


def data_dir(settings: Settings) -> None:
    """The data folder exists and can be written (keys, the SQLite file, photos live there)."""
    with starting(f"the data folder {settings.data_dir}"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        probe = settings.data_dir / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()


def migrate(settings: Settings) -> None:
    from fieldpunch.db.migrate import upgrade

    if settings.embedded:
        data_dir(settings)
    with starting(db_name(settings)):
        upgrade(settings.db_url)


def _missing_sqlite_file(settings: Settings) -> bool:
    from sqlalchemy.engine import make_url

    url = make_url(settings.db_url)
    return url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file()


async def at_head(settings: Settings) -> None:
    """Raise unless the database answers and its schema is the code's (one line, exit 2)."""
    from fieldpunch.db.engine import Database
    from fieldpunch.db.migrate import current, head

    if _missing_sqlite_file(settings):  # opening it would create an empty file
        raise fail(f"cannot start: {db_name(settings)} does not exist: run 'fieldpunch migrate'", 2)
    with starting(db_name(settings)):
        db = Database(settings.db_url, pool_size=1)
        try:
            at = await current(db.engine)
        finally:
            await db.dispose()
    if at != {head()}:
        found = ", ".join(sorted(at)) or "empty"
        raise fail(
            f"cannot start: the database schema is at {found}, the code needs {head()}: "
            "run 'fieldpunch migrate'",
            2,
        )


async def redis_answers(settings: Settings) -> None:
    """Say in one line when Redis does not answer, and start anyway: punches need only the
    database; the live feed and the shared counters catch up when Redis comes back."""
    if not settings.redis_url:
        return
    import redis.asyncio as redis
    from sqlalchemy.engine import make_url

    where = make_url(settings.redis_url.replace("rediss://", "redis://", 1))
    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=5, socket_timeout=5)
    try:
        await client.ping()
    except Exception as exc:
        if debug:
            traceback.print_exc()
        typer.echo(
            f"fieldpunch: warning: Redis at {where.host}:{where.port or 6379} does not answer "
            f"({say(root(exc))}); starting without it: punches are taken, live events and "
            "shared throttling resume when it answers",
            err=True,
        )
    finally:
        await client.aclose()


def preflight(settings: Settings) -> None:
    """What `serve` and `worker` need first: the database at the code's schema, and Redis."""

    async def check() -> None:
        await at_head(settings)
        await redis_answers(settings)

    asyncio.run(check())


def check_port(host: str, port: int, command: str) -> None:
    """Say plainly that the port is taken, before printing anything that assumes it is ours."""
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        raise fail(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); "
            f"choose another port: fieldpunch {command} --port 8080",
            2,
        ) from None
