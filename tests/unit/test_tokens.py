"""Access tokens: a verified token is remembered, but never past its expiry.

Time is a clock the test moves: the token module's (`utcnow` to issue, `time.time` for what it
remembers) and PyJWT's (its `datetime.now` when it checks `exp`). Nothing here sleeps.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from types import SimpleNamespace
from typing import ClassVar

import jwt.api_jwt
import pytest

from fieldpunch.auth import tokens
from fieldpunch.auth.tokens import TokenClaims

SECRET = "unit-test-secret-that-is-long-enough-0123456789"


class Clock(datetime):
    """The test's instant, as PyJWT's module sees `datetime`: `now()` is `Clock.at`.

    The instants are of this class, so PyJWT's `isinstance(claim, datetime)` still holds for the
    times `issue` puts in a token.
    """

    at: ClassVar[Clock]

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> Clock:
        return cls.at.astimezone(tz)

    @classmethod
    def advance(cls, seconds: float) -> None:
        cls.at += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> type[Clock]:
    monkeypatch.setattr(Clock, "at", Clock(2026, 3, 2, 1, 0, tzinfo=UTC), raising=False)
    monkeypatch.setattr(tokens, "utcnow", lambda: Clock.at)
    monkeypatch.setattr(tokens, "time", SimpleNamespace(time=lambda: Clock.at.timestamp()))
    monkeypatch.setattr(jwt.api_jwt, "datetime", Clock)
    return Clock


def test_a_remembered_token_still_expires_and_other_keys_or_kinds_fail(
    clock: type[Clock],
) -> None:
    claims = TokenClaims("usr_1", "org_1", "access", 3)
    token = tokens.issue(SECRET, claims, 1)
    assert tokens.read(SECRET, token, "access") == claims
    assert tokens.read(SECRET, token, "access") == claims  # from memory now
    assert tokens.read(SECRET, token, "refresh") is None
    assert tokens.read(SECRET + "x", token, "access") is None
    clock.advance(0.999)
    assert tokens.read(SECRET, token, "access") == claims  # remembered until its expiry
    clock.advance(0.001)  # `exp` now: expired, remembered or not
    assert tokens.read(SECRET, token, "access") is None
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    assert tokens.read(SECRET, tampered, "access") is None
