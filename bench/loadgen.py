"""A small HTTP/1.1 load generator: raw keep-alive connections sending pre-serialised requests.

    python -m bench.loadgen SPEC.json        (prints the result as JSON on stdout)

httpx costs ~0.5 ms of CPU per request; driving thousands of requests a second from one Python
process needs less: each connection is an asyncio Protocol (uvloop when installed) that writes
bytes built in advance and reads just enough of the answer to find its end (Content-Length, or
the last chunk) and its status.

Two modes, both bounded by a count (the requests given) and a time:

- closed: C connections, each sends its next request as soon as the previous answer arrived.
  The rate this reaches is the server's throughput at that concurrency.
- open: requests are *scheduled* at a fixed rate (request i at start + i / rate), whatever the
  server does; an idle connection takes the next due request, and latency runs from the
  scheduled time, not from when a connection was free to send it. A server falling behind
  shows as growing latency instead of a quietly lower rate (no coordinated omission).

Only loopback targets are accepted. The spec (JSON) names the requests file, written by
`write_requests`: each request is a 4-byte little-endian length followed by the raw bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import resource
import struct
import sys
import time
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

LOOPBACK = ("127.0.0.1", "localhost", "::1")
_LEN = struct.Struct("<I")
Mode = Literal["closed", "open"]


@dataclass
class Spec:
    """What one run does. `seconds` bounds the sending; `grace_s` bounds waiting for the rest."""

    port: int
    requests_path: str
    mode: Mode = "closed"
    host: str = "127.0.0.1"
    connections: int = 32
    rate: float = 1000.0  # open mode only
    seconds: float = 10.0
    grace_s: float = 10.0
    label: str = ""
    watch_pids: list[int] = field(default_factory=list)  # report their CPU use during the run
    watch_comm: str = "postgres"  # and the CPU of all processes of this name, summed


@dataclass
class Result:
    label: str
    mode: Mode
    connections: int
    rate: float | None
    requests_given: int
    sent: int
    completed: int
    ok: int
    unfinished: int
    errors: int
    statuses: dict[str, int]
    elapsed_s: float
    throughput_rps: float  # completed answers per second
    ok_rps: float  # 2xx answers per second
    latency_ms: dict[str, float | None] = field(default_factory=dict)
    loadgen_cpu_s: float = 0.0
    # CPU over the run, in % of one core: each watched process, the load generator, the machine.
    cpu_pct: dict[str, float] = field(default_factory=dict)
    error_sample: list[str] = field(default_factory=list)


# Requests on disk -------------------------------------------------------------------------------


def build_request(
    method: str, path: str, host: str, port: int, headers: dict[str, str], body: bytes
) -> bytes:
    """One HTTP/1.1 keep-alive request as bytes."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def write_requests(path: Path, requests: Iterable[bytes]) -> int:
    n = 0
    with path.open("wb") as f:
        for r in requests:
            f.write(_LEN.pack(len(r)))
            f.write(r)
            n += 1
    return n


def read_requests(path: Path) -> list[bytes]:
    data = path.read_bytes()
    out: list[bytes] = []
    at = 0
    while at < len(data):
        (n,) = _LEN.unpack_from(data, at)
        at += 4
        out.append(data[at : at + n])
        at += n
    return out


# One connection ---------------------------------------------------------------------------------


class ConnectionClosed(Exception):
    pass


class Connection(asyncio.Protocol):
    """One keep-alive connection with at most one request in flight."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.need = -1  # total bytes of the current answer once its head is read
        self.chunked = False
        self.status = 0
        self.waiter: asyncio.Future[int] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but behave as one.
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionClosed(str(exc or "closed by the server")))

    def data_received(self, data: bytes) -> None:
        self.buf += data
        self._parse()

    def _parse(self) -> None:
        buf = self.buf
        if self.need < 0:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end]).lower()
            self.status = int(buf[9:12])
            at = head.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = head.find(b"\r\n", at + 2)
                length = int(head[at + 17 : stop if stop >= 0 else len(head)])
                self.need, self.chunked = end + 4 + length, False
            elif b"\r\ntransfer-encoding: chunked" in head:
                self.need, self.chunked = end + 4, True
            else:  # 204, 304: no body
                self.need, self.chunked = end + 4, False
        if self.chunked:
            # JSON bodies never hold a raw CR LF, so the last-chunk marker is unambiguous here.
            stop = buf.find(b"0\r\n\r\n", self.need)
            if stop < 0:
                return
            done = stop + 5
        else:
            if len(buf) < self.need:
                return
            done = self.need
        del buf[:done]
        self.need = -1
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(self.status)

    def request(self, data: bytes) -> asyncio.Future[int]:
        if self.closed or self.transport is None:
            raise ConnectionClosed("connection is closed")
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return self.waiter

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def _connect(host: str, port: int) -> Connection:
    loop = asyncio.get_running_loop()
    _, proto = await loop.create_connection(Connection, host, port)
    return proto


class Pool:
    """Connections by slot; a slot whose connection was closed reconnects before its next use."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.conns: list[Connection] = []

    async def open(self, n: int) -> None:
        self.conns = list(await asyncio.gather(*(_connect(self.host, self.port) for _ in range(n))))

    async def get(self, slot: int) -> Connection:
        conn = self.conns[slot]
        if conn.closed:
            conn = self.conns[slot] = await _connect(self.host, self.port)
        return conn

    def close(self) -> None:
        for c in self.conns:
            c.close()


