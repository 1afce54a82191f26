"""Argon2id password hashes (pwdlib), computed off the event loop."""

from __future__ import annotations

from pwdlib import PasswordHash
from starlette.concurrency import run_in_threadpool

_hasher = PasswordHash.recommended()
# Verified when the user does not exist, so a wrong email costs as long as a wrong password.
_DUMMY = _hasher.hash("fieldpunch-timing-equaliser")

MIN_LENGTH = 8


def hash_password_sync(password: str) -> str:
    return _hasher.hash(password)


async def hash_password(password: str) -> str:
    return await run_in_threadpool(_hasher.hash, password)


async def verify_password(password: str, hashed: str | None) -> bool:
    if hashed is None:
        await run_in_threadpool(_hasher.verify, password, _DUMMY)
        return False
    return await run_in_threadpool(_hasher.verify, password, hashed)
