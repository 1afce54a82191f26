"""Publish/subscribe for live events: in-process here, across processes in `redis_hub.py`.

The relay publishes each committed outbox row once, in outbox-id order; a hub fans it out to the
subscribers of *this* process (the WebSocket feeds). A subscriber has a bounded queue and may give
an org and a predicate, so an event is only queued for a feed that will send it (with 1,000 feeds,
waking every feed for every event would cost more than the sending).

A subscriber that falls a whole queue behind is cut off: its queue is emptied and ends with
`OVERFLOW`, and the feed closes so that the client resumes from the outbox with `last_event_id`.
Memory stays bounded and nothing is lost silently (dropping the oldest would lose events unseen).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson


class LiveEvent(dict[str, Any]):
    """One delta as clients receive it, `{type, id, org_id, at, data, seq}`, plus routing facts.

    A dict so that consumers read it like the payload; `subject_user_id` and `team_id` (of the
    person the event is about, when it was relayed) decide who may see it, `text` is the JSON
    sent on every socket, encoded once per process.
    """

    __slots__ = ("_text", "subject_user_id", "team_id")

    def __init__(
        self, payload: Mapping[str, Any], seq: int, subject_user_id: str | None, team_id: str | None
    ) -> None:
        super().__init__(payload)
        self["seq"] = seq
        self.subject_user_id = subject_user_id
        self.team_id = team_id
        self._text: str | None = None

    @property
    def seq(self) -> int:
        return int(self["seq"])

    @property
    def topic(self) -> str:
        return str(self["type"])

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = orjson.dumps(self).decode()
        return self._text

    @property
    def routes(self) -> tuple[str, ...]:
        """Routing keys: the person the event is about and their team (see Hub.subscribe)."""
        keys = ("u:" + self.subject_user_id,) if self.subject_user_id else ()
        return (*keys, "t:" + self.team_id) if self.team_id else keys

    def to_wire(self) -> dict[str, Any]:
        """What crosses Redis: the payload and the routing facts."""
        return {"e": dict(self), "s": self.subject_user_id, "t": self.team_id}

    @classmethod
    def from_wire(cls, item: Mapping[str, Any]) -> LiveEvent:
        event = item["e"]
        return cls(event, int(event["seq"]), item["s"], item["t"])


@dataclass(frozen=True, slots=True)
class Signal:
    """Not an event: tells a subscriber to stop (its close code and reason)."""

    code: int
    reason: str


# 1013 "try again later": the client reconnects with last_event_id and misses nothing.
OVERFLOW = Signal(1013, "too slow: events were queued faster than read; resume with last_event_id")
# 1012 "service restart": the process stops, or lost the cross-process stream for a while.
RESTART = Signal(1012, "live stream restarting; resume with last_event_id")

Item = LiveEvent | Signal
Accept = Callable[[LiveEvent], bool]


@dataclass(slots=True)
class _Subscriber:
    queue: asyncio.Queue[Item]
    org_id: str | None
    accept: Accept | None
    keys: frozenset[str] | None


Group = dict[asyncio.Queue[Item], _Subscriber]


class Hub:
    """In-process fan-out (embedded mode, or one process). Subclasses feed `deliver()`."""

    # Duplicates (a relay that published and then failed to mark) are dropped by seq; the window
    # covers far more than one relay batch.
    _RECENT = 8192

    def __init__(self, queue_size: int = 1000) -> None:
        self.queue_size = queue_size
        self._subscribers: Group = {}
        # org → subscribers of all its events; (org, routing key) → those of some.
        self._whole: dict[str | None, Group] = {}
        self._keyed: dict[tuple[str | None, str], Group] = {}
        self._recent: set[int] = set()
        self._recent_order: deque[int] = deque()
        # The highest seq this hub has fanned out: events published later have a higher one.
        self.high_water: int | None = None

    @property
    def up(self) -> bool:
        """Whether events currently reach this hub (always, in-process)."""
        return True

    async def wait_up(self, timeout_s: float) -> bool:
        """Whether events reach this hub, waiting up to `timeout_s` for a reconnection."""
        return True

    async def start(self) -> None:
        """Nothing to connect in-process."""

    async def stop(self) -> None:
        self.close_all(RESTART)

    def subscribe(
        self,
        org_id: str | None = None,
        accept: Accept | None = None,
        keys: Iterable[str] | None = None,
    ) -> asyncio.Queue[Item]:
        """A queue of the events of `org_id` (None: every org) that `accept` lets through.

        `keys` narrows it to events with one of these routing keys (`LiveEvent.routes`): a
        manager's feed is then not even offered the other teams' events, so an event costs
        in proportion to the feeds that get it, not to every feed of the org.
        """
        queue: asyncio.Queue[Item] = asyncio.Queue(self.queue_size)
        sub = _Subscriber(queue, org_id, accept, None if keys is None else frozenset(keys))
        self._subscribers[queue] = sub
        if sub.keys is None:
            self._whole.setdefault(org_id, {})[queue] = sub
        for key in sub.keys or ():
            self._keyed.setdefault((org_id, key), {})[queue] = sub
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Item]) -> None:
        sub = self._subscribers.pop(queue, None)
        if sub is None:
            return
        if sub.keys is None:
            _drop(self._whole, sub.org_id, queue)
        for key in sub.keys or ():
            _drop(self._keyed, (sub.org_id, key), queue)

    async def publish(self, events: list[LiveEvent]) -> None:
        self.deliver(events)

    def deliver(self, events: Iterable[LiveEvent]) -> None:
        """Fan events out to this process's subscribers (synchronously: no await per socket)."""
        for event in events:
            seq = event.seq
            if seq in self._recent:
                continue
            self._remember(seq)
            if self.high_water is None or seq > self.high_water:
                self.high_water = seq
            org_id = event.get("org_id")
            groups = [self._whole.get(None), self._whole.get(org_id)]
            groups += [self._keyed.get((org_id, key)) for key in event.routes]
            offered: set[asyncio.Queue[Item]] = set()
            for group in groups:
                if not group:
                    continue
                for queue, sub in list(group.items()):
                    if queue in offered:
                        continue  # a manager in a team they manage: keyed twice
                    offered.add(queue)
                    if sub.accept is not None and not sub.accept(event):
                        continue
                    if queue.full():
                        self._cut(queue, OVERFLOW)
                    else:
                        queue.put_nowait(event)

    def close_all(self, signal: Signal) -> None:
        """End every subscription with `signal` (shutdown, or the stream was interrupted)."""
        for queue in list(self._subscribers):
            self._cut(queue, signal)

    def _cut(self, queue: asyncio.Queue[Item], signal: Signal) -> None:
        self.unsubscribe(queue)
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(signal)

    def _remember(self, seq: int) -> None:
        self._recent.add(seq)
        self._recent_order.append(seq)
        if len(self._recent_order) > self._RECENT:
            self._recent.discard(self._recent_order.popleft())


def _drop(index: dict[Any, Group], at: Any, queue: asyncio.Queue[Item]) -> None:
    group = index.get(at)
    if group is not None:
        group.pop(queue, None)
        if not group:
            del index[at]