# Runs -------------------------------------------------------------------------------------------


@dataclass
class _Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    sent: int = 0
    error_sample: list[str] = field(default_factory=list)
    last_done: float = 0.0

    def error(self, exc: BaseException) -> None:
        self.errors += 1
        if len(self.error_sample) < 5:
            self.error_sample.append(f"{type(exc).__name__}: {exc}")


async def _closed(spec: Spec, requests: Sequence[bytes], tally: _Tally) -> tuple[float, int]:
    pool = Pool(spec.host, spec.port)
    await pool.open(spec.connections)
    clock = time.perf_counter
    start = clock()
    deadline = start + spec.seconds
    next_i = 0

    async def worker(slot: int) -> None:
        nonlocal next_i
        while next_i < len(requests) and clock() < deadline:
            req = requests[next_i]
            next_i += 1
            tally.sent += 1
            t0 = clock()
            try:
                conn = await pool.get(slot)
                status = await conn.request(req)
            except (ConnectionClosed, OSError) as exc:
                tally.error(exc)
                continue
            done = clock()
            tally.latencies.append(done - t0)
            tally.statuses[status] += 1
            tally.last_done = done

    tasks = [asyncio.ensure_future(worker(i)) for i in range(spec.connections)]
    _, pending = await asyncio.wait(tasks, timeout=spec.seconds + spec.grace_s)
    for t in pending:
        t.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    pool.close()
    end = tally.last_done if tally.last_done else clock()
    return end - start, len(pending)


async def _open(spec: Spec, requests: Sequence[bytes], tally: _Tally) -> tuple[float, int]:
    n = min(len(requests), max(1, int(spec.rate * spec.seconds)))
    pool = Pool(spec.host, spec.port)
    await pool.open(spec.connections)
    clock = time.perf_counter
    due: deque[tuple[float, bytes]] = deque()
    idle: deque[asyncio.Future[None]] = deque()  # one waiter per idle connection
    loop = asyncio.get_running_loop()
    finished = False
    start = clock() + 0.02
    interval = 1.0 / spec.rate

    async def worker(slot: int) -> None:
        while True:
            if not due:
                if finished:
                    return
                waiter = loop.create_future()
                idle.append(waiter)
                await waiter
                continue
            scheduled, req = due.popleft()
            tally.sent += 1
            try:
                conn = await pool.get(slot)
                status = await conn.request(req)
            except (ConnectionClosed, OSError) as exc:
                tally.error(exc)
                continue
            done = clock()
            tally.latencies.append(done - scheduled)  # from the *scheduled* time
            tally.statuses[status] += 1
            tally.last_done = done

    def wake(k: int) -> None:
        while k > 0 and idle:
            waiter = idle.popleft()
            if not waiter.done():
                waiter.set_result(None)
                k -= 1

    tasks = [asyncio.ensure_future(worker(i)) for i in range(spec.connections)]
    i = 0
    while i < n:
        now = clock()
        added = 0
        while i < n and start + i * interval <= now:
            due.append((start + i * interval, requests[i]))
            i += 1
            added += 1
        wake(added)
        if i < n:
            await asyncio.sleep(max(0.0, start + i * interval - clock()))
    finished = True
    wake(len(idle))
    _, pending = await asyncio.wait(tasks, timeout=spec.grace_s)
    for t in pending:
        t.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    pool.close()
    unfinished = n - len(tally.latencies) - tally.errors
    end = tally.last_done if tally.last_done else clock()
    return end - start, unfinished


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of sorted values (q in 0..100); inf stands for 'never answered'."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def _ms(x: float) -> float | None:
    return None if math.isinf(x) or math.isnan(x) else round(x * 1000, 2)


