"""Group commit: concurrent small writes handled by one transaction.

A burst of events (50 a second and more) makes as many tiny write
transactions. On SQLite they queue behind its single writer, and each one
costs several round trips between the event loop and the driver's thread,
which a busy loop stretches to tens of milliseconds: the queue then grows
without bound. A :class:`Batcher` takes the items submitted while a batch
is being written and writes them all in the next one, so the number of
transactions per second stays small whatever the rate, and each caller
still learns the outcome of its own item once it is committed.

    batcher = Batcher(store_events)      # async (items) -> results, same order
    new = await batcher.submit(event)    # returns after the commit

If a batch fails (a constraint violated by one item, a deadlock...), each of
its items is tried again alone, so one bad item fails alone with its own
exception and the others succeed. A caller that is cancelled while waiting
does not cancel the write: the item is written with its batch (what was
submitted is never half-done).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

__all__ = ["Batcher"]

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class Batcher(Generic[T, R]):
    """Hands items submitted concurrently to `handle` in batches, in order.

    Args:
        handle: Writes a batch in one transaction and returns one result per
            item, in the same order. It must not have effects that outlive a
            failed call (it runs again per item after a failure).
        max_batch: Most items per call.
    """

    def __init__(
        self, handle: Callable[[list[T]], Awaitable[list[R]]], *, max_batch: int = 200
    ) -> None:
        self.handle = handle
        self.max_batch = max_batch
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._runner: asyncio.Task[None] | None = None
        #: Batches written and items in them (for tests and metrics).
        self.batches = 0
        self.items = 0

    async def submit(self, item: T) -> R:
        """Queue one item; returns its result once its batch is committed."""
        loop = asyncio.get_running_loop()
        if self._runner is not None and self._runner.get_loop() is not loop:
            # Used from another event loop now (test clients make one per test):
            # what the old loop had queued can never complete there.
            self._queue, self._runner = [], None
        future: asyncio.Future[R] = loop.create_future()
        # Retrieved here, so the failure of an abandoned item is not reported twice.
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._queue.append((item, future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._drain(), name="batcher")
        # shield: a caller that goes away leaves its item in the batch.
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        batch: list[tuple[T, asyncio.Future[R]]] = []
        try:
            while self._queue:
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
                await self._write(batch)
        except BaseException:  # cancelled (shutdown): nobody may wait forever
            for _, future in batch + self._queue:
                if not future.done():
                    future.cancel()
            self._queue.clear()
            raise

    async def _write(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        items = [item for item, _ in batch]
        try:
            results = await self.handle(items)
            if len(results) != len(items):
                raise RuntimeError(f"batch of {len(items)} gave {len(results)} results")
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exc=exc)
                return
            log.debug("batch of %d failed (%s): writing its items one by one", len(batch), exc)
            for one in batch:
                await self._write([one])
            return
        self.batches += 1
        self.items += len(items)
        for (_, future), result in zip(batch, results, strict=True):
            _settle(future, result=result)


def _settle(
    future: asyncio.Future[R], *, result: R | None = None, exc: BaseException | None = None
) -> None:
    if future.done():  # its caller was cancelled: nobody is waiting
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)  # type: ignore[arg-type]
