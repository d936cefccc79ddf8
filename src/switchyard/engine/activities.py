"""The one activity that runs actions (`switchyard.action`).

Every action step is this activity with an `ActionCall`; the action's options
class (chosen in the workflow, `switchyard.engine.options`) gives its
timeouts and retries. Here, inside the activity, and only here: the
connection and its secrets are resolved, the parameters are validated, the
output is masked and, when large, moved to the blob store.

Failures leave as `ApplicationError` with `type` = the error type
(`HttpServerError`, ...) and one detail `{type, message, details, attempt}`,
so the workflow can rebuild `Steps.<id>.error` without parsing messages.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from fnmatch import fnmatchcase
from typing import Any

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import to_jsonable_python
from temporalio import activity
from temporalio.exceptions import ApplicationError

from switchyard import errors
from switchyard.actions.sdk import (
    ActionContext,
    ActionSpec,
    get_action,
    mask_secrets,
    param_problems,
)
from switchyard.connections import Connection, ConnectionResolver
from switchyard.engine.blobs import BlobStore
from switchyard.errors import StepFailure

__all__ = [
    "ActionActivities",
    "ActionCall",
    "ActionResult",
    "ConnectionCheck",
    "to_application_error",
]

#: `await check(identity, connection)`: may the user `identity` use the connection
#: named `connection`? The control plane supplies it (`connections_use`, by role or
#: grant); the engine never imports the control plane.
ConnectionCheck = Callable[[str, str], Awaitable[bool]]


@dataclass
class ActionCall:
    """Input of `switchyard.action` (add fields with defaults only: replay)."""

    action: str
    params: dict[str, Any]
    connection: str | None = None
    run_id: str = ""
    workflow: str = ""
    #: Step path, e.g. `restart_each[3].restart`.
    step: str = ""
    #: The user id the run executes as (None: no connection check).
    identity: str | None = None


@dataclass
class ActionResult:
    """Output of `switchyard.action`: the (masked, maybe blob-referenced) output."""

    output: Any
    attempt: int


def to_application_error(failure: StepFailure, attempt: int) -> ApplicationError:
    """The Temporal form of a typed step failure.

    Not retryable when the failure says so or its type is never retried
    (`errors.NEVER_RETRIED`); `retry_after` becomes the next retry delay.
    """
    non_retryable = failure.retryable is False or failure.type in errors.NEVER_RETRIED
    delay = (
        timedelta(seconds=failure.retry_after)
        if failure.retry_after is not None and not non_retryable
        else None
    )
    return ApplicationError(
        failure.message,
        {
            "type": failure.type,
            "message": failure.message,
            "details": failure.details,
            "attempt": attempt,
        },
        type=failure.type,
        non_retryable=non_retryable,
        next_retry_delay=delay,
    )


def _as_failure(exc: BaseException) -> StepFailure:
    """Any exception an action lets out, as a typed failure."""
    if isinstance(exc, StepFailure):
        return exc
    httpx = sys.modules.get("httpx")  # only loaded if some action used it
    is_timeout = isinstance(exc, TimeoutError) or (
        httpx is not None and isinstance(exc, httpx.TimeoutException)
    )
    if is_timeout:
        return StepFailure(errors.TIMEOUT, f"timed out: {exc}" if str(exc) else "timed out")
    return StepFailure(errors.ACTION_ERROR, f"{type(exc).__name__}: {exc}")


def _validation_failure(
    spec: ActionSpec, params: dict[str, Any], exc: PydanticValidationError
) -> StepFailure:
    problems = [{"loc": loc, "message": msg} for loc, msg in param_problems(params, exc)]
    text = "; ".join(f"{p['loc']}: {p['message']}" for p in problems)
    return StepFailure(
        errors.VALIDATION_ERROR,
        f"invalid parameters for {spec.type}: {text}",
        {"problems": problems},
        retryable=False,
    )


class ActionActivities:
    """The action activity, bound to a connection resolver and a blob store.

    Register `ActionActivities(...).run_action` with the worker. With a
    `connection_check`, a step of a run that executes as an identity may use a
    connection only when the check allows it; otherwise the attempt fails with
    `PermissionDenied` (never retried) before the connection is read.
    """

    def __init__(
        self,
        connections: ConnectionResolver,
        blobs: BlobStore,
        connection_check: ConnectionCheck | None = None,
        allow: Sequence[str] | None = None,
    ) -> None:
        self._connections = connections
        self._blobs = blobs
        self._check = connection_check
        #: Action type patterns (`fnmatch`, e.g. `http.*`) a private runner runs;
        #: None runs every action.
        self._allow = None if allow is None else tuple(allow)

    @activity.defn(name="switchyard.action")
    async def run_action(self, call: ActionCall) -> ActionResult:
        """Run one attempt of one action step."""
        info = activity.info()
        attempt = info.attempt
        ctx: ActionContext | None = None
        try:
            spec, params, ctx = await self._prepare(call, attempt, info.start_to_close_timeout)
            output = await spec.func(ctx, params)
            if isinstance(output, BaseModel):
                output = output.model_dump(mode="json", by_alias=True)
            # Outputs are JSON data (they travel through Temporal and into
            # expressions): datetimes, tuples, dataclasses become JSON here.
            output = mask_secrets(to_jsonable_python(output), ctx.secrets)
            return ActionResult(output=self._blobs.put_if_large(output), attempt=attempt)
        except ApplicationError:
            # An action that raises ApplicationError has chosen its own mapping.
            raise
        except Exception as exc:  # cancellation (BaseException) propagates untouched
            failure = _as_failure(exc)
            secrets = ctx.secrets if ctx is not None else []
            masked = StepFailure(
                failure.type,
                mask_secrets(failure.message, secrets),
                mask_secrets(failure.details, secrets),
                retryable=failure.retryable,
                retry_after=failure.retry_after,
            )
            raise to_application_error(masked, attempt) from None

    async def _prepare(
        self, call: ActionCall, attempt: int, timeout: timedelta | None
    ) -> tuple[ActionSpec, BaseModel, ActionContext]:
        if self._allow is not None and not any(fnmatchcase(call.action, p) for p in self._allow):
            raise StepFailure(
                errors.PERMISSION_DENIED,
                f"this runner does not run {call.action!r} "
                f"(allowed: {', '.join(self._allow) or 'nothing'})",
                {"action": call.action, "allowed": list(self._allow)},
                retryable=False,
            )
        try:
            spec = get_action(call.action)
        except KeyError:
            raise StepFailure(
                errors.VALIDATION_ERROR, f"unknown action type {call.action!r}", retryable=False
            ) from None
        try:
            params = spec.input_model.model_validate(call.params)
        except PydanticValidationError as exc:
            raise _validation_failure(spec, call.params, exc) from None
        connection = await self._connection(spec, call.connection, call.identity)
        ctx = ActionContext(
            run_id=call.run_id,
            workflow=call.workflow,
            step=call.step,
            attempt=attempt,
            connection=connection,
            attempt_timeout=timeout.total_seconds() if timeout else None,
            heartbeat=activity.heartbeat,
            logger=activity.logger,
        )
        return spec, params, ctx

    async def _connection(
        self, spec: ActionSpec, name: str | None, identity: str | None
    ) -> Connection | None:
        if not name:
            return None
        if spec.connection_type is None:
            raise StepFailure(
                errors.VALIDATION_ERROR,
                f"action {spec.type} takes no connection (got {name!r})",
                retryable=False,
            )
        # A check that raises (say, its database is down) fails the attempt as an
        # ordinary, retryable error; only a definite "no" is PermissionDenied.
        if (
            identity is not None
            and self._check is not None
            and not await self._check(identity, name)
        ):
            raise StepFailure(
                errors.PERMISSION_DENIED,
                f"the run's identity may not use connection {name!r} "
                "(permission 'connections_use')",
                {"connection": name, "identity": identity},
                retryable=False,
            )
        connection = await self._connections.get(name)
        if connection.type != spec.connection_type:
            raise StepFailure(
                errors.VALIDATION_ERROR,
                f"connection {name!r} has type {connection.type!r}; "
                f"{spec.type} needs a {spec.connection_type!r} connection",
                retryable=False,
            )
        return connection