async def run(spec: Spec, requests: Sequence[bytes]) -> Result:
    if spec.host not in LOOPBACK:
        raise ValueError(f"refusing to load {spec.host}: only loopback targets")
    if spec.connections < 1 or spec.seconds <= 0 or spec.rate <= 0:
        raise ValueError("connections, seconds and rate must be positive")
    tally = _Tally()
    cpu0, procs0 = _cpu(), _procs(spec.watch_pids, tree=True)
    machine0, wall0 = _machine(), time.monotonic()
    named0 = _procs(_pids_named(spec.watch_comm)) if spec.watch_comm else {}
    if spec.mode == "closed":
        elapsed, unfinished = await _closed(spec, requests, tally)
    else:
        elapsed, unfinished = await _open(spec, requests, tally)
    cpu, wall = _cpu() - cpu0, time.monotonic() - wall0
    procs1, machine1 = _procs(spec.watch_pids, tree=True), _machine()
    named1 = _procs(_pids_named(spec.watch_comm)) if spec.watch_comm else {}
    cpu_pct = {
        str(pid): round(100 * (procs1[pid] - procs0[pid]) / wall, 1)
        for pid in procs1
        if pid in procs0
    }
    cpu_pct["loadgen"] = round(100 * cpu / wall, 1)
    if spec.watch_comm:
        used = sum(v - named0.get(pid, 0.0) for pid, v in named1.items())
        cpu_pct[spec.watch_comm] = round(100 * used / wall, 1)
    busy, total = machine1[0] - machine0[0], machine1[1] - machine0[1]
    if total > 0:
        cpu_pct["machine"] = machine = round(100 * busy / total * (os.cpu_count() or 1), 1)
        # Whatever else ran meanwhile (other users of this machine skew the figures).
        ours = sum(v for k, v in cpu_pct.items() if k != "machine")
        cpu_pct["other"] = round(max(0.0, machine - ours), 1)
    # Requests never answered count as infinitely slow: a timeout cannot improve a percentile.
    lat = sorted(tally.latencies) + [math.inf] * max(0, unfinished)
    completed = len(tally.latencies)
    ok = sum(c for s, c in tally.statuses.items() if 200 <= s < 300)
    finite = tally.latencies
    return Result(
        label=spec.label,
        mode=spec.mode,
        connections=spec.connections,
        rate=spec.rate if spec.mode == "open" else None,
        requests_given=len(requests),
        sent=tally.sent,
        completed=completed,
        ok=ok,
        unfinished=max(0, unfinished),
        errors=tally.errors,
        statuses={str(k): v for k, v in sorted(tally.statuses.items())},
        elapsed_s=round(elapsed, 3),
        throughput_rps=round(completed / elapsed, 1) if elapsed > 0 else 0.0,
        ok_rps=round(ok / elapsed, 1) if elapsed > 0 else 0.0,
        latency_ms={
            "p50": _ms(percentile(lat, 50)),
            "p90": _ms(percentile(lat, 90)),
            "p99": _ms(percentile(lat, 99)),
            "p999": _ms(percentile(lat, 99.9)),
            "max": _ms(lat[-1]) if lat else None,
            "mean": _ms(sum(finite) / len(finite)) if finite else None,
        },
        loadgen_cpu_s=round(cpu, 3),
        cpu_pct=cpu_pct,
        error_sample=tally.error_sample,
    )


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _procs(pids: Sequence[int], tree: bool = False) -> dict[int, float]:
    """CPU seconds (user + system) used so far by each process still alive; with `tree`, its
    descendants' included (a server's worker processes). Named sets (every `postgres`) go
    without: the postmaster's children are in the set already."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}  # pid → (parent, CPU seconds)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                # The name, in parentheses, may hold spaces.
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                cpu_s = (int(fields[11]) + int(fields[12])) / tick
                stats[int(entry.name)] = (int(fields[1]), cpu_s)
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    out: dict[int, float] = {}
    for pid in pids:
        if pid not in stats:
            continue
        total, todo, seen = 0.0, [pid], set()
        while todo:
            at = todo.pop()
            if at in seen:
                continue
            seen.add(at)
            total += stats[at][1]
            if tree:
                todo += children.get(at, [])
        out[pid] = total
    return out


def _pids_named(comm: str) -> list[int]:
    """Processes whose name (/proc/PID/comm) is `comm`; read-only, for CPU accounting."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == comm:
                    out.append(int(entry.name))
    return out


def _machine() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    try:
        first = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return 0, 0
    values = [int(v) for v in first[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values[:8]) - idle, sum(values[:8])


def _install_uvloop() -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def run_spec(spec_path: Path) -> dict[str, Any]:
    raw = json.loads(spec_path.read_text())
    spec = Spec(**raw)
    requests = read_requests(Path(spec.requests_path))
    _install_uvloop()
    return asdict(asyncio.run(run(spec, requests)))


def main(argv: list[str]) -> int:
    """`python -m bench.loadgen SPEC.json`: run it and print the result as JSON."""
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(run_spec(Path(argv[0]))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
