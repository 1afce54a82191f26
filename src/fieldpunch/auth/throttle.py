"""Sign-in throttling: bounded password guessing per account and per client address.

Two fixed-window counters of *wrong passwords*, each window starting at its first failure: one
for the email (case-insensitive) from this address, and a higher one for the address alone, so
one address cannot spray guesses across many accounts either. The per-account counter is not
global: an attacker elsewhere cannot lock a person out of their own phone.

Only a wrong password counts. A sign-in that ends in a server error (no database connection, a
crash) or succeeds is not a failure; a success also clears its account's counter.

Yet a burst of concurrent guesses must not all slip through before the first failure is
counted: an attempt is admitted, atomically with the limit check, as *in flight* on both
counters, and failures plus attempts in flight never exceed a limit. An attempt that would
exceed it while the failures alone do not waits for one in flight to end (bounded by
`BUSY_WAIT_S`): ten correct sign-ins at once all get in, one after another if they must, and
twenty wrong ones at once get the limit's tries, then 429. Unknown emails are counted exactly
like known ones, so the answers never tell them apart.

Counters live in Redis when it is configured (every process shares them) and in this process's
memory otherwise (embedded mode is one process). On Redis an attempt in flight is a member with
a lease, so one whose process died stops counting once the lease ends. Time comes from an
injected clock and is passed to the store, so tests move it without sleeping; Redis's own
expiry only collects garbage, well after a window has ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import hashlib
import itertools
import logging
import math
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as redis
from sqlalchemy.engine import make_url

from fieldpunch.config import Settings
from fieldpunch.kit.errors import TooManyRequests

log = logging.getLogger("fieldpunch.auth")

Clock = Callable[[], float]

BUSY = -1.0  # take(): not admitted now, but only because of attempts still in flight
BUSY_WAIT_S = 10.0  # the longest an attempt waits for others in flight before a 429
LEASE_S = 120.0  # Redis: an attempt in flight stops counting after this (its process died)


class Outcome(enum.Enum):
    FAILED = 1  # a wrong password (or unknown email, or inactive account): counted
    SUCCEEDED = 2  # clears the account's counter
    ABANDONED = 3  # a server error or a cancelled request: not counted


class Store(Protocol):
    async def take(
        self, keys: tuple[str, str], limits: tuple[int, int], now: float, ticket: str
    ) -> float:
        """Admit one attempt as in flight on both keys unless a limit would be passed.
        0 when admitted; BUSY when only attempts in flight stand in the way; else the seconds
        until the window whose failures reached its limit ends."""
        ...

    async def finish(
        self, keys: tuple[str, str], ticket: str, outcome: Outcome, now: float
    ) -> None:
        """The attempt `ticket` is over: no longer in flight; count it if it FAILED, clear the
        account (`keys[0]`) if it SUCCEEDED."""
        ...

    def mark(self) -> object:
        """Something to `wait` on, taken before a `take` that may answer BUSY."""
        ...

    async def wait(self, mark: object) -> None:
        """Until an attempt finished since `mark` (or a moment passed: callers look again)."""
        ...

    async def close(self) -> None: ...


class MemoryStore:
    """One process's counters. Each method's state change is free of awaits: atomic on the loop."""

    MAX_KEYS = 100_000  # bounded: a spray of made-up emails cannot grow it without limit

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._counts: dict[str, tuple[int, float]] = {}  # key -> (failures, window end)
        self._inflight: dict[str, int] = {}
        self._finished = asyncio.Event()

    def _current(self, key: str, now: float) -> tuple[int, float]:
        n, end = self._counts.get(key, (0, 0.0))
        return (n, end) if end > now else (0, now + self.window_s)

    async def take(
        self, keys: tuple[str, str], limits: tuple[int, int], now: float, ticket: str
    ) -> float:
        current = [self._current(k, now) for k in keys]
        blocked = [end - now for (n, end), limit in zip(current, limits, strict=True) if n >= limit]
        if blocked:
            return max(blocked)
        pairs = zip(keys, current, limits, strict=True)
        if any(n + self._inflight.get(k, 0) >= limit for k, (n, _), limit in pairs):
            return BUSY
        for key in keys:
            self._inflight[key] = self._inflight.get(key, 0) + 1
        return 0.0

    async def finish(
        self, keys: tuple[str, str], ticket: str, outcome: Outcome, now: float
    ) -> None:
        for key in keys:
            left = self._inflight.get(key, 0) - 1
            if left > 0:
                self._inflight[key] = left
            else:
                self._inflight.pop(key, None)
        if outcome is Outcome.FAILED:
            if len(self._counts) >= self.MAX_KEYS:
                self._evict(now)
            for key in keys:
                n, end = self._current(key, now)
                self._counts[key] = (n + 1, end)
        elif outcome is Outcome.SUCCEEDED:
            self._counts.pop(keys[0], None)
        # Wake whoever waits for a place; later waiters wait on a fresh event.
        self._finished.set()
        self._finished = asyncio.Event()

    def mark(self) -> object:
        return self._finished

    async def wait(self, mark: object) -> None:
        assert isinstance(mark, asyncio.Event)
        await mark.wait()

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
        self._inflight.clear()


# KEYS: the two counters (hashes {n, end}, end in ms), then their in-flight sets (member: a
# ticket, score: its lease's end in ms). ARGV: now_ms, window_ms, limit1, limit2, ticket,
# lease_ms. Returns 0 when admitted, -1 when busy, else the ms until the blocking window ends.
_TAKE = """
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local wait, busy = 0, false
for i = 1, 2 do
  local n = tonumber(redis.call('HGET', KEYS[i], 'n') or '0')
  local stop = tonumber(redis.call('HGET', KEYS[i], 'end') or '0')
  if stop <= now then n = 0 end
  redis.call('ZREMRANGEBYSCORE', KEYS[2 + i], '-inf', now)
  local limit = tonumber(ARGV[2 + i])
  if n >= limit then
    wait = math.max(wait, stop - now)
  elseif n + redis.call('ZCARD', KEYS[2 + i]) >= limit then
    busy = true
  end
