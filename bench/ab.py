"""A/B of code variants on one database: the same requests, the servers interleaved.

    fieldpunch bench ab --variant before=/tmp/fp-before/src --variant after=src \\
                        [--db postgres|sqlite|both] [--rounds 4] [--seconds 8] [--batches 4] ...

Each `--variant NAME=SRC` is a folder holding a `fieldpunch` package (a worktree's `src`); the
first is the baseline the others are compared with. One installation and one world (bench/world.py,
seeded through the first variant's server, rules on, every person primed) serve them all; then,
`--rounds` times, each variant's `fieldpunch serve` starts on the same port, warms up, takes
`--seconds` of closed-loop single punches (and `--batches` batches of `--batch-size`) and stops.
The order alternates (ABAB, then BABA) so that the machine's drift and the growing tables hit
every side alike. Reported: per variant, the medians over rounds of punches/s and server CPU per
punch, and the median over rounds of each round's ratio to the baseline.

The other options are `fieldpunch bench ingest`'s (--users, --places, --connections, --warmup, ...).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness import (
    PY,
    Server,
    analyze,
    code_env,
    fieldpunch_serve,
    free_port,
    imported_from,
    installation,
    machine,
    machine_busy_pct,
    median,
    sayer,
    serving,
)
from bench.ingest import Options, parse_args, prime
from bench.loadgen import Spec
from bench.makers import Maker, Pool, load, sanity
from bench.world import ADMIN_EMAIL, create_org_args, seed, set_rules

say = sayer("ab")


@dataclass(frozen=True)
class Variant:
    name: str
    src: Path

    def env(self, base: dict[str, str]) -> dict[str, str]:
        """`base` with this variant's code first on PYTHONPATH (checked: see `check`)."""
        return {**base, **{"PYTHONPATH": code_env(self.src, base)["PYTHONPATH"]}}

    def check(self, base: dict[str, str]) -> None:
        found = imported_from(self.env(base))
        if found != self.src.resolve():
            raise RuntimeError(f"variant {self.name}: its server would import {found}")


def _variant(text: str) -> Variant:
    name, sep, src = text.partition("=")
    path = Path(src)
    if not sep or not name or not (path / "fieldpunch" / "__init__.py").exists():
        raise argparse.ArgumentTypeError(f"NAME=SRC, SRC holding fieldpunch/: {text!r}")
    return Variant(name, path.resolve())


def _cpu_ms(run: dict[str, Any], pid: int, per: float = 1.0) -> float | None:
    """Server CPU per request (or per `per` punches of each request) in ms."""
    cpu = run["cpu_pct"].get(str(pid))
    if not run["ok_rps"] or cpu is None:
        return None
    return round(10 * cpu / (run["ok_rps"] * per), 4)


_MAX_RPS = 800  # more single punches a second than any variant takes here


def one_side(
    server: Server, maker: Maker, pool: Pool, o: Options, tmp: Path, tag: str
) -> dict[str, Any]:
    """Warm-up, one closed-loop run of singles, then the batches (if any), on `server`."""
    pid = [server.proc.pid]

    def closed(label: str, seconds: float, n: int) -> dict[str, Any]:
        spec = Spec(server.port, "", "closed", connections=o.connections, seconds=seconds)
        spec.label, spec.watch_pids = f"{tag}-{label}", pid
        return pool.run(tmp, spec, n)

    # Every punch is built right before its side sends it, so none arrives older than the
    # person's last one (a late arrival re-reads the person's window: another, slower path).
    maker.unmake(*pool.discard())
    closed("warmup", o.warmup_s, int(_MAX_RPS * o.warmup_s) + 200)
    run = closed("singles", o.seconds, int(_MAX_RPS * o.seconds) + 500)
    maker.unmake(*pool.discard())
    out: dict[str, Any] = {
        "run": run,
        "punches_per_s": run["ok_rps"],
        "cpu_ms_per_punch": _cpu_ms(run, pid[0]),
        "p50_ms": run["latency_ms"]["p50"],
        "p99_ms": run["latency_ms"]["p99"],
        "other_cpu_pct": run["cpu_pct"].get("other"),
    }
    if o.batches > 0:
        load(
            Spec(server.port, "", "closed", connections=1, seconds=30, label=f"{tag}-bwarm"),
            maker.batches(1, o.batch_size),
            tmp,
        )
        spec = Spec(server.port, "", "closed", connections=o.batch_connections, seconds=120)
        spec.label, spec.watch_pids, spec.grace_s = f"{tag}-batches", pid, 60.0
        b = load(spec, maker.batches(o.batches, o.batch_size), tmp)
        out["batch_run"] = b
        out["batch_punches_per_s"] = round(b["ok"] * o.batch_size / b["elapsed_s"], 1)
        out["batch_cpu_ms_per_punch"] = _cpu_ms(b, pid[0], o.batch_size)
    return out


