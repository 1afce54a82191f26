"""`WS /api/v1/live`: authenticate, snapshot, then deltas as they are committed.

Close codes (the reason says more, in at most 123 bytes):

| code | when |
| --- | --- |
| 4400 | malformed first message or `last_event_id` |
| 4401 | missing, invalid, expired or revoked credential (also while connected) |
| 4409 | the caller's rights changed while connected (role, teams): connect again, resume |
| 4403 | an API key without `punches:read` |
| 1013 | the socket fell a queue behind, or the live stream is unavailable: retry, resume |
| 1012 | the server restarts or lost the cross-process stream: resume with `last_event_id` |
| 1011 | an unexpected server error (logged); never for anything the client sent |
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Any

import orjson
from fastapi import APIRouter, WebSocket
from sqlalchemy.exc import SQLAlchemyError
from starlette.websockets import WebSocketDisconnect, WebSocketState

from fieldpunch.auth.scopes import Scope
from fieldpunch.config import Settings
from fieldpunch.db.engine import Database
from fieldpunch.kit.clock import utcnow
from fieldpunch.kit.errors import Forbidden, Unauthorized
from fieldpunch.live.hub import Hub, Item, Signal
from fieldpunch.live.scope import Audience, authenticate
from fieldpunch.live.snapshot import Opening, read_opening

log = logging.getLogger("fieldpunch.live")
router = APIRouter(tags=["live"])

AUTH_TIMEOUT_S = 10.0
RECONNECT_WAIT_S = 3.0
OPENINGS = 8
_MAX_REASON = 123  # bytes, RFC 6455


_PING = Signal(0, "keepalive")  # a queue item, not an ending
_RECHECK = Signal(0, "recheck")  # a queue item: read the caller again
_EXPIRED = Signal(4401, "credential expired; connect again with a fresh token")
_CHANGED = Signal(4409, "your access changed; connect again and resume with last_event_id")


class Close(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


@router.websocket("/live")
async def live_feed(websocket: WebSocket) -> None:
    """Live events for the caller's scope: a snapshot, then deltas (see docs/api.md)."""
    # Accept first: a refusal before the handshake is a bare HTTP 403 without a reason.
    await websocket.accept()
    try:
        await _Feed(websocket).run()
    except Close as c:
        await _close(websocket, c.code, c.reason)
    except WebSocketDisconnect:
        pass
    except Exception:
        log.exception("live feed failed")
        await _close(websocket, 1011, "internal error")


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    if websocket.application_state is WebSocketState.DISCONNECTED:
        return
    reason = reason.encode()[:_MAX_REASON].decode(errors="ignore")
    with contextlib.suppress(Exception):  # the client may be gone already
        await websocket.close(code, reason)


def _opening_slots(websocket: WebSocket) -> asyncio.Semaphore:
    """At most OPENINGS snapshots built at once per process: a reconnect storm of dashboards
    (after a restart) waits its turn instead of holding every snapshot in memory together."""
    state = websocket.app.state
    slots: asyncio.Semaphore | None = getattr(state, "live_opening_slots", None)
    if slots is None:  # created in the serving loop, on first use
        slots = state.live_opening_slots = asyncio.Semaphore(OPENINGS)
    return slots


