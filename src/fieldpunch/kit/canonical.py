"""RFC 8785 canonical JSON: the exact bytes that are signed and hashed."""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785

# I-JSON's exact integer range: RFC 8785 (and JavaScript, which signs on the phones) stops there.
SAFE_INT = 2**53 - 1


def canonical(value: Any) -> bytes:
    return rfc8785.dumps(value)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digest(value: Any) -> str:
    return sha256_hex(canonical(value))


def unsafe_number(value: Any, path: tuple[str | int, ...] = ()) -> tuple[str | int, ...] | None:
    """Where `value` holds an integer RFC 8785 cannot represent exactly (None: nowhere)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return path if abs(value) > SAFE_INT else None
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        found = unsafe_number(item, (*path, key))
        if found is not None:
            return found
    return None
