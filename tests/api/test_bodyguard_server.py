"""Request bodies against the real server (uvicorn), on raw connections: what the issue measured.

A body without a token costs the server no memory, an oversize one is refused from its
Content-Length, stalled uploads are answered 408 and closed after FIELDPUNCH_BODY_TIMEOUT_S, and
a client that leaves mid-body is an info line, not an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from pathlib import Path

import httpx

from tests.server import Served, env_for, run, serving

EMAIL, PASSWORD = "boss@acme.example.com", "s3cret-pass"
TIMEOUT_S = 1.0


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def _exchange(
    base: str, head: str, body: bytes = b"", *, chunks: int = 0, close: bool = False
) -> tuple[int, dict[str, str], bytes]:
    """Send `head` (request line and headers), `body`, then `chunks` chunks of 64 KiB (chunked
    encoding) while the answer is awaited; the status, headers and body of the answer. `close`:
    hang up after sending instead (status 0). A plain socket: a refused write (the server closed
    its side) must not stop the answer already received from being read."""
    loop = asyncio.get_running_loop()
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.setblocking(False)
    try:
        await loop.sock_sendall(sock, head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        if close:
            return 0, {}, b""

        async def push() -> None:
            piece = b"%x\r\n%s\r\n" % (64 * 1024, b"[" * 64 * 1024)
            with contextlib.suppress(OSError):
                for _ in range(chunks):
                    await loop.sock_sendall(sock, piece)

        pushing = asyncio.create_task(push())
        raw = b""
        try:
            async with asyncio.timeout(15):
                while data := await loop.sock_recv(sock, 65536):  # until the server closes
                    raw += data
        except ConnectionResetError:
            pass  # its close met the rest of our body: what it sent before is here
        finally:
            pushing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pushing
    finally:
        sock.close()
    head_part, _, rest = raw.partition(b"\r\n\r\n")
    lines = head_part.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, rest


def _post(path: str, *, token: str | None = None, **headers: str) -> str:
    lines = [f"POST {path} HTTP/1.1", "Host: test"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return "\n".join(lines) + "\n"


async def _scenarios(served: Served, token: str) -> None:
    base, pid = served.base, served.proc.pid
    json_type = {"Content_Type": "application/json"}
    before = _rss_mb(pid)
    # 30 MB of JSON to the punch route without a token (the issue: +633 MB before the 401).
    status, headers, _ = await _exchange(
        base,
        _post("/api/v1/punches", Transfer_Encoding="chunked", **json_type),
        chunks=30 * 16,
    )
    assert (status, headers["connection"]) == (401, "close")
    # The same with a Content-Length: refused from the header alone (with a token too).
    status, _, _ = await _exchange(
        base, _post("/api/v1/customers", token=token, Content_Length=str(30 << 20), **json_type)
    )
    assert status == 413
    # 100 MB to /photos without a token (the issue: spooled to disk before the 401).
    photo = _post("/api/v1/photos", Transfer_Encoding="chunked", Content_Type="multipart/form-data")
    status, _, _ = await _exchange(base, photo, chunks=1600)
    assert status == 401
    grew = _rss_mb(pid) - before
    assert grew < 40, f"the server grew by {grew:.0f} MB"

    # 50 uploads that stall after 10 bytes: each answered 408 and closed, the server serving on.
    started = time.monotonic()
    stalled = [
        _exchange(
            base,
            _post("/api/v1/customers", token=token, Content_Length="1000", **json_type),
            b'{"name": "',
        )
        for _ in range(50)
    ]
    answers = await asyncio.gather(*stalled)
    took = time.monotonic() - started
    assert {(status, headers["connection"]) for status, headers, _ in answers} == {(408, "close")}
    assert TIMEOUT_S <= took < TIMEOUT_S + 8
    assert json.loads(answers[0][2])["type"] == "/problems/request-timeout"

    # A phone that loses its connection mid-punch.
    await _exchange(
        base,
        _post("/api/v1/punches", token=token, Content_Length="1000", **json_type),
        b'{"client_id": "abc',
        close=True,
    )


def test_bodies_on_a_real_server(tmp_path: Path) -> None:
    env = env_for(tmp_path, FIELDPUNCH_BODY_TIMEOUT_S=str(TIMEOUT_S))
    args = ["--name", "Acme", "--admin-email", EMAIL, "--admin-password", PASSWORD]
    made = run(["create-org", *args], env)
    assert made.returncode == 0, made.stderr
    with serving(["serve"], env, tmp_path / "server.log") as served:
        login = {"username": EMAIL, "password": PASSWORD}
        token = httpx.post(f"{served.base}/api/v1/auth/token", data=login).json()["access_token"]
        me = httpx.get(f"{served.base}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200  # warm: the code paths measured below are loaded
        asyncio.run(_scenarios(served, token))
        # Still serving, and the connection that was left behind did no harm.
        assert httpx.get(f"{served.base}/healthz").status_code == 200
    lines = [json.loads(x) for x in served.log_text().splitlines() if x.startswith("{")]
    assert not [x for x in lines if x["level"] in ("error", "critical")], served.log_text()
    assert not [x for x in lines if x.get("status", 0) >= 500]
    assert any(x["msg"] == "client left before sending the whole body" for x in lines)
    assert "Traceback" not in served.log_text()
