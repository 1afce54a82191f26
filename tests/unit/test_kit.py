"""Pure building blocks: ids, cursors, tokens, team trees, settings."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from fieldpunch.auth import apikeys, tokens
from fieldpunch.config import ConfigError, load_settings
from fieldpunch.kit.errors import Invalid
from fieldpunch.kit.ids import new_id
from fieldpunch.kit.pagination import decode_cursor, encode_cursor
from fieldpunch.teams.tree import descendants

SECRET = "s" * 40


def test_ids_sort_in_creation_order_even_within_a_millisecond() -> None:
    ids = [new_id("usr") for _ in range(5000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(len(i) == 30 and i.startswith("usr_") for i in ids)


def test_an_id_is_its_millisecond_then_random_bits_in_crockford_base32() -> None:
    before = int(time.time() * 1000)
    made = new_id("pun")
    after = int(time.time() * 1000)
    value = 0
    for char in made.removeprefix("pun_"):
        value = value * 32 + "0123456789ABCDEFGHJKMNPQRSTVWXYZ".index(char)
    assert value < 2**128 and before <= value >> 80 <= after


def test_cursor_round_trip_and_garbage() -> None:
    assert decode_cursor(encode_cursor("usr_01KBXJ0M5N6ZT4T3VYQ2W8R7PA")) == (
        "usr_01KBXJ0M5N6ZT4T3VYQ2W8R7PA"
    )
    for bad in ("!!!", "bm90LWFuLWlk", "\u00e9t\u00e9"):
        with pytest.raises(Invalid):
            decode_cursor(bad)


def test_tokens_kinds_expiry_and_tampering() -> None:
    claims = tokens.TokenClaims("usr_1", "org_1", "access", 3)
    token = tokens.issue(SECRET, claims, 60)
    assert tokens.read(SECRET, token, "access") == claims
    assert tokens.read(SECRET, token, "refresh") is None
    assert tokens.read("t" * 40, token, "access") is None
    assert tokens.read(SECRET, token[:-2] + "xx", "access") is None
    assert tokens.read(SECRET, tokens.issue(SECRET, claims, -1), "access") is None


def test_api_key_tokens() -> None:
    secret, digest, hint = apikeys.make()
    token = apikeys.token_for("key_01", secret)
    assert apikeys.parse(token) == ("key_01", secret) and hint == secret[-4:]
    assert apikeys.matches(secret, digest) and not apikeys.matches(secret + "x", digest)
    for bad in ("fpk_", "fpk_key", "fpk_.x", "Bearer x", "fpk_key_01."):
        assert apikeys.parse(bad) is None


def test_team_descendants_include_deep_children_only() -> None:
    edges = [("a", None), ("b", "a"), ("c", "b"), ("d", "c"), ("x", None), ("y", "x")]
    assert descendants(edges, ["b"]) == {"b", "c", "d"}
    assert descendants(edges, ["a", "x"]) == {"a", "b", "c", "d", "x", "y"}
    assert descendants(edges, []) == frozenset()


def test_settings_defaults_and_errors(tmp_path: Path) -> None:
    s = load_settings(data_dir=tmp_path)
    assert s.embedded and s.db_url.endswith("fieldpunch.sqlite3")
    key = s.signing_key
    assert (
        len(key) >= 32 and load_settings(data_dir=tmp_path).signing_key == key
    )  # kept, not remade
    pg = load_settings(database_url="postgres://u@h/db", secret_key=SECRET)
    assert pg.db_url == "postgresql+asyncpg://u@h/db" and not pg.embedded
    with pytest.raises(ConfigError, match="FIELDPUNCH_SECRET_KEY"):
        load_settings(database_url="postgresql://u@h/db")
    with pytest.raises(ConfigError, match="FIELDPUNCH_BASE_URL"):
        load_settings(base_url="ftp://x")
    with pytest.raises(ConfigError, match="FIELDPUNCH_REDIS_URL"):
        load_settings(redis_url="http://x")
