"""What fieldpunch notifies about, and the channels each kind uses unless a person chose otherwise.

The in-app inbox (and with it the live feed) always gets every notification: it is the record.
Preferences choose the extra channels: `email` and `push`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Channel = Literal["email", "push"]
CHANNELS: tuple[Channel, ...] = ("email", "push")


@dataclass(frozen=True, slots=True)
class Kind:
    label: str
    channels: tuple[Channel, ...]  # defaults
    urgent: bool = False  # push Urgency: high


KINDS: dict[str, Kind] = {
    "anomaly.critical": Kind("A critical anomaly on a live punch", ("email", "push"), urgent=True),
    "anomaly.escalated": Kind("An anomaly nobody reviewed in time", ("email", "push"), urgent=True),
    "reminder.shift": Kind("Reminders to clock in or out", ("push",)),
    "reminder.visit": Kind("Reminders of planned visits", ("push",)),
    "reminder.task": Kind("Reminders of my overdue tasks", ("push",)),
    "correction.decided": Kind("Decisions on my correction requests", ("push",)),
    "anomaly.decided": Kind("Review decisions on my flagged punches", ("push",)),
}
# Sent on request to check one's own channels: every channel that is set up, no preferences.
TEST = "test"
# Kinds robots can subscribe to (chat groups care about alerts, not personal reminders).
ROBOT_KINDS: tuple[str, ...] = ("anomaly.critical", "anomaly.escalated")


def live_topic(kind: str) -> str:
    """The live-feed event type: API.md names `reminder`; everything else is a notification."""
    return "reminder" if kind.startswith("reminder.") else "notification.created"
