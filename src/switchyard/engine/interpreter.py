"""Executing one step of any kind, inside a Temporal workflow.

`StepExecutor.execute` is the `ExecuteStep` coroutine that `dag.Dag` drives.
Pure steps (`if`, `switch`, `transform`, `set`, templating) are evaluated here,
in the workflow, and cost no history event; `script` is a local activity (one
marker event); actions are activities; loops are child workflows
(`workflows.LoopWorkflow`) so that no input size can grow this history.
"""

from __future__ import annotations

import asyncio
import builtins
import hashlib
import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    ChildWorkflowError,
    RetryState,
    TimeoutError,
)

with workflow.unsafe.imports_passed_through():
    from switchyard import errors, expressions
    from switchyard.definition.durations import parse_duration
    from switchyard.definition.model import (
        ActionStep,
        ApprovalStep,
        CallStep,
        FailStep,
        ForEachStep,
        IfStep,
        ScriptStep,
        SetStep,
        SleepStep,
        StepBase,
        SwitchStep,
        TransformStep,
        WhileStep,
    )
    from switchyard.engine import blobs, options
    from switchyard.engine.activities import ActionCall, ActionResult
    from switchyard.engine.dag import TERMINAL, ScopeFailed
    from switchyard.engine.types import (
        ACTION_ACTIVITY,
        LOAD_DEFINITION_ACTIVITY,
        LOOP_WORKFLOW,
        RUN_WORKFLOW,
        SCRIPT_ACTIVITY,
        DefinitionRequest,
        LoopInput,
        LoopResult,
        RunInput,
        ScriptCall,
        runner_queue,
    )

#: Activities in flight per workflow execution (Temporal refuses more than 2,000 pending).
MAX_INFLIGHT_ACTIVITIES = 100
DEFAULT_SCRIPT_TIMEOUT = 5.0
#: A `fail` step ends the run; this is its error type.
FAIL = "Fail"


class StepFailed(Exception):
    """A step failed after its last attempt."""

    def __init__(self, type: str, message: str, details: Any = None, attempts: int | None = None):
        super().__init__(message)
        self.error = {"type": type, "message": message, "details": details}
        self.attempts = attempts


def now_iso() -> str:
    return workflow.now().isoformat().replace("+00:00", "Z")


def public_state(state: dict[str, Any]) -> dict[str, Any]:
    """A step state as users see it (internal `_` fields dropped)."""
    return {k: v for k, v in state.items() if not k.startswith("_")}


