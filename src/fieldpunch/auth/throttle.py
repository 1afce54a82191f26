"""Sign-in throttling: bounded password guessing per account and per client address.

Two fixed-window counters per attempt, each window starting at its first failure: one for the
email (case-insensitive) from this address, and a higher one for the address alone, so one
address cannot spray guesses across many accounts either. The per-account counter is not global:
an attacker elsewhere cannot lock a person out of their own phone.

An attempt takes a slot on both counters *before* the password is checked, atomically with the
limit check, so a burst of concurrent guesses cannot all slip through before the first failure
is counted. A success gives its slots back (the account counter is cleared, the address counter
decremented: an office of people behind one NAT signing in every morning is not a failure).
Unknown emails are counted exactly like known ones, so the answers never tell them apart.

Counters live in Redis when it is configured (every process shares them) and in this process's
memory otherwise (embedded mode is one process). Time comes from an injected clock and is
passed to the store, so tests move it without sleeping; Redis's own expiry only collects
garbage, well after a window has ended.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as redis
from sqlalchemy.engine import make_url

from fieldpunch.config import Settings
from fieldpunch.kit.errors import TooManyRequests

log = logging.getLogger("fieldpunch.auth")

Clock = Callable[[], float]


class Store(Protocol):
    async def take(self, keys: tuple[str, str], limits: tuple[int, int], now: float) -> float:
        """Count one attempt on both keys unless either is at its limit in its current window.
        0 when counted, else the seconds until the blocking window ends."""
        ...

    async def give_back(self, clear: str, decrement: str, now: float) -> None:
        """After a success: forget `clear`, and uncount this attempt from `decrement`."""
        ...

    async def close(self) -> None: ...


class MemoryStore:
    """One process's counters. Every method is free of awaits, so each is atomic on the loop."""

    MAX_KEYS = 100_000  # bounded: a spray of made-up emails cannot grow it without limit

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._counts: dict[str, tuple[int, float]] = {}  # key -> (failures, window end)

    def _current(self, key: str, now: float) -> tuple[int, float]:
        n, end = self._counts.get(key, (0, 0.0))
        return (n, end) if end > now else (0, now + self.window_s)

    async def take(self, keys: tuple[str, str], limits: tuple[int, int], now: float) -> float:
        current = [self._current(k, now) for k in keys]
        blocked = [end - now for (n, end), limit in zip(current, limits, strict=True) if n >= limit]
        if blocked:
            return max(blocked)
        if len(self._counts) >= self.MAX_KEYS:
            self._evict(now)
        for key, (n, end) in zip(keys, current, strict=True):
            self._counts[key] = (n + 1, end)
        return 0.0

    async def give_back(self, clear: str, decrement: str, now: float) -> None:
        self._counts.pop(clear, None)
        n, end = self._counts.get(decrement, (0, 0.0))
        if end > now and n > 0:
            self._counts[decrement] = (n - 1, end)

    def _evict(self, now: float) -> None:
        for key in [k for k, (_, end) in self._counts.items() if end <= now]:
            del self._counts[key]
        # Still full of live windows: drop the oldest ones rather than grow.
        excess = len(self._counts) - self.MAX_KEYS // 2
        if len(self._counts) >= self.MAX_KEYS and excess > 0:
            for key in list(itertools.islice(self._counts, excess)):
                del self._counts[key]

    async def close(self) -> None:
        self._counts.clear()


# KEYS: the two counters (hashes {n, end}, end in ms). ARGV: now_ms, window_ms, limit1, limit2.
# Returns 0 when counted, else the milliseconds until the blocking window ends.
_TAKE = """
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local state, wait = {}, 0
for i = 1, 2 do
  local n = tonumber(redis.call('HGET', KEYS[i], 'n') or '0')
  local stop = tonumber(redis.call('HGET', KEYS[i], 'end') or '0')
  if stop <= now then n, stop = 0, now + window end
  if n >= tonumber(ARGV[2 + i]) then wait = math.max(wait, stop - now) end
  state[i] = {n, stop}
end
if wait > 0 then return wait end
for i = 1, 2 do
  redis.call('HSET', KEYS[i], 'n', state[i][1] + 1, 'end', state[i][2])
  redis.call('PEXPIRE', KEYS[i], state[i][2] - now + window)
end
return 0
"""

