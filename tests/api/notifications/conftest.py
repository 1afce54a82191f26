"""Fixtures of the notification tests: local receivers (SMTP, hooks), settings pointing at them,
and a job runner the test drains, with a clock it moves: no sleeps.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from fieldpunch.config import Settings, load_settings
from fieldpunch.db.engine import Database
from fieldpunch.jobs.runner import Runner
from fieldpunch.jobs.worker import build_runner
from fieldpunch.notify import webpush
from tests.api.notifications.harness import (
    BASE_URL,
    Clock,
    answer,
)
from tests.conftest import TEST_SECRET
from tests.receivers import (
    HookSink,
    MailSink,
    hook_sink,
    mail_sink,
)


@pytest.fixture
def mail() -> Iterator[MailSink]:
    with mail_sink() as sink:
        yield sink


@pytest.fixture
def hooks() -> Iterator[HookSink]:
    with hook_sink(answer) as sink:
        yield sink


@pytest.fixture
def settings(db_url: str, tmp_path: Path, mail: MailSink, hooks: HookSink) -> Settings:
    """Jobs run only when the test drains them; SMTP and hooks go to the local receivers.

    The hook receiver speaks plain http on a port of its own: allowed as exactly that.
    """
    return load_settings(
        database_url=db_url,
        data_dir=tmp_path,
        secret_key=TEST_SECRET,
        access_log=False,
        jobs_in_process=False,
        smtp_host="127.0.0.1",
        smtp_port=mail.port,
        smtp_tls="none",
        smtp_from="alerts@punch.example.com",
        base_url=BASE_URL,
        outbound_allow_hosts=hooks.base,
        vapid_private_key=webpush.new_private_key(),
        vapid_subject="mailto:ops@punch.example.com",
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def jobs(db: Database, settings: Settings, clock: Clock) -> AsyncIterator[Runner]:
    runner = build_runner(db, settings, clock=clock)
    yield runner
    await runner.http.aclose()
