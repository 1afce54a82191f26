"""What the sign-in throttle's and the punch rate limit's tests share: a clock in seconds that
only the test moves, and instances sharing one store (one in-memory store, or one Redis
namespace) as the processes of one deployment do.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeVar

import pytest
import redis.asyncio as redis

from tests.services import forget_redis_keys, redis_url

# The stores a fixture parametrized with these runs on; Redis ones only where Redis is.
BACKENDS = ["memory", pytest.param("redis", marks=pytest.mark.redis)]


class Clock:
    """`time.time`'s shape, moved only by the test (`clock.now += 60`)."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class _Closes(Protocol):
    async def close(self) -> None: ...


T = TypeVar("T", bound=_Closes)


@asynccontextmanager
async def sharing_one_store(
    backend: str,
    prefix: str,
    memory: Callable[[], Any],
    on_redis: Callable[[redis.Redis], Any],
    build: Callable[[Any, str], T],
) -> AsyncIterator[Callable[[], T]]:
    """A maker of `build(store, namespace)`: every one it makes shares one store, `memory()` or
    `on_redis(client)` in one namespace under `prefix`; closed, and the Redis keys gone, after."""
    namespace = f"{prefix}:{secrets.token_hex(6)}"
    made: list[T] = []
    shared = memory()

    def one() -> T:
        store = on_redis(redis.Redis.from_url(redis_url())) if backend == "redis" else shared
        made.append(build(store, namespace))
        return made[-1]

    try:
        yield one
    finally:
        if backend == "redis":
            await forget_redis_keys(namespace)
        for each in made:
            await each.close()
