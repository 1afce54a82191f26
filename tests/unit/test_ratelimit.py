"""The per-person punch rate limit's buckets, in memory and on Redis, on a clock the test moves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
import redis.asyncio as redis

from fieldpunch.kit.errors import TooManyRequests
from fieldpunch.punches.ratelimit import MemoryStore, PunchLimiter, RedisStore
from tests.limits import BACKENDS, Clock, sharing_one_store

RATE_PER_MIN = 60.0  # one punch a second
BURST = 10


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=BACKENDS)
async def make(
    request: pytest.FixtureRequest, clock: Clock
) -> AsyncIterator[Callable[[], PunchLimiter]]:
    """Limiters that share one store (one Redis namespace), as processes of one deployment do."""
    async with sharing_one_store(
        request.param,
        "fieldpunch:test-punches",
        memory=MemoryStore,
        on_redis=RedisStore,
        build=lambda store, namespace: PunchLimiter(store, RATE_PER_MIN, BURST, namespace, clock),
    ) as one:
        yield one


async def _wait(limiter: PunchLimiter, punches: int, who: str = "usr_a") -> int:
    with pytest.raises(TooManyRequests) as caught:
        await limiter.admit("org_a", who, punches)
    assert caught.value.status == 429
    return int(caught.value.headers()["Retry-After"])


async def test_burst_then_the_rate(make: Callable[[], PunchLimiter], clock: Clock) -> None:
    limiter = make()
    for _ in range(BURST):
        await limiter.admit("org_a", "usr_a", 1)
    assert await _wait(limiter, 1) == 1
    clock.now += 1.0  # one token back
    await limiter.admit("org_a", "usr_a", 1)
    assert await _wait(limiter, 1) == 1
    # Another person, and the same user id in another org, have buckets of their own.
    await limiter.admit("org_a", "usr_b", BURST)
    await limiter.admit("org_b", "usr_a", BURST)


async def test_a_refused_request_costs_nothing(
    make: Callable[[], PunchLimiter], clock: Clock
) -> None:
    limiter = make()
    await limiter.admit("org_a", "usr_a", BURST)
    for _ in range(5):  # hammering while refused does not push the wait further out
        assert await _wait(limiter, 1) == 1
    clock.now += 3.0
    await limiter.admit("org_a", "usr_a", 3)


async def test_a_batch_needs_its_cost_in_the_bucket(
    make: Callable[[], PunchLimiter], clock: Clock
) -> None:
    limiter = make()
    await limiter.admit("org_a", "usr_a", 6)
    assert await _wait(limiter, 5) == 1  # 4 tokens left, 5 needed
    await limiter.admit("org_a", "usr_a", 4)
    assert await _wait(limiter, 5) == 5


async def test_a_backlog_larger_than_the_bucket_gets_through(
    make: Callable[[], PunchLimiter], clock: Clock
) -> None:
    """A phone's 1,000-punch backlog is admitted once the bucket is full, and never refused for
    good; it leaves the bucket in debt, so what comes after waits for the refill."""
    limiter = make()
    await limiter.admit("org_a", "usr_a", 1)
    assert await _wait(limiter, 1000) == 1  # the bucket is one short of full
    clock.now += 1.0
    await limiter.admit("org_a", "usr_a", 1000)
    # 1,000 owed, 9 of them may be owed before one more punch: 991 s.
    assert await _wait(limiter, 1) == 991
    clock.now += 991.0
    await limiter.admit("org_a", "usr_a", 1)


async def test_two_limiters_on_one_store_share_the_bucket(
    make: Callable[[], PunchLimiter], clock: Clock
) -> None:
    one, two = make(), make()
    await one.admit("org_a", "usr_a", BURST - 1)
    await two.admit("org_a", "usr_a", 1)
    assert await _wait(one, 1) == 1
    assert await _wait(two, 1) == 1


async def test_concurrent_requests_get_no_more_than_the_burst(
    make: Callable[[], PunchLimiter], clock: Clock
) -> None:
    limiters = [make() for _ in range(4)]
    results = await asyncio.gather(
        *(limiters[i % 4].admit("org_a", "usr_a", 1) for i in range(3 * BURST)),
        return_exceptions=True,
    )
    assert sum(r is None for r in results) == BURST
    assert all(isinstance(r, TooManyRequests) for r in results if r is not None)


async def test_zero_rate_is_no_limit(clock: Clock) -> None:
    limiter = PunchLimiter(MemoryStore(), 0, 1, "ns", clock)
    for _ in range(100):
        await limiter.admit("org_a", "usr_a", 1000)


async def test_redis_down_fails_open(clock: Clock) -> None:
    client = redis.Redis.from_url("redis://127.0.0.1:1", socket_connect_timeout=0.2)
    limiter = PunchLimiter(RedisStore(client), RATE_PER_MIN, 1, "ns", clock)
    for _ in range(3):
        await limiter.admit("org_a", "usr_a", 1)
    await limiter.close()


async def test_memory_store_stays_bounded(clock: Clock) -> None:
    store = MemoryStore()
    store.MAX_KEYS = 100
    for i in range(1000):
        assert await store.take(f"k{i}", 1, 1.0, 10, clock.now) == 0
    assert len(store._full_at) <= 100
    clock.now += 10.0  # every bucket full again: all forgotten at the next eviction
    for i in range(1000, 1200):
        assert await store.take(f"k{i}", 1, 1.0, 10, clock.now) == 0
    assert len(store._full_at) <= 100
