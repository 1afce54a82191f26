"""The field app and the server agree on the signed bytes (web/tests/vectors.json, both suites)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from fieldpunch.devices.keys import load_p256
from fieldpunch.kit.canonical import canonical
from fieldpunch.punches.pipeline import verify_signature

VECTORS = Path(__file__).resolve().parents[2] / "web" / "tests" / "vectors.json"
DOC: dict[str, Any] = json.loads(VECTORS.read_text(encoding="utf-8"))


@pytest.mark.parametrize("vector", DOC["vectors"], ids=lambda v: v["punch"]["kind"])
def test_server_canonical_bytes_equal_the_vector(vector: dict[str, Any]) -> None:
    assert canonical(vector["punch"]) == vector["canonical"].encode("utf-8")


@pytest.mark.parametrize("vector", DOC["vectors"], ids=lambda v: v["punch"]["kind"])
def test_server_verifies_the_vector_signature(vector: dict[str, Any]) -> None:
    key, _ = load_p256(DOC["public_key"])
    signed = vector["punch"] | {"signature": vector["signature"]}
    assert verify_signature(key, signed, vector["signature"])
    tampered = copy.deepcopy(signed)
    tampered["location"]["lat"] += 0.0001
    assert not verify_signature(key, tampered, vector["signature"])
