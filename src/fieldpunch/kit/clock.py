"""The one place that asks the system for the time, so tests and logic agree on UTC."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
