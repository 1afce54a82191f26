"""Punch ingestion: signed single punches, a bare baseline, batches; PostgreSQL and SQLite.

    fieldpunch bench ingest [--db postgres|sqlite|both] [--seconds S] [--reps N] [--rate R]
                            [--connections C] [--places N] [--users N] [--profile DIR] ...

For each database, in one run:

1. Setup (not timed): a fresh database (PostgreSQL: a randomly named one, dropped at the end,
   also on error or Ctrl-C; SQLite: a temporary data folder), `fieldpunch migrate`,
   `fieldpunch create-org`, then ONE `fieldpunch serve` process (FIELDPUNCH_ACCESS_LOG=false).
   Through its HTTP API as the admin: places around Shanghai (circles of 50-300 m, ~30% with 1-3
   Wi-Fi BSSIDs) and staff users; each staff member logs in, enrols a P-256 device key and fetches
   a time anchor (GET /time).
2. Every request body is built before timing: signed punches (RFC 8785 JSON, ECDSA P-256, r||s,
   base64url) with a unique client_id, a Wi-Fi list and a time proof, at (90%) or near (10%) a
   random place, by a random staff member; batches of 1,000 punches of one person each.
3. The load generator (bench/loadgen.py) runs in another process on raw keep-alive HTTP/1.1
   connections: closed loop (C connections flat out: throughput) and open loop (a fixed rate,
   latency from the scheduled send time: p50/p99). Medians of --reps repetitions.
4. The same for bench/baseline_app.py (validate the same JSON with pydantic + one INSERT, same
   database and uvicorn options), run after fieldpunch's server has stopped; then the ratio.
5. Batches of 1,000 via POST /api/v1/punches/batch.
6. With --profile DIR: py-spy samples each server during one extra closed-loop run.

Prints a JSON summary (also written with --json FILE) and a markdown table. Needs the dev
extras (httpx); PostgreSQL at FIELDPUNCH_TEST_PG_HOST/PORT/USER (default 127.0.0.1:5432,
postgres, trust auth), administered through the database FIELDPUNCH_TEST_PG_DB (default test).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import math
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import orjson
import rfc8785
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bench.loadgen import Spec, build_request, write_requests
from fieldpunch.devices.keys import b64url_encode

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
SHANGHAI = (31.2304, 121.4737)
M_PER_DEG = 111_320.0
_MS = timedelta(milliseconds=1)
PASSWORD = "bench-password-1"  # noqa: S105 - throwaway accounts in a throwaway database
TARGETS = {
    "throughput_rps": 2000.0,
    "p99_ms_at_rate": 50.0,
    "baseline_ratio": 0.60,
    "batch_punches_per_s": 20000.0,
}


@dataclass
class Options:
    dbs: list[str]
    seconds: float
    reps: int
    rate: float
    connections: int
    open_connections: int
    places: int
    users: int
    wifi_share: float
    places_via: str
    login: str
    batches: int
    batch_size: int
    batch_connections: int
    warmup_s: float
    profile: Path | None
    json_out: Path | None
    log_dir: Path | None
    seed: int
    pg_host: str
    pg_port: int
    pg_user: str
    pg_admin_db: str
    detectors_off_run: bool = True
    duplicate_window_min: int = 0
    workers: int = 1


def parse_args(argv: list[str]) -> Options:
    p = argparse.ArgumentParser(
        prog="fieldpunch bench ingest",
        description="Punch ingestion throughput and latency (see bench/ingest.py).",
    )
    p.add_argument("--db", choices=["postgres", "sqlite", "both"], default="both")
    p.add_argument("--seconds", type=float, default=5.0, help="length of each timed run")
    p.add_argument("--reps", type=int, default=3, help="repetitions of each run (median)")
    p.add_argument("--rate", type=float, default=1000.0, help="open-loop rate, requests/s")
    p.add_argument("--connections", type=int, default=32, help="closed-loop connections")
    p.add_argument(
        "--open-connections", type=int, default=64, help="connections available to the open loop"
    )
    p.add_argument("--places", type=int, default=10_000)
    p.add_argument("--users", type=int, default=200, help="staff members (each one device)")
    p.add_argument("--wifi-share", type=float, default=0.30, help="places with Wi-Fi BSSIDs")
    p.add_argument(
        "--places-via",
        choices=["http", "sql"],
        default="sql",
        help="one bulk INSERT with fieldpunch's model (default), or POST /api/v1/places, "
        "16 at a time (~300/s: 30+ s for 10,000)",
    )
    p.add_argument(
        "--login",
        choices=["token", "password"],
        default="token",
        help="staff get an access token minted with the server's secret (default; people are "
        "created through the API without a password), or each is created with a password and "
        "logs in through POST /auth/token (two Argon2id hashes per person: ~1 min for 200)",
    )
    p.add_argument("--batches", type=int, default=20, help="batch requests to send")
    p.add_argument("--batch-size", type=int, default=1000)
    p.add_argument("--batch-connections", type=int, default=2)
    p.add_argument(
        "--detectors-off-run",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure single punches with every anomaly rule off (the detectors' cost)",
    )
    p.add_argument(
        "--duplicate-window-min",
        type=int,
        default=0,
        help="the org policy's duplicate window while measuring (default 0: the benchmark "
        "packs a person's day into seconds, so the default 5 minutes would make every punch "
        "a `duplicate` finding; the rule still runs on every punch)",
    )
    p.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds before each server")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes for PostgreSQL, fieldpunch and baseline alike (the issue's "
        "figures are for 1; SQLite is always one process)",
    )
    p.add_argument("--profile", type=Path, help="py-spy each server into this folder")
    p.add_argument("--json", type=Path, dest="json_out", help="also write the summary here")
    p.add_argument("--log-dir", type=Path, help="keep the servers' logs here")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--pg-host", default=os.environ.get("FIELDPUNCH_TEST_PG_HOST", "127.0.0.1"))
    p.add_argument(
        "--pg-port", type=int, default=int(os.environ.get("FIELDPUNCH_TEST_PG_PORT", "5432"))
    )
    p.add_argument("--pg-user", default=os.environ.get("FIELDPUNCH_TEST_PG_USER", "postgres"))
    p.add_argument("--pg-admin-db", default=os.environ.get("FIELDPUNCH_TEST_PG_DB", "test"))
    a = p.parse_args(argv)
    if a.pg_host not in ("127.0.0.1", "localhost", "::1"):
        p.error("--pg-host: this benchmark only runs against a database on this machine")
    if a.seconds <= 0 or a.reps < 1 or a.rate <= 0 or a.connections < 1 or a.batch_size < 1:
        p.error("--seconds, --reps, --rate, --connections and --batch-size must be positive")
    if not 1 <= a.batch_size <= 1000:
        p.error("--batch-size: 1..1000 (the API's limit)")
    if not 1 <= a.workers <= 16:
        p.error("--workers: 1..16")
    return Options(
        dbs=["postgres", "sqlite"] if a.db == "both" else [a.db],
        seconds=a.seconds,
        reps=a.reps,
        rate=a.rate,
        connections=a.connections,
        open_connections=a.open_connections,
        places=a.places,
        users=a.users,
        wifi_share=a.wifi_share,
        places_via=a.places_via,
        login=a.login,
        batches=a.batches,
        batch_size=a.batch_size,
        batch_connections=a.batch_connections,
        warmup_s=a.warmup,
        detectors_off_run=a.detectors_off_run,
        duplicate_window_min=a.duplicate_window_min,
        workers=a.workers,
        profile=a.profile,
        json_out=a.json_out,
        log_dir=a.log_dir,
        seed=a.seed,
        pg_host=a.pg_host,
        pg_port=a.pg_port,
        pg_user=a.pg_user,
        pg_admin_db=a.pg_admin_db,
    )


def say(msg: str) -> None:
    print(f"[bench ingest {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# Databases and processes ------------------------------------------------------------------------


def analyze(db_url: str) -> None:
    """Planner statistics as a running installation has them (autovacuum/ANALYZE keep them).

    A benchmark fills an empty database within seconds: with statistics from when `punches` was
    empty, PostgreSQL plans the detectors' window on the (org, time) index and filters the whole
    organisation's rows instead of using (org, person, time), and prepared statements keep that
    plan until statistics change. Measured on that, the figures describe a state production
    never stays in for long; so each phase starts from analysed tables.
    """
    sql(db_url, "ANALYZE")


def sql(db_url: str, statement: str) -> list[tuple[Any, ...]]:
    """One statement on the benchmark's database, outside the server; its rows."""
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


