"""The requests a benchmark sends, built before timing as the field app would send them: signed
punches (RFC 8785 JSON, ECDSA P-256, r||s, base64url) and batches; `Pool` hands each out once and
`load` sends them through bench/loadgen.py in its own process.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
import uuid
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import rfc8785
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from bench.harness import PY, ROOT, code_env, sayer
from bench.loadgen import Spec, build_request, write_requests
from bench.world import Staff, World, bssid, offset, ok
from fieldpunch.devices.keys import b64url_encode

_MS = timedelta(milliseconds=1)
say = sayer("load")


def sign(key: ec.EllipticCurvePrivateKey, body: dict[str, Any], device_id: str) -> dict[str, Any]:
    """As the field app signs: ECDSA P-256 over RFC 8785 JSON without `signature`, r||s."""
    unsigned = {**body, "device_id": device_id}
    der = key.sign(rfc8785.dumps(unsigned), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return {**unsigned, "signature": b64url_encode(r.to_bytes(32, "big") + s.to_bytes(32, "big"))}


RECENT = 64  # more than the connections of any run, so a person is never in flight twice


class Maker:
    """Fresh signed punches (never a repeated client_id) as ready-to-send HTTP requests."""

    def __init__(self, world: World, port: int, rng: random.Random) -> None:
        self.world, self.port, self.rng = world, port, rng
        self.made = 0
        self.singles_by: list[Staff] = []  # whose each request of `singles` is, in order
        self._recent: deque[str] = deque(maxlen=RECENT)
        self._recent_ids: set[str] = set()

    def body(self, who: Staff) -> dict[str, Any]:
        """A signed clock-in/out at the person's place, with a time proof anchored at setup.

        Kinds alternate, the position stays within a few metres and the proof's monotonic clock
        follows real time, so one person's punches make a plausible sequence; 1% are 50-500 m
        outside the fence (flagged outside_geofence / impossible_speed).
        Many punches a minute for one person: see --duplicate-window-min.
        """
        rng = self.rng
        place = who.home
        if who.spot is None:
            bearing, dist = rng.uniform(0, 2 * math.pi), rng.uniform(0, 0.5) * place.radius_m
            who.spot = offset(
                place.lat, place.lon, dist * math.cos(bearing), dist * math.sin(bearing)
            )
        if rng.random() < 0.01:  # somewhere else entirely: outside the fence, too fast
            bearing, dist = rng.uniform(0, 2 * math.pi), place.radius_m + rng.uniform(50, 500)
            lat, lon = offset(
                place.lat, place.lon, dist * math.cos(bearing), dist * math.sin(bearing)
            )
        else:  # GPS noise of a few metres, well within the reported accuracy
            lat, lon = offset(*who.spot, rng.gauss(0, 2), rng.gauss(0, 2))
        wifi = [{"bssid": b, "ssid": "SITE", "rssi": rng.randint(-80, -40)} for b in place.bssids]
        wifi = wifi[: rng.randint(1, 2)] if wifi else []
        wifi += [
            {
                "bssid": bssid(rng),
                "ssid": f"NET-{rng.randrange(1000)}",
                "rssi": -rng.randint(50, 95),
            }
            for _ in range(rng.randint(1, 3) - (1 if wifi else 0))
        ]
        captured = datetime.now(UTC)
        since_anchor_ms = int((captured - datetime.fromisoformat(who.anchor_now)) / _MS)
        who.clocked_in = not who.clocked_in
        self.made += 1
        body = {
            "client_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "kind": "clock_in" if who.clocked_in else "clock_out",
            "captured_at": captured.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "location": {
                "lat": round(lat, 7),
                "lon": round(lon, 7),
                "accuracy_m": round(rng.uniform(8, 35), 1),
                "crs": "wgs84",
                "source": "gps",
            },
            "wifi": wifi,
            "time_proof": {
                "anchor_token": who.anchor_token,
                "anchor_server_time": who.anchor_now,
                "anchor_elapsed_ms": 1000,
                "elapsed_ms": 1000 + max(0, since_anchor_ms),
            },
        }
        return sign(who.key, body, who.device_id)

    def _request(self, path: str, who: Staff, payload: Any) -> bytes:
        headers = {"Authorization": f"Bearer {who.token}", "Content-Type": "application/json"}
        return build_request("POST", path, "127.0.0.1", self.port, headers, orjson.dumps(payload))

    def single(self, who: Staff) -> bytes:
        return self._request("/api/v1/punches", who, self.body(who))

    def singles(self, n: int) -> list[bytes]:
        who = [self._next_person() for _ in range(n)]
        self.singles_by += who
        return [self.single(w) for w in who]

    def _next_person(self) -> Staff:
        """Anyone but the people of the last few requests: nobody's phone sends two punches
        at once (in flight together, they would race for the person's chain and the later
        one would often commit first: a late arrival every time, which is not a working day).
        """
        staff = self.world.staff
        while True:
            who = self.rng.choice(staff)
            if len(staff) <= 2 * RECENT or who.device_id not in self._recent_ids:
                break
        self._recent.append(who.device_id)
        self._recent_ids = set(self._recent)
        return who

    def unmake(self, start: int, end: int) -> None:
        """Singles [start, end) will never be sent: their people's next kinds are as before."""
        for who in self.singles_by[start:end]:
            who.clocked_in = not who.clocked_in

    def batches(self, n: int, size: int) -> list[bytes]:
        out = []
        for _ in range(n):
            who = self.rng.choice(self.world.staff)
            punches = [self.body(who) for _ in range(size)]
            out.append(self._request("/api/v1/punches/batch", who, {"punches": punches}))
        return out


