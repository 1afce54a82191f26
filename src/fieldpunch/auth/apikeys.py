"""API key tokens: `fpk_<key id>.<secret>`; only a SHA-256 of the secret is stored.

The secret has 256 bits of entropy, so a fast hash is safe and keeps lookups cheap.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

PREFIX = "fpk_"


def make() -> tuple[str, str, str]:
    """(secret, its hash, a short hint shown in lists)."""
    secret = secrets.token_urlsafe(32)
    return secret, digest(secret), secret[-4:]


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_for(key_id: str, secret: str) -> str:
    return f"{PREFIX}{key_id}.{secret}"


def parse(token: str) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed token, else None."""
    if not token.startswith(PREFIX):
        return None
    key_id, sep, secret = token[len(PREFIX) :].partition(".")
    if not sep or not key_id or not secret:
        return None
    return key_id, secret


def matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(digest(secret), stored_hash)
