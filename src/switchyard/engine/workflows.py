"""The interpreter workflows: a run, and the loop runner its loops use.

`RunWorkflow` executes a checked definition as a state machine (`dag.Dag`
decides what runs next, `interpreter.StepExecutor` runs each step). It
continues as new when Temporal suggests it, after letting the steps in flight
finish, so no definition can outgrow one history.

`LoopWorkflow` runs a `for_each` range or a `while` loop as a child. A range
larger than `LEAF_SIZE` items is split into at most `FANOUT` child ranges
(recursively), so a loop over any number of items costs each history a
bounded number of events; a leaf range or a `while` loop continues as new
between iterations when its history grows.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeKey

with workflow.unsafe.imports_passed_through():
    from pydantic import TypeAdapter

    from switchyard import errors, expressions
    from switchyard.definition.model import ForEachStep, Step, StepBase, WhileStep, Workflow
    from switchyard.engine.dag import Dag, Paused, ScopeFailed
    from switchyard.engine.interpreter import (
        Env,
        StepExecutor,
        StepFailed,
        _maybe_blob,
        _truthy,
        now_iso,
        public_state,
        store_blob,
    )
    from switchyard.engine.types import (
        APPROVE_UPDATE,
        CONCAT_ACTIVITY,
        LOOP_WORKFLOW,
        MAX_REPORTED_FAILURES,
        RUN_WORKFLOW,
        STATE_QUERY,
        BlobRequest,
        LoopInput,
        LoopResult,
        RunInput,
        iteration_view,
    )

#: Items a leaf loop range runs itself; bigger ranges are split into child ranges.
LEAF_SIZE = 100
#: Child ranges per split.
FANOUT = 20
#: Continue as new past this many events even if the server has not suggested it.
HISTORY_BUDGET = 10_000

_STEP = TypeAdapter(Step)


def _should_pause(flags: dict[str, Any]) -> bool:
    info = workflow.info()
    budget = int(flags.get("history_budget", HISTORY_BUDGET))
    return info.is_continue_as_new_suggested() or info.get_current_history_length() > budget


def _wire_states(states: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """States as the query returns them: public fields plus `_children` for live loop views."""
    out = {}
    for sid, st in states.items():
        pub = public_state(st)
        if st.get("_children") and st.get("status") in ("running", "waiting"):
            pub["_children"] = st["_children"]
        out[sid] = pub
    return out


class _Approvals:
    """The `approve` update and the `state` query shared by both workflows."""

    env: Env | None = None

    @workflow.update(name=APPROVE_UPDATE)
    async def approve(self, decision: dict[str, Any]) -> dict[str, Any]:
        assert self.env is not None
        record = {
            "choice": decision["choice"],
            "by": decision.get("by"),
            "comment": decision.get("comment"),
            "at": now_iso(),
        }
        self.env.decisions[decision["step"]] = record
        return record

    @approve.validator
    def _check_approval(self, decision: dict[str, Any]) -> None:
        if self.env is None:
            raise ValueError("the run has not started yet")
        step = decision.get("step")
        waiting = self.env.waiting.get(step) if isinstance(step, str) else None
        if waiting is None:
            open_ = ", ".join(sorted(self.env.waiting)) or "none"
            raise ValueError(f"step {step!r} is not waiting for approval (waiting: {open_})")
        choice = decision.get("choice")
        if choice not in waiting["choices"]:
            raise ValueError(
                f"choice {choice!r} is not one of {', '.join(waiting['choices'])} for step {step!r}"
            )
        approvers = waiting.get("approvers") or []
        who = {decision.get("by"), *(decision.get("roles") or [])}
        if approvers and not who & set(approvers):
            raise ValueError(
                f"{decision.get('by')!r} may not decide step {step!r} "
                f"(approvers: {', '.join(approvers)})"
            )


@workflow.defn(name=RUN_WORKFLOW)
class RunWorkflow(_Approvals):
    """One run of a definition."""

    def __init__(self) -> None:
        self.env = None
        self.states: dict[str, dict[str, Any]] = {}
        self.info: dict[str, Any] = {"status": "running"}

    @workflow.query(name=STATE_QUERY)
    def state(self) -> dict[str, Any]:
        """The run JSON of the spec, at this moment."""
        info = dict(self.info)
        if info["status"] == "running" and self.env is not None and self.env.waiting:
            info["status"] = "waiting"
        steps = _wire_states(self.states)
        for sid in self.info.get("step_ids", []):
            steps.setdefault(sid, {"status": "pending"})
        return {
            "id": info.get("id"),
            "workflow": info.get("workflow"),
            "version": info.get("version"),
            "status": info["status"],
            "inputs": info.get("inputs", {}),
            "outputs": info.get("outputs"),
            "error": info.get("error"),
            "trigger": info.get("trigger"),
            "started_at": info.get("started_at"),
            "finished_at": info.get("finished_at"),
            "steps": {sid: steps[sid] for sid in self.info.get("step_ids", []) if sid in steps},
            "approvals": dict(self.env.waiting) if self.env is not None else {},
        }

    @workflow.run
    async def run(self, inp: RunInput) -> dict[str, Any]:
        wf = Workflow.model_validate(inp.definition)
        resume = inp.resume or {}
        run_id = resume.get("run_id") or workflow.info().workflow_id
        started_at = resume.get("started_at") or now_iso()
        trigger = _with_schedule_time(inp.trigger)
        self.info.update(
            id=run_id,
            workflow=wf.name,
            version=inp.version,
            inputs=inp.inputs,
            trigger=trigger,
            started_at=started_at,
            step_ids=[s.id for s in wf.steps],
        )
        self.env = Env(
            inputs=inp.inputs,
            trigger=trigger,
            run={
                "id": run_id,
                "workflow": wf.name,
                "version": inp.version,
                "started_at": started_at,
            },
            flags=inp.flags,
            vars=dict(resume.get("vars", {})),
            identity=inp.identity,
            reuse=inp.reuse,
        )
        self.states = dict(_resolve_blob(resume.get("states", {})))
        deadline = (
            datetime.fromisoformat(resume["deadline"])
            if "deadline" in resume
            else workflow.now() + timedelta(seconds=wf.timeout)
        )
        executor = StepExecutor(self.env, self.states)
        dag = Dag(
            wf.steps,
            wf.start_ids(),
            self.states,
            executor.execute,
            should_pause=lambda: _should_pause(inp.flags),
        )
        task = asyncio.ensure_future(dag.run())
        try:
            remaining = max((deadline - workflow.now()).total_seconds(), 0.001)
            await workflow.wait_condition(task.done, timeout=remaining)
            task.result()
        except Paused:
            states = await _maybe_blob(self.states)
            workflow.continue_as_new(
                dataclasses.replace(
                    inp,
                    trigger=trigger,
                    resume={
                        "run_id": run_id,
                        "started_at": started_at,
                        "deadline": deadline.isoformat(),
                        "states": states,
                        "vars": self.env.vars,
                    },
                )
            )
        except ScopeFailed as failed:
            self._end("failed", error=failed.error)
        except TimeoutError:
            await _cancel(task)
            self._end(
                "timed_out",
                error={
                    "type": errors.TIMEOUT,
                    "message": f"the run exceeded its timeout ({wf.timeout:g}s)",
                    "step": None,
                },
            )
        except asyncio.CancelledError:
            await _cancel(task)
            self._end(
                "cancelled",
                error={"type": errors.CANCELLED, "message": "the run was cancelled", "step": None},
            )
        else:
            try:
                outputs = expressions.render(
                    wf.outputs, executor.scope(), step=None, field="outputs"
                )
            except expressions.ExpressionError as exc:
                self._end(
                    "failed",
                    error={"type": errors.EXPRESSION_ERROR, "message": str(exc), "step": None},
                )
            else:
                self._end("succeeded", outputs=outputs)
        return self.state()

    def _end(
        self, status: str, *, error: dict[str, Any] | None = None, outputs: Any = None
    ) -> None:
        for st in self.states.values():
            if st.get("status") in ("running", "waiting", "pending"):
                st["status"] = "cancelled"
                st["finished_at"] = now_iso()
        for sid in self.info.get("step_ids", []):  # never reached: behind a failure or dead
            self.states.setdefault(sid, {"status": "skipped"})
        self.info.update(status=status, error=error, outputs=outputs, finished_at=now_iso())


@workflow.defn(name=LOOP_WORKFLOW)
class LoopWorkflow(_Approvals):
    """A `for_each` range or a `while` loop of a run.

    Iterations finished in this history live in `done`; those of earlier
    histories (before a continue-as-new) and of finished child ranges are
    `parts` in the blob store, with their outputs in `output_parts`.
    """

    def __init__(self) -> None:
        self.env = None
        self.done: dict[int, dict[str, Any]] = {}
        self.running: dict[int, dict[str, dict[str, Any]]] = {}
        self.children: list[str] = []
        self.parts: list[Any] = []  # details of finished segments / child ranges, in order
        self.output_parts: list[Any] = []
        self.failures: list[dict[str, Any]] = []
        self.failed_count = 0
        self.vars_out: dict[str, Any] = {}
        self.count = 0

    @workflow.query(name=STATE_QUERY)
    def state(self) -> dict[str, Any]:
        """Iterations so far (finished and running), in index order, and where the rest are."""
        its = [iteration_view(self.done[i]) for i in sorted(self.done)]
        its += [
            {"index": i, "status": "running", "steps": _wire_states(st)}
            for i, st in sorted(self.running.items())
        ]
        return {
            "iterations": its,
            "_parts": list(self.parts),
            "_children": list(self.children),
            "approvals": dict(self.env.waiting) if self.env is not None else {},
        }

    @workflow.run
    async def run(self, inp: LoopInput) -> LoopResult:
        step: StepBase = _STEP.validate_python(inp.step)
        resume = inp.resume or {}
        self.parts = list(resume.get("parts", []))
        self.output_parts = list(resume.get("output_parts", []))
        self.failures = list(resume.get("failures", []))
        self.failed_count = int(resume.get("failed_count", 0))
        self.vars_out = dict(resume.get("vars_out", {}))
        self.count = int(resume.get("count", 0))
        scope = inp.scope
        self.env = Env(
            inputs=scope.get("inputs", {}),
            trigger=scope.get("trigger", {}),
            run=scope.get("run", {}),
            flags=inp.flags,
            outer_steps=scope.get("steps", {}),
            vars=dict(resume.get("vars", scope.get("vars", {}))),
            identity=inp.identity,
        )
        if isinstance(step, ForEachStep):
            items = _resolve_blob(inp.items or [])
            leaf = int(inp.flags.get("loop_leaf_size", LEAF_SIZE))
            if len(items) > leaf:
                return await self._split(inp, step, items, leaf)
            await self._for_each(inp, step, items)
            return await self._result(inp, self.vars_out)
        assert isinstance(step, WhileStep)
        await self._while(inp, step)
        return await self._result(inp, self.env.vars)

    # ------------------------------------------------------------ segments and results

    async def _flush(self, *, store: bool) -> None:
        """Move the iterations of this history into `parts` (stored when `store`)."""
        order = sorted(self.done)
        if not order:
            return
        done = [self.done[i] for i in order]
        details = [iteration_view(it) for it in done]
        self.parts.append(await (store_blob(details) if store else _maybe_blob(details)))
        self.output_parts.append(await _maybe_blob([it.get("output") for it in done]))
        for it in done:
            if it["status"] == "failed":
                self.failed_count += 1
                if len(self.failures) < MAX_REPORTED_FAILURES:
                    self.failures.append({"index": it["index"], "error": it.get("error")})
            self.vars_out.update(it.get("vars") or {})
        self.count += len(done)
        self.done = {}

    def _resume(self, **extra: Any) -> dict[str, Any]:
        return {
            "parts": self.parts,
            "output_parts": self.output_parts,
            "failures": self.failures,
            "failed_count": self.failed_count,
            "vars_out": self.vars_out,
            "count": self.count,
            **extra,
        }

    async def _result(self, inp: LoopInput, vars_out: dict[str, Any]) -> LoopResult:
        # A range of a split always stores its details; a loop that continued as new
        # has several parts; a small loop hands its details back inline.
        await self._flush(store=inp.detached or bool(self.parts))
        return LoopResult(
            iterations=_joined(self.parts),
            vars=dict(vars_out),
            outputs=await _concat(self.output_parts),
            failures=self.failures,
            failed_count=self.failed_count,
            count=self.count,
        )

    # ------------------------------------------------------------ one iteration

    async def _iteration(
        self,
        inp: LoopInput,
        step: ForEachStep | WhileStep,
        index: int,
        item: Any,
        vars_in: dict[str, Any],
    ) -> dict[str, Any]:
        assert self.env is not None
        states: dict[str, dict[str, Any]] = {}
        self.running[index] = states
        env = Env(
            inputs=self.env.inputs,
            trigger=self.env.trigger,
            run=self.env.run,
            flags=self.env.flags,
            outer_steps=self.env.outer_steps,
            vars=dict(vars_in),
            item=item,
            index=index,
            in_loop=True,
            path=f"{inp.path}[{index}].",
            decisions=self.env.decisions,
            waiting=self.env.waiting,
            slots=self.env.slots,
            identity=self.env.identity,
        )
        executor = StepExecutor(env, states)
        result: dict[str, Any] = {"index": index}
        try:
            await Dag(step.do, [step.do[0].id], states, executor.execute).run()
            if step.output is not None:
                output = executor.evaluate(step, step.output, "output")
            else:
                output = executor.resolve(states.get(step.do[-1].id, {}).get("output"))
            result.update(status="succeeded", output=output)
        except ScopeFailed as failed:
            result.update(status="failed", error=failed.error, output=None)
        except StepFailed as failed:  # the loop's own `output` expression
            result.update(
                status="failed",
                output=None,
                error={**failed.error, "step": f"{inp.path}[{index}]"},
            )
        except asyncio.CancelledError:
            result.update(status="cancelled", output=None)
            for st in states.values():
                if st.get("status") in ("running", "waiting"):
                    st["status"] = "cancelled"
        finally:
            self.running.pop(index, None)
        result["steps"] = {k: public_state(v) for k, v in states.items()}
        result["vars"] = {k: v for k, v in env.vars.items() if vars_in.get(k, _MISSING) != v}
        return result

    # ------------------------------------------------------------ for_each

    async def _for_each(self, inp: LoopInput, step: ForEachStep, items: list[Any]) -> None:
        assert self.env is not None
        # Iterations start in index order and a continue-as-new waits for the ones in
        # flight, so everything before `start` has finished in an earlier history.
        start = int((inp.resume or {}).get("next", 0))
        todo = list(range(start, len(items)))
        tasks: dict[asyncio.Task[dict[str, Any]], int] = {}
        stop = paused = False
        try:
            while True:
                while todo and not stop and not paused and len(tasks) < inp.concurrency:
                    i = todo.pop(0)
                    index = inp.offset + i
                    task = asyncio.ensure_future(
                        self._iteration(inp, step, index, items[i], self.env.vars)
                    )
                    tasks[task] = index
                if not tasks:
                    break
                done, _ = await asyncio.wait(list(tasks), return_when=asyncio.FIRST_COMPLETED)
                for task in sorted(done, key=lambda t: tasks[t]):
                    index = tasks.pop(task)
                    result = task.result()
                    self.done[index] = result
                    if result["status"] == "failed" and (
                        step.on_item_error == "fail"
                        or (result.get("error") or {}).get("type") == "Fail"
                    ):
                        stop = True
                if stop:
                    for t in tasks:
                        t.cancel()
                if not paused and _should_pause(inp.flags):
                    paused = True
        except asyncio.CancelledError:
            for t in tasks:
                t.cancel()
            raise
        if paused and todo and not stop:
            await self._flush(store=True)
            workflow.continue_as_new(dataclasses.replace(inp, resume=self._resume(next=todo[0])))

    async def _split(
        self, inp: LoopInput, step: ForEachStep, items: list[Any], leaf: int
    ) -> LoopResult:
        fanout = int(inp.flags.get("loop_fanout", FANOUT))
        size = max(leaf, math.ceil(len(items) / fanout))
        ranges = [(lo, min(lo + size, len(items))) for lo in range(0, len(items), size)]
        # Few ranges at once (at most 4 unless the concurrency needs more), each as
        # concurrent as it can be: activities that finish together then share
        # workflow tasks, where a range running one item at a time pays a workflow
        # task per item (bench/engine.py: 5,000 items at concurrency 100 ran at 94
        # activities/s this way against 48 with one range per unit of concurrency).
        # The ranges together never exceed the loop's concurrency.
        parallel = min(len(ranges), max(math.ceil(inp.concurrency / size), min(4, inp.concurrency)))
        child_concurrency = max(1, inp.concurrency // parallel)
        sem = asyncio.Semaphore(parallel)
        results: dict[int, LoopResult] = {}
        failed = asyncio.Event()

        async def one(lo: int, hi: int) -> None:
            async with sem:
                if failed.is_set():
                    return
                child_id = f"{workflow.info().workflow_id}.{inp.offset + lo}-{inp.offset + hi}"
                self.children.append(child_id)
                child = dataclasses.replace(
                    inp,
                    items=await _maybe_blob(items[lo:hi]),
                    offset=inp.offset + lo,
                    concurrency=child_concurrency,
                    resume=None,
                    detached=True,
                )
                res: LoopResult = await workflow.execute_child_workflow(
                    LOOP_WORKFLOW, child, id=child_id, result_type=LoopResult
                )
                results[lo] = res
                # Finished ranges show through `parts` (in index order) for live views.
                self.parts = [_joined([results[k].iterations]) for k in sorted(results)]
                self.children.remove(child_id)
                if step.on_item_error == "fail" and res.failed_count:
                    failed.set()

        await asyncio.gather(*(one(lo, hi) for lo, hi in ranges))
        for lo in sorted(results):
            res = results[lo]
            self.failed_count += res.failed_count
            room = MAX_REPORTED_FAILURES - len(self.failures)
            self.failures.extend(res.failures[: max(room, 0)])
            self.vars_out.update(res.vars)
            self.count += res.count
        return LoopResult(
            iterations=_joined([results[lo].iterations for lo in sorted(results)]),
            vars=self.vars_out,
            outputs=await _concat([results[lo].outputs for lo in sorted(results)]),
            failures=self.failures,
            failed_count=self.failed_count,
            count=self.count,
        )

    # ------------------------------------------------------------ while

    async def _while(self, inp: LoopInput, step: WhileStep) -> None:
        assert self.env is not None
        resume = inp.resume or {}
        index = int(resume.get("index", 0))
        last_steps: dict[str, Any] = resume.get("last_steps", {})
        while True:
            probe = StepExecutor(
                Env(
                    inputs=self.env.inputs,
                    trigger=self.env.trigger,
                    run=self.env.run,
                    flags=self.env.flags,
                    outer_steps={**self.env.outer_steps, **last_steps},
                    vars=self.env.vars,
                    index=index,
                    in_loop=True,
                    path=f"{inp.path}",
                ),
                {},
            )
            try:
                go = _truthy(probe.evaluate(step, step.while_, "while"))
            except StepFailed as failed:
                self.done[index] = _failed_iteration(index, {**failed.error, "step": inp.path})
                return
            if not go:
                return
            if index >= step.max_iterations:
                self.done[index] = _failed_iteration(
                    index,
                    {
                        "type": "MaxIterationsExceeded",
                        "step": inp.path,
                        "message": f"still true after max_iterations ({step.max_iterations})",
                    },
                )
                return
            result = await self._iteration(inp, step, index, None, self.env.vars)
            self.env.update_vars(result.pop("vars", {}))
            self.done[index] = result
            last_steps = result["steps"]
            index += 1
            if result["status"] != "succeeded":
                return
            if _should_pause(inp.flags):
                await self._flush(store=True)
                workflow.continue_as_new(
                    dataclasses.replace(
                        inp,
                        resume=self._resume(index=index, last_steps=last_steps, vars=self.env.vars),
                    )
                )


def _failed_iteration(index: int, error: dict[str, Any]) -> dict[str, Any]:
    return {"index": index, "status": "failed", "steps": {}, "output": None, "error": error}


def _joined(parts: list[Any]) -> Any:
    """One iterations value from several parts: a list, a reference, or `{"$parts": [...]}`."""
    flat: list[Any] = []
    for part in parts:
        if isinstance(part, dict) and "$parts" in part:
            flat.extend(part["$parts"])
        elif part != []:
            flat.append(part)
    if not flat:
        return []
    return flat[0] if len(flat) == 1 else {"$parts": flat}


async def _concat(parts: list[Any]) -> Any:
    """Outputs of several parts as one list (or a reference to it when large)."""
    if all(isinstance(p, list) for p in parts):
        return await _maybe_blob([x for p in parts for x in p])
    # Some parts are in the blob store: join them in a local activity, not here.
    return await workflow.execute_local_activity(
        CONCAT_ACTIVITY,
        BlobRequest(value=parts),
        start_to_close_timeout=timedelta(seconds=120),
    )


_MISSING = object()


def _resolve_blob(value: Any) -> Any:
    """The value behind a blob reference (or the value itself): content-addressed, so
    reading it from workflow code is as deterministic as the history."""
    from switchyard.engine.blobs import BlobStore, default_store

    # The store comes from the environment: read it only for a reference (most
    # values are not, and the sandbox makes every environment read slow).
    return default_store().resolve(value) if BlobStore.is_ref(value) else value


async def _cancel(task: asyncio.Future[Any]) -> None:
    task.cancel()
    # Whatever the scope raised while being cancelled is moot: the run is ending.
    with contextlib.suppress(BaseException):
        await task


__all__ = ["LEAF_SIZE", "LoopWorkflow", "RunWorkflow"]


_SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")


def _with_schedule_time(trigger: dict[str, Any]) -> dict[str, Any]:
    """`Trigger.scheduled_at` for a run a Temporal Schedule started.

    The schedule's action carries a fixed input; the fire time is the
    `TemporalScheduledStartTime` search attribute Temporal sets on the run
    (recorded in its start event, so replay reads the same value). A
    continued-as-new run already has it in its trigger.
    """
    if trigger.get("type") != "schedule" or "scheduled_at" in trigger:
        return trigger
    at = workflow.info().typed_search_attributes.get(_SCHEDULED_START)
    if at is None:
        return trigger
    return {**trigger, "scheduled_at": at.astimezone(UTC).isoformat().replace("+00:00", "Z")}
