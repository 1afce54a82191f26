"""Per-person rate limit on punch intake (POST /punches and /punches/batch).

One token bucket per person (org and user id): `burst` punches, refilled at `rate_per_min`. A
request costs one token per punch it carries (a batch of 1,000 costs 1,000), because a punch's
cost is per punch: the review's 1,000-punch batches with 100 Wi-Fi entries each held the
server for seconds. A request is admitted when the bucket holds its cost, or is full: a batch
larger than the bucket (when `burst` is set below the API's 1,000) still goes through once the
bucket has filled, and leaves it in debt, so an offline backlog is never refused for good. A
refused request is answered 429 with `Retry-After` and nothing is stored: a phone's queue keeps
the punches and sends them again (the field app's outbox retries on its next sync).

The keys are people, not devices or API keys: punches are made by people only (an API key gets
403), and `device_id` is the punch's own claim, unverified when the limit is checked.

The shape is sign-in throttling's (auth/throttle.py): a store in this process's memory, or in
Redis when configured (one atomic Lua script per request, shared by every process), time from
an injected clock passed to the store, and failing open when Redis is down (punches matter more
than their limit). The bucket is kept as its "full again at" time (GCRA): one number per person.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as redis

from fieldpunch.auth.throttle import Clock, namespace_for, redis_client
from fieldpunch.config import Settings
from fieldpunch.kit.errors import TooManyRequests

log = logging.getLogger("fieldpunch.punches")


class Store(Protocol):
    async def take(self, key: str, cost: int, rate: float, burst: int, now: float) -> float:
        """Charge `cost` tokens to `key`'s bucket (`burst` tokens, `rate` a second) if it holds
        min(cost, burst) of them; 0 when charged, else the seconds until it will."""
        ...

    async def close(self) -> None: ...


def _wait(full_at: float, cost: int, rate: float, burst: int, now: float) -> float:
    """Seconds until a bucket that is full again at `full_at` holds min(cost, burst) tokens."""
    owed = max(full_at - now, 0.0) * rate  # tokens missing from a full bucket
    return max(owed - (burst - min(cost, burst)), 0.0) / rate


class MemoryStore:
    """One process's buckets. `take` has no await, so it is atomic on the event loop."""

    MAX_KEYS = 100_000  # bounded: full buckets are forgotten first (a full bucket is no entry)

    def __init__(self) -> None:
        self._full_at: dict[str, float] = {}

    async def take(self, key: str, cost: int, rate: float, burst: int, now: float) -> float:
        full_at = self._full_at.get(key, now)
        wait = _wait(full_at, cost, rate, burst, now)
        if wait > 0:
            return wait
        if key not in self._full_at and len(self._full_at) >= self.MAX_KEYS:
            self._evict(now)
        self._full_at[key] = max(full_at, now) + cost / rate
        return 0.0

    def _evict(self, now: float) -> None:
        for key in [k for k, at in self._full_at.items() if at <= now]:
            del self._full_at[key]
        if len(self._full_at) >= self.MAX_KEYS:  # all busy: forgetting one refills it, no more
            for key in list(self._full_at)[: self.MAX_KEYS // 2]:
                del self._full_at[key]

    async def close(self) -> None:
        self._full_at.clear()


# KEYS[1]: the bucket ("full again at", ms). ARGV: now_ms, ms per token, burst, cost.
# Returns 0 when charged, else the milliseconds to wait. The same arithmetic as `_wait`.
_TAKE = """
local now, per = tonumber(ARGV[1]), tonumber(ARGV[2])
local burst, cost = tonumber(ARGV[3]), tonumber(ARGV[4])
local full_at = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
if full_at < now then full_at = now end
local wait = (full_at - now) - (burst - math.min(cost, burst)) * per
if wait > 0 then return math.ceil(wait) end
full_at = full_at + cost * per
redis.call('SET', KEYS[1], string.format('%.0f', full_at), 'PX', math.ceil(full_at - now) + 1000)
return 0
"""


class RedisStore:
    """Buckets shared by every process on one Redis; each request is one atomic script."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._take = client.register_script(_TAKE)

    async def take(self, key: str, cost: int, rate: float, burst: int, now: float) -> float:
        wait_ms = await self._take(keys=[key], args=[int(now * 1000), 1000 / rate, burst, cost])
        return int(wait_ms) / 1000

    async def close(self) -> None:
        await self.client.aclose()


@dataclass
class PunchLimiter:
    store: Store
    rate_per_min: float  # 0: no limit
    burst: int
    namespace: str = "fieldpunch:punches"
    clock: Clock = time.time

    async def admit(self, org_id: str, user_id: str, punches: int) -> None:
        """Charge `punches` to the person, or refuse the request with 429 and Retry-After."""
        if self.rate_per_min <= 0 or punches <= 0:
            return
        key = f"{self.namespace}:{org_id}:{user_id}"
        try:
            wait = await self.store.take(
                key, punches, self.rate_per_min / 60, self.burst, self.clock()
            )
        except redis.RedisError:
            log.error("punch rate limit: Redis unavailable, not limiting", exc_info=True)
            return
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise TooManyRequests(
                f"too many punches from this person; send them again in {seconds} s "
                "(nothing was stored)",
                retry_after_s=seconds,
            )

    async def close(self) -> None:
        await self.store.close()


def make_limiter(settings: Settings, clock: Clock = time.time) -> PunchLimiter:
    store: Store = (
        RedisStore(redis_client(settings.redis_url)) if settings.redis_url else MemoryStore()
    )
    return PunchLimiter(
        store,
        settings.punch_rate_per_min,
        settings.punch_burst,
        namespace_for(settings.db_url, "punches"),
        clock,
    )
