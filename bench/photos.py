"""Photo uploads against a real `fieldpunch serve`: memory (RSS) and a punch's latency meanwhile.

    fieldpunch bench photos [--concurrent 4] [--side 7000] [--allowed-side 4800]

Starts an embedded server in a temporary folder, then, for each image (the issue's 7000×7000
RGBA PNG, and the largest PNG allowed), uploads `--concurrent` copies at once while one person
punches, sampling the RSS of the server and of its child processes (the photo decoders) every
20 ms. Prints RSS before, at the peak and after, the uploads' answers and the punch's latency.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
ADMIN, PASS = "a@bench.example.com", "bench-pass-123"


def _png(side: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (side, side), (10, 120, 200, 255)).save(out, "PNG")
    return out.getvalue()


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _tree(pid: int) -> list[int]:
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo.extend(c for c in _children(p) if c not in seen)
    return seen


class Sampler(threading.Thread):
    """The server's RSS and its children's, every 20 ms; peaks kept."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.stop, self.peak_server, self.peak_tree = pid, threading.Event(), 0, 0

    def now(self) -> tuple[int, int]:
        tree = _tree(self.pid)
        return _rss_kb(self.pid), sum(_rss_kb(p) for p in tree)

    def run(self) -> None:
        while not self.stop.is_set():
            server, tree = self.now()
            self.peak_server, self.peak_tree = (
                max(self.peak_server, server),
                max(self.peak_tree, tree),
            )
            self.stop.wait(0.02)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _punch() -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from tests.punching import punch

    return punch()


async def _round(base: str, headers: dict[str, str], data: bytes, n: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=300) as c:
        files = {"file": ("p.png", data, "image/png")}
        started = time.perf_counter()
        uploads = [asyncio.create_task(c.post("/api/v1/photos", files=files)) for _ in range(n)]
        await asyncio.sleep(
            0.3
        )  # let the uploads arrive before the punch (a benchmark, not a test)
        t = time.perf_counter()
        r = await c.post("/api/v1/punches", json=_punch())
        punch_ms = (time.perf_counter() - t) * 1000
        answers = [u.status_code for u in await asyncio.gather(*uploads)]
        return {
            "uploads": answers,
            "uploads_s": round(time.perf_counter() - started, 2),
            "punch": r.status_code,
            "punch_ms": round(punch_ms, 1),
        }


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="fieldpunch bench photos")
    ap.add_argument("--concurrent", type=int, default=4)
    ap.add_argument("--side", type=int, default=7000)
    ap.add_argument("--allowed-side", type=int, default=4800)
    o = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDPUNCH_")}
        env |= {"FIELDPUNCH_DATA_DIR": tmp, "FIELDPUNCH_ACCESS_LOG": "false"}
        cli = [sys.executable, "-m", "fieldpunch"]
        made = subprocess.run(  # noqa: S603 - our own interpreter and arguments
            [
                *cli,
                "create-org",
                "--name",
                "Bench",
                "--admin-email",
                ADMIN,
                "--admin-password",
                PASS,
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        json.loads(made.stdout)
        port = _free_port()
        with open(Path(tmp) / "server.log", "wb") as log:
            proc = subprocess.Popen(  # noqa: S603
                [*cli, "serve", "--port", str(port)], env=env, stdout=log, stderr=log
            )
            base = f"http://127.0.0.1:{port}"
            try:
                while True:
                    try:
                        if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                            break
                    except httpx.TransportError:
                        time.sleep(0.05)
                tok = httpx.post(
                    f"{base}/api/v1/auth/token",
                    data={"username": ADMIN, "password": PASS},
                ).json()["access_token"]
                headers = {"Authorization": f"Bearer {tok}"}
                for side in (o.side, o.allowed_side):
                    data = _png(side)
                    sampler = Sampler(proc.pid)
                    before = sampler.now()
                    sampler.start()
                    result = asyncio.run(_round(base, headers, data, o.concurrent))
                    sampler.stop.set()
                    sampler.join()
                    after = sampler.now()
                    print(
                        f"{o.concurrent} × {side}×{side} RGBA PNG ({len(data) // 1024} KB): "
                        f"{result}; RSS MB server/with children: before "
                        f"{before[0] // 1024}/{before[1] // 1024}, peak "
                        f"{sampler.peak_server // 1024}/{sampler.peak_tree // 1024}, after "
                        f"{after[0] // 1024}/{after[1] // 1024}"
                    )
            finally:
                proc.terminate()
                proc.wait(30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