def stable_seed(text: str) -> int:
    """A seed that is the same in every process (never Python's salted `hash()`)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:6], "big")


@dataclass
class Env:
    """What one scope sees from outside, shared by the steps it runs."""

    inputs: dict[str, Any]
    trigger: dict[str, Any]
    run: dict[str, Any]
    flags: dict[str, Any]
    outer_steps: dict[str, Any] = field(default_factory=dict)
    vars: dict[str, Any] = field(default_factory=dict)
    item: Any = None
    index: int | None = None
    in_loop: bool = False
    path: str = ""  # prefix of step paths, e.g. "each[3]."
    #: Approval decisions by step path, filled by the workflow's update handler.
    decisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Approvals waiting, by step path: {prompt, choices, approvers}.
    waiting: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Bounds the activities in flight for this workflow execution (shared by its scopes).
    slots: asyncio.Semaphore | None = None
    #: The user id the run executes as (`RunInput.identity`); actions carry it.
    identity: str | None = None
    #: Top-level steps a rerun takes as succeeded without executing them (`RunInput.reuse`).
    reuse: dict[str, dict[str, Any]] = field(default_factory=dict)

    _vars_version: int = 0
    _vars_view: tuple[int, dict[str, Any]] | None = None

    def update_vars(self, values: dict[str, Any]) -> None:
        """Set run variables (always through here, so scopes know they changed)."""
        if values:
            self.vars.update(values)
            self._vars_version += 1

    def vars_view(self) -> dict[str, Any]:
        """A snapshot of `Vars`; the same object until they change (the expression
        engine keeps converted values per object, so an unchanged snapshot is free)."""
        if self._vars_view is None or self._vars_view[0] != self._vars_version:
            self._vars_view = (self._vars_version, dict(self.vars))
        return self._vars_view[1]

    def __post_init__(self) -> None:
        if self.slots is None:
            limit = int(self.flags.get("max_inflight_activities", MAX_INFLIGHT_ACTIVITIES))
            self.slots = asyncio.Semaphore(max(1, limit))

    def scope_data(self) -> dict[str, Any]:
        """The outer view a loop child needs (JSON)."""
        return {
            "inputs": self.inputs,
            "trigger": self.trigger,
            "run": self.run,
            "vars": dict(self.vars),
        }


class StepExecutor:
    """Executes steps of one scope; `states` is that scope's live state."""

    def __init__(self, env: Env, states: dict[str, dict[str, Any]]) -> None:
        self.env = env
        self.states = states
        self._blobs: blobs.BlobStore | None = None
        #: step id -> (state record, its public view); views of finished steps are reused.
        self._views: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        self._last_scope: expressions.Scope | None = None
        self._outer: dict[str, Any] | None = None

    # ------------------------------------------------------------ expressions

    def _store(self) -> blobs.BlobStore:
        if self._blobs is None:
            self._blobs = blobs.default_store()
        return self._blobs

    def resolve(self, value: Any) -> Any:
        """Load an output stored outside the history (content-addressed, so replay-safe)."""
        if blobs.BlobStore.is_ref(value):
            return self._store().get(value)
        return value

    def visible_steps(self) -> dict[str, Any]:
        if self._outer is None:  # outer states are final: resolve their references once
            self._outer = {
                sid: {**st, "output": self.resolve(st["output"])}
                if blobs.BlobStore.is_ref(st.get("output"))
                else st
                for sid, st in self.env.outer_steps.items()
            }
        steps = dict(self._outer)
        for sid, st in self.states.items():
            steps[sid] = self._view(sid, st)
        return steps

    def _view(self, sid: str, st: dict[str, Any]) -> dict[str, Any]:
        cached = self._views.get(sid)
        if cached is not None and cached[0] is st and st.get("status") in TERMINAL:
            return cached[1]
        pub = public_state(st)
        if "output" in pub:
            pub["output"] = self.resolve(pub["output"])
        if st.get("status") in TERMINAL:  # a finished step's state no longer changes
            self._views[sid] = (st, pub)
        return pub

    def scope(self, **extra: Any) -> expressions.Scope:
        """The names in scope now.

        Derived from the previous scope, so values that did not change (the
        trigger event, inputs, finished steps, unchanged Vars) keep the form the
        expression engine already converted them to.
        """
        base = self._last_scope or expressions.Scope(**self._fixed_names())
        scope = base.with_(**self._moving_names(**extra))
        if not extra:
            self._last_scope = scope
        return scope

    def scope_kwargs(self, **extra: Any) -> dict[str, Any]:
        """The names in scope, as JSON data (a script's local activity rebuilds the Scope)."""
        return {**self._fixed_names(), **self._moving_names(**extra)}

    def _fixed_names(self) -> dict[str, Any]:
        """Names that stay the same for the whole scope."""
        env = self.env
        names: dict[str, Any] = {
            "inputs": env.inputs,
            "trigger": env.trigger,
            "run": env.run,
            "seed": stable_seed(str(env.run.get("id", ""))),
        }
        if env.in_loop:
            names.update(item=env.item, index=env.index)
        return names

    def _moving_names(self, **extra: Any) -> dict[str, Any]:
        """Names that change as steps finish and time passes."""
        return {
            "steps": self.visible_steps(),
            "vars": self.env.vars_view(),
            "now_ms": int(workflow.now().timestamp() * 1000),
            **extra,
        }

    def evaluate(self, step: StepBase, expr: Any, fieldname: str, **extra: Any) -> Any:
        if not isinstance(expr, str):  # a literal in an expression field
            return self.render(step, expr, fieldname, **extra)
        try:
            return expressions.evaluate(
                expr, self.scope(**extra), step=self.path(step), field=fieldname
            )
        except expressions.ExpressionError as exc:
            raise StepFailed(errors.EXPRESSION_ERROR, str(exc)) from None

    def render(self, step: StepBase, value: Any, fieldname: str, **extra: Any) -> Any:
        try:
            return expressions.render(
                value, self.scope(**extra), step=self.path(step), field=fieldname
            )
        except expressions.ExpressionError as exc:
            raise StepFailed(errors.EXPRESSION_ERROR, str(exc)) from None

    def path(self, step: StepBase) -> str:
        return f"{self.env.path}{step.id}"

    # ------------------------------------------------------------ driving one step

    async def execute(self, step: StepBase) -> list[str]:
        """Run `step`; return its live targets. Raises ScopeFailed when the scope must fail."""
        state: dict[str, Any] = {
            "status": "running",
            "attempts": 0,
            "output": None,
            "error": None,
            "started_at": now_iso(),
            "finished_at": None,
        }
        self.states[step.id] = state
        recorded = None if self.env.in_loop else self.env.reuse.get(step.id)
        if recorded is not None and not isinstance(step, FailStep):
            return self._reuse(step, state, recorded)
        try:
            live = await self._dispatch(step, state)
        except StepFailed as failure:
            state.update(status="failed", error=failure.error, finished_at=now_iso())
            state["attempts"] = failure.attempts or max(state["attempts"], 1)
            if failure.error["type"] == FAIL:
                raise ScopeFailed({**_error_of(failure.error), "step": self.path(step)}) from None
            if step.on_error == "continue":
                return list(step.next)
            if step.on_error:
                return [step.on_error]
            raise ScopeFailed({**_error_of(failure.error), "step": self.path(step)}) from None
        except asyncio.CancelledError:
            state.update(status="cancelled", finished_at=now_iso())
            raise
        if state["output"] is not None and not blobs.BlobStore.is_ref(state["output"]):
            # Large pure-step outputs (transform, script, loops) leave the history too.
            state["output"] = await _maybe_blob(state["output"])
        state.update(status="succeeded", finished_at=now_iso())
        if not state["attempts"]:
            state["attempts"] = 1
        return live

    def _reuse(self, step: StepBase, state: dict[str, Any], recorded: dict[str, Any]) -> list[str]:
        """A step of a rerun that succeeded in the earlier run: its recorded state, no command.

        The live targets follow from the recorded output the way the step routed
        then (`if`, `switch`, `approval`); a `set` step sets its variables again.
        A loop is reused whole (its recorded iterations, when given, are shown).
        """
        state.update(
            status="succeeded",
            attempts=recorded.get("attempts") or 1,
            output=recorded.get("output"),
            error=None,
            started_at=recorded.get("started_at") or state["started_at"],
            finished_at=recorded.get("finished_at") or now_iso(),
            reused=True,
        )
        if recorded.get("iterations") is not None:
            state["iterations"] = recorded["iterations"]
        output = self.resolve(state["output"])
        value = output if isinstance(output, dict) else {}
        if isinstance(step, IfStep):
            return list(step.then if _truthy(value.get("value")) else step.else_)
        if isinstance(step, SwitchStep):
            case = value.get("case")
            return list(step.cases.get(str(case), step.default))
        if isinstance(step, ApprovalStep):
            return list(step.on.get(str(value.get("choice")), []))
        if isinstance(step, SetStep):
            self.env.update_vars(value)
        return list(step.next)

    async def _dispatch(self, step: StepBase, state: dict[str, Any]) -> list[str]:
        if isinstance(step, ActionStep):
            state["output"] = await self._action(step, state)
            return list(step.next)
        if isinstance(step, IfStep):
            value = bool(_truthy(self.evaluate(step, step.if_, "if")))
            state["output"] = {"value": value}
            return list(step.then if value else step.else_)
        if isinstance(step, SwitchStep):
            value = self.evaluate(step, step.switch, "switch")
            key = _case_key(value)
            case = key if key in step.cases else None
            state["output"] = {"value": value, "case": case if case is not None else "default"}
            return list(step.cases[case] if case is not None else step.default)
        if isinstance(step, TransformStep):
            state["output"] = self.evaluate(step, step.transform, "transform")
            return list(step.next)
        if isinstance(step, SetStep):
            values = {k: self.evaluate(step, v, f"set.{k}") for k, v in step.set.items()}
            self.env.update_vars(values)
            state["output"] = values
            return list(step.next)
        if isinstance(step, ScriptStep):
            state["output"] = await self._script(step, state)
            return list(step.next)
        if isinstance(step, SleepStep):
            seconds = self._sleep_seconds(step)
            await workflow.sleep(timedelta(seconds=seconds))
            state["output"] = {"slept": seconds}
            return list(step.next)
        if isinstance(step, ApprovalStep):
            return await self._approval(step, state)
        if isinstance(step, CallStep):
            state["output"] = await self._call(step)
            return list(step.next)
        if isinstance(step, FailStep):
            message = self.render(step, step.fail, "fail")
            raise StepFailed(FAIL, str(message))
        if isinstance(step, ForEachStep | WhileStep):
            state["output"] = await self._loop(step, state)
            return list(step.next)
        raise StepFailed(errors.VALIDATION_ERROR, f"unknown step kind {step.kind!r}")

    # ------------------------------------------------------------ actions

    async def _action(self, step: ActionStep, state: dict[str, Any]) -> Any:
        from switchyard.actions import get_action

        params = self.render(step, step.with_, "with")
        if not isinstance(params, dict):
            raise StepFailed(errors.VALIDATION_ERROR, "`with` must render to an object")
        connection = None
        if step.connection is not None:
            connection = self.render(step, step.connection, "connection")
            connection = None if connection in (None, "") else str(connection)
        try:
            spec = get_action(step.action)
        except KeyError:
            raise StepFailed(errors.VALIDATION_ERROR, f"unknown action {step.action!r}") from None
        settings = options.activity_settings(
            spec.options_class(params), step_timeout=step.timeout, step_retry=step.retry
        )
        call = ActionCall(
            action=step.action,
            params=params,
            connection=connection,
            run_id=str(self.env.run.get("id", "")),
            workflow=str(self.env.run.get("workflow", "")),
            step=self.path(step),
            identity=self.env.identity,
        )
        task_queue = runner_queue(step.runner) if step.runner else None

        async def attempt() -> ActionResult:
            assert self.env.slots is not None
            async with self.env.slots:
                try:
                    return await workflow.execute_activity(
                        ACTION_ACTIVITY,
                        call,
                        result_type=ActionResult,
                        task_queue=task_queue,
                        start_to_close_timeout=settings.start_to_close,
                        schedule_to_close_timeout=settings.schedule_to_close,
                        heartbeat_timeout=settings.heartbeat_timeout,
                        retry_policy=settings.retry_policy,
                    )
                except ActivityError as exc:
                    raise _activity_failure(exc, settings.retry_policy) from None

        result = await attempt()
        state["attempts"] = result.attempt
        if step.wait_until is None:
            return result.output
        # wait_until: re-run the action every interval until the condition on its output holds.
        wait = step.wait_until
        deadline = workflow.now() + timedelta(seconds=wait.timeout)
        polls = 1
        while not _truthy(
            self.evaluate(
                step, wait.condition, "wait_until.condition", output=self.resolve(result.output)
            )
        ):
            if workflow.now() + timedelta(seconds=wait.interval) > deadline:
                raise StepFailed(
                    errors.WAIT_TIMEOUT,
                    f"condition `{wait.condition}` still false after {polls} checks "
                    f"over {wait.timeout:g}s",
                    attempts=polls,
                )
            await workflow.sleep(timedelta(seconds=wait.interval))
            result = await attempt()
            polls += 1
        state["attempts"] = polls
        return result.output

    # ------------------------------------------------------------ script

    async def _script(self, step: ScriptStep, state: dict[str, Any]) -> Any:
        timeout = step.timeout if step.timeout is not None else DEFAULT_SCRIPT_TIMEOUT
        call = ScriptCall(
            body=step.script,
            scope=self.scope_kwargs(),
            timeout=timeout,
            memory_mb=step.memory_mb,
            step=self.path(step),
        )
        retry = step.retry
        policy = RetryPolicy(
            maximum_attempts=(retry.max_attempts or 1) if retry else 1,
            initial_interval=timedelta(seconds=(retry.initial_interval or 1.0) if retry else 1.0),
            backoff_coefficient=(retry.backoff or 2.0) if retry else 2.0,
            maximum_interval=timedelta(seconds=retry.max_interval)
            if retry and retry.max_interval
            else None,
            non_retryable_error_types=sorted(
                set(errors.NEVER_RETRIED) | set(retry.non_retryable if retry else [])
            ),
        )
        try:
            result = await workflow.execute_local_activity(
                SCRIPT_ACTIVITY,
                call,
                result_type=ActionResult,
                start_to_close_timeout=timedelta(seconds=timeout + 5),
                retry_policy=policy,
            )
        except (ActivityError, ApplicationError) as exc:
            # A local activity's failure may arrive unwrapped (not as an ActivityError).
            raise _activity_failure(exc, policy) from None
        state["attempts"] = result.attempt
        return result.output

    # ------------------------------------------------------------ sleep

    def _sleep_seconds(self, step: SleepStep) -> float:
        value: Any = step.sleep
        if isinstance(value, str) and expressions.is_template(value):
            value = self.render(step, value, "sleep")
        try:
            if isinstance(value, bool):
                raise ValueError(value)
            seconds = float(value) if isinstance(value, int | float) else parse_duration(value)
        except (ValueError, TypeError):
            raise StepFailed(
                errors.VALIDATION_ERROR,
                f"step '{self.path(step)}', field 'sleep': {value!r} is not a duration "
                "or a number of seconds",
            ) from None
        if seconds < 0:
            raise StepFailed(errors.VALIDATION_ERROR, f"sleep of {seconds:g}s is negative")
        return seconds

    # ------------------------------------------------------------ approval

    async def _approval(self, step: ApprovalStep, state: dict[str, Any]) -> list[str]:
        path = self.path(step)
        prompt = self.render(step, step.approval, "approval")
        state["status"] = "waiting"
        self.env.waiting[path] = {
            "prompt": prompt,
            "choices": list(step.choices),
            "approvers": list(step.approvers),
        }
        try:
            await workflow.wait_condition(lambda: path in self.env.decisions, timeout=step.timeout)
        except builtins.TimeoutError:
            state["output"] = {"choice": "timeout", "by": None, "comment": None, "at": now_iso()}
            return list(step.on.get("timeout", []))
        finally:
            self.env.waiting.pop(path, None)
        state["status"] = "running"
        decision = self.env.decisions[path]
        state["output"] = decision
        return list(step.on.get(decision["choice"], []))

    # ------------------------------------------------------------ call

    async def _call(self, step: CallStep) -> Any:
        from switchyard.definition.inputs import validate_inputs
        from switchyard.definition.model import Workflow

        inputs = self.render(step, step.with_, "with")
        found = await workflow.execute_local_activity(
            LOAD_DEFINITION_ACTIVITY,
            DefinitionRequest(name=step.call, version=step.version),
            result_type=dict,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=3),
        )
        if not found.get("definition"):
            raise StepFailed(
                errors.VALIDATION_ERROR, found.get("error") or f"workflow {step.call!r} not found"
            )
        child_wf = Workflow.model_validate(found["definition"])
        resolved, problems = validate_inputs(child_wf, inputs)
        if problems:
            raise StepFailed(
                errors.VALIDATION_ERROR,
                f"inputs of workflow {step.call!r}: " + "; ".join(str(p) for p in problems),
            )
        run_id = f"{self.env.run.get('id')}.{self.path(step)}"
        child_input = RunInput(
            definition=found["definition"],
            inputs=resolved,
            trigger={"type": "call", "run": self.env.run.get("id"), "step": self.path(step)},
            version=found.get("version"),
            flags=self.env.flags,
            identity=self.env.identity,
        )
        try:
            result = await workflow.execute_child_workflow(
                RUN_WORKFLOW,
                child_input,
                id=run_id,
                result_type=dict,
                execution_timeout=timedelta(seconds=step.timeout) if step.timeout else None,
            )
        except ChildWorkflowError as exc:
            raise StepFailed(
                errors.CHILD_FAILED, f"child run {run_id} failed: {exc.cause or exc}"
            ) from None
        if result.get("status") != "succeeded":
            err = result.get("error") or {}
            raise StepFailed(
                errors.CHILD_FAILED,
                f"child run {run_id} of {step.call!r} {result.get('status')}: "
                f"{err.get('message', '')}".rstrip(": "),
                details={"run": run_id, "error": err},
            )
        return result.get("outputs")

    # ------------------------------------------------------------ loops

    async def _loop(self, step: ForEachStep | WhileStep, state: dict[str, Any]) -> Any:
        path = self.path(step)
        scope = self.env.scope_data()
        # Step outputs stored outside the history travel as references.
        scope["steps"] = {
            **self.env.outer_steps,
            **{sid: public_state(st) for sid, st in self.states.items()},
        }
        loop_input = LoopInput(
            step=step.model_dump(mode="json", by_alias=True, exclude_none=True),
            scope=scope,
            path=f"{path}",
            flags=self.env.flags,
            identity=self.env.identity,
        )
        if isinstance(step, ForEachStep):
            items = self.evaluate(step, step.for_each, "for_each")
            if not isinstance(items, list):
                raise StepFailed(
                    errors.EXPRESSION_ERROR,
                    f"step '{path}', field 'for_each': expected an array, got {_js_type(items)}",
                )
            loop_input.items = await _maybe_blob(items)
            loop_input.concurrency = step.concurrency
        child_id = f"{self.env.run.get('id')}.{path}"
        state["_children"] = [child_id]
        result: LoopResult = await workflow.execute_child_workflow(
            LOOP_WORKFLOW, loop_input, id=child_id, result_type=LoopResult
        )
        # Iteration details stay where the loop put them (inline, a reference or
        # parts); clients resolve them (engine.client.resolve_refs).
        state["iterations"] = result.iterations
        state["attempts"] = 1
        self.env.update_vars(result.vars)
        failures = result.failures
        fatal = [f for f in failures if (f.get("error") or {}).get("type") == FAIL]
        if fatal:
            err = fatal[0]["error"]
            raise ScopeFailed(
                {"type": FAIL, "message": err["message"], "step": err.get("step", path)}
            )
        stop = isinstance(step, WhileStep) or step.on_item_error == "fail"
        if failures and stop:
            first = failures[0]
            err = first.get("error") or {}
            what = "iteration" if isinstance(step, WhileStep) else "item"
            raise StepFailed(
                err.get("type", errors.ACTION_ERROR),
                f"{what} {first['index']}: {err.get('message', '')}",
            )
        return result.outputs


