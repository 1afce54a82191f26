"""The sign-in throttle's counters, in memory and on Redis, on a clock the test moves."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable

import pytest
import redis.asyncio as redis

from fieldpunch.auth.throttle import LoginThrottle, MemoryStore, RedisStore, Store
from fieldpunch.kit.errors import TooManyRequests
from tests.services import redis_url

WINDOW = 900


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def make(
    request: pytest.FixtureRequest, clock: Clock
) -> AsyncIterator[Callable[[], LoginThrottle]]:
    """Throttles that share one store (one Redis namespace), as processes of one deployment do."""
    namespace = f"fieldpunch:test-login:{secrets.token_hex(6)}"
    made: list[LoginThrottle] = []
    shared = MemoryStore(WINDOW)

    def one() -> LoginThrottle:
        store: Store = shared
        if request.param == "redis":
            store = RedisStore(redis.Redis.from_url(redis_url()), WINDOW)
        made.append(LoginThrottle(store, 3, 5, namespace, clock))
        return made[-1]

    yield one
    if request.param == "redis":
        client = redis.Redis.from_url(redis_url())
        keys = [k async for k in client.scan_iter(f"{namespace}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
    for throttle in made:
        await throttle.close()


async def _refused(throttle: LoginThrottle, email: str, ip: str) -> int:
    with pytest.raises(TooManyRequests) as caught:
        await throttle.attempt(email, ip)
    assert caught.value.status == 429
    return caught.value.retry_after_s


async def test_limit_retry_after_and_window_end(
    make: Callable[[], LoginThrottle], clock: Clock
) -> None:
    throttle = make()
    for _ in range(3):
        await throttle.attempt("a@example.com", "10.0.0.1")  # three failures: allowed, counted
    assert await _refused(throttle, "a@example.com", "10.0.0.1") == WINDOW
    assert await _refused(throttle, "A@Example.COM ", "10.0.0.1") == WINDOW  # same account
    await throttle.attempt("a@example.com", "10.0.0.2")  # from elsewhere: its own counter
    await throttle.attempt("b@example.com", "10.0.0.1")  # another account: its own counter
    clock.now += WINDOW - 0.5
    assert await _refused(throttle, "a@example.com", "10.0.0.1") == 1
    clock.now += 0.5
    await throttle.attempt("a@example.com", "10.0.0.1")  # the window has ended


async def test_a_success_clears_the_account_and_gives_back_the_address_slot(
    make: Callable[[], LoginThrottle],
) -> None:
    throttle = make()
    for _ in range(2):
        await throttle.attempt("a@example.com", "10.0.0.1")
    await throttle.attempt("a@example.com", "10.0.0.1")
    await throttle.succeeded("a@example.com", "10.0.0.1")
    # The account's count is cleared: three more failures before a refusal.
    for _ in range(3):
        await throttle.attempt("a@example.com", "10.0.0.1")
    await _refused(throttle, "a@example.com", "10.0.0.1")
    # The address has 2 + 3 failures counted (the success was given back): at its bound of 5.
    await _refused(throttle, "c@example.com", "10.0.0.1")


async def test_the_address_bound_spans_accounts(make: Callable[[], LoginThrottle]) -> None:
    throttle = make()
    for i in range(5):
        await throttle.attempt(f"user{i}@example.com", "10.0.0.9")
    assert await _refused(throttle, "someone.else@example.com", "10.0.0.9") == WINDOW
    await throttle.attempt("someone.else@example.com", "10.0.0.10")


async def test_two_throttles_on_one_store_share_the_counts(
    make: Callable[[], LoginThrottle], clock: Clock
) -> None:
    a, b = make(), make()
    await a.attempt("a@example.com", "10.0.0.1")
    await b.attempt("a@example.com", "10.0.0.1")
    clock.now += 10
    await a.attempt("a@example.com", "10.0.0.1")
    assert await _refused(b, "a@example.com", "10.0.0.1") == WINDOW - 10
    assert await _refused(a, "a@example.com", "10.0.0.1") == WINDOW - 10
    clock.now += WINDOW
    await b.attempt("a@example.com", "10.0.0.1")


async def test_a_burst_gets_no_more_tries_than_the_limit(make: Callable[[], LoginThrottle]) -> None:
    throttles = [make(), make()]

    async def one(i: int) -> bool:
        try:
            await throttles[i % 2].attempt("a@example.com", "10.0.0.1")
        except TooManyRequests:
            return False
        return True

    allowed = await asyncio.gather(*(one(i) for i in range(20)))
    assert sum(allowed) == 3


async def test_redis_down_fails_open(clock: Clock) -> None:
    store = RedisStore(redis.Redis.from_url("redis://127.0.0.1:1", socket_connect_timeout=0.2), 60)
    throttle = LoginThrottle(store, 1, 1, "fieldpunch:test-login:down", clock)
    for _ in range(3):
        await throttle.attempt("a@example.com", "10.0.0.1")  # no exception: sign-in still works
    await throttle.succeeded("a@example.com", "10.0.0.1")
    await throttle.close()


def test_memory_store_stays_bounded(clock: Clock) -> None:
    store = MemoryStore(WINDOW)
    store.MAX_KEYS = 100  # type: ignore[misc]
    throttle = LoginThrottle(store, 3, 1000, "ns", clock)

    async def spray() -> None:
        for i in range(1000):
            await throttle.attempt(f"made-up-{i}@example.com", "10.0.0.1")

    asyncio.run(spray())
    assert len(store._counts) <= 100