def findings(db_url: str) -> Counter[str]:
    """Punches by status and findings by rule, so far (a phase's are the difference)."""
    out: Counter[str] = Counter()
    for status, n in sql(db_url, "SELECT status, count(*) FROM punches GROUP BY status"):
        out[f"punches {status}"] += n
    for rule, n in sql(db_url, "SELECT rule, count(*) FROM anomalies GROUP BY rule"):
        out[f"finding {rule}"] += n
    return out


async def _pg_admin(o: Options, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(
        host=o.pg_host, port=o.pg_port, user=o.pg_user, database=o.pg_admin_db
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextlib.contextmanager
def pg_database(o: Options) -> Iterator[str]:
    """A fresh, randomly named database, dropped on the way out whatever happened."""
    name = f"fp_bench_{secrets.token_hex(6)}"
    asyncio.run(_pg_admin(o, f'CREATE DATABASE "{name}"'))
    say(f"created PostgreSQL database {name}")
    try:
        yield f"postgresql+asyncpg://{o.pg_user}@{o.pg_host}:{o.pg_port}/{name}"
    finally:
        # Ctrl-C during the drop must not leave it behind: ignore SIGINT for this moment.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            asyncio.run(_pg_admin(o, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            say(f"dropped PostgreSQL database {name}")
        finally:
            signal.signal(signal.SIGINT, previous)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDPUNCH_")}
    env.update(
        FIELDPUNCH_DATA_DIR=str(data_dir),
        FIELDPUNCH_SECRET_KEY=secrets.token_urlsafe(48),
        FIELDPUNCH_ACCESS_LOG="false",
    )
    if database_url:
        env["FIELDPUNCH_DATABASE_URL"] = database_url
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


def fieldpunch_cli(args: list[str], env: dict[str, str]) -> str:
    proc = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [PY, "-m", "fieldpunch", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
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

    def tail(self, n: int = 30) -> str:
        lines = self.log.read_text(errors="replace").splitlines()
        return "\n".join(lines[-n:])


@contextlib.contextmanager
def serving(name: str, argv: list[str], env: dict[str, str], log: Path) -> Iterator[Server]:
    """Start a server process (output to a file), wait for /healthz, stop it afterwards."""
    port = free_port()
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
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited {proc.returncode}:\n{server.tail()}")
            try:
                if httpx.get(f"{server.base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)  # polling the port the server is opening
        say(f"{name} serving on {server.base} (pid {proc.pid})")
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# The organisation, through the API --------------------------------------------------------------


@dataclass
class PlaceInfo:
    id: str
    lat: float
    lon: float
    radius_m: float
    bssids: list[str]


@dataclass
class Staff:
    user_id: str
    token: str
    device_id: str
    key: ec.EllipticCurvePrivateKey
    anchor_now: str
    anchor_token: str
    home: PlaceInfo  # where this person works: every punch of theirs is at (or near) it
    spot: tuple[float, float] | None = None  # their desk: punches jitter a few metres around it
    clocked_in: bool = False  # kinds alternate, as a working day does


@dataclass
class World:
    org_id: str
    places: list[PlaceInfo]
    staff: list[Staff]
    timings_s: dict[str, float] = field(default_factory=dict)


def _bssid(rng: random.Random) -> str:
    return ":".join(f"{rng.randrange(256):02x}" for _ in range(6))


def _offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    return lat + north_m / M_PER_DEG, lon + east_m / (M_PER_DEG * math.cos(math.radians(lat)))


def make_places(n: int, wifi_share: float, rng: random.Random) -> list[dict[str, Any]]:
    """Circles of 50-300 m scattered around Shanghai (normal spread ~15 km)."""
    out = []
    for i in range(n):
        lat, lon = _offset(*SHANGHAI, rng.gauss(0, 15_000), rng.gauss(0, 15_000))
        wifi = [_bssid(rng) for _ in range(rng.randint(1, 3))] if rng.random() < wifi_share else []
        out.append(
            {
                "name": f"Site {i:05d}",
                "kind": "site" if i % 4 else "office",
                "location": {"lat": round(lat, 7), "lon": round(lon, 7), "crs": "wgs84"},
                "radius_m": round(rng.uniform(50, 300), 1),
                "wifi_bssids": wifi,
            }
        )
    return out


async def _gather_limited(n: int, jobs: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run the jobs, at most n at a time; their results in order."""
    sem = asyncio.Semaphore(n)

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with sem:
            return await job()

    return list(await asyncio.gather(*(one(j) for j in jobs)))


def _ok(r: httpx.Response, what: str) -> dict[str, Any]:
    if r.status_code >= 300:
        raise RuntimeError(f"{what}: {r.status_code} {r.text[:500]}")
    body: dict[str, Any] = r.json()
    return body


async def _places_http(
    client: httpx.AsyncClient, admin: dict[str, str], specs: list[dict[str, Any]]
) -> list[PlaceInfo]:
    async def create(spec: dict[str, Any]) -> PlaceInfo:
        body = _ok(await client.post("/api/v1/places", json=spec, headers=admin), "place")
        return PlaceInfo(
            body["id"],
            spec["location"]["lat"],
            spec["location"]["lon"],
            spec["radius_m"],
            spec["wifi_bssids"],
        )

    return await _gather_limited(16, [functools.partial(create, s) for s in specs])


async def _places_sql(
    database_url: str, org_id: str, specs: list[dict[str, Any]]
) -> list[PlaceInfo]:
    """One bulk INSERT with fieldpunch's own model and id scheme, then one geo_version bump."""
    from sqlalchemy import insert

    from fieldpunch.db.engine import Database
    from fieldpunch.kit.clock import utcnow
    from fieldpunch.kit.ids import new_id
    from fieldpunch.places.fences import bump
    from fieldpunch.places.models import Place

    db = Database(database_url)
    rows, out = [], []
    now = utcnow()
    for s in specs:
        pid = new_id("plc")
        loc = s["location"]
        rows.append(
            {
                "id": pid,
                "org_id": org_id,
                "name": s["name"],
                "kind": s["kind"],
                "address": "",
                "lat": loc["lat"],
                "lon": loc["lon"],
                "radius_m": s["radius_m"],
                "polygon": None,
                "wifi_bssids": s["wifi_bssids"],
                "created_at": now,
                "updated_at": now,
            }
        )
        out.append(PlaceInfo(pid, loc["lat"], loc["lon"], s["radius_m"], s["wifi_bssids"]))
    try:
        async with db.transaction() as session:
            for i in range(0, len(rows), 2000):
                await session.execute(insert(Place), rows[i : i + 2000])
            await bump(session, org_id)
    finally:
        await db.dispose()
    return out


def mint_token(secret: str, org_id: str, user_id: str) -> str:
    """An access token exactly as POST /auth/token would issue it (HS256 with the server's key)."""
    from fieldpunch.auth.tokens import TokenClaims, issue

    return issue(secret, TokenClaims(user_id, org_id, "access", 1), 4 * 3600)


async def seed(
    base: str,
    o: Options,
    org_id: str,
    admin_email: str,
    database_url: str,
    secret: str,
    rng: random.Random,
) -> World:
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        tok = _ok(
            await client.post(
                "/api/v1/auth/token", data={"username": admin_email, "password": PASSWORD}
            ),
            "admin login",
        )
        admin = {"Authorization": f"Bearer {tok['access_token']}"}
        world = World(org_id, [], [])

        t = time.perf_counter()
        specs = make_places(o.places, o.wifi_share, rng)
        if o.places_via == "http":
            world.places = await _places_http(client, admin, specs)
        else:
            world.places = await _places_sql(database_url, org_id, specs)
        world.timings_s[f"places_{o.places_via}"] = round(time.perf_counter() - t, 2)
        say(f"{len(world.places)} places via {o.places_via} in {world.timings_s}")

        t = time.perf_counter()

        async def person(i: int) -> Staff:
            email = f"staff{i:04d}@bench.example.com"
            person_in: dict[str, Any] = {"email": email, "name": f"Staff {i:04d}", "role": "staff"}
            if o.login == "password":
                person_in["password"] = PASSWORD
            user = _ok(await client.post("/api/v1/users", json=person_in, headers=admin), "user")
            if o.login == "password":
                login = await client.post(
                    "/api/v1/auth/token", data={"username": email, "password": PASSWORD}
                )
                token = _ok(login, "staff login")["access_token"]
            else:
                token = mint_token(secret, org_id, user["id"])
            auth = {"Authorization": f"Bearer {token}"}
            key = ec.generate_private_key(ec.SECP256R1())
            spki = key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
            device = _ok(
                await client.post(
                    "/api/v1/devices",
                    json={"public_key": b64url_encode(spki), "platform": "android"},
                    headers=auth,
                ),
                "device",
            )
            anchor = _ok(await client.get("/api/v1/time", headers=auth), "time anchor")
            return Staff(
                user["id"],
                token,
                device["id"],
                key,
                anchor["now"],
                anchor["token"],
                home=rng.choice(world.places),
            )

        world.staff = await _gather_limited(
            8, [functools.partial(person, i) for i in range(o.users)]
        )
        world.timings_s["users"] = round(time.perf_counter() - t, 2)
        took = world.timings_s["users"]
        say(f"{len(world.staff)} staff ({o.login} login, device, time anchor) in {took} s")
        return world


# Request bodies ---------------------------------------------------------------------------------


def sign(key: ec.EllipticCurvePrivateKey, body: dict[str, Any], device_id: str) -> dict[str, Any]:
    """As the field app signs: ECDSA P-256 over RFC 8785 JSON without `signature`, r||s."""
    unsigned = {**body, "device_id": device_id}
    der = key.sign(rfc8785.dumps(unsigned), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return {**unsigned, "signature": b64url_encode(r.to_bytes(32, "big") + s.to_bytes(32, "big"))}


RECENT = 64  # more than the connections of any run, so a person is never in flight twice


class Maker:
    """Fresh signed punches (never a repeated client_id) as ready-to-send HTTP requests."""

    def __init__(self, world: World, port: int, rng: random.Random) -> None:
        self.world, self.port, self.rng = world, port, rng
        self.made = 0
        self.singles_by: list[Staff] = []  # whose each request of `singles` is, in order
        self._recent: deque[str] = deque(maxlen=RECENT)
        self._recent_ids: set[str] = set()

    def body(self, who: Staff) -> dict[str, Any]:
        """A signed clock-in/out at the person's place, with a time proof anchored at setup.

        Kinds alternate, the position stays within a few metres and the proof's monotonic clock
        follows real time, so one person's punches make a plausible sequence; 1% are 50-500 m
        outside the fence (flagged outside_geofence / impossible_speed).
        Many punches a minute for one person: see --duplicate-window-min.
        """
        rng = self.rng
        place = who.home
        if who.spot is None:
            bearing, dist = rng.uniform(0, 2 * math.pi), rng.uniform(0, 0.5) * place.radius_m
            who.spot = _offset(
                place.lat, place.lon, dist * math.cos(bearing), dist * math.sin(bearing)
            )
        if rng.random() < 0.01:  # somewhere else entirely: outside the fence, too fast
            bearing, dist = rng.uniform(0, 2 * math.pi), place.radius_m + rng.uniform(50, 500)
            lat, lon = _offset(
                place.lat, place.lon, dist * math.cos(bearing), dist * math.sin(bearing)
            )
        else:  # GPS noise of a few metres, well within the reported accuracy
            lat, lon = _offset(*who.spot, rng.gauss(0, 2), rng.gauss(0, 2))
        wifi = [{"bssid": b, "ssid": "SITE", "rssi": rng.randint(-80, -40)} for b in place.bssids]
        wifi = wifi[: rng.randint(1, 2)] if wifi else []
        wifi += [
            {
                "bssid": _bssid(rng),
                "ssid": f"NET-{rng.randrange(1000)}",
                "rssi": -rng.randint(50, 95),
            }
            for _ in range(rng.randint(1, 3) - (1 if wifi else 0))
        ]
        captured = datetime.now(UTC)
        since_anchor_ms = int((captured - datetime.fromisoformat(who.anchor_now)) / _MS)
        who.clocked_in = not who.clocked_in
        self.made += 1
        body = {
            "client_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "kind": "clock_in" if who.clocked_in else "clock_out",
            "captured_at": captured.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "location": {
                "lat": round(lat, 7),
                "lon": round(lon, 7),
                "accuracy_m": round(rng.uniform(8, 35), 1),
                "crs": "wgs84",
                "source": "gps",
            },
            "wifi": wifi,
            "time_proof": {
                "anchor_token": who.anchor_token,
                "anchor_server_time": who.anchor_now,
                "anchor_elapsed_ms": 1000,
                "elapsed_ms": 1000 + max(0, since_anchor_ms),
            },
        }
        return sign(who.key, body, who.device_id)

    def _request(self, path: str, who: Staff, payload: Any) -> bytes:
        headers = {"Authorization": f"Bearer {who.token}", "Content-Type": "application/json"}
        return build_request("POST", path, "127.0.0.1", self.port, headers, orjson.dumps(payload))

    def single(self, who: Staff) -> bytes:
        return self._request("/api/v1/punches", who, self.body(who))

    def singles(self, n: int) -> list[bytes]:
        who = [self._next_person() for _ in range(n)]
        self.singles_by += who
        return [self.single(w) for w in who]

    def _next_person(self) -> Staff:
        """Anyone but the people of the last few requests: nobody's phone sends two punches
        at once (in flight together, they would race for the person's chain and the later
        one would often commit first: a late arrival every time, which is not a working day).
        """
        staff = self.world.staff
        while True:
            who = self.rng.choice(staff)
            if len(staff) <= 2 * RECENT or who.device_id not in self._recent_ids:
                break
        self._recent.append(who.device_id)
        self._recent_ids = set(self._recent)
        return who

    def unmake(self, start: int, end: int) -> None:
        """Singles [start, end) will never be sent: their people's next kinds are as before."""
        for who in self.singles_by[start:end]:
            who.clocked_in = not who.clocked_in

    def batches(self, n: int, size: int) -> list[bytes]:
        out = []
        for _ in range(n):
            who = self.rng.choice(self.world.staff)
            punches = [self.body(who) for _ in range(size)]
            out.append(self._request("/api/v1/punches/batch", who, {"punches": punches}))
        return out


async def sanity(base: str, maker: Maker, n: int = 40) -> dict[str, Any]:
    """Before timing: are these punches accepted, signed OK and matched, as intended?"""
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        statuses: Counter[str] = Counter()
        verdicts: Counter[str] = Counter()
        matched = signed = 0
        for _ in range(n):
            who = maker.rng.choice(maker.world.staff)
            r = await client.post(
                "/api/v1/punches",
                json=maker.body(who),
                headers={"Authorization": f"Bearer {who.token}"},
            )
            statuses[str(r.status_code)] += 1
            if r.status_code == 201:
                b = r.json()
                verdicts[b["status"]] += 1
                matched += b.get("place") is not None
                signed += b.get("signature_ok") is True
                for a in b.get("anomalies", []):
                    verdicts[f"anomaly:{a['rule']}"] += 1
        who = maker.world.staff[0]
        r = await client.post(
            "/api/v1/punches/batch",
            json={"punches": [maker.body(who) for _ in range(10)]},
            headers={"Authorization": f"Bearer {who.token}"},
        )
        batch = Counter(str(x["status"]) for x in _ok(r, "batch")["results"])
    return {
        "punches": n,
        "http_status": dict(statuses),
        "verdicts": dict(verdicts),
        "signature_ok_share": round(signed / n, 3),
        "place_matched_share": round(matched / n, 3),
        "batch_item_status": dict(batch),
    }


# Running the load generator ---------------------------------------------------------------------


def load(spec: Spec, requests: Sequence[bytes], tmp: Path) -> dict[str, Any]:
    """Run bench/loadgen.py in its own process; its result as a dict."""
    req_path = tmp / f"requests-{spec.label}.bin"
    write_requests(req_path, requests)
    spec.requests_path = str(req_path)
    spec_path = tmp / f"spec-{spec.label}.json"
    spec_path.write_text(json.dumps(asdict(spec)))
    try:
        proc = subprocess.run(  # noqa: S603 - our own interpreter and arguments
            [PY, "-m", "bench.loadgen", str(spec_path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=spec.seconds + spec.grace_s + 60,
            check=False,
        )
    finally:
        req_path.unlink(missing_ok=True)
    if proc.returncode != 0:
        raise RuntimeError(f"loadgen failed: {proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout)
    lat = result["latency_ms"]
    say(
        f"  {spec.label}: {result['ok']}/{result['sent']} ok, {result['ok_rps']:.0f}/s, "
        f"p50 {lat['p50']} ms, p99 {lat['p99']} ms, statuses {result['statuses']}, "
        f"cpu% {result['cpu_pct']}"
    )
    return result


class Pool:
    """Requests built ahead, handed out once each (a client_id is never sent twice)."""

    def __init__(self, make: Callable[[int], list[bytes]]) -> None:
        self.make = make
        self.items: list[bytes] = []
        self.used = 0

    def ensure(self, n: int) -> None:
        if len(self.items) - self.used < n:
            self.items += self.make(n - (len(self.items) - self.used))

    def take(self, n: int) -> list[bytes]:
        self.ensure(n)
        out = self.items[self.used : self.used + n]
        self.used += n
        return out

    def run(self, tmp: Path, spec: Spec, n: int) -> dict[str, Any]:
        """`load` the next n requests; those it had no time to send stay next in line.

        A person's punches are built in order (clock-in, clock-out, …): skipping the unsent
        tail of one run would make the next run's punches break that sequence.
        """
        result = load(spec, self.take(n), tmp)
        self.used -= n - int(result["sent"])
        return result

    def discard(self) -> tuple[int, int]:
        """Never send the requests built so far and not yet sent (`rewind` still resends them).

        Returns their range.
        """
        unsent = (self.used, len(self.items))
        self.used = len(self.items)
        return unsent

    def rewind(self) -> None:
        """Send the same requests again to another server (whose table has none of them)."""
        self.used = 0


def _median(values: Sequence[float | None]) -> float | None:
    finite = [v for v in values if v is not None]
    return round(statistics.median(finite), 2) if len(finite) == len(values) and finite else None


def measure_singles(
    server: Server, pool: Pool, o: Options, tmp: Path, tag: str, profile_to: Path | None
) -> dict[str, Any]:
    """Warm-up, closed loop x reps (throughput), open loop x reps (latency at --rate)."""
    pid = [server.proc.pid]
    warm_n = int(max(1000, 3000 * o.warmup_s))
    pool.ensure(warm_n)
    warm = pool.run(
        tmp,
        Spec(
            server.port,
            "",
            "closed",
            connections=o.connections,
            seconds=o.warmup_s,
            label=f"{tag}-warmup",
            watch_pids=pid,
        ),
        warm_n,
    )
    per_rep = math.ceil(max(warm["ok_rps"], 200) * o.seconds * 1.4) + 500
    open_n = math.ceil(o.rate * o.seconds)
    # A server far below the rate only piles up a backlog: one open-loop run says so as well as
    # three (its p99 is then the time the backlog takes, or "timeouts").
    open_reps = o.reps if warm["ok_rps"] >= 0.5 * o.rate else 1
    say(f"  building {o.reps} x {per_rep} + {open_reps} x {open_n} requests")
    pool.ensure(o.reps * per_rep + open_reps * open_n)
    closed = [
        pool.run(
            tmp,
            Spec(
                server.port,
                "",
                "closed",
                connections=o.connections,
                seconds=o.seconds,
                label=f"{tag}-closed-{i + 1}",
                watch_pids=pid,
            ),
            per_rep,
        )
        for i in range(o.reps)
    ]
    opened = [
        pool.run(
            tmp,
            Spec(
                server.port,
                "",
                "open",
                connections=o.open_connections,
                rate=o.rate,
                seconds=o.seconds,
                grace_s=min(10.0, o.seconds),
                label=f"{tag}-open-{i + 1}",
                watch_pids=pid,
            ),
            open_n,
        )
        for i in range(open_reps)
    ]
    out: dict[str, Any] = {
        "warmup": warm,
        "closed": closed,
        "open": opened,
        "throughput_rps": _median([r["ok_rps"] for r in closed]),
        "closed_p50_ms": _median([r["latency_ms"]["p50"] for r in closed]),
        "closed_p99_ms": _median([r["latency_ms"]["p99"] for r in closed]),
        "server_cpu_pct_at_max": _median([r["cpu_pct"].get(str(pid[0])) for r in closed]),
        "machine_cpu_pct_at_max": _median([r["cpu_pct"].get("machine") for r in closed]),
        "loadgen_cpu_pct_at_max": _median([r["cpu_pct"].get("loadgen") for r in closed]),
        "postgres_cpu_pct_at_max": _median([r["cpu_pct"].get("postgres") for r in closed]),
        # CPU used meanwhile by processes that are not part of the benchmark: > ~20% skews it.
        "other_cpu_pct": _median([r["cpu_pct"].get("other") for r in closed + opened]),
        "server_cpu_ms_per_request": _median([_cpu_ms(r, pid[0]) for r in closed]),
        "open_rate": o.rate,
        "open_achieved_rps": _median([r["ok_rps"] for r in opened]),
        "open_p50_ms": _median([r["latency_ms"]["p50"] for r in opened]),
        "open_p99_ms": _median([r["latency_ms"]["p99"] for r in opened]),
        "server_cpu_pct_at_rate": _median([r["cpu_pct"].get(str(pid[0])) for r in opened]),
        # Not answered 2xx: errors, other statuses, and open-loop requests still unanswered.
        "not_ok": sum(
            r["completed"] - r["ok"] + r["errors"] + r["unfinished"] for r in closed + opened
        ),
    }
    if profile_to is not None:
        out["profile"] = profile(server, pool, o, tmp, tag, profile_to, per_rep)
    return out


def measure_batches(
    server: Server, maker: Maker, o: Options, tmp: Path, tag: str
) -> dict[str, Any]:
    if o.batches < 1:
        return {}
    say(f"  building {o.batches} batches of {o.batch_size}")
    requests = maker.batches(o.batches, o.batch_size)
    # Warm the batch path (and its JSON sizes) with one batch before timing.
    load(
        Spec(server.port, "", "closed", connections=1, seconds=30, label=f"{tag}-batch-warmup"),
        maker.batches(1, o.batch_size),
        tmp,
    )
    r = load(
        Spec(
            server.port,
            "",
            "closed",
            connections=o.batch_connections,
            seconds=max(30.0, o.seconds * 4),
            grace_s=60.0,
            label=f"{tag}-batches",
            watch_pids=[server.proc.pid],
        ),
        requests,
        tmp,
    )
    return {
        "run": r,
        "batch_size": o.batch_size,
        "batches_ok": r["ok"],
        "punches_per_s": round(r["ok"] * o.batch_size / r["elapsed_s"], 1) if r["ok"] else 0.0,
        "batch_p50_ms": r["latency_ms"]["p50"],
        "batch_p99_ms": r["latency_ms"]["p99"],
        "server_cpu_pct": r["cpu_pct"].get(str(server.proc.pid)),
    }


# Profiling --------------------------------------------------------------------------------------


def _py_spy() -> str | None:
    local = Path(PY).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


def profile(
    server: Server, pool: Pool, o: Options, tmp: Path, tag: str, folder: Path, n: int
) -> dict[str, Any]:
    """py-spy the server during one more closed-loop run (not counted: sampling costs)."""
    spy_bin = _py_spy()
    if spy_bin is None:
        say("  --profile: py-spy not found (pip install py-spy), skipped")
        return {"skipped": "py-spy not installed"}
    folder.mkdir(parents=True, exist_ok=True)
    raw = folder / f"{tag}.folded"
    duration = max(2, round(o.seconds))
    spy = subprocess.Popen(  # noqa: S603 - py-spy on our own server
        [
            *(spy_bin, "record", "--pid", str(server.proc.pid), "--rate", "250"),
            *(("--subprocesses",) if o.workers > 1 else ()),
            *("--nonblocking", "--duration", str(duration), "--format", "raw"),
            *("--output", str(raw)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        time.sleep(0.5)  # let py-spy attach
        load(
            Spec(
                server.port,
                "",
                "closed",
                connections=o.connections,
                seconds=duration + 1,
                label=f"{tag}-profiled",
                watch_pids=[server.proc.pid],
            ),
            pool.take(n),
            tmp,
        )
    finally:
        try:
            _, err_b = spy.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            spy.kill()
            _, err_b = spy.communicate()
    if not raw.exists() or raw.stat().st_size == 0:
        err = (err_b or b"").decode(errors="replace").strip()[-300:]
        say(f"  py-spy wrote nothing: {err}")
        return {"skipped": f"py-spy failed: {err}"}
    summary = summarise_folded(raw)
    summary["file"] = str(raw)
    return summary


def _frame_key(frame: str) -> str:
    """'function (path/to/file.py:123)' → 'file-ish:function' without the line number."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "src/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{name}"


# Leaf frames of threads that merely wait (py-spy's idle detection misses blocked pool threads).
IDLE_LEAVES = frozenset(
    {
        "threading.py:Condition.wait",
        "threading.py:Event.wait",
        "concurrent/futures/thread.py:_worker",
        "queue.py:Queue.get",
        "selectors.py:EpollSelector.select",
    }
)


def summarise_folded(path: Path, top: int = 25) -> dict[str, Any]:
    """Self and inclusive shares of the busy samples, by function (py-spy's raw stacks)."""
    self_c: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = idle = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_s = line.rpartition(" ")
        if not stack or not count_s.isdigit():
            continue
        count = int(count_s)
        frames = [_frame_key(f) for f in stack.split(";") if "(" in f]
        if not frames or frames[-1] in IDLE_LEAVES:
            idle += count
            continue
        total += count
        self_c[frames[-1]] += count
        for f in set(frames):
            incl[f] += count

    def share(c: Counter[str], keep: Callable[[str], bool]) -> list[list[Any]]:
        items = [(k, v) for k, v in c.most_common() if keep(k)][:top]
        return [[k, round(100 * v / max(1, total), 1)] for k, v in items]

    ours = "fieldpunch/"
    return {
        "samples": total,
        "idle_thread_samples_dropped": idle,
        "self_pct": share(self_c, lambda _: True),
        "inclusive_pct_fieldpunch": share(incl, lambda k: k.startswith(ours) or "bench/" in k),
        "inclusive_pct_libraries": share(incl, lambda k: not k.startswith(ours)),
    }


# One database -----------------------------------------------------------------------------------


def run_db(db: str, o: Options, tmp_root: Path) -> dict[str, Any]:
    rng = random.Random(o.seed)  # noqa: S311 - test data, reproducible by seed
    tmp = tmp_root / db
    (tmp / "data").mkdir(parents=True)
    logs = o.log_dir or tmp
    logs.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"db": db}
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(pg_database(o)) if db == "postgres" else None
        env = server_env(tmp / "data", url)
        db_url = url or f"sqlite+aiosqlite:///{(tmp / 'data' / 'fieldpunch.sqlite3').as_posix()}"
        t = time.perf_counter()
        fieldpunch_cli(["migrate"], env)
        admin_email = "admin@bench.example.com"
        org = json.loads(
            fieldpunch_cli(
                [
                    "create-org",
                    "--name",
                    "Bench Co",
                    "--admin-email",
                    admin_email,
                    "--admin-password",
                    PASSWORD,
                ],
                env,
            )
        )
        setup_s = {"migrate_and_org": round(time.perf_counter() - t, 2)}

        workers = ["--workers", str(o.workers)] if db == "postgres" and o.workers > 1 else []
        with serving(
            "fieldpunch serve",
            [PY, "-m", "fieldpunch", "serve", *workers],
            env,
            logs / f"{db}-server.log",
        ) as server:
            world = asyncio.run(
                seed(
                    server.base,
                    o,
                    org["org_id"],
                    admin_email,
                    db_url,
                    env["FIELDPUNCH_SECRET_KEY"],
                    rng,
                )
            )
            setup_s.update(world.timings_s)
            maker = Maker(world, server.port, rng)
            result["sanity"] = asyncio.run(sanity(server.base, maker))
            say(f"sanity: {result['sanity']}")
            pool = Pool(maker.singles)
            analyze(db_url)
            rules_on = {"duplicate_window_min": o.duplicate_window_min}
            asyncio.run(set_rules(server.base, admin_email, rules_on))
            prime(server, maker, pool, o, tmp, f"{db}-prime")
            analyze(db_url)
            if o.detectors_off_run:
                pairs = measure_detector_cost(server, pool, o, tmp, db, admin_email, rules_on)
                result.update(pairs)
                analyze(db_url)  # thousands more punches since the last ANALYZE
            t = time.perf_counter()
            before = findings(db_url)
            result["fieldpunch"] = measure_singles(
                server, pool, o, tmp, f"{db}-fieldpunch", o.profile
            )
            result["fieldpunch"]["found"] = dict(findings(db_url) - before)
            say(f"  found while measuring: {result['fieldpunch']['found']}")
            result["batches"] = measure_batches(server, maker, o, tmp, f"{db}")
            result["requests_built"] = maker.made
            if server.proc.poll() is not None:
                raise RuntimeError(f"server died:\n{server.tail()}")

        with serving(
            "baseline app",
            [PY, "-m", "bench.baseline_app", *workers],
            env,
            logs / f"{db}-baseline.log",
        ) as baseline:
            # The same requests again: the baseline's table holds none of their client_ids.
            pool.rewind()
            result["baseline"] = measure_singles(
                baseline, pool, o, tmp, f"{db}-baseline", o.profile
            )
        result["setup_s"] = setup_s
    fp, base = result["fieldpunch"]["throughput_rps"], result["baseline"]["throughput_rps"]
    result["ratio_to_baseline"] = round(fp / base, 3) if fp and base else None
    return result


def _cpu_ms(run: dict[str, Any], pid: int) -> float | None:
    """Server CPU per request in ms: % of a core over requests per second."""
    if not run["ok_rps"] or str(pid) not in run["cpu_pct"]:
        return None
    return round(10 * run["cpu_pct"][str(pid)] / run["ok_rps"], 3)


def measure_detector_cost(
    server: Server,
    pool: Pool,
    o: Options,
    tmp: Path,
    tag: str,
    admin_email: str,
    rules_on: dict[str, Any],
) -> dict[str, Any]:
    """The detectors' cost: closed-loop runs with every rule off and with the rules on, in pairs.

    Both runs of a pair see the same table and nearly the same machine (run one after the other
    they drifted apart by more than what was measured); the order alternates within pairs, and
    the figures are medians over the pairs. The rules change through `PUT /policy`; the memory
    on each person's chain head stays current while they are off (the service carries it).
    """
    pid = server.proc.pid
    n = int(o.seconds * 1000) + 500  # more than one run sends; the rest stays in line
    say("  detectors' cost: rules off and on, in pairs")

    def closed(label: str, seconds: float) -> dict[str, Any]:
        spec = Spec(server.port, "", "closed", connections=o.connections, seconds=seconds)
        spec.label, spec.watch_pids = f"{tag}-{label}", [pid]
        return pool.run(tmp, spec, n)

    closed("pairs-warmup", o.warmup_s)
    pairs: list[dict[str, dict[str, Any]]] = []
    for i in range(o.reps):
        pair: dict[str, dict[str, Any]] = {}
        for which in ("off", "on") if i % 2 == 0 else ("on", "off"):
            asyncio.run(set_rules(server.base, admin_email, None if which == "off" else rules_on))
            pair[which] = closed(f"rules-{which}-{i + 1}", o.seconds)
        pairs.append(pair)
    asyncio.run(set_rules(server.base, admin_email, rules_on))

    def summary(name: str) -> dict[str, Any]:
        return {
            "throughput_rps": _median([p[name]["ok_rps"] for p in pairs]),
            "server_cpu_ms_per_request": _median([_cpu_ms(p[name], pid) for p in pairs]),
            "other_cpu_pct": _median([p[name]["cpu_pct"].get("other") for p in pairs]),
        }

    losses, added = [], []
    for p in pairs:
        off, on = p["off"], p["on"]
        if off["ok_rps"] and on["ok_rps"]:
            losses.append(round(1 - on["ok_rps"] / off["ok_rps"], 3))
        c_off, c_on = _cpu_ms(off, pid), _cpu_ms(on, pid)
        if c_off and c_on:
            added.append(round(c_on / c_off - 1, 3))
    return {
        "no_detectors": summary("off"),
        "detectors_on": summary("on"),
        "detector_pairs": pairs,
        "detector_overhead": {
            "throughput_loss": _median(losses),
            "cpu_per_punch_added": _median(added),
            "per_pair_throughput_loss": losses,
            "per_pair_cpu_added": added,
        },
    }


def prime(server: Server, maker: Maker, pool: Pool, o: Options, tmp: Path, tag: str) -> None:
    """One punch per person once the rules are on, as in an installation running for a while.

    The detectors keep their state on each person's chain head; a person's first punch after
    detection was off (or after a review, or a late offline punch) re-reads their recent
    punches instead. Unsent requests built earlier are dropped, so no one's punches arrive
    older than this one (they would be late arrivals, not the steady state measured here).
    """
    maker.unmake(*pool.discard())
    requests = [maker.single(who) for who in maker.world.staff]
    spec = Spec(server.port, "", "closed", connections=o.connections, seconds=300, label=tag)
    load(spec, requests, tmp)


async def set_rules(base: str, admin_email: str, policy: dict[str, Any] | None) -> None:
    """The org's policy: every anomaly rule off (None), or the defaults with `policy` over them."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        tok = _ok(
            await client.post(
                "/api/v1/auth/token", data={"username": admin_email, "password": PASSWORD}
            ),
            "admin login",
        )
        auth = {"Authorization": f"Bearer {tok['access_token']}"}
        rules = _ok(await client.get("/api/v1/policy", headers=auth), "policy")["effective"][
            "rules"
        ]
        off = {"rules": {n: {**r, "enabled": False} for n, r in rules.items()}}
        body = off if policy is None else policy
        _ok(await client.put("/api/v1/policy", json=body, headers=auth), "policy")


# Reporting --------------------------------------------------------------------------------------


def verdicts(r: dict[str, Any]) -> dict[str, bool | None]:
    fp, b = r["fieldpunch"], r.get("batches") or {}
    p99 = fp["open_p99_ms"]
    return {
        "throughput": fp["throughput_rps"] is not None
        and fp["throughput_rps"] >= TARGETS["throughput_rps"],
        "p99_at_rate": p99 is not None
        and p99 <= TARGETS["p99_ms_at_rate"]
        and (fp["open_achieved_rps"] or 0) >= 0.95 * fp["open_rate"],
        "baseline_ratio": r["ratio_to_baseline"] is not None
        and r["ratio_to_baseline"] >= TARGETS["baseline_ratio"],
        "batches": bool(b) and b["punches_per_s"] >= TARGETS["batch_punches_per_s"],
    }


def _f(v: Any, unit: str = "", digits: int = 0) -> str:
    if v is None:
        return "n/a (timeouts)"
    return f"{v:,.{digits}f}{unit}"


def markdown(results: dict[str, dict[str, Any]], o: Options) -> str:
    dbs = list(results)
    names = {"postgres": "PostgreSQL", "sqlite": "SQLite (embedded)"}
    head = "| figure | target | " + " | ".join(names[d] for d in dbs) + " |"
    rows = [head, "|---|---|" + "---|" * len(dbs)]

    def row(label: str, target: str, cell: Callable[[dict[str, Any]], str]) -> None:
        rows.append(f"| {label} | {target} | " + " | ".join(cell(results[d]) for d in dbs) + " |")

    def mark(r: dict[str, Any], key: str) -> str:
        return " ✅" if r["verdicts"][key] else " ❌"

    row(
        f"signed punches, max sustained (closed loop, {o.connections} conns)",
        "≥ 2,000/s",
        lambda r: _f(r["fieldpunch"]["throughput_rps"], "/s") + mark(r, "throughput"),
    )
    row(
        f"signed punches at {o.rate:,.0f}/s (open loop): p50 / p99",
        "p99 ≤ 50 ms",
        lambda r: (
            f"{_f(r['fieldpunch']['open_p50_ms'], ' ms', 1)} / "
            f"{_f(r['fieldpunch']['open_p99_ms'], ' ms', 1)}" + mark(r, "p99_at_rate")
        ),
    )
    row(
        "  achieved rate in that open-loop run",
        f"{o.rate:,.0f}/s",
        lambda r: _f(r["fieldpunch"]["open_achieved_rps"], "/s"),
    )
    row(
        "  latency at max throughput (closed loop): p50 / p99",
        "",
        lambda r: (
            f"{_f(r['fieldpunch']['closed_p50_ms'], ' ms', 1)} / "
            f"{_f(r['fieldpunch']['closed_p99_ms'], ' ms', 1)}"
        ),
    )
    row(
        "baseline (validate + 1 INSERT), max sustained",
        "",
        lambda r: _f(r["baseline"]["throughput_rps"], "/s"),
    )
    row(
        f"baseline at {o.rate:,.0f}/s: p50 / p99",
        "",
        lambda r: (
            f"{_f(r['baseline']['open_p50_ms'], ' ms', 1)} / "
            f"{_f(r['baseline']['open_p99_ms'], ' ms', 1)}"
        ),
    )
    row(
        "fieldpunch / baseline throughput",
        "≥ 60%",
        lambda r: (
            (f"{100 * r['ratio_to_baseline']:.0f}%" if r["ratio_to_baseline"] else "n/a")
            + mark(r, "baseline_ratio")
        ),
    )
    row(
        f"batches of {o.batch_size:,} (POST /punches/batch, {o.batch_connections} conns)",
        "≥ 20,000/s",
        lambda r: (
            _f(r["batches"]["punches_per_s"], " punches/s") + mark(r, "batches")
            if r.get("batches")
            else "not run"
        ),
    )
    row(
        "  one batch: p50 / p99",
        "",
        lambda r: (
            f"{_f(r['batches']['batch_p50_ms'], ' ms')} / {_f(r['batches']['batch_p99_ms'], ' ms')}"
            if r.get("batches")
            else ""
        ),
    )
    row(
        "server CPU at max (fieldpunch / baseline), % of one core",
        "",
        lambda r: (
            f"{_f(r['fieldpunch']['server_cpu_pct_at_max'], '%')} / "
            f"{_f(r['baseline']['server_cpu_pct_at_max'], '%')}"
        ),
    )
    row(
        "machine CPU at max (fieldpunch), % of one core (2 cores = 200%)",
        "",
        lambda r: _f(r["fieldpunch"]["machine_cpu_pct_at_max"], "%"),
    )
    row(
        "server CPU per request at max (fieldpunch / baseline)",
        "",
        lambda r: (
            f"{_f(r['fieldpunch']['server_cpu_ms_per_request'], ' ms', 2)} / "
            f"{_f(r['baseline']['server_cpu_ms_per_request'], ' ms', 2)}"
        ),
    )
    row(
        "PostgreSQL CPU at max (fieldpunch / baseline), % of one core",
        "",
        lambda r: (
            f"{_f(r['fieldpunch']['postgres_cpu_pct_at_max'], '%')} / "
            f"{_f(r['baseline']['postgres_cpu_pct_at_max'], '%')}"
        ),
    )
    row(
        "other processes' CPU during the runs (not the benchmark's; should be ~0)",
        "",
        lambda r: (
            f"{_f(r['fieldpunch']['other_cpu_pct'], '%')} / "
            f"{_f(r['baseline']['other_cpu_pct'], '%')}"
        ),
    )
    row(
        "load generator CPU at max, % of one core",
        "",
        lambda r: _f(r["fieldpunch"]["loadgen_cpu_pct_at_max"], "%"),
    )
    if all("detector_overhead" in results[d] for d in dbs):
        sides = (("no_detectors", "every anomaly rule off"), ("detectors_on", "rules on"))

        def paired(key: str) -> Callable[[dict[str, Any]], str]:
            return lambda r: (
                f"{_f(r[key]['throughput_rps'], '/s')} / "
                f"{_f(r[key]['server_cpu_ms_per_request'], ' ms', 2)}"
            )

        for key, label in sides:
            row(f"paired runs, {label}: max sustained / CPU per punch", "", paired(key))
        row(
            "detectors' cost: throughput lost / CPU per punch added",
            "≤ 15%",
            lambda r: " / ".join(
                "n/a" if v is None else f"{100 * v:.0f}%"
                for v in (
                    r["detector_overhead"]["throughput_loss"],
                    r["detector_overhead"]["cpu_per_punch_added"],
                )
            ),
        )
    return "\n".join(rows)


def _compact(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The summary without the per-run detail (kept in --json)."""
    keep: dict[str, Any] = {}
    for db, r in results.items():
        fp, base, b = r["fieldpunch"], r["baseline"], r.get("batches") or {}
        keep[db] = {
            "fieldpunch": {k: v for k, v in fp.items() if k not in ("warmup", "closed", "open")},
            "baseline": {k: v for k, v in base.items() if k not in ("warmup", "closed", "open")},
            "ratio_to_baseline": r["ratio_to_baseline"],
            "batches": {k: v for k, v in b.items() if k != "run"},
            "sanity": r["sanity"],
            "setup_s": r["setup_s"],
            "verdicts": r["verdicts"],
            "machine_busy_before_pct": r.get("machine_busy_before_pct"),
        }
        if "no_detectors" in r:
            keep[db]["no_detectors"] = r["no_detectors"]
            keep[db]["detectors_on"] = r["detectors_on"]
            keep[db]["detector_overhead"] = r["detector_overhead"]
        for side in ("fieldpunch", "baseline"):
            keep[db][side].pop("profile", None)
    return keep


def main(argv: list[str]) -> int:
    o = parse_args(argv)
    started = time.monotonic()

    def on_term(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    # Ctrl-C must reach us even when started with SIGINT ignored (e.g. `cmd &` in a script).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    results: dict[str, dict[str, Any]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="fp-bench-") as tmp:
            for db in o.dbs:
                say(f"=== {db} ===")
                busy = machine_busy_pct()
                if busy > 20:
                    say(f"WARNING: the machine is already {busy:.0f}% busy: figures will be low")
                results[db] = run_db(db, o, Path(tmp))
                results[db]["machine_busy_before_pct"] = busy
                results[db]["verdicts"] = verdicts(results[db])
    except KeyboardInterrupt:
        say("interrupted: servers stopped, database dropped")
        return 130
    summary = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "fieldpunch bench ingest " + " ".join(argv),
        "machine": machine(),
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(o).items()},
        "targets": TARGETS,
        "results": _compact(results),
        "wall_s": round(time.monotonic() - started, 1),
    }
    if o.json_out is not None:
        full = {**summary, "results": results}
        o.json_out.write_text(json.dumps(full, indent=2, default=str))
    print(json.dumps(summary, indent=2, default=str))
    print()
    print(markdown(results, o))
    for db, r in results.items():
        for side in ("fieldpunch", "baseline"):
            prof = r[side].get("profile")
            if prof and "self_pct" in prof:
                print(f"\nProfile, {db} {side} ({prof['samples']} samples), self time:")
                for name, pct in prof["self_pct"][:15]:
                    print(f"  {pct:5.1f}%  {name}")
                print("  inclusive (fieldpunch code):")
                for name, pct in prof["inclusive_pct_fieldpunch"][:20]:
                    print(f"  {pct:5.1f}%  {name}")
    return 0


def machine_busy_pct(seconds: float = 1.0) -> float:
    """CPU busy on the whole machine over a short look, in % of one core."""

    def stat() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        return sum(values) - values[3] - values[4], sum(values)

    try:
        b0, t0 = stat()
        time.sleep(seconds)
        b1, t1 = stat()
    except OSError:
        return 0.0
    return round(100 * (b1 - b0) / max(1, t1 - t0) * (os.cpu_count() or 1), 1)


def machine() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gib = 0.0
    with contextlib.suppress(OSError, ValueError, IndexError):
        first = Path("/proc/meminfo").read_text().splitlines()[0]
        mem_gib = round(int(first.split()[1]) / 1024 / 1024, 1)
    return {"cpus": os.cpu_count(), "cpu_model": cpu, "mem_gib": mem_gib, "python": sys.version}


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
