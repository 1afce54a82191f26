"""Hash chains and Merkle roots: pure functions, shared by writing and by `audit verify`.

Each person's entries form a chain: hash_n = SHA-256(prev_hash ‖ seq ‖ canonical(content)).
Editing or deleting any entry breaks every later link; checkpoints sign a Merkle root over
all chain heads, so rewriting a whole chain (or cutting its tail) is caught too.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from fieldpunch.kit.canonical import canonical

GENESIS = "0" * 64
_CHECKPOINT_PURPOSE = b"fieldpunch/ledger-checkpoint/v1"


def entry_hash(prev_hash: str, seq: int, content: dict[str, Any]) -> str:
    h = hashlib.sha256()
    h.update(prev_hash.encode())
    h.update(b"|%d|" % seq)
    h.update(canonical(content))
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class Link:
    seq: int
    prev_hash: str
    hash: str
    content: dict[str, Any]


def first_break(links: Iterable[Link]) -> tuple[int, str] | None:
    """(seq, reason) of the first broken link of one chain given in seq order, else None."""
    expected_seq, prev = 1, GENESIS
    for link in links:
        if link.seq != expected_seq:
            return expected_seq, f"entry {expected_seq} is missing (found {link.seq})"
        if link.prev_hash != prev:
            return link.seq, "prev_hash does not match the previous entry"
        if entry_hash(link.prev_hash, link.seq, link.content) != link.hash:
            return link.seq, "content does not match its hash (edited)"
        expected_seq, prev = link.seq + 1, link.hash
    return None


def merkle_root(leaves: Sequence[str]) -> str:
    """Root over hex leaves (Bitcoin-style pairing, last one duplicated on odd levels)."""
    if not leaves:
        return hashlib.sha256(b"").hexdigest()
    level = [hashlib.sha256(leaf.encode()).digest() for leaf in leaves]
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        level = [hashlib.sha256(level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)]
    return level[0].hex()


def head_leaves(heads: dict[str, list[Any]]) -> list[str]:
    """Leaves of a checkpoint: `user_id:seq:hash`, sorted by user id."""
    return [f"{user}:{seq}:{h}" for user, (seq, h) in sorted(heads.items())]


def sign_checkpoint(secret: str, org_id: str, created_at: str, root: str) -> str:
    key = hmac.new(secret.encode(), _CHECKPOINT_PURPOSE, hashlib.sha256).digest()
    return hmac.new(key, f"{org_id}|{created_at}|{root}".encode(), hashlib.sha256).hexdigest()
