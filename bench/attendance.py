"""`fieldpunch bench attendance`: issue 14's performance targets, on PostgreSQL and SQLite.

    fieldpunch bench attendance                                  # 10,000 people, both databases
    fieldpunch bench attendance --db postgres --people 2000 --reps 3
    fieldpunch bench attendance --variant before=/tmp/before/src --variant after=src

Seeds (bench/attendance_seed.py) N people × the month's workdays × 4 punches, then, for each
repetition and each code variant in turn (interleaved, so a busy minute hurts both alike):

- `recompute`: every person's month recomputed and stored, `--chunk` people per transaction
  (the org's stored days are deleted first, untimed, so every run writes the same rows);
- `day`: one late punch arrives and that person's days are recomputed (median of `--sample`);
- through a real `fieldpunch serve` (the variant's code, no job runner): the monthly summary of
  the whole org as JSON (every page of 500), one team's (100 people, one page), and the XLSX
  downloads of the monthly summary and of the daily detail, each with the server's peak RSS;
- `floor`: the month's punches read by one plain statement, the baseline of the same run.

Prints a table of medians; `--json FILE` keeps every run. Targets (issue 14, PostgreSQL,
10,000 people): recompute ≤ 60 s, org JSON ≤ 2 s, team JSON ≤ 200 ms, org XLSX ≤ 15 s,
one day ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from bench.attendance_seed import TZ, Seeded, seed
from bench.harness import (
    PY,
    ROOT,
    SRC,
    PgAdmin,
    analyze,
    code_env,
    fieldpunch_serve,
    machine,
    machine_busy_pct,
    median,
    pg_database,
    sayer,
    server_env,
    serving,
    sql,
)
from bench.world import mint_token
from fieldpunch.db.engine import Database
from fieldpunch.db.migrate import upgrade

say = sayer("attendance")
TARGETS = {
    "recompute_s": 60.0,
    "org_json_s": 2.0,
    "team_json_ms": 200.0,
    "xlsx_daily_s": 15.0,
    "day_ms": 50.0,
}


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="fieldpunch bench attendance")
    p.add_argument("--db", choices=["postgres", "sqlite", "both"], default="both")
    p.add_argument("--people", type=int, default=10_000)
    p.add_argument("--month", default="2026-10", help="a past month (2026-10: 22 workdays)")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--chunk", type=int, default=500, help="people per recompute transaction")
    p.add_argument("--sample", type=int, default=30, help="people of the one-day recompute")
    p.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=SRC",
        help="code to measure (a folder holding the fieldpunch package); default: this one",
    )
    p.add_argument("--only", default="", help="comma-separated steps (recompute,day,http,floor)")
    p.add_argument("--json", type=Path, help="write every run here")
    return p.parse_args(argv)


def child(src: Path, args: dict[str, Any], timeout: float = 3600) -> dict[str, Any]:
    """A step of bench/attendance_steps.py in its own process, importing the code in `src`."""
    proc = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [PY, "-m", "bench.attendance_steps", json.dumps(args)],
        cwd=ROOT,
        env=code_env(src),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"step {args['step']} failed: {proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _rss(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return round(fields["VmRSS"], 1), round(fields["VmHWM"], 1)


def http_steps(
    src: Path, url: str, data_dir: Path, world: Seeded, month: str, log: Path
) -> dict[str, Any]:
    """The report requests through a real server running the code in `src`."""
    env = server_env(data_dir, url, src, FIELDPUNCH_JOBS_IN_PROCESS="false")
    token = mint_token(env["FIELDPUNCH_SECRET_KEY"], world.org_id, world.admin_id)
    auth = {"Authorization": f"Bearer {token}"}
    out: dict[str, Any] = {}
    path = "/api/v1/reports/attendance"
    with (
        serving("serve", fieldpunch_serve(), env, log) as server,
        httpx.Client(base_url=server.base, headers=auth, timeout=600) as client,
    ):
        base: dict[str, Any] = {"view": "monthly", "month": month, "limit": 500}
        client.get(path, params={**base, "limit": 1}).raise_for_status()  # warm: imports, pool
        t0 = time.perf_counter()
        cursor, people = None, 0
        while True:
            r = client.get(path, params={**base, **({"cursor": cursor} if cursor else {})})
            r.raise_for_status()
            body = r.json()
            people += len(body["items"])
            if not (cursor := body["next_cursor"]):
                break
        out["org_json_s"] = round(time.perf_counter() - t0, 3)
        out["org_json_people"] = people
        team = []
        for team_id in world.team_ids[:5]:
            t0 = time.perf_counter()
            r = client.get(path, params={**base, "team_id": team_id})
            r.raise_for_status()
            team.append((time.perf_counter() - t0) * 1000)
            out["team_json_people"] = len(r.json()["items"])
        out["team_json_ms"] = round(sorted(team)[len(team) // 2], 1)
        for view in ("monthly", "daily"):
            rss0, _ = _rss(server.proc.pid)
            t0 = time.perf_counter()
            size = 0
            with client.stream("GET", path, params={"view": view, "month": month,
                                                    "format": "xlsx"}) as r:  # fmt: skip
                r.raise_for_status()
                for chunk in r.iter_bytes():
                    size += len(chunk)
            out[f"xlsx_{view}_s"] = round(time.perf_counter() - t0, 3)
            out[f"xlsx_{view}_mb"] = round(size / 1e6, 2)
            _, peak = _rss(server.proc.pid)
            out[f"xlsx_{view}_rss_mb"] = {"before": rss0, "peak": peak}
    return out


def run_db(db: str, a: argparse.Namespace, variants: dict[str, Path], tmp: Path) -> dict[str, Any]:
    steps = set(a.only.split(",")) if a.only else {"recompute", "day", "http", "floor"}
    tmp.mkdir(parents=True, exist_ok=True)
    with pg_database(PgAdmin(), "fp_bench_att") if db == "postgres" else _sqlite(tmp) as url:
        upgrade(url)
        t0 = time.perf_counter()
        world = asyncio.run(_seed(url, a))
        say(f"{db}: seeded {a.people} people, {world.punches} punches in "
            f"{time.perf_counter() - t0:.0f} s")  # fmt: skip
        if db == "postgres":
            analyze(url)
        tz = ZoneInfo(TZ)
        lo = datetime.combine(world.days[0] - timedelta(days=1), dtime.min, tz).astimezone(UTC)
        hi = datetime.combine(world.days[-1] + timedelta(days=2), dtime.min, tz).astimezone(UTC)
        runs: list[dict[str, Any]] = []
        for rep in range(a.reps):
            for name, src in variants.items():
                run: dict[str, Any] = {"rep": rep, "variant": name, "busy_pct_before": None}
                run["busy_pct_before"] = machine_busy_pct(0.5)
                if "floor" in steps:
                    run["floor_s"] = child(src, {"step": "floor", "url": url,
                                                 "org_id": world.org_id, "lo": lo.isoformat(),
                                                 "hi": hi.isoformat()})["seconds"]  # fmt: skip
                if "recompute" in steps:
                    sql(url, f"DELETE FROM attendance_days WHERE org_id = '{world.org_id}'")  # noqa: S608 - our id
                    got = child(src, {"step": "recompute", "url": url, "org_id": world.org_id,
                                      "days": [d.isoformat() for d in world.days],
                                      "chunk": a.chunk})  # fmt: skip
                    run["recompute_s"], run["recompute_rows"] = got["seconds"], got["rows"]
                    run["recompute_cpu_s"] = got["cpu_s"]
                    if db == "postgres":
                        analyze(url)  # the days were just rewritten: the reads plan on today's
                if "day" in steps:
                    got = child(src, {"step": "day", "url": url, "org_id": world.org_id,
                                      "tz": TZ, "day": world.workdays[10].isoformat(),
                                      "sample": a.sample})  # fmt: skip
                    run["day_ms"], run["day_p90_ms"] = got["median_ms"], got["p90_ms"]
                if "http" in steps:
                    run |= http_steps(src, url, tmp / f"data-{db}-{name}", world, a.month,
                                      tmp / f"serve-{db}-{name}-{rep}.log")  # fmt: skip
                say(f"{db} rep {rep} {name}: " + json.dumps(
                    {k: v for k, v in run.items() if k not in ("rep", "variant")}))  # fmt: skip
                runs.append(run)
    return {"people": a.people, "punches": world.punches, "runs": runs}


def _sqlite(tmp: Path) -> Any:
    import contextlib

    return contextlib.nullcontext(f"sqlite+aiosqlite:///{(tmp / 'bench.sqlite3').as_posix()}")


async def _seed(url: str, a: argparse.Namespace) -> Seeded:
    db = Database(url)
    try:
        return await seed(db, a.people, a.month, random.Random(14))  # noqa: S311 - not crypto
    finally:
        await db.dispose()


KEYS = ("recompute_s", "recompute_cpu_s", "day_ms", "org_json_s", "team_json_ms",
        "xlsx_monthly_s", "xlsx_daily_s", "floor_s")  # fmt: skip


def summary(result: dict[str, Any]) -> list[str]:
    lines = ["| database | variant | " + " | ".join(KEYS) + " | XLSX daily peak RSS (MB) |"]
    lines.append("|" + " --- |" * (len(KEYS) + 3))
    for db, got in result["databases"].items():
        names = dict.fromkeys(r["variant"] for r in got["runs"])
        for name in names:
            mine = [r for r in got["runs"] if r["variant"] == name]
            cells = [median([r.get(k) for r in mine]) for k in KEYS]
            peaks = [r.get("xlsx_daily_rss_mb", {}).get("peak") for r in mine]
            lines.append(
                f"| {db} | {name} | "
                + " | ".join("" if c is None else str(c) for c in cells)
                + f" | {median(peaks) or ''} |"
            )
    return lines


def main(argv: list[str]) -> int:
    a = parse(argv)
    variants = {"this": SRC}
    if a.variant:
        variants = {}
        for v in a.variant:
            name, _, src = v.partition("=")
            variants[name] = Path(src).resolve()
    dbs = ["postgres", "sqlite"] if a.db == "both" else [a.db]
    result: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "args": {k: str(v) for k, v in vars(a).items()},
        "targets": TARGETS,
        "databases": {},
    }
    with tempfile.TemporaryDirectory(prefix="fp-bench-att-") as tmp:
        for db in dbs:
            result["databases"][db] = run_db(db, a, variants, Path(tmp) / db)
            if a.json:
                a.json.write_text(json.dumps(result, indent=1))
    print("\n".join(summary(result)))
    return 0