# ---------------------------------------------------------------- helpers


async def _maybe_blob(value: Any) -> Any:
    """Store a large value outside the history through a local activity."""
    if len(json.dumps(value, default=str)) < blobs.default_store().threshold:
        return value
    return await store_blob(value)


async def store_blob(value: Any) -> Any:
    """Always store `value` in the blob store (a local activity: one marker event)."""
    from switchyard.engine.types import STORE_BLOB_ACTIVITY, BlobRequest

    return await workflow.execute_local_activity(
        STORE_BLOB_ACTIVITY,
        BlobRequest(value=value),
        result_type=dict,
        start_to_close_timeout=timedelta(seconds=60),
    )


def _error_of(error: dict[str, Any]) -> dict[str, Any]:
    return {"type": error.get("type"), "message": error.get("message")}


def _activity_failure(exc: ActivityError | ApplicationError, policy: RetryPolicy) -> StepFailed:
    cause = exc if isinstance(exc, ApplicationError) else exc.cause
    if isinstance(cause, ApplicationError):
        det = cause.details[0] if cause.details and isinstance(cause.details[0], dict) else {}
        return StepFailed(
            det.get("type") or cause.type or errors.ACTION_ERROR,
            det.get("message") or cause.message,
            det.get("details"),
            attempts=det.get("attempt"),
        )
    if isinstance(cause, TimeoutError):
        reached = getattr(exc, "retry_state", None) == RetryState.MAXIMUM_ATTEMPTS_REACHED
        attempts = policy.maximum_attempts if reached else None
        return StepFailed(
            errors.TIMEOUT,
            f"attempt timed out ({cause.type.name.lower()})",
            attempts=attempts or None,
        )
    return StepFailed(errors.ACTION_ERROR, str(cause or exc))


def _truthy(value: Any) -> bool:
    """JavaScript truthiness of a JSON value."""
    if isinstance(value, float) and value != value:
        return False
    return bool(value)


def _case_key(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def _js_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    return "a number" if isinstance(value, int | float) else type(value).__name__
