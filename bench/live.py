"""Live feed fan-out: from punch commit to delivery on 1,000 dashboard sockets of one server.

    fieldpunch bench live [--db postgres|sqlite] [--sockets 1000] [--admins 100] [--regional 100]
                          [--rate 200] [--seconds 20] [--warmup 3] [--staff 2500] [--clients 2]
                          [--no-deflate] [--intake-workers N] [--source http|outbox]
                          [--json FILE]

1. Setup (not timed): a fresh database (PostgreSQL: randomly named, dropped at the end, with Redis
   as the hub, the production path even for one process; SQLite: embedded, the in-process hub),
   `fieldpunch migrate`, `fieldpunch create-org`, then ONE `fieldpunch serve` process. Through its
   API: 10 regions of 10 teams, `--staff` people spread over the teams, a manager per team, one per
   region and a few admins; access tokens are minted with the server's key, as login would.
2. Dashboards: `--sockets` WebSockets on `/api/v1/live`, opened by `--clients` processes (loopback
   only), each waiting for its snapshot: `--admins` watch the whole org, `--regional` a region
   (10 teams), the rest one team (a manager's view). So a punch goes to admins + the region's +
   the team's sockets: with the defaults, 118 of 1,000. `--admins` = `--sockets` makes every socket
   watch every punch (the worst case).
3. Load, open loop at `--rate` for `--warmup` + `--seconds` (scheduled at fixed times whatever
   the server does): staff POST single punches to the server (`--source http`; to another
   `serve --workers N` with `--intake-workers N`), or (`--source outbox`) the bench commits
   `punch.created` outbox rows of the real punch shape itself and relays them with fieldpunch's
   own Relay through Redis, as an intake process does: the feed alone, with exact commit times.
4. Latency, per delivery: the socket's receive time minus the punch's `received_at` (the server's
   clock when the request arrived; same machine, same clock). That includes the intake up to the
   commit, so it bounds commit → delivery from above. Also per punch: to its *last* socket, and
   from the HTTP answer (after the commit; with `--source outbox`, the commit) to the last socket.
5. Completeness: every socket must get each punch it may see exactly once (no more, no fewer),
   and nothing it may not see.

Prints a JSON summary (also written with --json FILE) and a markdown row. Needs PostgreSQL at
FIELDPUNCH_TEST_PG_HOST/PORT/USER (default 127.0.0.1:5432, postgres; admin database
FIELDPUNCH_TEST_PG_DB, default test) and Redis at FIELDPUNCH_TEST_REDIS_URL (default
redis://127.0.0.1:6379/15) unless --db sqlite.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import contextlib
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson

from bench.harness import (
    PY,
    ROOT,
    PgAdmin,
    fieldpunch_serve,
    installation,
    machine,
    machine_busy_pct,
    proc_cpu_s,
    proc_rss_mb,
    sayer,
    serving,
)

TARGET_P99_MS = 250.0
REGIONS, TEAMS_PER_REGION = 10, 10
SHANGHAI = (31.2304, 121.4737)


say = sayer("live")


@dataclass
class Options:
    db: str = "postgres"
    sockets: int = 1000
    admins: int = 100
    regional: int = 100
    rate: float = 200.0
    seconds: float = 20.0
    warmup: float = 3.0
    staff: int = 2500
    clients: int = 2
    deflate: bool = True
    intake_workers: int = 0
    source: str = "http"
    json_out: Path | None = None
    pg_host: str = field(
        default_factory=lambda: os.environ.get("FIELDPUNCH_TEST_PG_HOST", "127.0.0.1")
    )
    pg_port: int = field(
        default_factory=lambda: int(os.environ.get("FIELDPUNCH_TEST_PG_PORT", "5432"))
    )
    pg_user: str = field(
        default_factory=lambda: os.environ.get("FIELDPUNCH_TEST_PG_USER", "postgres")
    )
    pg_admin_db: str = field(
        default_factory=lambda: os.environ.get("FIELDPUNCH_TEST_PG_DB", "test")
    )
    redis_url: str = field(
        default_factory=lambda: os.environ.get(
            "FIELDPUNCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"
        )
    )


def parse_args(argv: list[str]) -> Options:
    p = argparse.ArgumentParser(prog="fieldpunch bench live", description=__doc__.split("\n")[0])
    p.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    p.add_argument("--sockets", type=int, default=1000)
    p.add_argument("--admins", type=int, default=100, help="sockets watching the whole org")
    p.add_argument("--regional", type=int, default=100, help="sockets watching a region")
    p.add_argument("--rate", type=float, default=200.0, help="punches per second")
    p.add_argument("--seconds", type=float, default=20.0, help="measured load time")
    p.add_argument("--warmup", type=float, default=3.0, help="load before measuring")
    p.add_argument("--staff", type=int, default=2500, help="people who punch (round robin)")
    p.add_argument("--clients", type=int, default=2, help="socket client processes")
    p.add_argument("--no-deflate", dest="deflate", action="store_false",
                   help="no permessage-deflate (browsers negotiate it)")  # fmt: skip
    p.add_argument("--intake-workers", type=int, default=0,
                   help="punches to another `serve --workers N` (PostgreSQL + Redis) instead of "
                        "the dashboards' process")  # fmt: skip
    p.add_argument("--source", choices=["http", "outbox"], default="http",
                   help="http: POST /punches (the whole intake); outbox: the bench commits "
                        "punch.created rows itself and relays them (the feed alone)")  # fmt: skip
    p.add_argument("--json", dest="json_out", type=Path)
    a = p.parse_args(argv)
    o = Options(**{k: v for k, v in vars(a).items()})
    if not 0 <= o.admins + o.regional <= o.sockets or o.sockets < 1:
        p.error("need 0 <= --admins + --regional <= --sockets")
    if o.source == "outbox" and o.db != "postgres":
        p.error("--source outbox needs --db postgres (its relay reaches the server by Redis)")
    if o.intake_workers and o.db != "postgres":
        p.error("--intake-workers needs --db postgres (several processes share the feed by Redis)")
    if o.rate <= 0 or o.seconds <= 0 or o.staff < 1 or o.clients < 1:
        p.error("--rate, --seconds, --staff and --clients must be positive")
    return o


# The organization -------------------------------------------------------------------------------


@dataclass
class World:
    org_id: str
    staff: list[tuple[str, str, str, tuple[float, float]]]  # user id, token, team id, home
    sockets: list[tuple[str, frozenset[str] | None]]  # token, teams it sees (None: all)


def mint(secret: str, org_id: str, user_id: str) -> str:
    """An access token exactly as POST /auth/token would issue it (the server's key, HS256)."""
    from fieldpunch.auth.tokens import TokenClaims, issue

    return issue(secret, TokenClaims(user_id, org_id, "access", 1), 4 * 3600)


async def seed(base: str, secret: str, org_id: str, admin_token: str, o: Options) -> World:
    rng = random.Random(7)  # noqa: S311 - test data
    sem = asyncio.Semaphore(16)
    async with httpx.AsyncClient(
        base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {admin_token}"}, timeout=60
    ) as http:

        async def post(path: str, body: dict[str, Any]) -> str:
            async with sem:
                r = await http.post(path, json=body)
            if r.status_code != 201:
                raise RuntimeError(f"POST {path}: {r.status_code} {r.text[:300]}")
            return str(r.json()["id"])

        async def person(role: str, team: str | None, managed: list[str]) -> str:
            tag = secrets.token_hex(5)
            return await post(
                "/users",
                {
                    "email": f"{role}.{tag}@bench.example.com",
                    "name": f"{role} {tag}",
                    "role": role,
                    "team_id": team,
                    "managed_team_ids": managed,
                },
            )

        regions = await asyncio.gather(*(post("/teams", {"name": f"R{i}"}) for i in range(REGIONS)))
        teams_of: dict[str, list[str]] = {}
        for r in regions:
            teams_of[r] = list(
                await asyncio.gather(
                    *(
                        post("/teams", {"name": f"T{j}", "parent_id": r})
                        for j in range(TEAMS_PER_REGION)
                    )
                )
            )
        leaves = [t for r in regions for t in teams_of[r]]
        staff_teams = [leaves[i % len(leaves)] for i in range(o.staff)]
        staff_ids = await asyncio.gather(*(person("staff", t, []) for t in staff_teams))
        team_mgrs = await asyncio.gather(*(person("manager", t, [t]) for t in leaves))
        region_mgrs = await asyncio.gather(*(person("manager", r, [r]) for r in regions))
        admins = await asyncio.gather(*(person("admin", None, []) for _ in range(10)))

    def tok(uid: str) -> str:
        return mint(secret, org_id, uid)

    staff = []
    for uid, team in zip(staff_ids, staff_teams, strict=True):
        home = (SHANGHAI[0] + rng.gauss(0, 0.05), SHANGHAI[1] + rng.gauss(0, 0.05))
        staff.append((uid, tok(uid), team, home))
    sockets: list[tuple[str, frozenset[str] | None]] = []
    admin_toks = [tok(a) for a in admins]
    sockets += [(admin_toks[i % len(admin_toks)], None) for i in range(o.admins)]
    region_toks = [
        (tok(m), frozenset(teams_of[r])) for m, r in zip(region_mgrs, regions, strict=True)
    ]
    sockets += [region_toks[i % len(region_toks)] for i in range(o.regional)]
    team_toks = [(tok(m), frozenset([t])) for m, t in zip(team_mgrs, leaves, strict=True)]
    rest = o.sockets - len(sockets)
    sockets += [team_toks[i % len(team_toks)] for i in range(rest)]
    return World(org_id, staff, sockets)


# Socket clients (separate processes) ------------------------------------------------------------


Floats = array.array  # of doubles ("d")


async def client_main(spec: dict[str, Any]) -> tuple[dict[str, Any], Floats, Floats]:
    """Hold the sockets of one slice; record every punch delivery; answer `count` and `stop`."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    url, tokens = spec["url"], spec["tokens"]
    n = len(tokens)
    received_at = array.array("d")  # the punch's received_at (server clock), per delivery
    arrived = array.array("d")  # when this socket got it
    last: dict[str, float] = {}  # punch id → its last arrival among these sockets
    by_user: list[Counter[str]] = [Counter() for _ in range(n)]
    seen_seq: list[set[int]] = [set() for _ in range(n)]
    dups = [0] * n
    closes: Counter[str] = Counter()
    types: Counter[str] = Counter()
    ready = 0
    all_ready = asyncio.Event()
    lag = array.array("d")

    async def watch(i: int, token: str) -> None:
        nonlocal ready
        compression = "deflate" if spec["deflate"] else None
        try:
            async with connect(
                f"{url}?token={token}", compression=compression, max_size=None, open_timeout=60
            ) as ws:
                first = orjson.loads(await ws.recv())
                assert first["type"] == "snapshot", first
                ready += 1
                if ready == n:
                    all_ready.set()
                async for raw in ws:
                    now = time.time()
                    m = orjson.loads(raw)
                    kind = m["type"]
                    types[kind] += 1
                    if kind != "punch.created":
                        continue
                    d = m["data"]
                    received_at.append(datetime.fromisoformat(d["received_at"]).timestamp())
                    arrived.append(now)
                    if now > last.get(d["id"], 0.0):
                        last[d["id"]] = now
                    if m["seq"] in seen_seq[i]:
                        dups[i] += 1
                    seen_seq[i].add(m["seq"])
                    by_user[i][d["user_id"]] += 1
        except ConnectionClosed as exc:
            closes[str(exc.rcvd.code if exc.rcvd else 1006)] += 1
        except Exception as exc:
            closes[type(exc).__name__] += 1

    async def lag_probe() -> None:
        loop = asyncio.get_running_loop()
        while True:
            t = loop.time()
            await asyncio.sleep(0.01)
            lag.append(loop.time() - t - 0.01)

    tasks = []
    for i in range(0, n, 50):  # open in waves: a thundering herd is not what is measured
        tasks += [asyncio.create_task(watch(j, tokens[j])) for j in range(i, min(n, i + 50))]
        await asyncio.sleep(0.05)
    await asyncio.wait_for(all_ready.wait(), 120)
    probe = asyncio.create_task(lag_probe())
    print(f"ready {n}", flush=True)
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while (line := (await reader.readline()).decode().strip()) not in ("stop", ""):
        if line == "count":
            print(f"count {len(arrived)}", flush=True)
    probe.cancel()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, probe, return_exceptions=True)
    lags = np.frombuffer(lag, dtype=np.float64) if len(lag) else np.zeros(1)
    summary = {
        "last": last,
        "by_user": [dict(c) for c in by_user],
        "dups": dups,
        "closes": dict(closes),
        "types": dict(types),
        "lag_p99_ms": float(np.percentile(lags, 99) * 1000),
        "lag_max_ms": float(lags.max() * 1000),
    }
    return summary, received_at, arrived


def client_process(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    try:
        import uvloop

        summary, received_at, arrived = uvloop.run(client_main(spec))
    except ImportError:
        summary, received_at, arrived = asyncio.run(client_main(spec))
    out = Path(spec["out"])
    with out.with_suffix(".received_at").open("wb") as f:
        received_at.tofile(f)
    with out.with_suffix(".arrived").open("wb") as f:
        arrived.tofile(f)
    out.write_text(json.dumps(summary))
    print("done", flush=True)


class Client:
    def __init__(self, spec: Path, log: Path) -> None:
        self.spec = spec
        self.log = log.open("wb")
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [PY, "-m", "bench.live", "--client", str(spec)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            start_new_session=True,
        )

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{line}\n".encode())
        self.proc.stdin.flush()

    def expect(self, prefix: str, timeout: float) -> str:
        """The next stdout line (it must start with `prefix`), within `timeout` seconds."""
        assert self.proc.stdout is not None
        import select

        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            raise RuntimeError(f"client: no '{prefix}' within {timeout} s")
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith(prefix):
            raise RuntimeError(f"client said {line!r}, expected {prefix!r}")
        return line

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


# Load -------------------------------------------------------------------------------------------


async def load(base: str, world: World, o: Options) -> list[dict[str, Any]]:
    """Open loop: punch i is due at start + i / rate and waits for a free connection from then.

    Raw keep-alive HTTP/1.1 on 64 connections with requests built in advance: httpx would cost
    the machine about a millisecond of CPU per punch, taken from the server under test.
    """
    rng = random.Random(11)  # noqa: S311 - test data
    total = int((o.warmup + o.seconds) * o.rate)
    host, port = base.removeprefix("http://").split(":")
    plan: list[tuple[str, str, bytes]] = []
    for i in range(total):
        # Round robin: with enough staff each person clocks in, then maybe out, as in a morning.
        uid, token, team, home = world.staff[i % len(world.staff)]
        body = orjson.dumps(
            {
                "client_id": str(uuid.uuid4()),
                "kind": "clock_in" if i < len(world.staff) else "clock_out",
                "captured_at": datetime.now(UTC).isoformat(),
                "location": {
                    "lat": round(home[0] + rng.gauss(0, 0.0001), 7),
                    "lon": round(home[1] + rng.gauss(0, 0.0001), 7),
                    "accuracy_m": 15.0,
                    "crs": "wgs84",
                    "source": "gps",
                },
            }
        )
        head = (
            f"POST /api/v1/punches HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        plan.append((uid, team, head.encode() + body))
    results: list[dict[str, Any]] = [{} for _ in range(total)]
    due_q: asyncio.Queue[tuple[int, float]] = asyncio.Queue()

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while True:
                i, due = await due_q.get()
                uid, team, request = plan[i]
                writer.write(request)
                status_line = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length)
                answered = time.time()
                status = int(status_line.split()[1])
                good = status in (200, 201)
                answer = orjson.loads(body) if good else {}
                results[i] = {
                    "status": status,
                    "id": answer.get("id"),
                    "received_at": (
                        datetime.fromisoformat(answer["received_at"]).timestamp() if good else 0.0
                    ),
                    "user": uid,
                    "team": team,
                    "due": due,
                    "answered": answered,
                    "warmup": i < o.warmup * o.rate,
                }
                due_q.task_done()
        finally:
            writer.close()

    workers = [asyncio.create_task(connection()) for _ in range(64)]
    start = time.time() + 0.5
    for i in range(total):
        due = start + i / o.rate
        delay = due - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        due_q.put_nowait((i, due))
    try:
        await asyncio.wait_for(due_q.join(), 120)
    finally:
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    return [
        r or {"status": "no answer", "id": None, "warmup": i < o.warmup * o.rate}
        for i, r in enumerate(results)
    ]


async def sample_punch(base: str, world: World) -> dict[str, Any]:
    """One real punch answer: the shape every synthetic event copies."""
    _, token, _, home = world.staff[0]
    body = {
        "client_id": str(uuid.uuid4()),
        "kind": "clock_in",
        "captured_at": datetime.now(UTC).isoformat(),
        "location": {"lat": home[0], "lon": home[1], "accuracy_m": 15.0},
    }
    async with httpx.AsyncClient(timeout=60) as http:
        r = await http.post(
            f"{base}/api/v1/punches", json=body, headers={"Authorization": f"Bearer {token}"}
        )
    r.raise_for_status()
    return dict(r.json())


async def commit_events(
    db_url: str, o: Options, world: World, template: dict[str, Any]
) -> list[dict[str, Any]]:
    """The feed alone: commit punch.created outbox rows at `--rate` (open loop) in this process,
    and relay them with fieldpunch's own Relay to the server through Redis, as an intake
    process does after its commit. The commit time is then known exactly."""
    import fieldpunch.db.models  # noqa: F401 - every table, for the foreign keys
    from fieldpunch.db.engine import Database
    from fieldpunch.jobs.outbox import add_events, event_row
    from fieldpunch.jobs.relay import Relay
    from fieldpunch.live.redis_hub import RedisHub, channel_for

    db = Database(db_url)
    hub = RedisHub(o.redis_url, channel_for(db_url))
    await hub.start()
    relay = Relay(db, hub)
    relay.start()
    total = int((o.warmup + o.seconds) * o.rate)
    results: list[dict[str, Any]] = [{} for _ in range(total)]

    async def one(i: int, due: float) -> None:
        uid, _, team, _ = world.staff[i % len(world.staff)]
        at = datetime.now(UTC)
        data = {
            **template,
            "id": f"pun_bench{i:08d}",
            "user_id": uid,
            "received_at": at.isoformat(),
        }
        async with db.transaction() as session:
            await add_events(session, [event_row(world.org_id, "punch.created", data, at, uid)])
        committed = time.time()
        relay.kick()
        results[i] = {
            "status": 201,
            "id": data["id"],
            "received_at": at.timestamp(),
            "user": uid,
            "team": team,
            "due": due,
            "answered": committed,
            "warmup": i < o.warmup * o.rate,
        }

    try:
        start = time.time() + 0.5
        tasks = []
        for i in range(total):
            due = start + i / o.rate
            if (delay := due - time.time()) > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i, due)))
        await asyncio.gather(*tasks)
        await relay.drain()
    finally:
        await relay.stop()
        await hub.stop()
        await db.dispose()
    return results


# One run ----------------------------------------------------------------------------------------


def pct(values: np.ndarray, q: float) -> float:
    return round(float(np.percentile(values, q)) * 1000, 1) if len(values) else float("nan")


def run(o: Options, tmp: Path) -> dict[str, Any]:
    admin_email = f"admin.{secrets.token_hex(4)}@bench.example.com"
    org_args = ["create-org", "--name", "Bench", "--admin-email", admin_email]
    settings = {"FIELDPUNCH_LOG_LEVEL": "warning"}
    if o.db == "postgres":  # SQLite: the embedded default and the in-process hub
        settings["FIELDPUNCH_REDIS_URL"] = o.redis_url
    pg = PgAdmin(o.pg_host, o.pg_port, o.pg_user, o.pg_admin_db)
    with installation(
        o.db,
        tmp / "data",
        [*org_args, "--admin-password", "bench-password-1"],
        pg,
        prefix="fp_bench_live",
        **settings,
    ) as inst:
        env, db_url, made, secret = inst.env, inst.db_url, inst.org, inst.secret
        with (
            serving(
                "fieldpunch serve", fieldpunch_serve(), env, tmp / "server.log", ready="/readyz"
            ) as served,
            contextlib.ExitStack() as more,
        ):
            base, server = served.base, served.proc
            intake = base  # punches to the dashboards' process, unless --intake-workers
            if o.intake_workers:
                intake = more.enter_context(
                    serving(
                        "intake",
                        fieldpunch_serve("--workers", str(o.intake_workers)),
                        env,
                        tmp / "intake.log",
                        ready="/readyz",
                    )
                ).base
            admin = mint(secret, made["org_id"], made["admin_user_id"])
            say("seeding teams and people")
            world = asyncio.run(seed(base, secret, made["org_id"], admin, o))
            # Before any socket opens: it is a punch no socket expects.
            template = asyncio.run(sample_punch(intake, world)) if o.source == "outbox" else {}
            order = list(range(len(world.sockets)))
            random.Random(3).shuffle(order)  # noqa: S311 - spread the kinds over the clients
            slices = [order[c :: o.clients] for c in range(o.clients)]
            clients: list[Client] = []
            try:
                url = base.replace("http://", "ws://") + "/api/v1/live"
                for c, part in enumerate(slices):
                    spec = tmp / f"client{c}.json"
                    spec.write_text(
                        json.dumps(
                            {
                                "url": url,
                                "tokens": [world.sockets[i][0] for i in part],
                                "deflate": o.deflate,
                                "out": str(tmp / f"client{c}.out.json"),
                            }
                        )
                    )
                    clients.append(Client(spec, tmp / f"client{c}.log"))
                say(f"opening {o.sockets} sockets from {o.clients} processes")
                for cl in clients:
                    cl.expect("ready", 180)
                rss_before = proc_rss_mb(server.pid)
                cpu0, wall0 = proc_cpu_s(server.pid), time.monotonic()
                say(f"load: {o.rate:g} punches/s for {o.warmup:g} + {o.seconds:g} s")
                if o.source == "outbox":
                    punches = asyncio.run(commit_events(db_url, o, world, template))
                else:
                    punches = asyncio.run(load(intake, world, o))
                cpu1, wall1 = proc_cpu_s(server.pid), time.monotonic()
                ok = [p for p in punches if p["id"]]
                visible = Counter[tuple[int, str]]()
                expected_total = 0
                for s, (_, teams) in enumerate(world.sockets):
                    for p in ok:
                        if teams is None or p["team"] in teams:
                            visible[(s, p["user"])] += 1
                            expected_total += 1
                # Wait (bounded) until every expected delivery arrived.
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline:
                    got = 0
                    for cl in clients:
                        cl.send("count")
                        got += int(cl.expect("count", 30).split()[1])
                    if got >= expected_total:
                        break
                    time.sleep(0.2)
                rss_after = proc_rss_mb(server.pid)
                for cl in clients:
                    cl.send("stop")
                for cl in clients:
                    cl.expect("done", 60)
            finally:
                for cl in clients:
                    cl.close()
        outs = [json.loads((tmp / f"client{c}.out.json").read_text()) for c in range(o.clients)]
        rec = np.concatenate(
            [np.fromfile(tmp / f"client{c}.out.received_at") for c in range(o.clients)]
        )
        arr = np.concatenate(
            [np.fromfile(tmp / f"client{c}.out.arrived") for c in range(o.clients)]
        )
    # Deliveries of punches received after the warm-up only.
    t_measure = min((p["due"] for p in ok if not p["warmup"]), default=0.0)
    keep = rec >= t_measure - 0.05
    latency = (arr - rec)[keep]
    last: dict[str, float] = {}
    for out in outs:
        for pid, t in out["last"].items():
            last[pid] = max(t, last.get(pid, 0.0))
    measured = [p for p in ok if not p["warmup"] and p["id"] in last]
    to_last = np.array([last[p["id"]] - p["received_at"] for p in measured])
    answer_to_last = np.array([last[p["id"]] - p["answered"] for p in measured])
    http = np.array([p["answered"] - p["due"] for p in punches if not p["warmup"]])
    # Completeness, per socket and person.
    missing = unexpected = 0
    for c, part in enumerate(slices):
        for k, s in enumerate(part):
            got_users = outs[c]["by_user"][k]
            for user, n in got_users.items():
                want = visible.get((s, user), 0)
                unexpected += max(0, n - want)
            for (s2, user), want in visible.items():
                if s2 == s:
                    missing += max(0, want - got_users.get(user, 0))
    closes: Counter[str] = Counter()
    types: Counter[str] = Counter()
    for out in outs:
        closes.update(out["closes"])
        types.update(out["types"])
    errors = Counter(str(p["status"]) for p in punches if not p["id"])
    p99 = pct(latency, 99)
    return {
        "sockets": o.sockets,
        "admins": o.admins,
        "regional": o.regional,
        "punches": {
            "sent": len(punches),
            "ok": len(ok),
            "errors": dict(errors),
            "rate_per_s": o.rate,
            "http_from_schedule_p50_ms": pct(http, 50),
            "http_from_schedule_p99_ms": pct(http, 99),
        },
        "deliveries": {
            "punch_events_expected": expected_total,
            "punch_events_received": len(rec),
            "missing": missing,
            "unexpected": unexpected,
            "duplicates": sum(sum(out["dups"]) for out in outs),
            "fanout_per_punch": round(expected_total / max(1, len(ok)), 1),
            "events_by_type": dict(types),
            "socket_closes": dict(closes),
        },
        "latency_ms": {  # received_at → socket: includes intake and commit (upper bound)
            "deliveries": len(latency),
            "p50": pct(latency, 50),
            "p99": p99,
            "max": pct(latency, 100),
        },
        # Per punch: received_at → its last socket; HTTP answer (after commit) → last socket.
        "to_last_socket_ms": {"p50": pct(to_last, 50), "p99": pct(to_last, 99)},
        "answer_to_last_socket_ms": {
            "p50": pct(answer_to_last, 50),
            "p99": pct(answer_to_last, 99),
        },
        "server": {
            "cpu_pct_of_one_core": round(100 * (cpu1 - cpu0) / (wall1 - wall0), 1),
            "rss_mb_before_load": rss_before,
            "rss_mb_after_load": rss_after,
        },
        "client_loop_lag_ms": {
            "p99": round(max(out["lag_p99_ms"] for out in outs), 1),
            "max": round(max(out["lag_max_ms"] for out in outs), 1),
        },
        "meets_target": bool(p99 <= TARGET_P99_MS and missing == 0 and unexpected == 0),
    }


def markdown(r: dict[str, Any], o: Options) -> str:
    d, lat = r["deliveries"], r["latency_ms"]
    where = f"{o.intake_workers} other" if o.intake_workers else "same"
    if o.source == "outbox":
        where = "outbox"
    return (
        "| db | sockets (admin/region/team) | punches/s → | deflate | fan-out | p50 | p99 "
        "| answer→last p99 | missing/dup | server CPU | p99 ≤ 250 ms |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
        f"| {o.db} | {o.sockets} ({o.admins}/{o.regional}/{o.sockets - o.admins - o.regional}) "
        f"| {o.rate:g} → {where} | {'yes' if o.deflate else 'no'} | {d['fanout_per_punch']} "
        f"| {lat['p50']} ms | {lat['p99']} ms | {r['answer_to_last_socket_ms']['p99']} ms "
        f"| {d['missing']}/{d['duplicates']} | {r['server']['cpu_pct_of_one_core']}% "
        f"| {'met' if r['meets_target'] else 'NOT met'} |"
    )


def main(argv: list[str]) -> int:
    if argv[:1] == ["--client"]:
        client_process(argv[1])
        return 0
    o = parse_args(argv)

    def on_term(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    started = time.monotonic()
    busy = machine_busy_pct()
    if busy > 20:
        say(f"WARNING: the machine is already {busy:.0f}% busy: figures will suffer")
    tmp = Path(tempfile.mkdtemp(prefix="fp-bench-live-"))
    try:
        result = run(o, tmp)
    except KeyboardInterrupt:
        say("interrupted: server and clients stopped, database dropped")
        return 130
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    summary = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "fieldpunch bench live " + " ".join(argv),
        "machine": machine(),
        "machine_busy_before_pct": busy,
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(o).items()},
        "target": f"p99 ≤ {TARGET_P99_MS:g} ms from commit to delivery, nothing missing",
        "result": result,
        "wall_s": round(time.monotonic() - started, 1),
    }
    if o.json_out is not None:
        o.json_out.write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    print()
    print(markdown(result, o))
    return 0 if result["meets_target"] else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
