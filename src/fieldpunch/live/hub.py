"""In-process publish/subscribe for live events (the embedded mode's feed).

Subscribers get a bounded queue: a slow dashboard loses its own events, never the server's
memory. Across processes the same interface is backed by Redis (the live-feed issue).
"""

from __future__ import annotations

import asyncio
from typing import Any

Event = dict[str, Any]


class Hub:
    def __init__(self, queue_size: int = 1000) -> None:
        self._subscribers: set[asyncio.Queue[Event]] = set()
        self._queue_size = queue_size

    def subscribe(self) -> asyncio.Queue[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue(self._queue_size)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Event]) -> None:
        self._subscribers.discard(queue)

    async def publish(self, events: list[Event]) -> None:
        for queue in list(self._subscribers):
            for event in events:
                if queue.full():
                    queue.get_nowait()  # drop the oldest for this subscriber only
                queue.put_nowait(event)
