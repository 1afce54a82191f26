"""Run the real `fieldpunch` command as a separate process for end-to-end tests."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from bench import harness

FIELDPUNCH = [sys.executable, "-m", "fieldpunch"]
Served = harness.Server
free_port = harness.free_port


def env_for(data_dir: Path, **extra: str) -> dict[str, str]:
    """This checkout's code (bench/harness.py: code_env), no FIELDPUNCH_* settings but these."""
    env = harness.code_env()
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


@contextmanager
def serving(
    args: list[str], env: dict[str, str], log: Path, ready_timeout: float = 60
) -> Iterator[Served]:
    """`fieldpunch <args> --port P` until /healthz answers, stopped afterwards (the harness the
    benchmarks use: bench/harness.py)."""
    with harness.serving(
        f"fieldpunch {args[0]}", [*FIELDPUNCH, *args], env, log, timeout=ready_timeout, poll_s=0.05
    ) as served:
        yield served


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


def create_org(
    name: str = "Acme",
    email: str = "boss@acme.example.com",
    password: str = "s3cret-pass",
    *more: str,
) -> list[str]:
    """The arguments of `fieldpunch create-org` (the org's name, its admin's email and password)."""
    return [
        "create-org",
        "--name",
        name,
        "--admin-email",
        email,
        "--admin-password",
        password,
        *more,
    ]


def sign_in(base: str, email: str, password: str) -> dict[str, str]:
    """The Authorization header of a person signed in on the server at `base`."""
    r = httpx.post(f"{base}/api/v1/auth/token", data={"username": email, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@contextmanager
def two_servers(
    tmp_path: Path, database_url: str, **extra: str
) -> Iterator[tuple[Served, Served, dict[str, str]]]:
    """Two `fieldpunch serve` on one database, migrated, with the org Acme and its admin
    (`create_org()`'s defaults; its ids come third); `extra` adds FIELDPUNCH_* settings to both."""
    env = env_for(tmp_path, FIELDPUNCH_DATABASE_URL=database_url, **extra)
    migrated = run(["migrate"], env)
    assert migrated.returncode == 0, migrated.stderr
    made = run(create_org(), env)
    assert made.returncode == 0, made.stderr
    with (
        serving(["serve"], env, tmp_path / "a.log") as a,
        serving(["serve"], env, tmp_path / "b.log") as b,
    ):
        yield a, b, json.loads(made.stdout)
