"""Email through a local SMTP receiver."""

from __future__ import annotations

from fieldpunch.config import Settings
from fieldpunch.db.engine import Database
from fieldpunch.jobs.runner import Runner
from fieldpunch.notify.channels import send_email
from tests.api.notifications.harness import (
    email_of,
    job_context,
)
from tests.factories import OrgKit
from tests.receivers import (
    MailSink,
)

# email -------------------------------------------------------------------------------------------


async def test_a_repeated_email_repeats_its_message_id(
    org: OrgKit, db: Database, settings: Settings, jobs: Runner, mail: MailSink
) -> None:
    me = await org.person("staff")
    n = await me.ok("post", "/me/notifications/test", 201)
    await jobs.drain()
    ctx = job_context(db, settings, jobs, "notify.email", {"notification_id": n["id"]})
    await send_email(ctx)  # the worker died after the server took it: sent again
    address = await email_of(org, me)
    first, second = [m for m in mail.mails if address in m.envelope_to]
    assert first.message_id == second.message_id == f"<{n['id']}@punch.example.com>"
    assert first.message["Date"] == second.message["Date"]
    assert first.message.get_content() == second.message.get_content()
    assert first.message["X-Fieldpunch-Notification"] == n["id"]