def _cursor(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and value.isdecimal():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise Close(4400, "last_event_id must be a non-negative integer")


class _Feed:
    def __init__(self, websocket: WebSocket) -> None:
        self.ws = websocket
        state = websocket.app.state
        self.db: Database = state.db
        self.hub: Hub = state.hub
        self.settings: Settings = state.settings

    async def _credentials(self) -> tuple[str, int | None]:
        """The token and cursor: from the query (or an Authorization header), else a first
        `{"type": "auth", "token": ..., "last_event_id": ...}` message."""
        query = self.ws.query_params
        cursor = _cursor(query.get("last_event_id"))
        token = query.get("token")
        if not token:
            scheme, _, value = self.ws.headers.get("authorization", "").partition(" ")
            token = value.strip() if scheme.lower() == "bearer" else ""
        if token:
            return token, cursor
        try:
            async with asyncio.timeout(AUTH_TIMEOUT_S):
                message = await self.ws.receive()
        except TimeoutError:
            raise Close(4401, "no credentials: send ?token= or an auth message first") from None
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        try:
            body = orjson.loads(message.get("text") or message.get("bytes") or b"")
        except orjson.JSONDecodeError:
            raise Close(4400, "the first message must be JSON") from None
        if not isinstance(body, dict) or body.get("type") != "auth":
            raise Close(4400, 'the first message must be {"type": "auth", "token": ...}')
        token = body.get("token")
        if not isinstance(token, str) or not token:
            raise Close(4401, "missing token")
        return token, _cursor(body["last_event_id"]) if "last_event_id" in body else cursor

    async def run(self) -> None:
        token, last_event_id = await self._credentials()
        try:
            principal, expires_at = await authenticate(self.ws, self.db, token)
            principal.require(Scope.punches_read)
        except Unauthorized as exc:
            raise Close(4401, exc.detail) from None
        except Forbidden as exc:
            raise Close(4403, exc.detail) from None
        # Right after a Redis reconnect (when feeds were just told to resume), wait a little.
        if not await self.hub.wait_up(RECONNECT_WAIT_S):
            raise Close(1013, "live stream unavailable; try again shortly")
        audience = Audience.of(principal)
        async with _opening_slots(self.ws):  # before subscribing: no queue fills while waiting
            # Subscribe before reading: whatever commits from now on is in the queue or the read.
            queue = self.hub.subscribe(principal.org_id, audience.sees, audience.routes)
            try:
                opening = await read_opening(
                    self.db, principal, audience, last_event_id, self.hub.high_water
                )
                snapshot = orjson.dumps(opening.snapshot).decode()
                opening.snapshot = {}  # the feed lives for hours: keep none of the opening
            except BaseException:
                self.hub.unsubscribe(queue)
                raise
        try:
            await self.ws.send_text(snapshot)
            del snapshot
            for text in opening.replay:
                await self.ws.send_text(text)
            opening.replay.clear()
            self.token, self.principal = token, principal
            signal = await self._until_done(queue, opening, expires_at)
        finally:
            self.hub.unsubscribe(queue)
        if signal is not None:
            raise Close(signal.code, signal.reason)

    async def _until_done(
        self, queue: asyncio.Queue[Item], opening: Opening, expires_at: datetime | None
    ) -> Signal | None:
        """Pump deltas until the client leaves (None) or the feed must end (a Signal)."""
        pump = asyncio.create_task(self._pump(queue, opening, expires_at))
        listen = asyncio.create_task(self._listen())
        try:
            done, _ = await asyncio.wait({pump, listen}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (pump, listen):
                task.cancel()
            await asyncio.gather(pump, listen, return_exceptions=True)
        if pump in done:
            return pump.result()  # a Signal, or raises what the pump raised
        return None

    async def _recheck(self) -> Signal | None:
        """The caller read again: None while it is unchanged, else why the feed ends."""
        try:
            principal, _ = await authenticate(self.ws, self.db, self.token)
            principal.require(Scope.punches_read)
        except (Unauthorized, Forbidden) as exc:
            return Signal(4401 if isinstance(exc, Unauthorized) else 4403, exc.detail)
        except SQLAlchemyError:  # a busy or lost database: the feed goes on, asked again later
            log.warning("live feed could not read its caller again", exc_info=True)
            return None
        return None if principal == self.principal else _CHANGED

    async def _listen(self) -> None:
        """Read (and ignore) what the client sends, to notice when it leaves."""
        while (await self.ws.receive())["type"] != "websocket.disconnect":
            pass

    async def _pump(
        self, queue: asyncio.Queue[Item], opening: Opening, expires_at: datetime | None
    ) -> Signal:
        # Keepalive and expiry arrive as queue items from timers: no timeout to arm per event.
        loop = asyncio.get_running_loop()
        ping_s = self.settings.live_ping_s

        timers: dict[str, asyncio.TimerHandle] = {}

        def ping() -> None:
            if not queue.full():  # a full queue is a busy socket: it needs no keepalive
                queue.put_nowait(_PING)
            timers["ping"] = loop.call_later(ping_s, ping)

        def expire() -> None:
            while not queue.empty():
                queue.get_nowait()
            queue.put_nowait(_EXPIRED)

        def recheck() -> None:
            if not queue.full():  # a full queue ends the feed anyway
                queue.put_nowait(_RECHECK)
            timers["recheck"] = loop.call_later(recheck_s, recheck)

        recheck_s = self.settings.live_recheck_s
        timers["ping"] = loop.call_later(ping_s, ping)
        timers["recheck"] = loop.call_later(recheck_s, recheck)
        if expires_at is not None:
            left = max(0.0, (expires_at - utcnow()).total_seconds())
            timers["expiry"] = loop.call_later(left, expire)
        skip, floor = opening.skip, opening.floor
        send = self.ws.send_text
        try:
            while True:
                # A burst is read without suspending: one task switch per burst, not per event.
                item = queue.get_nowait() if not queue.empty() else await queue.get()
                if item is _PING:
                    await send(orjson.dumps({"type": "ping", "at": utcnow().isoformat()}).decode())
                elif item is _RECHECK:
                    if (ended := await self._recheck()) is not None:
                        return ended
                elif isinstance(item, Signal):
                    return item
                elif skip and item.seq in skip:
                    skip.discard(item.seq)  # in the snapshot already, or replayed
                elif floor is None or item.seq > floor:
                    await send(item.text)
        finally:
            for timer in timers.values():
                timer.cancel()
