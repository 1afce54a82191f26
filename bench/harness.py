"""What every benchmark (and the process tests) needs around the server: a throwaway database,
`fieldpunch` commands and `serve` processes on free loopback ports, stopped in order.

A spawned process runs the very code this module imported: `code_env` puts the folder that
holds the imported `fieldpunch` package first on PYTHONPATH, so a benchmark started from a
worktree (`PYTHONPATH=<worktree>/src python -m fieldpunch bench …`) measures that worktree,
not the package installed in the virtualenv.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

import fieldpunch

ROOT = Path(__file__).resolve().parents[1]  # the checkout holding bench/
PY = sys.executable
SRC = Path(fieldpunch.__file__).resolve().parents[1]  # the folder holding the package
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def sayer(name: str) -> Callable[[str], None]:
    """A progress printer to stderr, prefixed with the benchmark's name and the time."""

    def say(msg: str) -> None:
        print(f"[bench {name} {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    return say


say = sayer("harness")


# Databases ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PgAdmin:
    """Where throwaway PostgreSQL databases are made (loopback only); FIELDPUNCH_TEST_PG_*."""

    host: str = os.environ.get("FIELDPUNCH_TEST_PG_HOST", "127.0.0.1")
    port: int = int(os.environ.get("FIELDPUNCH_TEST_PG_PORT", "5432"))
    user: str = os.environ.get("FIELDPUNCH_TEST_PG_USER", "postgres")
    admin_db: str = os.environ.get("FIELDPUNCH_TEST_PG_DB", "test")

    def __post_init__(self) -> None:
        if self.host not in LOOPBACK:
            raise ValueError("benchmarks only run against a database on this machine")

    async def _execute(self, statement: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(
            host=self.host, port=self.port, user=self.user, database=self.admin_db
        )
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    def url(self, name: str) -> str:
        return f"postgresql+asyncpg://{self.user}@{self.host}:{self.port}/{name}"


@contextlib.contextmanager
def pg_database(admin: PgAdmin, prefix: str = "fp_bench") -> Iterator[str]:
    """A fresh, randomly named database (its URL), dropped on the way out whatever happened."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    asyncio.run(admin._execute(f'CREATE DATABASE "{name}"'))
    say(f"created PostgreSQL database {name}")
    try:
        yield admin.url(name)
    finally:
        # Ctrl-C during the drop must not leave it behind: ignore SIGINT for this moment.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            asyncio.run(admin._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            say(f"dropped PostgreSQL database {name}")
        finally:
            signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def database(db: str, data_dir: Path, admin: PgAdmin | None = None) -> Iterator[str | None]:
    """`postgres`: a throwaway database's URL; `sqlite`: None (the data folder's default)."""
    if db == "postgres":
        with pg_database(admin or PgAdmin()) as url:
            yield url
    else:
        yield None


def sqlite_url(data_dir: Path) -> str:
    """The URL of the embedded database `serve` keeps in `data_dir` (for reads from outside)."""
    return f"sqlite+aiosqlite:///{(data_dir / 'fieldpunch.sqlite3').as_posix()}"


def sql(db_url: str, statement: str) -> list[tuple[Any, ...]]:
    """One statement on a benchmark's database, outside the server; its rows."""
    if db_url.startswith("sqlite"):
        import sqlite3

        with contextlib.closing(sqlite3.connect(db_url.split("///", 1)[1])) as conn:
            return list(conn.execute(statement).fetchall())

    async def run() -> list[tuple[Any, ...]]:
        import asyncpg

        conn = await asyncpg.connect(db_url.replace("postgresql+asyncpg://", "postgresql://", 1))
        try:
            return [tuple(r) for r in await conn.fetch(statement)]
        finally:
            await conn.close()

    return asyncio.run(run())


def analyze(db_url: str) -> None:
    """Planner statistics as a running installation has them (autovacuum/ANALYZE keep them).

    A benchmark fills an empty database within seconds; with statistics from when `punches` was
    empty, PostgreSQL plans the detectors' reads on the wrong index and prepared statements keep
    that plan (docs/performance.md, "Statistics matter"). So each phase starts analysed.
    """
    sql(db_url, "ANALYZE")


def findings(db_url: str) -> Counter[str]:
    """Punches by status and findings by rule, so far (a phase's are the difference)."""
    out: Counter[str] = Counter()
    for status, n in sql(db_url, "SELECT status, count(*) FROM punches GROUP BY status"):
        out[f"punches {status}"] += n
    for rule, n in sql(db_url, "SELECT rule, count(*) FROM anomalies GROUP BY rule"):
        out[f"finding {rule}"] += n
    return out


# Processes ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def code_env(src: Path = SRC, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment without FIELDPUNCH_* settings, with `src` (and the checkout, for
    `bench.*` modules) first on PYTHONPATH: children import the code `src` holds."""
    env = {k: v for k, v in (base or os.environ).items() if not k.startswith("FIELDPUNCH_")}
    paths = [str(src), str(ROOT), *filter(None, [env.get("PYTHONPATH")])]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


def server_env(
    data_dir: Path, database_url: str | None = None, src: Path = SRC, **settings: str
) -> dict[str, str]:
    """A server's environment: the code in `src`, its data folder, a fresh secret key, no
    access log."""
    env = code_env(src)
    env.update(
        FIELDPUNCH_DATA_DIR=str(data_dir),
        FIELDPUNCH_SECRET_KEY=secrets.token_urlsafe(48),
        FIELDPUNCH_ACCESS_LOG="false",
    )
    if database_url:
        env["FIELDPUNCH_DATABASE_URL"] = database_url
    env.update(settings)
    return env


def imported_from(env: dict[str, str]) -> Path:
    """Where a child started with `env` imports `fieldpunch` from (the folder holding it)."""
    out = subprocess.run(  # noqa: S603 - our own interpreter
        [PY, "-c", "import fieldpunch; print(fieldpunch.__file__)"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()
    return Path(out).resolve().parents[1]


def fieldpunch_cli(args: list[str], env: dict[str, str], timeout: float = 300) -> str:
    """`fieldpunch <args>`; its output (a RuntimeError with its stderr if it fails)."""
    proc = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [PY, "-m", "fieldpunch", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        start_new_session=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"fieldpunch {args[0]} failed: {proc.stderr.strip()[-2000:]}")
    return proc.stdout


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def tail(self, n: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-n:])


@contextlib.contextmanager
def serving(
    name: str,
    argv: list[str],
    env: dict[str, str],
    log: Path,
    *,
    port: int | None = None,
    ready: str = "/healthz",
    timeout: float = 90,
    poll_s: float = 0.1,
) -> Iterator[Server]:
    """Start `argv --port P` (output to a file, never an unread pipe), wait until `ready`
    answers 200, stop it afterwards (terminate, then kill after 30 s)."""
    port = port or free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [*argv, "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=out,
            start_new_session=True,  # Ctrl-C reaches us; we stop it in order
        )
    server = Server(name, port, proc, log)
    try:
        deadline = time.monotonic() + timeout
        while True:  # polling the port the server is opening: a readiness check
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited {proc.returncode}:\n{server.tail()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{server.base}{ready}", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not ready within {timeout} s:\n{server.tail()}")
            time.sleep(poll_s)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def fieldpunch_serve(*more: str) -> list[str]:
    """The argv of `fieldpunch serve` (for `serving`)."""
    return [PY, "-m", "fieldpunch", "serve", *more]


@dataclass(frozen=True)
class Installation:
    """A migrated database with one organisation, and the environment of its servers."""

    env: dict[str, str]
    db_url: str  # also for `sql` from outside the server
    org: dict[str, Any]  # what `fieldpunch create-org` printed (org_id, admin_id, ...)

    @property
    def secret(self) -> str:
        return self.env["FIELDPUNCH_SECRET_KEY"]


@contextlib.contextmanager
def installation(
    db: str,
    data_dir: Path,
    create_org: list[str],
    admin: PgAdmin | None = None,
    prefix: str = "fp_bench",
    src: Path = SRC,
    **settings: str,
) -> Iterator[Installation]:
    """A throwaway database (`postgres`, dropped afterwards; `sqlite`: in `data_dir`),
    `fieldpunch migrate`, then `fieldpunch <create_org>`, both run from the code in `src`;
    `settings` are FIELDPUNCH_* values."""
    data_dir.mkdir(parents=True, exist_ok=True)
    url = None
    with contextlib.ExitStack() as stack:
        if db == "postgres":
            url = stack.enter_context(pg_database(admin or PgAdmin(), prefix))
        env = server_env(data_dir, url, src, **settings)
        fieldpunch_cli(["migrate"], env)
        org = json.loads(fieldpunch_cli(create_org, env))
        yield Installation(env, url or sqlite_url(data_dir), org)


# The machine --------------------------------------------------------------------------------------


def proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def machine_busy_pct(seconds: float = 1.0) -> float:
    """CPU busy on the whole machine over a short look, in % of one core."""

    def stat() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        return sum(values) - values[3] - values[4], sum(values)

    b0, t0 = stat()
    time.sleep(seconds)
    b1, t1 = stat()
    return round(100 * (b1 - b0) / max(1, t1 - t0) * (os.cpu_count() or 1), 1)


def machine() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"cpu": cpu, "cores": os.cpu_count(), "python": sys.version.split()[0]}


def median(values: Sequence[float | None]) -> float | None:
    """The median, rounded; None if any value is missing (a run that failed to say)."""
    finite = [v for v in values if v is not None]
    return round(statistics.median(finite), 2) if len(finite) == len(values) and finite else None