end
if wait > 0 then return wait end
if busy then return -1 end
local lease = tonumber(ARGV[6])
for i = 3, 4 do
  redis.call('ZADD', KEYS[i], now + lease, ARGV[5])
  redis.call('PEXPIRE', KEYS[i], lease * 2)
end
return 0
"""

# KEYS: as _TAKE's. ARGV: now_ms, window_ms, ticket, outcome (1 failed, 2 succeeded, 3 neither).
_FINISH = """
local now, window, outcome = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[4])
redis.call('ZREM', KEYS[3], ARGV[3])
redis.call('ZREM', KEYS[4], ARGV[3])
if outcome == 1 then
  for i = 1, 2 do
    local n = tonumber(redis.call('HGET', KEYS[i], 'n') or '0')
    local stop = tonumber(redis.call('HGET', KEYS[i], 'end') or '0')
    if stop <= now then n, stop = 0, now + window end
    redis.call('HSET', KEYS[i], 'n', n + 1, 'end', stop)
    redis.call('PEXPIRE', KEYS[i], stop - now + window)
  end
elseif outcome == 2 then
  redis.call('DEL', KEYS[1])
end
return 0
"""

_POLL_S = 0.05  # Redis: how often a waiting attempt looks again (pub/sub would be overkill)


class RedisStore:
    """Counters shared by every process on one Redis; each step is one atomic Lua script."""

    def __init__(self, client: redis.Redis, window_s: float, lease_s: float = LEASE_S) -> None:
        self.client, self.window_ms = client, int(window_s * 1000)
        self.lease_ms = int(lease_s * 1000)
        self._take = client.register_script(_TAKE)
        self._finish = client.register_script(_FINISH)

    @staticmethod
    def _all(keys: tuple[str, str]) -> list[str]:
        return [*keys, f"{keys[0]}:inflight", f"{keys[1]}:inflight"]

    async def take(
        self, keys: tuple[str, str], limits: tuple[int, int], now: float, ticket: str
    ) -> float:
        args: list[int | str] = [int(now * 1000), self.window_ms, *limits, ticket, self.lease_ms]
        wait_ms = int(await self._take(keys=self._all(keys), args=args))
        return BUSY if wait_ms < 0 else wait_ms / 1000

    async def finish(
        self, keys: tuple[str, str], ticket: str, outcome: Outcome, now: float
    ) -> None:
        args: list[int | str] = [int(now * 1000), self.window_ms, ticket, outcome.value]
        await self._finish(keys=self._all(keys), args=args)

    def mark(self) -> object:
        return None

    async def wait(self, mark: object) -> None:
        await asyncio.sleep(_POLL_S)

    async def close(self) -> None:
        await self.client.aclose()


class Attempt:
    """One sign-in under way: say how it ended (`failed()` or `succeeded()`); an attempt that
    says neither (an exception, a server error) is not counted."""

    def __init__(self) -> None:
        self.outcome = Outcome.ABANDONED

    def failed(self) -> None:
        self.outcome = Outcome.FAILED

    def succeeded(self) -> None:
        self.outcome = Outcome.SUCCEEDED


@dataclass
class LoginThrottle:
    store: Store
    max_failures: int
    ip_max_failures: int
    namespace: str = "fieldpunch:login"
    clock: Clock = time.time
    busy_wait_s: float = BUSY_WAIT_S

    def _keys(self, email: str, ip: str) -> tuple[str, str]:
        # Hashed: keys stay short and Redis never holds the email addresses themselves.
        who = hashlib.sha256(f"{email.strip().lower()}\x00{ip}".encode()).hexdigest()[:32]
        return f"{self.namespace}:acct:{who}", f"{self.namespace}:ip:{ip}"

    @contextlib.asynccontextmanager
    async def attempt(self, email: str, ip: str) -> AsyncIterator[Attempt]:
        """A sign-in attempt, admitted or refused with 429 while either bound is reached.

        The block checks the password and says how it went on the `Attempt` it is given."""
        keys, ticket = self._keys(email, ip), secrets.token_hex(8)
        admitted = await self._admit(keys, ticket)
        attempt = Attempt()
        try:
            yield attempt
        finally:
            if admitted:
                try:
                    await self.store.finish(keys, ticket, attempt.outcome, self.clock())
                except redis.RedisError:
                    log.error("sign-in throttle: Redis unavailable", exc_info=True)

    async def _admit(self, keys: tuple[str, str], ticket: str) -> bool:
        """True once admitted (in flight); False when the store is down (not throttled)."""
        deadline = time.monotonic() + self.busy_wait_s
        limits = (self.max_failures, self.ip_max_failures)
        while True:
            try:
                mark = self.store.mark()
                wait = await self.store.take(keys, limits, self.clock(), ticket)
            except redis.RedisError:
                # Sign-in matters more than its throttle: let people in, and say so loudly.
                log.error("sign-in throttle: Redis unavailable, not throttling", exc_info=True)
                return False
            if wait == 0:
                return True
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                raise TooManyRequests(
                    f"too many failed sign-ins; try again in {seconds} s", retry_after_s=seconds
                )
            left = deadline - time.monotonic()
            if left <= 0:
                raise TooManyRequests(
                    "too many sign-ins at once for this account; try again in 1 s",
                    retry_after_s=1,
                )
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(left):  # not wait_for: 3.11's can swallow a cancel
                    await self.store.wait(mark)

    async def close(self) -> None:
        await self.store.close()


def namespace_for(db_url: str, purpose: str = "login") -> str:
    """One namespace per database, like the live channel: deployments sharing a Redis (or test
    runs) keep their counters apart."""
    return f"fieldpunch:{purpose}:{make_url(db_url).database or ''}"


def redis_client(url: str) -> redis.Redis:
    """Short timeouts: a Redis that hangs must not hold a request for long (limits fail open)."""
    return redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)


def make_throttle(settings: Settings, clock: Clock = time.time) -> LoginThrottle:
    store: Store
    if settings.redis_url:
        store = RedisStore(redis_client(settings.redis_url), settings.login_window_s)
    else:
        store = MemoryStore(settings.login_window_s)
    return LoginThrottle(
        store,
        settings.login_max_failures,
        settings.login_ip_max_failures,
        namespace_for(settings.db_url),
        clock,
    )
