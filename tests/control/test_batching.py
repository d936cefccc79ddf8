"""Group commit (`control/batching.py`): batches, order, failure isolation, cancellation."""

from __future__ import annotations

import asyncio

import pytest

from switchyard.control.batching import Batcher


class Recorder:
    """A batch handler that remembers its calls; `fail` makes batches containing it raise."""

    def __init__(self, fail: set[int] | None = None, delay: float = 0.01) -> None:
        self.calls: list[list[int]] = []
        self.fail = fail or set()
        self.delay = delay

    async def __call__(self, items: list[int]) -> list[int]:
        self.calls.append(list(items))
        await asyncio.sleep(self.delay)  # the transaction: others queue meanwhile
        bad = self.fail & set(items)
        if bad:
            raise ValueError(f"bad item {min(bad)}")
        return [i * 10 for i in items]


async def test_concurrent_items_share_batches_and_get_their_own_results() -> None:
    handler = Recorder()
    batcher = Batcher(handler)
    results = await asyncio.gather(*(batcher.submit(i) for i in range(50)))
    assert results == [i * 10 for i in range(50)]
    assert handler.calls == [list(range(50))]  # submitted together: one call
    # Items submitted while a batch is being written go in the next one, all together.
    first = asyncio.create_task(batcher.submit(100))
    await asyncio.sleep(0.002)
    later = await asyncio.gather(*(batcher.submit(i) for i in range(101, 120)))
    assert await first == 1000 and later == [i * 10 for i in range(101, 120)]
    assert handler.calls[1:] == [[100], list(range(101, 120))]
    assert (batcher.batches, batcher.items) == (3, 70)


async def test_max_batch_splits_in_submission_order() -> None:
    handler = Recorder()
    batcher = Batcher(handler, max_batch=7)
    await asyncio.gather(*(batcher.submit(i) for i in range(20)))
    assert [i for call in handler.calls for i in call] == list(range(20))
    assert max(len(call) for call in handler.calls) == 7


async def test_a_failing_item_fails_alone() -> None:
    handler = Recorder(fail={13})
    batcher = Batcher(handler)
    outcomes = await asyncio.gather(*(batcher.submit(i) for i in range(20)), return_exceptions=True)
    assert isinstance(outcomes[13], ValueError) and "bad item 13" in str(outcomes[13])
    assert [o for i, o in enumerate(outcomes) if i != 13] == [i * 10 for i in range(20) if i != 13]
    # The failed batch was retried item by item.
    assert [13] in handler.calls


async def test_a_handler_returning_the_wrong_count_is_an_error_not_a_hang() -> None:
    async def short(items: list[int]) -> list[int]:
        return items[:-1]

    batcher = Batcher(short)
    with pytest.raises(RuntimeError, match="gave 0 results"):
        await asyncio.wait_for(batcher.submit(1), 5)


async def test_a_cancelled_caller_does_not_cancel_the_write() -> None:
    handler = Recorder(delay=0.05)
    batcher = Batcher(handler)
    first = asyncio.create_task(batcher.submit(1))
    await asyncio.sleep(0.01)  # its batch is being written
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await batcher.submit(2) == 20
    assert handler.calls == [[1], [2]]  # item 1 was written all the same


async def test_usable_from_a_new_event_loop() -> None:
    handler = Recorder()
    batcher = Batcher(handler)

    def in_other_loop() -> None:
        # A runner left behind, never to finish, on a loop that then closes.
        loop = asyncio.new_event_loop()
        batcher._runner = loop.create_future()  # type: ignore[assignment]
        loop.close()

    await asyncio.to_thread(in_other_loop)
    assert await asyncio.wait_for(batcher.submit(3), 5) == 30