async def sanity(base: str, maker: Maker, n: int = 40) -> dict[str, Any]:
    """Before timing: are these punches accepted, signed OK and matched, as intended?"""
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        statuses: Counter[str] = Counter()
        verdicts: Counter[str] = Counter()
        matched = signed = 0
        for _ in range(n):
            who = maker.rng.choice(maker.world.staff)
            r = await client.post(
                "/api/v1/punches",
                json=maker.body(who),
                headers={"Authorization": f"Bearer {who.token}"},
            )
            statuses[str(r.status_code)] += 1
            if r.status_code == 201:
                b = r.json()
                verdicts[b["status"]] += 1
                matched += b.get("place") is not None
                signed += b.get("signature_ok") is True
                for a in b.get("anomalies", []):
                    verdicts[f"anomaly:{a['rule']}"] += 1
        who = maker.world.staff[0]
        r = await client.post(
            "/api/v1/punches/batch",
            json={"punches": [maker.body(who) for _ in range(10)]},
            headers={"Authorization": f"Bearer {who.token}"},
        )
        batch = Counter(str(x["status"]) for x in ok(r, "batch")["results"])
    return {
        "punches": n,
        "http_status": dict(statuses),
        "verdicts": dict(verdicts),
        "signature_ok_share": round(signed / n, 3),
        "place_matched_share": round(matched / n, 3),
        "batch_item_status": dict(batch),
    }


def load(spec: Spec, requests: Sequence[bytes], tmp: Path) -> dict[str, Any]:
    """Run bench/loadgen.py in its own process; its result as a dict."""
    req_path = tmp / f"requests-{spec.label}.bin"
    write_requests(req_path, requests)
    spec.requests_path = str(req_path)
    spec_path = tmp / f"spec-{spec.label}.json"
    spec_path.write_text(json.dumps(asdict(spec)))
    try:
        proc = subprocess.run(  # noqa: S603 - our own interpreter and arguments
            [PY, "-m", "bench.loadgen", str(spec_path)],
            cwd=ROOT,
            env=code_env(),
            capture_output=True,
            text=True,
            timeout=spec.seconds + spec.grace_s + 60,
            check=False,
        )
    finally:
        req_path.unlink(missing_ok=True)
    if proc.returncode != 0:
        raise RuntimeError(f"loadgen failed: {proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout)
    lat = result["latency_ms"]
    say(
        f"  {spec.label}: {result['ok']}/{result['sent']} ok, {result['ok_rps']:.0f}/s, "
        f"p50 {lat['p50']} ms, p99 {lat['p99']} ms, statuses {result['statuses']}, "
        f"cpu% {result['cpu_pct']}"
    )
    return result


class Pool:
    """Requests built ahead, handed out once each (a client_id is never sent twice)."""

    def __init__(self, make: Callable[[int], list[bytes]]) -> None:
        self.make = make
        self.items: list[bytes] = []
        self.used = 0

    def ensure(self, n: int) -> None:
        if len(self.items) - self.used < n:
            self.items += self.make(n - (len(self.items) - self.used))

    def take(self, n: int) -> list[bytes]:
        self.ensure(n)
        out = self.items[self.used : self.used + n]
        self.used += n
        return out

    def run(self, tmp: Path, spec: Spec, n: int) -> dict[str, Any]:
        """`load` the next n requests; those it had no time to send stay next in line.

        A person's punches are built in order (clock-in, clock-out, …): skipping the unsent
        tail of one run would make the next run's punches break that sequence.
        """
        result = load(spec, self.take(n), tmp)
        self.used -= n - int(result["sent"])
        return result

    def discard(self) -> tuple[int, int]:
        """Never send the requests built so far and not yet sent (`rewind` still resends them).

        Returns their range.
        """
        unsent = (self.used, len(self.items))
        self.used = len(self.items)
        return unsent

    def rewind(self) -> None:
        """Send the same requests again to another server (whose table has none of them)."""
        self.used = 0
