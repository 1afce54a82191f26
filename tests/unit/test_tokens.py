"""Access tokens: a verified token is remembered, but never past its expiry."""

from __future__ import annotations

import time

import jwt

from fieldpunch.auth import tokens
from fieldpunch.auth.tokens import TokenClaims

SECRET = "unit-test-secret-that-is-long-enough-0123456789"


def test_a_remembered_token_still_expires_and_other_keys_or_kinds_fail() -> None:
    claims = TokenClaims("usr_1", "org_1", "access", 3)
    token = tokens.issue(SECRET, claims, 1)
    assert tokens.read(SECRET, token, "access") == claims
    assert tokens.read(SECRET, token, "access") == claims  # from memory now
    assert tokens.read(SECRET, token, "refresh") is None
    assert tokens.read(SECRET + "x", token, "access") is None
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    time.sleep(max(0.0, exp - time.time()) + 0.05)
    assert tokens.read(SECRET, token, "access") is None
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    assert tokens.read(SECRET, tampered, "access") is None
