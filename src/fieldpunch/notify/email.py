"""Email: one message per notification, with a Message-ID made from the notification id.

A retried send (the worker died after the server took the message, before the job was marked
done) repeats the same Message-ID, Date and body, so mail systems and clients can drop the copy.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from urllib.parse import urlsplit

import aiosmtplib

from fieldpunch.config import Settings


def message_id(notification_id: str, base_url: str) -> str:
    domain = urlsplit(base_url).hostname or "fieldpunch.invalid"
    return f"<{notification_id}@{domain}>"


def build(
    settings: Settings,
    *,
    notification_id: str,
    to_email: str,
    to_name: str,
    title: str,
    body: str,
    url: str | None,
    created_at: datetime,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = formataddr((to_name, to_email))
    msg["Subject"] = title
    msg["Date"] = format_datetime(created_at)
    msg["Message-ID"] = message_id(notification_id, settings.base_url)
    # RFC 3834: vacation responders must not answer machine mail.
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Fieldpunch-Notification"] = notification_id
    text = body + (f"\n\n{url}\n" if url else "\n")
    msg.set_content(text)
    return msg


async def send(settings: Settings, msg: EmailMessage, timeout_s: float = 30) -> None:
    """Hand the message to the configured SMTP server (cancellable, unlike smtplib in a thread)."""
    assert settings.smtp_host
    await aiosmtplib.send(
        msg,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_user or None,
        password=settings.smtp_password or None,
        use_tls=settings.smtp_tls == "tls",
        start_tls=settings.smtp_tls == "starttls",
        timeout=timeout_s,
    )
