"""Build and sign punches the way the field app does."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import rfc8785
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from fieldpunch.devices.keys import b64url_encode

OFFICE = (31.2397, 121.4998)  # WGS-84 (lat, lon), Lujiazui


def punch(
    lat: float = OFFICE[0],
    lon: float = OFFICE[1],
    *,
    kind: str = "clock_in",
    accuracy: float = 12.0,
    captured_at: datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    at = captured_at or datetime.now(UTC)
    body: dict[str, Any] = {
        "client_id": str(uuid.uuid4()),
        "kind": kind,
        "captured_at": at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "location": {
            "lat": lat,
            "lon": lon,
            "accuracy_m": accuracy,
            "crs": "wgs84",
            "source": "gps",
        },
    }
    body.update(extra)
    return body


def sign(
    private: ec.EllipticCurvePrivateKey, body: dict[str, Any], device_id: str
) -> dict[str, Any]:
    """IEEE P1363 r‖s over RFC 8785 JSON of the punch without `signature`, as WebCrypto signs."""
    unsigned = {k: v for k, v in body.items() if k != "signature"} | {"device_id": device_id}
    der = private.sign(rfc8785.dumps(unsigned), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return unsigned | {"signature": b64url_encode(r.to_bytes(32, "big") + s.to_bytes(32, "big"))}


def later(minutes: float) -> datetime:
    return datetime.now(UTC) + timedelta(minutes=minutes)
