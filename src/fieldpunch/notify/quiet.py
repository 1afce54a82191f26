"""Quiet hours (pure): when a message that arrives now may go out to a person's phone or mailbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local wall-clock window, e.g. 22:00–07:00 (crossing midnight) in the org's time zone."""

    start: time
    end: time

    @classmethod
    def parse(cls, start: str | None, end: str | None) -> QuietHours | None:
        if not start or not end:
            return None
        return cls(time.fromisoformat(start), time.fromisoformat(end))


def release_at(now: datetime, tz: ZoneInfo, quiet: QuietHours | None) -> datetime:
    """`now` outside quiet hours; inside them, the UTC instant they end."""
    if quiet is None or quiet.start == quiet.end:
        return now
    local = now.astimezone(tz)
    t = local.time().replace(tzinfo=None)
    if quiet.start < quiet.end:
        inside, end_day = quiet.start <= t < quiet.end, local.date()
    else:  # crosses midnight
        inside = t >= quiet.start or t < quiet.end
        end_day = local.date() if t < quiet.end else local.date() + timedelta(days=1)
    if not inside:
        return now
    # A DST gap at the end time resolves forward (zoneinfo's fold=0), never into the window.
    return datetime.combine(end_day, quiet.end, tzinfo=tz).astimezone(UTC)
