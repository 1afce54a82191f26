"""Real local receivers for the external channels: an SMTP server (aiosmtpd) and an HTTP server.

Both run in threads of the test process on free loopback ports and record what arrives. Tests
wait on their condition variables (bounded), never on sleeps. Either can hold the first delivery
open until released, so a test can kill a worker in the middle of sending it.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller

from tests.server import free_port

WAIT_S = 60.0


class _Recorder:
    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.hold_first = False
        self.held = threading.Event()  # the first delivery arrived and is being held
        self.release = threading.Event()
        self._holding_done = False

    def _should_hold(self) -> bool:
        with self.cond:
            if self.hold_first and not self._holding_done:
                self._holding_done = True
                return True
            return False

    def wait_until(self, predicate: Callable[[], bool], timeout: float = WAIT_S) -> None:
        with self.cond:
            if not self.cond.wait_for(predicate, timeout):
                raise AssertionError(f"not within {timeout} s: {self.describe()}")

    def describe(self) -> str:
        return ""


@dataclass
class Mail:
    envelope_to: list[str]
    message: EmailMessage

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


class MailSink(_Recorder):
    """An SMTP server (aiosmtpd Controller) on 127.0.0.1:`port`."""

    def __init__(self) -> None:
        super().__init__()
        self.mails: list[Mail] = []
        self.held_mail: Mail | None = None
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = Mail(
            list(envelope.rcpt_tos),
            email.message_from_bytes(envelope.content, policy=email.policy.default),
        )
        with self.cond:
            self.mails.append(mail)
            self.cond.notify_all()
        if self._should_hold():
            # The message is in; the "250 OK" that would end the sender's job is not.
            self.held_mail = mail
            self.held.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, WAIT_S)
        return "250 OK"

    def ids(self) -> list[str]:
        with self.cond:
            return [m.message_id for m in self.mails]

    def describe(self) -> str:
        return f"{len(self.mails)} mails: {self.ids()}"

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self.release.set()
        self._controller.stop()


@dataclass
class Hook:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HookSink(_Recorder):
    """An HTTP server on 127.0.0.1 that answers each path as `answer(path)` says."""

    answer: Callable[[str], tuple[int, bytes, dict[str, str]]] = field(
        default=lambda path: (200, b'{"errcode":0,"errmsg":"ok"}', {})
    )

    def __post_init__(self) -> None:
        super().__init__()
        self.hooks: list[Hook] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                parts = urlsplit(self.path)
                hook = Hook(
                    parts.path,
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                with sink.cond:
                    sink.hooks.append(hook)
                    sink.cond.notify_all()
                if sink._should_hold():
                    sink.held.set()
                    sink.release.wait(WAIT_S)
                status, body, headers = sink.answer(parts.path)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def at(self, path: str) -> list[Hook]:
        with self.cond:
            return [h for h in self.hooks if h.path == path]

    def describe(self) -> str:
        return f"{len(self.hooks)} requests: {[h.path for h in self.hooks]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def mail_sink() -> Iterator[MailSink]:
    sink = MailSink()
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@contextmanager
def hook_sink(
    answer: Callable[[str], tuple[int, bytes, dict[str, str]]] | None = None,
) -> Iterator[HookSink]:
    sink = HookSink(answer) if answer else HookSink()
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


# How each vendor answers a message it took.
VENDOR_OK = {
    "wecom": (200, b'{"errcode":0,"errmsg":"ok"}', {}),
    "dingtalk": (200, b'{"errcode":0,"errmsg":"ok"}', {}),
    "feishu": (200, b'{"code":0,"msg":"success","data":{}}', {}),
    "slack": (200, b"ok", {"Content-Type": "text/plain"}),
}
# Paths shaped like the vendors' webhook URLs.
VENDOR_PATHS = {
    "wecom": "/cgi-bin/webhook/send",
    "dingtalk": "/robot/send",
    "feishu": "/open-apis/bot/v2/hook/7f1c2b",
    "slack": "/services/T000/B000/XXXX",
}
VENDOR_QUERY = {
    "wecom": "?key=wk-123",
    "dingtalk": "?access_token=dt-456",
    "feishu": "",
    "slack": "",
}


def vendor_answer(path: str) -> tuple[int, bytes, dict[str, str]]:
    for vendor, p in VENDOR_PATHS.items():
        if path == p:
            return VENDOR_OK[vendor]
    return 404, b"no such hook", {}