def run_ab(db: str, o: Options, variants: list[Variant], rounds: int, tmp: Path) -> dict[str, Any]:
    rng = random.Random(o.seed)  # noqa: S311 - test data, reproducible by seed
    logs = o.log_dir or tmp
    logs.mkdir(parents=True, exist_ok=True)
    port = free_port()  # one port for every server: the requests are built for it
    limits = {"FIELDPUNCH_PUNCH_RATE_PER_MIN": "10000000", "FIELDPUNCH_PUNCH_BURST": "10000000"}
    # Migrated and set up by the first variant's code (the variants must share its schema).
    first = variants[0]
    with installation(db, tmp / db, create_org_args(), o.pg, src=first.src, **limits) as inst:
        for v in variants:
            v.check(inst.env)
        with serving(
            f"{first.name} (setup)",
            fieldpunch_serve(),
            first.env(inst.env),
            logs / f"{db}-setup.log",
            port=port,
        ) as server:
            world = asyncio.run(
                seed(
                    server.base,
                    o.world,
                    inst.org["org_id"],
                    ADMIN_EMAIL,
                    inst.db_url,
                    inst.secret,
                    rng,
                )
            )
            maker = Maker(world, port, rng)
            say(f"sanity: {asyncio.run(sanity(server.base, maker))}")
            pool = Pool(maker.singles)
            rules_on = {"duplicate_window_min": o.duplicate_window_min}
            asyncio.run(set_rules(server.base, ADMIN_EMAIL, rules_on))
            prime(server, maker, pool, o, tmp, f"{db}-prime")
        sides: dict[str, list[dict[str, Any]]] = {v.name: [] for v in variants}
        for r in range(rounds):
            analyze(inst.db_url)  # alike for every side of the round
            order = variants if r % 2 == 0 else variants[::-1]
            for v in order:
                tag = f"{db}-{v.name}-{r + 1}"
                log = logs / f"{tag}.log"
                with serving(v.name, fieldpunch_serve(), v.env(inst.env), log, port=port) as s:
                    sides[v.name].append(one_side(s, maker, pool, o, tmp, tag))
                    if s.proc.poll() is not None:
                        raise RuntimeError(f"{v.name} died:\n{s.tail()}")
    return {"sides": sides, "summary": summarise(sides, variants[0].name)}


_FIGURES = ("punches_per_s", "cpu_ms_per_punch", "batch_punches_per_s", "batch_cpu_ms_per_punch")


def summarise(sides: dict[str, list[dict[str, Any]]], base: str) -> dict[str, Any]:
    """Medians over rounds, and the median of each round's ratio to the baseline."""
    out: dict[str, Any] = {}
    for name, runs in sides.items():
        row: dict[str, Any] = {}
        for key in _FIGURES:
            values = [r.get(key) for r in runs]
            if all(v is None for v in values):
                continue
            row[key] = median(values)
            row[f"{key}_each"] = values
            ratios = [
                round(r[key] / b[key], 4)
                for r, b in zip(runs, sides[base], strict=True)
                if r.get(key) and b.get(key)
            ]
            row[f"{key}_vs_{base}"] = median(ratios) if ratios else None
        row["other_cpu_pct"] = median([r.get("other_cpu_pct") for r in runs])
        out[name] = row
    return out


def _cells(s: dict[str, Any], base: str) -> Any:
    def cell(key: str, unit: str = "", digits: int = 0, ratio: bool = False) -> str:
        v = s.get(f"{key}_vs_{base}" if ratio else key)
        if v is None:
            return "—"
        return f"{v:.3f}" if ratio else f"{v:,.{digits}f}{unit}"

    return cell


def markdown(results: dict[str, dict[str, Any]], base: str) -> str:
    lines = [
        f"| database | variant | punches/s | CPU per punch | vs {base} (punches/s, CPU) "
        "| batched punches/s | CPU per batched punch | vs base (punches/s, CPU) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for db, r in results.items():
        for name, s in r["summary"].items():
            cell = _cells(s, base)
            lines.append(
                f"| {db} | {name} | {cell('punches_per_s')} | "
                f"{cell('cpu_ms_per_punch', ' ms', 3)} | {cell('punches_per_s', ratio=True)}, "
                f"{cell('cpu_ms_per_punch', ratio=True)} | {cell('batch_punches_per_s')} | "
                f"{cell('batch_cpu_ms_per_punch', ' ms', 3)} | "
                f"{cell('batch_punches_per_s', ratio=True)}, "
                f"{cell('batch_cpu_ms_per_punch', ratio=True)} |"
            )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="fieldpunch bench ab", description=__doc__.split("\n")[0])
    p.add_argument("--variant", type=_variant, action="append", required=True, dest="variants")
    p.add_argument("--rounds", type=int, default=4, help="rounds; each runs every variant")
    mine, rest = p.parse_known_args(argv)
    if len(mine.variants) < 2 or len({v.name for v in mine.variants}) < len(mine.variants):
        p.error("at least two --variant, with distinct names")
    o = parse_args(rest)

    def on_term(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    started = time.monotonic()
    busy = machine_busy_pct()
    results: dict[str, dict[str, Any]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="fp-bench-ab-") as tmp:
            for db in o.dbs:
                say(f"=== {db} ===")
                results[db] = run_ab(db, o, mine.variants, mine.rounds, Path(tmp))
    except KeyboardInterrupt:
        say("interrupted: servers stopped, database dropped")
        return 130
    summary = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "fieldpunch bench ab " + " ".join(argv),
        "machine": machine(),
        "machine_busy_before_pct": busy,
        "python": PY,
        "variants": {v.name: str(v.src) for v in mine.variants},
        "summary": {db: r["summary"] for db, r in results.items()},
        "wall_s": round(time.monotonic() - started, 1),
    }
    if o.json_out is not None:
        o.json_out.write_text(json.dumps({**summary, "results": results}, indent=2, default=str))
    print(json.dumps(summary, indent=2, default=str))
    print()
    print(markdown(results, mine.variants[0].name))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
