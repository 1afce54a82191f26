"""Photo decoding off the server process: a small process pool, at most WORKERS at once.

Why processes, not threads: decoding and resizing take hundreds of MB and whole seconds of CPU.
In threads of the server, four uploads at once took 3.4 GB that glibc kept (each thread's
malloc arena holds its freed pages) and parts of Pillow's work held the GIL, so other people's
punches waited seconds. In a child process the server's memory does not grow at all; the child
hands its pages back after each photo (`malloc_trim`) and is replaced after
MAX_TASKS_PER_CHILD photos; a crash in a codec kills a child, not the server. The cost is
copying the upload (≤ 10 MB) into the child and the JPEG (≤ ~1 MB) back: milliseconds.

At most WORKERS photos decode at once per server process; up to MAX_WAITING more wait their
turn (their bodies are already in memory); beyond that an upload is answered 503 with
Retry-After rather than queued without end.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import ctypes
import gc
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from PIL import Image

from fieldpunch.photos import imaging

WORKERS = max(1, min(2, os.cpu_count() or 1))
MAX_WAITING = 16
MAX_TASKS_PER_CHILD = 50


class Busy(Exception):
    """Too many photos are waiting to be decoded, or the decoder had to restart: try again."""


def _trim() -> None:
    """Give freed heap pages back to the system (glibc keeps them otherwise)."""
    gc.collect()
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)  # glibc only (not musl, macOS)
    if trim is not None:
        trim(0)


def _worker_init(initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    # Pillow's own decompression-bomb guard, a second fence: it refuses twice this outright.
    Image.MAX_IMAGE_PIXELS = imaging.MAX_CAMERA_JPEG_PIXELS
    if initializer is not None:
        initializer(*initargs)


def _run(fn: Callable[[bytes], Any], data: bytes) -> Any:
    try:
        return fn(data)
    finally:
        del data
        _trim()


def _context() -> multiprocessing.context.BaseContext:
    # Not fork: the server has threads (a forked child could inherit a held lock). A fork
    # server forks children from a clean process that has Pillow loaded already.
    if "forkserver" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


class Decoder:
    """Runs `fn` (imaging.reencode) on upload bytes in a pool of `workers` processes."""

    def __init__(
        self,
        workers: int = WORKERS,
        *,
        max_waiting: int = MAX_WAITING,
        fn: Callable[[bytes], imaging.Encoded] = imaging.reencode,
        initializer: Callable[..., None] | None = None,
        initargs: tuple[Any, ...] = (),
    ) -> None:
        self.workers, self.max_waiting, self.fn = workers, max_waiting, fn
        self._init = (initializer, initargs)
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None
        self.running = 0  # photos in the pool now
        self.waiting = 0  # photos waiting for a place

    def _executor(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            self._pool = concurrent.futures.ProcessPoolExecutor(
                self.workers,
                mp_context=_context(),
                initializer=_worker_init,
                initargs=self._init,
                max_tasks_per_child=MAX_TASKS_PER_CHILD,
            )
        return self._pool

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(self.workers))
        return self._slots[1]

    async def reencode(self, data: bytes) -> imaging.Encoded:
        """The re-encoded photo; raises imaging.NotAnImage, or Busy when it cannot now."""
        return await self.run(self.fn, data)  # type: ignore[no-any-return]

    async def run(self, fn: Callable[[bytes], Any], data: bytes) -> Any:
        """`fn(data)` in a child (a module-level function or a partial of one: it is pickled),
        under the same limits as a decode; raises what `fn` raises, or Busy."""
        slots = self._semaphore()
        if slots.locked() and self.waiting >= self.max_waiting:
            raise Busy(f"{self.waiting} photos are waiting to be processed")
        self.waiting += 1
        try:
            await slots.acquire()
        finally:
            self.waiting -= 1
        self.running += 1
        loop = asyncio.get_running_loop()
        try:
            pool = self._executor()
            try:
                future = pool.submit(_run, fn, data)
            except BrokenProcessPool:
                # A child died and the photos on that pool have not all been answered yet (they
                # replace it when they are): this photo is not at fault, it starts a fresh pool.
                self._reset(pool)
                pool = self._executor()
                future = pool.submit(_run, fn, data)
        except BaseException:
            self.running -= 1
            slots.release()
            raise

        def done(_: concurrent.futures.Future[Any]) -> None:
            # The place is free when the child is done, even if the request gave up waiting.
            def free() -> None:
                self.running -= 1
                slots.release()

            # A closed loop (its app gone) has nobody waiting for the place any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(free)

        future.add_done_callback(done)
        try:
            return await asyncio.wrap_future(future)
        except BrokenProcessPool:
            # A child died (killed, or a codec crashed): start a fresh pool for what follows.
            self._reset(pool)
            raise Busy("the photo decoder restarted") from None

    def _reset(self, broken: concurrent.futures.ProcessPoolExecutor) -> None:
        """Drop `broken`; only if it is still the current pool: every photo on it learns of the
        break, and a late one must not shut the fresh pool others have started on since."""
        if self._pool is broken:
            self._pool = None
        broken.shutdown(wait=False, cancel_futures=True)

    def shutdown(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
