"""The photo decoder's pool (photos/decoding.py) without real children: a fake executor that
breaks as ProcessPoolExecutor does when a child dies, so the order of events is the test's."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import pytest

from fieldpunch.photos import decoding, imaging


class FakePool:
    """Like ProcessPoolExecutor: once broken, every pending future fails with BrokenProcessPool
    at once and `submit` raises it; `shutdown(cancel_futures=True)` cancels what is pending."""

    made: list[FakePool]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.futures: list[concurrent.futures.Future[imaging.Encoded]] = []
        self.broken = self.shut = False
        self.made.append(self)

    def submit(self, fn: Any, *args: Any) -> concurrent.futures.Future[imaging.Encoded]:
        if self.broken:
            raise BrokenProcessPool("the pool is not usable anymore")
        future: concurrent.futures.Future[imaging.Encoded] = concurrent.futures.Future()
        self.futures.append(future)
        return future

    def break_(self) -> None:
        self.broken = True
        for future in self.futures:
            if not future.done():
                future.set_exception(BrokenProcessPool("a child process terminated abruptly"))

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        self.shut = True
        if cancel_futures:
            for future in self.futures:
                future.cancel()


@pytest.fixture
def pools(monkeypatch: pytest.MonkeyPatch) -> list[FakePool]:
    made: list[FakePool] = []
    monkeypatch.setattr(FakePool, "made", made, raising=False)
    monkeypatch.setattr(decoding.concurrent.futures, "ProcessPoolExecutor", FakePool)
    return made


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(1000):  # the loop's own steps: each task runs until it waits on something
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the decoder never got there")


async def test_a_photo_waiting_when_a_child_dies_is_decoded_on_a_fresh_pool(
    pools: list[FakePool],
) -> None:
    """Two photos decode, a third waits for a place; a child dies. The two fail (503, try
    again); the third takes a freed place while the broken pool is still the current one: it
    must start on a fresh pool (not fail with the broken pool's error, a 500), and the late
    handling of the others' failure must not shut that fresh pool (cancelling the photo)."""
    decoder = decoding.Decoder(2, max_waiting=4)
    first = asyncio.create_task(decoder.reencode(b"1"))
    second = asyncio.create_task(decoder.reencode(b"2"))
    await _until(lambda: len(pools) == 1 and len(pools[0].futures) == 2)
    third = asyncio.create_task(decoder.reencode(b"3"))
    await _until(lambda: decoder.waiting == 1)
    pools[0].break_()
    for task in (first, second):
        with pytest.raises(decoding.Busy):
            await task
    await _until(lambda: len(pools) == 2 and len(pools[1].futures) == 1)
    assert pools[0].shut and not pools[1].shut
    pools[1].futures[0].set_result(imaging.Encoded(b"jpeg", "image/jpeg", 1, 1))
    assert (await asyncio.wait_for(third, 5)).data == b"jpeg"
    assert (decoder.running, decoder.waiting) == (0, 0)
