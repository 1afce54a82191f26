"""What the `photo_reused` search costs at upload, with N photos stored in the org's window.

    fieldpunch bench photo_reuse [--sizes 1000,10000,100000] [--pg] [--repeat 20]

Seeds N photo rows with random pHashes (uploaded over the last 80 days, inside the default
90-day window) into a fresh SQLite file, and with --pg into a fresh PostgreSQL database on
127.0.0.1, then times the upload's search as the service runs it (photos/service._nearest:
the window's hashes read in one statement, the nearest found in Python), median of --repeat.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from fieldpunch.auth.principal import Principal
from fieldpunch.auth.scopes import ALL
from fieldpunch.db.engine import Database
from fieldpunch.db.migrate import upgrade
from fieldpunch.orgs.service import create_org
from fieldpunch.photos import service
from fieldpunch.photos.models import Photo

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


async def _seed(db: Database, n: int) -> Principal:
    async with db.transaction() as s:
        made = await create_org(
            s,
            name="Bench",
            admin_email="b@example.com",
            admin_password="x" * 12,
            timezone="Asia/Shanghai",
        )
    rng = random.Random(7)  # noqa: S311 - reproducible data, not secrets
    now = datetime.now(UTC)
    for start in range(0, n, 5000):
        rows = [
            {
                "id": f"pho_{i:010d}",
                "org_id": made.org_id,
                "user_id": made.admin_user_id,
                "content_type": "image/jpeg",
                "width": 2560,
                "height": 1920,
                "size_bytes": 400_000,
                "sha256": "0" * 64,
                "storage_key": f"{made.org_id}/pho_{i:010d}.jpg",
                "phash": rng.getrandbits(64) - (1 << 63),
                "created_at": now - timedelta(seconds=rng.randrange(80 * 86400)),
                "updated_at": now,
            }
            for i in range(start, min(n, start + 5000))
        ]
        async with db.transaction() as s:
            await s.execute(insert(Photo), rows)
    return Principal(made.org_id, made.admin_user_id, None, None, frozenset(ALL), None)


async def _measure(url: str, n: int, repeat: int) -> tuple[float, int]:
    db = Database(url)
    try:
        p = await _seed(db, n)
        rng = random.Random(11)  # noqa: S311
        times = []
        compared = 0
        for _ in range(repeat):
            async with db.transaction() as s:
                t = time.perf_counter()
                found = await service._nearest(s, p, rng.getrandbits(64) - (1 << 63))
                times.append((time.perf_counter() - t) * 1000)
                compared = found["compared"]
        return statistics.median(times), compared
    finally:
        await db.dispose()


async def _pg_db(name: str, drop: bool = False) -> None:
    import asyncpg  # type: ignore[import-untyped]  # the app's PostgreSQL driver

    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(f'{"DROP" if drop else "CREATE"} DATABASE "{name}"')
    finally:
        await conn.close()


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="fieldpunch bench photo_reuse")
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--pg", action="store_true")
    ap.add_argument("--repeat", type=int, default=20)
    o = ap.parse_args(argv)
    for n in (int(x) for x in o.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            upgrade(url)
            ms, compared = asyncio.run(_measure(url, n, o.repeat))
            print(f"sqlite   {n:>7} photos: {ms:8.1f} ms per upload (compared {compared})")
        if o.pg:
            name = f"bench_{uuid.uuid4().hex[:10]}"
            asyncio.run(_pg_db(name))
            try:
                url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
                upgrade(url)
                ms, compared = asyncio.run(_measure(url, n, o.repeat))
                print(f"postgres {n:>7} photos: {ms:8.1f} ms per upload (compared {compared})")
            finally:
                asyncio.run(_pg_db(name, drop=True))
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
