"""Write web/tests/vectors.json: punches, their RFC 8785 bytes and signatures from Python.

    .venv/bin/python web/scripts/make_vectors.py

The private key is fixed (a constant scalar) so the public key never changes; ECDSA signatures
are randomised, so re-running changes them, and both test suites accept any valid one:
- web/tests/signing.test.ts: canonicalize() equals `canonical`, WebCrypto verifies `signature`;
- tests/unit/test_vectors.py: fieldpunch.kit.canonical equals `canonical`, the server's
  verify_signature accepts `signature` and refuses a tampered copy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from fieldpunch.devices.keys import b64url_encode

SCALAR = 0x6F1E_1D_2C_3B_4A_5968_7786_95A4_B3C2_D1E0_F00F_1E2D_3C4B_5A69_7887_96A5_B4C3_D2E1
OUT = Path(__file__).resolve().parent.parent / "tests" / "vectors.json"

PUNCHES: list[dict[str, Any]] = [
    {
        "client_id": "6f0c1c8e-1f5b-4c69-9a77-3a1b4c2d9e10",
        "kind": "clock_in",
        "captured_at": "2026-11-27T00:58:03.120Z",
        "location": {
            "lat": 31.2397,
            "lon": 121.4998,
            "accuracy_m": 12.5,
            "crs": "wgs84",
            "source": "fused",
            "altitude_m": 8,
            "speed_mps": 0,
        },
        "offline": False,
        "time_proof": {
            "anchor_token": "m6Hq3oV2c2xZ5kq0c1c2N3R4b5V6a7S8d9F0g1H2j3k",
            "anchor_server_time": "2026-11-27T00:30:00.250000Z",
            "anchor_elapsed_ms": 1000,
            "elapsed_ms": 1684120,
        },
        "device_id": "dev_01JDXYZABCDEFGHJKMNPQRSTVW",
    },
    {
        "client_id": "0d6a8b52-9c1e-4e3f-8a7b-6c5d4e3f2a1b",
        "kind": "visit_in",
        "captured_at": "2026-11-27T02:15:00.000Z",
        "location": {
            "lat": -33.8688,
            "lon": 151.2093,
            "accuracy_m": 3.0000000000000004,
            "crs": "gcj02",
            "source": "gps",
            "bearing_deg": 359.9,
        },
        "customer_id": "cus_01JDXYZ",
        "note": '拜访王经理：谈了续约。\n"quoted" \\ tab\there é 😀 \u0001',
        "photo_id": "pho_01JDXYZ",
        "offline": True,
        "device_id": "dev_01JDXYZABCDEFGHJKMNPQRSTVW",
        "extra_numbers": [1e21, 1e-7, 123456789012345680000.0, 0.1, -0.5, 5e-324, 100],
    },
]


def main() -> None:
    private = ec.derive_private_key(SCALAR, ec.SECP256R1())
    spki = private.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    vectors = []
    for body in PUNCHES:
        message = rfc8785.dumps(body)
        r, s = decode_dss_signature(private.sign(message, ec.ECDSA(hashes.SHA256())))
        sig = b64url_encode(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
        vectors.append({"punch": body, "canonical": message.decode("utf-8"), "signature": sig})
    doc = {
        "about": "Shared signing vectors: see web/scripts/make_vectors.py",
        "public_key": b64url_encode(spki),
        "vectors": vectors,
    }
    OUT.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
