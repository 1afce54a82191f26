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
import json
import math
import random
import signal
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness import (
    PY,
    PgAdmin,
    Server,
    analyze,
    fieldpunch_serve,
    findings,
    installation,
    machine,
    machine_busy_pct,
    median,
    sayer,
    serving,
)
from bench.loadgen import Spec
from bench.makers import Maker, Pool, load, sanity
from bench.profile import profile
from bench.world import ADMIN_EMAIL, WorldSize, create_org_args, seed, set_rules

say = sayer("ingest")

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

    @property
    def pg(self) -> PgAdmin:
        return PgAdmin(self.pg_host, self.pg_port, self.pg_user, self.pg_admin_db)

    @property
    def world(self) -> WorldSize:
        return WorldSize(self.places, self.users, self.wifi_share, self.places_via, self.login)


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
    pg = PgAdmin()  # FIELDPUNCH_TEST_PG_* or the defaults
    p.add_argument("--pg-host", default=pg.host)
    p.add_argument("--pg-port", type=int, default=pg.port)
    p.add_argument("--pg-user", default=pg.user)
    p.add_argument("--pg-admin-db", default=pg.admin_db)
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
        "throughput_rps": median([r["ok_rps"] for r in closed]),
        "closed_p50_ms": median([r["latency_ms"]["p50"] for r in closed]),
        "closed_p99_ms": median([r["latency_ms"]["p99"] for r in closed]),
        "server_cpu_pct_at_max": median([r["cpu_pct"].get(str(pid[0])) for r in closed]),
        "machine_cpu_pct_at_max": median([r["cpu_pct"].get("machine") for r in closed]),
        "loadgen_cpu_pct_at_max": median([r["cpu_pct"].get("loadgen") for r in closed]),
        "postgres_cpu_pct_at_max": median([r["cpu_pct"].get("postgres") for r in closed]),
        # CPU used meanwhile by processes that are not part of the benchmark: > ~20% skews it.
        "other_cpu_pct": median([r["cpu_pct"].get("other") for r in closed + opened]),
        "server_cpu_ms_per_request": median([_cpu_ms(r, pid[0]) for r in closed]),
        "open_rate": o.rate,
        "open_achieved_rps": median([r["ok_rps"] for r in opened]),
        "open_p50_ms": median([r["latency_ms"]["p50"] for r in opened]),
        "open_p99_ms": median([r["latency_ms"]["p99"] for r in opened]),
        "server_cpu_pct_at_rate": median([r["cpu_pct"].get(str(pid[0])) for r in opened]),
        # Not answered 2xx: errors, other statuses, and open-loop requests still unanswered.
        "not_ok": sum(
            r["completed"] - r["ok"] + r["errors"] + r["unfinished"] for r in closed + opened
        ),
    }
    if profile_to is not None:
        out["profile"] = profile(
            server, pool, o.seconds, o.connections, o.workers, tmp, tag, profile_to, per_rep
        )
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


def run_db(db: str, o: Options, tmp_root: Path) -> dict[str, Any]:
    rng = random.Random(o.seed)  # noqa: S311 - test data, reproducible by seed
    tmp = tmp_root / db
    logs = o.log_dir or tmp
    logs.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"db": db}
    t = time.perf_counter()
    with installation(
        db,
        tmp / "data",
        create_org_args(),
        o.pg,
        # Each person sends many punches a second: the per-person rate limit stays on (its cost
        # is measured) but never refuses.
        FIELDPUNCH_PUNCH_RATE_PER_MIN="10000000",
        FIELDPUNCH_PUNCH_BURST="10000000",
    ) as inst:
        env, db_url, admin_email = inst.env, inst.db_url, ADMIN_EMAIL
        setup_s = {"migrate_and_org": round(time.perf_counter() - t, 2)}

        workers = ["--workers", str(o.workers)] if db == "postgres" and o.workers > 1 else []
        with serving(
            "fieldpunch serve",
            fieldpunch_serve(*workers),
            env,
            logs / f"{db}-server.log",
        ) as server:
            org_id = inst.org["org_id"]
            world = asyncio.run(
                seed(server.base, o.world, org_id, admin_email, db_url, inst.secret, rng)
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
            "throughput_rps": median([p[name]["ok_rps"] for p in pairs]),
            "server_cpu_ms_per_request": median([_cpu_ms(p[name], pid) for p in pairs]),
            "other_cpu_pct": median([p[name]["cpu_pct"].get("other") for p in pairs]),
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
            "throughput_loss": median(losses),
            "cpu_per_punch_added": median(added),
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
