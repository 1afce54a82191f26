"""Run the real `fieldpunch` command as a separate process for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

FIELDPUNCH = [sys.executable, "-m", "fieldpunch"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_for(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDPUNCH_")}
    env["FIELDPUNCH_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return env


def run(
    args: list[str], env: dict[str, str], timeout: float = 120, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FIELDPUNCH, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class Served:
    base: str
    proc: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def serving(
    args: list[str], env: dict[str, str], log: Path, ready_timeout: float = 60
) -> Iterator[Served]:
    """Start `fieldpunch <args> --port P`, wait until /healthz answers, stop it afterwards.

    Output goes to a file, never an unread pipe: a full pipe would block the server's logging.
    """
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*FIELDPUNCH, *args, "--port", str(port)], env=env, stdout=out, stderr=out
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + ready_timeout
    try:
        while True:
            if proc.poll() is not None:
                raise AssertionError(
                    f"server exited {proc.returncode}: {log.read_text(errors='replace')}"
                )
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                # Polling the port the server is opening: a readiness check, not a sleep for sync.
                time.sleep(0.05)
        yield Served(base, proc, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for_text(log: Path, text: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Wait until a process has written `text` to its log (a readiness check, bounded)."""
    deadline = time.monotonic() + timeout
    while text not in log.read_text(errors="replace"):
        if proc.poll() is not None:
            raise AssertionError(
                f"exited {proc.returncode} before '{text}': {log.read_text(errors='replace')}"
            )
        if time.monotonic() > deadline:
            raise AssertionError(
                f"no '{text}' within {timeout} s: {log.read_text(errors='replace')}"
            )
        time.sleep(0.05)
