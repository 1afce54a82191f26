"""Who sees which live event: the audience rule, tested directly (the socket tests cover wiring)."""

from __future__ import annotations

import pytest

from fieldpunch.live.scope import Audience

ADMIN = Audience("org_1", "usr_admin", None, ())
MANAGER = Audience("org_1", "usr_mgr", frozenset({"team_a"}), ())
STAFF = Audience("org_1", "usr_staff", frozenset(), ())


@pytest.mark.parametrize(
    ("who", "topic", "subject", "team", "expected"),
    [
        (MANAGER, "punch.created", "usr_staff", "team_a", True),
        (MANAGER, "punch.created", "usr_other", "team_b", False),
        (ADMIN, "punch.created", "usr_other", "team_b", True),
        (STAFF, "punch.created", "usr_staff", "team_a", True),
        # Personal topics: only the subject, however far the viewer's reach.
        (STAFF, "reminder", "usr_staff", "team_a", True),
        (MANAGER, "reminder", "usr_staff", "team_a", False),
        (ADMIN, "reminder", "usr_staff", "team_a", False),
        (ADMIN, "notification.created", "usr_staff", "team_a", False),
        (MANAGER, "anomaly.created", None, None, False),
        (ADMIN, "anomaly.created", None, None, True),
    ],
)
def test_who_sees_what(
    who: Audience, topic: str, subject: str | None, team: str | None, expected: bool
) -> None:
    assert who.sees_event(topic, subject, team) is expected


def test_hidden_topics_win() -> None:
    blind = Audience("org_1", "usr_mgr", None, ("anomaly.",))
    assert not blind.sees_event("anomaly.created", "usr_mgr", None)
