"""The `fieldpunch` command as an operator runs it: real processes, real HTTP."""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import signal
import socket
import sqlite3
import subprocess
from pathlib import Path

import httpx

from tests.server import (
    FIELDPUNCH,
    create_org,
    env_for,
    free_port,
    run,
    serving,
    wait_for_text,
)
from tests.services import postgres_database


def test_create_org_then_token_me_and_crud_over_real_http(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    made = run(
        create_org(
            "Acme 上海", "Boss@Acme.example.com", "s3cret-pass", "--timezone", "Asia/Shanghai"
        ),
        env,
    )
    assert made.returncode == 0, made.stderr
    ids = json.loads(made.stdout)
    assert ids["org_id"].startswith("org_") and ids["admin_user_id"].startswith("usr_")
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0  # generated, private
    with serving(["serve"], env, tmp_path / "server.log") as served:
        base = served.base
        assert httpx.get(f"{base}/readyz").json()["status"] == "ok"
        tok = httpx.post(
            f"{base}/api/v1/auth/token",
            data={"username": "boss@acme.example.com", "password": "s3cret-pass"},
        )
        assert tok.status_code == 200, tok.text
        h = {"Authorization": f"Bearer {tok.json()['access_token']}"}
        me = httpx.get(f"{base}/api/v1/me", headers=h).json()
        assert me["user_id"] == ids["admin_user_id"] and me["org"] == {
            "id": ids["org_id"],
            "name": "Acme 上海",
            "timezone": "Asia/Shanghai",
            "map_provider": "osm",
        }
        team = httpx.post(f"{base}/api/v1/teams", headers=h, json={"name": "Field"})
        assert team.status_code == 201
        r = httpx.get(f"{base}/api/v1/teams/{team.json()['id']}", headers=h)
        assert r.json()["name"] == "Field" and r.headers["x-request-id"]


def test_create_org_rejects_bad_input_with_one_line(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    r = run(
        create_org("A", "not-an-email"),
        env,
    )
    assert (
        r.returncode == 2
        and "--admin-email" in r.stderr
        and len(r.stderr.strip().splitlines()) == 1
    )
    r = run(
        create_org("A", "a@example.com", "s3cret-pass", "--timezone", "Mars/Olympus"),
        env,
    )
    assert r.returncode == 2 and "time zone" in r.stderr


def test_bad_setting_stops_start_with_one_line_naming_it(tmp_path: Path) -> None:
    for var, value in (
        ("FIELDPUNCH_DATABASE_URL", "mysql://x"),
        ("FIELDPUNCH_ACCESS_TOKEN_TTL_S", "ten"),
        ("FIELDPUNCH_LOG_LEVEL", "loud"),
        ("FIELDPUNCH_SECRET_KEY", "short"),
    ):
        r = run(["serve"], env_for(tmp_path, **{var: value}))
        assert r.returncode == 2, (var, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and var in lines[0], (var, r.stderr)


def test_external_database_needs_a_secret(tmp_path: Path) -> None:
    r = run(
        ["migrate"],
        env_for(tmp_path, FIELDPUNCH_DATABASE_URL="postgresql://postgres@127.0.0.1/none"),
    )
    assert r.returncode == 2 and "FIELDPUNCH_SECRET_KEY" in r.stderr


def test_env_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("FIELDPUNCH_LOG_LEVEL=verbose\n")
    r = run(["migrate"], env_for(tmp_path / "data"), cwd=tmp_path)
    assert r.returncode == 2 and "FIELDPUNCH_LOG_LEVEL" in r.stderr


def test_structured_request_log(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    with serving(["serve"], env, tmp_path / "server.log") as served:
        httpx.get(f"{served.base}/api/v1/me", headers={"X-Request-ID": "trace-42"})
    err = served.log_text()  # after the server stopped: every line is flushed
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    entry = next(e for e in lines if e.get("request_id") == "trace-42")
    assert entry["status"] == 401 and entry["path"] == "/api/v1/me" and entry["latency_ms"] >= 0
    assert {"org_id", "user_id", "method", "ts", "level"} <= entry.keys()


def test_demo_seeds_a_company_once(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    args = ["demo", "--seed-only", "--employees", "12", "--customers", "40", "--days", "3"]
    first = run(args, env)
    assert first.returncode == 0, first.stderr
    assert "admin@fieldpunch-demo.cn" in first.stdout and "40 customers" in first.stdout
    seeded = re.search(r"([\d,]+) punches", first.stdout)
    assert seeded is not None, first.stdout
    assert int(seeded[1].replace(",", "")) >= 12 * 2  # 3 days hold a workday: in and out at least
    again = run(["demo", "--seed-only"], env)  # found, not seeded twice
    assert again.returncode == 0 and "40 customers" in again.stdout
    assert f"{seeded[1]} punches" in again.stdout
    assert (tmp_path / "demo" / "fieldpunch.sqlite3").exists()
    # Attendance rules went in first: the history's days are computed (the console's month grid
    # is full when the demo opens), and the sales reps have visits planned from today on.
    with contextlib.closing(sqlite3.connect(tmp_path / "demo" / "fieldpunch.sqlite3")) as db:
        statuses = dict(db.execute("SELECT status, count(*) FROM attendance_days GROUP BY 1"))
        planned = db.execute("SELECT count(*) FROM visits WHERE state = 'planned'").fetchone()[0]
        pending = db.execute("SELECT count(*) FROM attendance_requests WHERE status = 'pending'")
        assert pending.fetchone()[0] == 1
    assert statuses.get("normal", 0) >= 12 and planned > 0, (statuses, planned)
    assert "/app/" in first.stdout  # the field app is what a new user wants first
    # The history went through the real pipeline: the audit command the demo prints (as a new
    # user would paste it, fieldpunch's bin folder not on PATH) finds the ledger intact.
    demo_dir = tmp_path / "demo"
    hint = re.search(r"Audit: +(FIELDPUNCH_DATA_DIR=\S+ \S+ audit verify)", first.stdout)
    assert hint is not None and shlex.split(hint[1])[0] == f"FIELDPUNCH_DATA_DIR={demo_dir}"
    path = {k: v for k, v in env.items() if k != "FIELDPUNCH_DATA_DIR"} | {"PATH": "/usr/bin:/bin"}
    audit = subprocess.run(
        hint[1], shell=True, env=path, capture_output=True, text=True, timeout=120, check=False
    )
    assert audit.returncode == 0 and "intact" in audit.stdout, audit.stdout + audit.stderr


def test_a_taken_port_is_one_clear_line(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = str(taken.getsockname()[1])
        for command in ("serve", "demo"):
            r = run([command, "--port", port], env_for(tmp_path), timeout=60)
            assert r.returncode == 2, r.stderr
            lines = r.stderr.strip().splitlines()
            assert len(lines) == 1 and port in lines[0] and "--port" in lines[0], r.stderr
    assert not (tmp_path / "demo").exists()  # refused before seeding anything


def test_worker_starts_on_postgres_and_stops_cleanly(tmp_path: Path) -> None:
    with postgres_database() as url:
        env = env_for(tmp_path, FIELDPUNCH_DATABASE_URL=url, FIELDPUNCH_SECRET_KEY="k" * 40)
        early = run(["worker"], env, timeout=60)  # schema not migrated yet: refuses, says why
        assert early.returncode == 2 and "fieldpunch migrate" in early.stderr
        assert len(early.stderr.strip().splitlines()) == 1, early.stderr
        assert run(["migrate"], env).returncode == 0
        log = tmp_path / "worker.log"
        with log.open("wb") as out:
            proc = subprocess.Popen([*FIELDPUNCH, "worker"], env=env, stdout=out, stderr=out)
            try:
                wait_for_text(log, "worker ready", proc)
                proc.send_signal(signal.SIGTERM)
                assert proc.wait(timeout=30) == 0
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        assert "worker stopping" in log.read_text()


SECRET = "k" * 40


def _one_line(r: subprocess.CompletedProcess[str], *says: str) -> str:
    """The command refused to start with exit 2 and one line on stderr saying all of `says`."""
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert lines[0].startswith("fieldpunch: cannot start: "), lines[0]
    for text in says:
        assert text in lines[0], (text, lines[0])
    return lines[0]


def test_migrate_in_a_fresh_folder_with_a_secret_creates_the_data_folder(tmp_path: Path) -> None:
    data = tmp_path / "new" / "data"  # no key is generated there: nothing else creates it
    r = run(["migrate"], env_for(data, FIELDPUNCH_SECRET_KEY=SECRET))
    assert r.returncode == 0, r.stderr
    assert (data / "fieldpunch.sqlite3").is_file()
    r = run(["audit", "verify"], env_for(data, FIELDPUNCH_SECRET_KEY=SECRET))
    assert r.returncode == 0 and "intact" in r.stdout, r.stderr


def test_start_up_failures_are_one_line_and_exit_2(tmp_path: Path) -> None:
    closed = free_port()  # nothing listens there
    down = f"postgresql://postgres@127.0.0.1:{closed}/fieldpunch"
    for command in (["migrate"], ["worker"], ["serve", "--port", str(free_port())]):
        r = run(
            command, env_for(tmp_path, FIELDPUNCH_DATABASE_URL=down, FIELDPUNCH_SECRET_KEY=SECRET)
        )
        _one_line(r, f"the database postgresql+asyncpg://postgres@127.0.0.1:{closed}/fieldpunch")
    with_password = down.replace("postgres@", "postgres:hunter2@")
    r = run(
        ["audit", "verify"],
        env_for(tmp_path, FIELDPUNCH_DATABASE_URL=with_password, FIELDPUNCH_SECRET_KEY=SECRET),
    )
    assert "hunter2" not in _one_line(r, "postgres:***@")

    (tmp_path / "a-file").write_text("")
    not_a_folder = tmp_path / "a-file" / "data"
    for command in (
        ["migrate"],
        ["serve"],
        ["demo", "--seed-only"],
        create_org("A", "a@example.com"),
    ):
        _one_line(run(command, env_for(not_a_folder)), f"the data folder {not_a_folder}")

    fresh = tmp_path / "fresh"
    for command in (["audit", "verify"], ["audit", "checkpoint"]):
        _one_line(run(command, env_for(fresh)), "run 'fieldpunch migrate'")
    assert not list(fresh.glob("*.sqlite3"))  # reading never creates an empty database

    # Redis down is not a reason to refuse punches: one warning line, then serve.
    env = env_for(tmp_path / "r", FIELDPUNCH_REDIS_URL=f"redis://127.0.0.1:{closed}/0")
    with serving(["serve"], env, tmp_path / "serve.log") as served:
        assert httpx.get(f"{served.base}/readyz", timeout=10).status_code == 200
        said = served.log_text()  # the check runs before the server listens
    assert f"fieldpunch: warning: Redis at 127.0.0.1:{closed} does not answer" in said

    # --debug shows how it came to that, then the same line.
    r = run(
        ["--debug", "migrate"],
        env_for(tmp_path, FIELDPUNCH_DATABASE_URL=down, FIELDPUNCH_SECRET_KEY=SECRET),
    )
    assert r.returncode == 2 and "Traceback" in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("fieldpunch: cannot start: the database")


def test_a_missing_postgres_database_is_one_line(tmp_path: Path) -> None:
    with postgres_database() as url:
        missing = url.rsplit("/", 1)[0] + "/fp_no_such_database"
        env = env_for(tmp_path, FIELDPUNCH_DATABASE_URL=missing, FIELDPUNCH_SECRET_KEY=SECRET)
        for command in (["migrate"], ["worker"]):
            _one_line(run(command, env), 'database "fp_no_such_database" does not exist')