# KEYS: the counter to clear, the counter to decrement. ARGV: now_ms.
_GIVE_BACK = """
redis.call('DEL', KEYS[1])
local stop = tonumber(redis.call('HGET', KEYS[2], 'end') or '0')
if stop > tonumber(ARGV[1]) and tonumber(redis.call('HGET', KEYS[2], 'n') or '0') > 0 then
  redis.call('HINCRBY', KEYS[2], 'n', -1)
end
return 0
"""


class RedisStore:
    """Counters shared by every process on one Redis; each step is one atomic Lua script."""

    def __init__(self, client: redis.Redis, window_s: float) -> None:
        self.client, self.window_ms = client, int(window_s * 1000)
        self._take = client.register_script(_TAKE)
        self._give_back = client.register_script(_GIVE_BACK)

    async def take(self, keys: tuple[str, str], limits: tuple[int, int], now: float) -> float:
        now_ms = int(now * 1000)
        wait_ms = await self._take(keys=list(keys), args=[now_ms, self.window_ms, *limits])
        return int(wait_ms) / 1000

    async def give_back(self, clear: str, decrement: str, now: float) -> None:
        await self._give_back(keys=[clear, decrement], args=[int(now * 1000)])

    async def close(self) -> None:
        await self.client.aclose()


@dataclass
class LoginThrottle:
    store: Store
    max_failures: int
    ip_max_failures: int
    namespace: str = "fieldpunch:login"
    clock: Clock = time.time

    def _keys(self, email: str, ip: str) -> tuple[str, str]:
        # Hashed: keys stay short and Redis never holds the email addresses themselves.
        who = hashlib.sha256(f"{email.strip().lower()}\x00{ip}".encode()).hexdigest()[:32]
        return f"{self.namespace}:acct:{who}", f"{self.namespace}:ip:{ip}"

    async def attempt(self, email: str, ip: str) -> None:
        """Count a sign-in attempt, or refuse it with 429 while either bound is reached."""
        try:
            wait = await self.store.take(
                self._keys(email, ip), (self.max_failures, self.ip_max_failures), self.clock()
            )
        except redis.RedisError:
            # Sign-in matters more than its throttle: let people in, and say so loudly.
            log.error("sign-in throttle: Redis unavailable, not throttling", exc_info=True)
            return
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise TooManyRequests(
                f"too many failed sign-ins; try again in {seconds} s", retry_after_s=seconds
            )

    async def succeeded(self, email: str, ip: str) -> None:
        account, address = self._keys(email, ip)
        try:
            await self.store.give_back(account, address, self.clock())
        except redis.RedisError:
            log.error("sign-in throttle: Redis unavailable", exc_info=True)

    async def close(self) -> None:
        await self.store.close()


def namespace_for(db_url: str) -> str:
    """One namespace per database, like the live channel: deployments sharing a Redis (or test
    runs) keep their counters apart."""
    return f"fieldpunch:login:{make_url(db_url).database or ''}"


def make_throttle(settings: Settings, clock: Clock = time.time) -> LoginThrottle:
    store: Store
    if settings.redis_url:
        # Short timeouts: a Redis that hangs must not hold sign-in for long (it fails open).
        client = redis.Redis.from_url(
            settings.redis_url, socket_timeout=2.0, socket_connect_timeout=2.0
        )
        store = RedisStore(client, settings.login_window_s)
    else:
        store = MemoryStore(settings.login_window_s)
    return LoginThrottle(
        store,
        settings.login_max_failures,
        settings.login_ip_max_failures,
        namespace_for(settings.db_url),
        clock,
    )
