"""`fieldpunch worker` as real processes, on both databases, against real local receivers.

- kill -9 in the middle of sending an email, then a restart: every notification is delivered,
  none twice in the inbox, and the interrupted email comes again with the same Message-ID;
- SIGTERM in the middle of a job: the job goes back to the queue (or finishes, within the grace);
- two workers on PostgreSQL share a burst of jobs and never send one twice (SKIP LOCKED).

Waits are on the receivers' condition variables and on database state, each bounded.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from fieldpunch.config import Settings, load_settings
from fieldpunch.db.engine import Database
from fieldpunch.db.migrate import upgrade
from fieldpunch.jobs.models import Job, OutboxEvent
from fieldpunch.notify.deliver import Message, deliver
from fieldpunch.notify.models import Notification
from tests.apps import app_with_org
from tests.punching import OFFICE, punch
from tests.receivers import (
    VENDOR_PATHS,
    VENDOR_QUERY,
    HookSink,
    MailSink,
    hook_sink,
    mail_sink,
    vendor_answer,
)
from tests.server import FIELDPUNCH, env_for, wait_for_text
from tests.services import postgres_database

SECRET = "worker-test-secret-key-0123456789abcdef"
LEASE_S = 5  # a killed worker's job is retried after this
WAIT_S = 60


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with ExitStack() as stack:
        if request.param == "sqlite":
            db_url = f"sqlite+aiosqlite:///{tmp_path / 'fp.sqlite3'}"
        else:
            db_url = stack.enter_context(postgres_database())
        upgrade(db_url)
        yield db_url


@pytest.fixture
def mail() -> Iterator[MailSink]:
    with mail_sink() as sink:
        yield sink


@pytest.fixture
def hooks() -> Iterator[HookSink]:
    with hook_sink(vendor_answer) as sink:
        yield sink


def _env(url: str, tmp_path: Path, mail: MailSink, hooks: HookSink, **extra: str) -> dict[str, str]:
    return env_for(
        tmp_path,
        FIELDPUNCH_DATABASE_URL=url,
        FIELDPUNCH_SECRET_KEY=SECRET,
        FIELDPUNCH_BASE_URL="https://punch.example.com",
        FIELDPUNCH_SMTP_HOST="127.0.0.1",
        FIELDPUNCH_SMTP_PORT=str(mail.port),
        FIELDPUNCH_SMTP_TLS="none",
        FIELDPUNCH_OUTBOUND_ALLOW_HOSTS=hooks.base,  # http on its port only
        FIELDPUNCH_WORKER_POLL_S="0.05",
        **{"FIELDPUNCH_JOB_LEASE_S": str(LEASE_S), **extra},
    )


def _settings(url: str, tmp_path: Path, mail: MailSink, hooks: HookSink) -> Settings:
    return load_settings(
        database_url=url,
        data_dir=tmp_path,
        secret_key=SECRET,
        access_log=False,
        jobs_in_process=False,  # only the worker processes run jobs
        base_url="https://punch.example.com",
        smtp_host="127.0.0.1",
        smtp_port=mail.port,
        smtp_tls="none",
        outbound_allow_hosts=hooks.base,
    )


@dataclass
class Scene:
    org_id: str
    managers: dict[str, str]  # user id → email
    admin_id: str


async def _alert_scene(settings: Settings, hooks: HookSink) -> Scene:
    """An org, a team with two managers and a person, four robots, and one critical live punch."""
    async with app_with_org(settings, "Acme") as (_, org):
        team = await org.team("East")
        managers = {}
        for _ in range(2):
            m = await org.person("manager", team_id=team, managed_team_ids=[team])
            managers[str(m.user_id)] = (await org.admin.ok("get", f"/users/{m.user_id}"))["email"]
        staff = await org.person("staff", team_id=team)
        mocked = punch(*OFFICE)
        mocked["location"]["mock"] = True
        await staff.ok("post", "/punches", 201, json=mocked)  # its alert job waits for a worker
        for provider, path in VENDOR_PATHS.items():
            body = {
                "name": provider,
                "provider": provider,
                "url": hooks.base + path + VENDOR_QUERY[provider],
            }
            if provider in ("dingtalk", "feishu"):
                body["secret"] = f"{provider}-secret"
            await org.admin.ok("post", "/robots", 201, json=body)
    return Scene(org.org_id, managers, str(org.admin.user_id))


async def _query(url: str, fn: Callable[[Any], Any]) -> Any:
    db = Database(url)
    try:
        async with db.transaction(write=False) as session:
            return await fn(session)
    finally:
        await db.dispose()


def _jobs(url: str, org_id: str) -> list[Job]:
    async def q(session: Any) -> list[Job]:
        return list(
            (await session.execute(select(Job).where(Job.org_id == org_id).order_by(Job.id)))
            .scalars()
            .all()
        )

    return asyncio.run(_query(url, q))  # type: ignore[no-any-return]


def _wait_all_done(url: str, org_id: str, expect: int) -> list[Job]:
    """Poll the jobs table (a bounded readiness check) until `expect` jobs are all done.

    The escalation an alert schedules (an hour ahead) is not counted.
    """
    deadline = time.monotonic() + WAIT_S
    while True:
        jobs = [j for j in _jobs(url, org_id) if j.kind != "alert.escalate"]
        if len(jobs) >= expect and all(j.status == "done" for j in jobs):
            return jobs
        if time.monotonic() > deadline:
            raise AssertionError([(j.kind, j.status, j.attempts, j.last_error) for j in jobs])
        time.sleep(0.1)


@contextmanager
def worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen([*FIELDPUNCH, "worker"], env=env, stdout=out, stderr=out)
    try:
        wait_for_text(log, "worker ready", proc)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _inbox_counts(url: str, org_id: str) -> Counter[str]:
    async def q(session: Any) -> Counter[str]:
        rows = await session.execute(
            select(Notification.user_id, func.count())
            .where(Notification.org_id == org_id)
            .group_by(Notification.user_id)
        )
        return Counter(dict(rows.all()))

    return asyncio.run(_query(url, q))  # type: ignore[no-any-return]


def _created_events(url: str, org_id: str) -> Counter[str]:
    async def q(session: Any) -> Counter[str]:
        rows = await session.execute(
            select(OutboxEvent.payload).where(
                OutboxEvent.org_id == org_id, OutboxEvent.topic == "notification.created"
            )
        )
        return Counter(p["data"]["id"] for (p,) in rows.all())

    return asyncio.run(_query(url, q))  # type: ignore[no-any-return]


def _notification_ids(url: str, org_id: str) -> set[str]:
    async def q(session: Any) -> set[str]:
        rows = await session.execute(select(Notification.id).where(Notification.org_id == org_id))
        return set(rows.scalars())

    return asyncio.run(_query(url, q))  # type: ignore[no-any-return]


def _mails_to(mail: MailSink, addresses: set[str]) -> list[Any]:
    with mail.cond:
        return [m for m in mail.mails if set(m.envelope_to) & addresses]


def test_kill_9_mid_job_then_restart_delivers_everything_once(
    url: str, tmp_path: Path, mail: MailSink, hooks: HookSink
) -> None:
    scene = asyncio.run(_alert_scene(_settings(url, tmp_path, mail, hooks), hooks))
    env = _env(url, tmp_path, mail, hooks)
    addresses = set(scene.managers.values())
    mail.hold_first = True  # the first email is taken in but never acknowledged
    with worker(env, tmp_path / "w1.log") as w1:
        assert mail.held.wait(WAIT_S), (tmp_path / "w1.log").read_text()
        held = mail.held_mail
        assert held is not None
        nid = held.message_id.strip("<>").split("@")[0]
        running = [j for j in _jobs(url, scene.org_id) if j.idempotency_key == f"email:{nid}"]
        assert [(j.status, j.attempts) for j in running] == [("running", 1)]
        w1.kill()  # SIGKILL: no cleanup, no hand-back
        assert w1.wait(timeout=30) == -signal.SIGKILL
    in_flight = {j.id for j in _jobs(url, scene.org_id) if j.status == "running"}
    mail.release.set()

    with worker(env, tmp_path / "w2.log"):
        # 2 alert emails (one of them twice), 4 robots.
        mail.wait_until(lambda: len([m for m in mail.mails if set(m.envelope_to) & addresses]) >= 3)
        hooks.wait_until(lambda: {h.path for h in hooks.hooks} >= set(VENDOR_PATHS.values()))
        # 1 alert + 2 emails + 4 robots (+ 2 pushes: none, nobody subscribed).
        jobs = _wait_all_done(url, scene.org_id, 7)
    log2 = (tmp_path / "w2.log").read_text()
    assert "job lease expired" in log2
    # The next level is scheduled once, for when nobody has reviewed it in an hour.
    (escalate,) = [j for j in _jobs(url, scene.org_id) if j.kind == "alert.escalate"]
    assert escalate.status == "queued" and escalate.payload["level"] == 2

    # Whatever the killed worker held (at least the email) ran again: attempt 2.
    assert {j.attempts for j in jobs if j.id in in_flight} == {2}
    assert {j.attempts for j in jobs if j.id not in in_flight} == {1}
    retried = [j for j in jobs if j.idempotency_key == f"email:{nid}"]
    assert [(j.status, j.attempts, j.id in in_flight) for j in retried] == [("done", 2, True)]
    # The inbox: one notification per manager, one live event each; nobody else.
    assert _inbox_counts(url, scene.org_id) == Counter(dict.fromkeys(scene.managers, 1))
    ids = _notification_ids(url, scene.org_id)
    assert _created_events(url, scene.org_id) == Counter(dict.fromkeys(ids, 1))
    # Email: every notification arrived; the interrupted one twice, with the same Message-ID.
    # (Another send in flight at the kill arrives twice too if it had reached the server.)
    got = Counter(m.message_id for m in _mails_to(mail, addresses))
    assert set(got) == {f"<{i}@punch.example.com>" for i in ids} and got[held.message_id] == 2
    in_flight_emails = {j.idempotency_key for j in jobs if j.id in in_flight}
    for i in ids:
        assert got[f"<{i}@punch.example.com>"] in (
            (1, 2) if f"email:{i}" in in_flight_emails else (1,)
        )
    first, again = [m for m in _mails_to(mail, addresses) if m.message_id == held.message_id]
    assert first.message.get_content() == again.message.get_content()
    assert first.message["Date"] == again.message["Date"]
    # Robots: each got the alert; any repeat carries the same delivery id.
    for path in VENDOR_PATHS.values():
        sent = hooks.at(path)
        assert sent and len({h.headers["x-fieldpunch-delivery"] for h in sent}) == 1


def test_sigterm_hands_back_the_running_job(
    url: str, tmp_path: Path, mail: MailSink, hooks: HookSink
) -> None:
    scene = asyncio.run(_alert_scene(_settings(url, tmp_path, mail, hooks), hooks))
    env = _env(url, tmp_path, mail, hooks, FIELDPUNCH_WORKER_GRACE_S="0.5")
    addresses = set(scene.managers.values())
    mail.hold_first = True
    log = tmp_path / "w1.log"
    with worker(env, log) as w1:
        assert mail.held.wait(WAIT_S), log.read_text()
        held = mail.held_mail
        assert held is not None
        nid = held.message_id.strip("<>").split("@")[0]
        w1.send_signal(signal.SIGTERM)
        assert w1.wait(timeout=30) == 0
    text = log.read_text()
    assert "worker stopping" in text and "job handed back at shutdown" in text
    (back,) = [j for j in _jobs(url, scene.org_id) if j.idempotency_key == f"email:{nid}"]
    # Queued again at once, the interrupted attempt not counted.
    assert (back.status, back.attempts, back.locked_until) == ("queued", 0, None)
    mail.release.set()
    with worker(env, tmp_path / "w2.log"):
        _wait_all_done(url, scene.org_id, 7)
    got = Counter(m.message_id for m in _mails_to(mail, addresses))
    assert got[held.message_id] == 2 and len(got) == 2 and sum(got.values()) == 3


def test_sigterm_lets_the_running_job_finish_within_the_grace(
    url: str, tmp_path: Path, mail: MailSink, hooks: HookSink
) -> None:
    scene = asyncio.run(_alert_scene(_settings(url, tmp_path, mail, hooks), hooks))
    env = _env(url, tmp_path, mail, hooks, FIELDPUNCH_WORKER_GRACE_S="60")
    addresses = set(scene.managers.values())
    mail.hold_first = True
    log = tmp_path / "w1.log"
    with worker(env, log) as w1:
        assert mail.held.wait(WAIT_S), log.read_text()
        w1.send_signal(signal.SIGTERM)
        wait_for_text(log, "worker stopping", w1)
        mail.release.set()  # the server answers now: the send completes during the grace
        assert w1.wait(timeout=30) == 0
    assert "handed back" not in log.read_text()
    # Everything claimed before the signal finished; nothing was sent twice.
    mine = {m.message_id for m in _mails_to(mail, addresses)}
    assert len(_mails_to(mail, addresses)) == len(mine)
    held_jobs = [
        j
        for j in _jobs(url, scene.org_id)
        if j.idempotency_key in {f"email:{i.strip('<>').split('@')[0]}" for i in mine}
    ]
    assert held_jobs and {(j.status, j.attempts) for j in held_jobs} == {("done", 1)}


def test_two_workers_share_jobs_and_never_run_one_twice(
    tmp_path: Path, mail: MailSink, hooks: HookSink
) -> None:
    with postgres_database() as url:
        upgrade(url)
        settings = _settings(url, tmp_path, mail, hooks)
        scene = asyncio.run(_alert_scene(settings, hooks))
        # A long lease: a send slowed past 0.8 x LEASE_S on a busy machine times out and is
        # retried, and the retry repeats a mail the receiver already has (at least once, with
        # the same Message-ID). Not what this test is about: sharing claims between workers.
        env = _env(url, tmp_path, mail, hooks, FIELDPUNCH_JOB_LEASE_S="120")
        with worker(env, tmp_path / "a.log"), worker(env, tmp_path / "b.log"):
            _wait_all_done(url, scene.org_id, 7)  # the alert, first

            async def burst() -> None:
                db = Database(url)
                try:
                    async with db.transaction() as session:
                        for i in range(150):
                            await deliver(
                                session,
                                settings,
                                org_id=scene.org_id,
                                message=Message("test", f"Burst {i}", "one of many"),
                                recipients=[scene.admin_id],
                                key=f"burst:{secrets.token_hex(4)}:{i}",
                                now=datetime.now(UTC),
                            )
                finally:
                    await db.dispose()

            asyncio.run(burst())
            jobs = _wait_all_done(url, scene.org_id, 7 + 150)
        burst_ids = [m.message_id for m in mail.mails if m.message["Subject"].startswith("Burst")]
        assert len(burst_ids) == 150 and len(set(burst_ids)) == 150  # each exactly once
        by_worker = Counter(j.locked_by for j in jobs if j.kind == "notify.email")
        assert len(by_worker) == 2, by_worker  # both workers took a share
