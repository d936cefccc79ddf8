"""The one place that decides what runs next in a scope of steps.

A scope is the top-level `steps` list or one iteration of a loop's `do`. The
rules are the spec's (definition.md, "Steps"): a split starts every live
target concurrently; a merge with `join: all` waits until each incoming edge
is resolved, `join: any` runs on the first live arrival; a step whose incoming
edges are all dead is `skipped`, and its own edges die with it.

This module is pure (no Temporal import): the workflow gives it a coroutine
that executes one step and returns the ids of the targets that are live after
it. That keeps the graph rules unit-testable without a server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from switchyard.definition.model import StepBase, step_targets

START = "__start__"
TERMINAL = frozenset({"succeeded", "failed", "skipped", "cancelled"})


class ScopeFailed(Exception):
    """The scope (and so the run or the iteration) fails with `error` ({type, message, step})."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("message", ""))
        self.error = error


class Paused(Exception):
    """The scope stopped launching steps so the workflow can continue as new."""


ExecuteStep = Callable[[StepBase], Awaitable[list[str]]]


class Dag:
    """Runs one scope of steps to its end.

    Args:
        steps: the scope's steps, in document order.
        start: ids that start with a live edge.
        states: step id -> state record; shared with the caller (it is the live
            run state). Records already terminal (a run resumed after
            continue-as-new) are taken as done: their recorded `_live` targets
            are replayed through the graph without executing anything.
        execute: runs one step; returns the live targets, raises ScopeFailed.
        should_pause: asked after every step; True stops new launches.
        now: the current (workflow) time as an ISO string, for skipped steps.
    """

    def __init__(
        self,
        steps: list[StepBase],
        start: Iterable[str],
        states: dict[str, dict[str, Any]],
        execute: ExecuteStep,
        *,
        should_pause: Callable[[], bool] = lambda: False,
    ) -> None:
        self.steps = {s.id: s for s in steps}
        self.order = [s.id for s in steps]
        self.start = [i for i in start if i in self.steps]
        self.states = states
        self.execute = execute
        self.should_pause = should_pause
        self.incoming: dict[str, list[str]] = {i: [] for i in self.order}
        for s in steps:
            for t in step_targets(s):
                if t in self.incoming and s.id not in self.incoming[t]:
                    self.incoming[t].append(s.id)
        for i in self.start:
            self.incoming[i].insert(0, START)
        self.arrivals: dict[str, dict[str, bool]] = {i: {} for i in self.order}
        self.decided: set[str] = set()
        self.ready: list[str] = []
        self.paused = False

    # ------------------------------------------------------------ graph rules

    def _arrive(self, target: str, source: str, live: bool) -> None:
        if target not in self.arrivals or target in self.decided:
            return
        self.arrivals[target][source] = live
        step = self.steps[target]
        got = self.arrivals[target]
        resolved_all = all(src in got for src in self.incoming[target])
        any_live = any(got.values())
        if step.join == "any" and any_live:
            self._decide(target, run=True)
        elif resolved_all:
            self._decide(target, run=any_live)

    def _decide(self, step_id: str, *, run: bool) -> None:
        self.decided.add(step_id)
        if run:
            self.ready.append(step_id)
        else:
            self.states[step_id] = {"status": "skipped", "_live": []}
            self._finish(step_id, [])

    def _finish(self, step_id: str, live: list[str]) -> None:
        for t in step_targets(self.steps[step_id]):
            self._arrive(t, step_id, t in live)

    # ------------------------------------------------------------ driving

    async def run(self) -> None:
        """Run until every path has ended.

        Raises:
            ScopeFailed: a step failed without a fallback; concurrent steps were cancelled.
            Paused: `should_pause` asked to stop; every started step has finished.
        """
        for i in self.start:
            self._arrive(i, START, True)
        self._replay_finished()
        tasks: dict[asyncio.Task[list[str]], str] = {}
        try:
            while True:
                while self.ready and not self.paused:
                    step_id = self.ready.pop(0)
                    task = asyncio.ensure_future(self.execute(self.steps[step_id]))
                    tasks[task] = step_id
                if not tasks:
                    break
                done, _ = await asyncio.wait(list(tasks), return_when=asyncio.FIRST_COMPLETED)
                # Handle completions in document order so that the graph (and so the
                # history) does not depend on which of two simultaneous tasks finished first.
                for task in sorted(done, key=lambda t: self.order.index(tasks[t])):
                    step_id = tasks.pop(task)
                    live = task.result()  # raises ScopeFailed
                    self.states.setdefault(step_id, {"status": "succeeded"})["_live"] = live
                    self._finish(step_id, live)
                if not self.paused and self.should_pause():
                    self.paused = True
        except GeneratorExit:
            # The worker evicted this workflow from its cache and is closing the
            # coroutine: awaiting here would be refused; the tasks die with the run.
            raise
        except BaseException:
            await _cancel_all(tasks)
            raise
        if self.paused and self.ready:
            raise Paused()
        for i in self.order:  # never reached (unreachable, or behind a failed path)
            self.states.setdefault(i, {"status": "skipped", "_live": []})

    def _replay_finished(self) -> None:
        """Feed steps finished before a continue-as-new back through the graph."""
        progressed = True
        while progressed:
            progressed = False
            for step_id in list(self.ready):
                state = self.states.get(step_id)
                if state and state.get("status") in TERMINAL:
                    self.ready.remove(step_id)
                    self._finish(step_id, list(state.get("_live", [])))
                    progressed = True


async def _cancel_all(tasks: dict[asyncio.Task[list[str]], str]) -> None:
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)
