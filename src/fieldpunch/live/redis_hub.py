"""The hub across processes: relays publish to a Redis channel, every process fans out its own.

Redis pub/sub is fire-and-forget: a process that is disconnected from Redis misses what is
published meanwhile. So a lost connection ends every local subscription with `RESTART`: the
clients reconnect with `last_event_id` and the missed events come from the outbox table, which
is the durable record (Redis only carries them fast). Reconnection is ours, not redis-py's, for
that reason: a silent automatic resubscribe would hide the gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from typing import Any
from urllib.parse import urlsplit

import orjson
import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from sqlalchemy.engine import make_url

from fieldpunch.live.hub import RESTART, Hub, LiveEvent

log = logging.getLogger("fieldpunch.live")


def channel_for(db_url: str) -> str:
    """One channel per database: deployments (or test runs) sharing a Redis do not mix seqs."""
    return f"fieldpunch:live:{make_url(db_url).database or ''}"


class RedisHub(Hub):
    def __init__(
        self, url: str, channel: str, queue_size: int = 1000, ready_timeout_s: float = 5.0
    ) -> None:
        super().__init__(queue_size)
        self.url, self.channel, self.ready_timeout_s = url, channel, ready_timeout_s
        self._pub: redis.Redis | None = None
        self._task: asyncio.Task[None] | None = None
        self._up = asyncio.Event()  # set while subscribed: events reach this process
        # Named, so an operator (or a test) can find this process's subscription in CLIENT LIST.
        self.listener_name = f"fieldpunch-live-{os.getpid()}-{secrets.token_hex(4)}"

    @property
    def up(self) -> bool:
        return self._up.is_set()

    async def wait_up(self, timeout_s: float) -> bool:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):  # not wait_for: 3.11's can swallow a cancel
                await self._up.wait()
        return self.up

    async def start(self) -> None:
        self._pub = redis.Redis.from_url(self.url)
        self._task = asyncio.create_task(self._listen(), name="live-redis-listener")
        # Serve even if Redis is down (punches matter more than the feed); say so in the log.
        if not await self.wait_up(self.ready_timeout_s):
            where = urlsplit(self.url)
            log.error("live feed: Redis at %s:%s unreachable, retrying", where.hostname, where.port)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._up.clear()
        self.close_all(RESTART)
        if self._pub is not None:
            await self._pub.aclose()

    async def publish(self, events: list[LiveEvent]) -> None:
        """To every process (this one included, through its listener). Raises if Redis is down,
        so the relay leaves the events unpublished and tries again."""
        if not events:
            return
        assert self._pub is not None, "RedisHub.start() not called"
        await self._pub.publish(self.channel, orjson.dumps([e.to_wire() for e in events]))

    def _on_message(self, data: Any) -> None:
        try:
            events = [LiveEvent.from_wire(item) for item in orjson.loads(data)]
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            log.warning("live feed: unreadable message on %s", self.channel)
            return
        self.deliver(events)

    async def _listen(self) -> None:
        # No automatic retries on this connection: a failure must reach us (see module doc).
        client = redis.Redis.from_url(
            self.url,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=10,
            client_name=self.listener_name,
        )
        backoff = 0.1
        try:
            while True:
                pubsub = client.pubsub()
                try:
                    await pubsub.subscribe(self.channel)
                    self._up.set()
                    if backoff > 0.1:
                        log.info("live feed: Redis connected again")
                    backoff = 0.1
                    while True:
                        msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                        if msg is not None and msg.get("type") == "message":
                            self._on_message(msg["data"])
                except (redis.RedisError, OSError) as exc:
                    log.warning("live feed: Redis connection lost: %s", exc)
                finally:
                    if self.up:
                        self._up.clear()
                        self.close_all(RESTART)  # they missed what we cannot see now
                    with contextlib.suppress(Exception):
                        await pubsub.aclose()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
        finally:
            with contextlib.suppress(Exception):
                await client.aclose()


def make_hub(redis_url: str | None, db_url: str) -> Hub:
    """Redis fan-out when configured (several processes), else in-process (embedded)."""
    return RedisHub(redis_url, channel_for(db_url)) if redis_url else Hub()
