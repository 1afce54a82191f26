"""The sign-in throttle's counters, in memory and on Redis, on a clock the test moves."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable

import pytest
import redis.asyncio as redis

from fieldpunch.auth.throttle import LoginThrottle, MemoryStore, RedisStore
from fieldpunch.kit.errors import TooManyRequests
from tests.limits import BACKENDS, Clock, sharing_one_store
from tests.services import redis_url

WINDOW = 900


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=BACKENDS)
async def make(
    request: pytest.FixtureRequest, clock: Clock
) -> AsyncIterator[Callable[[], LoginThrottle]]:
    """Throttles that share one store (one Redis namespace), as processes of one deployment do."""
    async with sharing_one_store(
        request.param,
        "fieldpunch:test-login",
        memory=lambda: MemoryStore(WINDOW),
        on_redis=lambda client: RedisStore(client, WINDOW),
        build=lambda store, namespace: LoginThrottle(store, 3, 5, namespace, clock),
    ) as one:
        yield one


async def _refused(throttle: LoginThrottle, email: str, ip: str) -> int:
    with pytest.raises(TooManyRequests) as caught:
        async with throttle.attempt(email, ip):
            raise AssertionError("admitted")
    assert caught.value.status == 429
    return caught.value.retry_after_s


async def _fail(throttle: LoginThrottle, email: str, ip: str) -> None:
    async with throttle.attempt(email, ip) as attempt:
        attempt.failed()


async def _succeed(throttle: LoginThrottle, email: str, ip: str) -> None:
    async with throttle.attempt(email, ip) as attempt:
        attempt.succeeded()


async def _until(condition: Callable[[], bool]) -> None:
    """Let the other tasks run until `condition` holds (yields to the loop; no clock involved)."""
    for _ in range(100_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("never happened")


async def test_limit_retry_after_and_window_end(
    make: Callable[[], LoginThrottle], clock: Clock
) -> None:
    throttle = make()
    for _ in range(3):
        await _fail(throttle, "a@example.com", "10.0.0.1")
    assert await _refused(throttle, "a@example.com", "10.0.0.1") == WINDOW
    assert await _refused(throttle, "A@Example.COM ", "10.0.0.1") == WINDOW  # same account
    await _fail(throttle, "a@example.com", "10.0.0.2")  # from elsewhere: its own counter
    await _fail(throttle, "b@example.com", "10.0.0.1")  # another account: its own counter
    clock.now += WINDOW - 0.5
    assert await _refused(throttle, "a@example.com", "10.0.0.1") == 1
    clock.now += 0.5
    await _fail(throttle, "a@example.com", "10.0.0.1")  # the window has ended


async def test_a_success_clears_the_account_and_never_counts_for_the_address(
    make: Callable[[], LoginThrottle],
) -> None:
    throttle = make()
    for _ in range(2):
        await _fail(throttle, "a@example.com", "10.0.0.1")
    for _ in range(10):  # successes: not failures, for the account or the address
        await _succeed(throttle, "a@example.com", "10.0.0.1")
    # The account's count is cleared: three more failures before a refusal.
    for _ in range(3):
        await _fail(throttle, "a@example.com", "10.0.0.1")
    await _refused(throttle, "a@example.com", "10.0.0.1")
    # The address has 2 + 3 failures counted: at its bound of 5.
    await _refused(throttle, "c@example.com", "10.0.0.1")


async def test_server_errors_are_not_failures(make: Callable[[], LoginThrottle]) -> None:
    throttle = make()
    for _ in range(10):  # e.g. no database connection: the attempt ends in an exception
        with pytest.raises(RuntimeError):
            async with throttle.attempt("a@example.com", "10.0.0.1"):
                raise RuntimeError("pool exhausted")
    await _succeed(throttle, "a@example.com", "10.0.0.1")
    for _ in range(3):
        await _fail(throttle, "a@example.com", "10.0.0.1")
    await _refused(throttle, "a@example.com", "10.0.0.1")


async def test_the_address_bound_spans_accounts(make: Callable[[], LoginThrottle]) -> None:
    throttle = make()
    for i in range(5):
        await _fail(throttle, f"user{i}@example.com", "10.0.0.9")
    assert await _refused(throttle, "someone.else@example.com", "10.0.0.9") == WINDOW
    await _fail(throttle, "someone.else@example.com", "10.0.0.10")


async def test_two_throttles_on_one_store_share_the_counts(
    make: Callable[[], LoginThrottle], clock: Clock
) -> None:
    a, b = make(), make()
    await _fail(a, "a@example.com", "10.0.0.1")
    await _fail(b, "a@example.com", "10.0.0.1")
    clock.now += 10
    await _fail(a, "a@example.com", "10.0.0.1")
    assert await _refused(b, "a@example.com", "10.0.0.1") == WINDOW - 10
    assert await _refused(a, "a@example.com", "10.0.0.1") == WINDOW - 10
    clock.now += WINDOW
    await _fail(b, "a@example.com", "10.0.0.1")


async def _burst(
    throttles: list[LoginThrottle], n: int, succeed: bool
) -> tuple[list[bool], list[int]]:
    """`n` concurrent attempts on one account, each held open until the test lets them go;
    which were admitted, and how many were in their password check at once, at most."""
    gate, inside, most = asyncio.Event(), [0], [0]

    async def one(i: int) -> bool:
        try:
            async with throttles[i % len(throttles)].attempt("a@example.com", "10.0.0.1") as a:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
                await gate.wait()
                inside[0] -= 1
                a.succeeded() if succeed else a.failed()
        except TooManyRequests:
            return False
        return True

    tasks = [asyncio.create_task(one(i)) for i in range(n)]
    await _until(lambda: inside[0] == 3)  # the limit: the others wait
    gate.set()
    return list(await asyncio.gather(*tasks)), most


async def test_a_burst_of_wrong_guesses_gets_no_more_tries_than_the_limit(
    make: Callable[[], LoginThrottle],
) -> None:
    allowed, most = await _burst([make(), make()], 20, succeed=False)
    assert sum(allowed) == 3 and most == [3]


async def test_a_burst_of_right_passwords_all_get_in(make: Callable[[], LoginThrottle]) -> None:
    allowed, most = await _burst([make(), make()], 10, succeed=True)
    assert all(allowed) and most == [3]  # never more than the limit checked at once


async def test_waiting_for_attempts_in_flight_is_bounded(make: Callable[[], LoginThrottle]) -> None:
    throttle = make()
    throttle.busy_wait_s = 0
    gate, inside = asyncio.Event(), [0]

    async def held() -> None:
        async with throttle.attempt("a@example.com", "10.0.0.1") as a:
            inside[0] += 1
            await gate.wait()
            a.succeeded()

    tasks = [asyncio.create_task(held()) for _ in range(3)]
    await _until(lambda: inside[0] == 3)
    assert await _refused(throttle, "a@example.com", "10.0.0.1") == 1
    gate.set()
    await asyncio.gather(*tasks)
    await _succeed(throttle, "a@example.com", "10.0.0.1")


@pytest.mark.redis
async def test_an_attempt_whose_process_died_stops_counting_after_its_lease(clock: Clock) -> None:
    namespace = f"fieldpunch:test-login:{secrets.token_hex(6)}"
    store = RedisStore(redis.Redis.from_url(redis_url()), WINDOW, lease_s=30)
    throttle = LoginThrottle(store, 1, 5, namespace, clock, busy_wait_s=0)
    keys = throttle._keys("a@example.com", "10.0.0.1")
    assert await store.take(keys, (1, 5), clock(), "dead-process") == 0  # never finished
    assert await _refused(throttle, "a@example.com", "10.0.0.1") == 1
    clock.now += 30
    await _succeed(throttle, "a@example.com", "10.0.0.1")
    client = store.client
    found = [k async for k in client.scan_iter(f"{namespace}:*")]
    if found:
        await client.delete(*found)
    await throttle.close()


async def test_redis_down_fails_open(clock: Clock) -> None:
    store = RedisStore(redis.Redis.from_url("redis://127.0.0.1:1", socket_connect_timeout=0.2), 60)
    throttle = LoginThrottle(store, 1, 1, "fieldpunch:test-login:down", clock)
    for _ in range(3):
        await _fail(throttle, "a@example.com", "10.0.0.1")  # no exception: sign-in still works
    await _succeed(throttle, "a@example.com", "10.0.0.1")
    await throttle.close()


def test_memory_store_stays_bounded(clock: Clock) -> None:
    store = MemoryStore(WINDOW)
    store.MAX_KEYS = 100  # type: ignore[misc]
    throttle = LoginThrottle(store, 3, 1000, "ns", clock)

    async def spray() -> None:
        for i in range(1000):
            await _fail(throttle, f"made-up-{i}@example.com", "10.0.0.1")

    asyncio.run(spray())
    assert len(store._counts) <= 100 and not store._inflight
