"""The `switchyard.action` activity: lookup, validation, connections, error mapping."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, ConfigDict
from temporalio.exceptions import ApplicationError

from switchyard import errors
from switchyard.actions import ActionContext, action, sdk
from switchyard.connections import Connection
from switchyard.errors import StepFailure

from .conftest import RunAction, error_detail


class AnyInput(BaseModel):
    model_config = ConfigDict(extra="allow")


@pytest.fixture
def raising_action() -> Iterator[str]:
    """`test.raise`: raises whatever `with.kind` names; removed after the test."""

    @action("test.raise", input=AnyInput, options="read", connection_type="http")
    async def raise_it(ctx: ActionContext, params: AnyInput) -> Any:
        extra = params.model_extra or {}
        kind = extra["kind"]
        ctx.heartbeat("working", ctx.attempt)
        if kind == "none":
            return {
                "attempt": ctx.attempt,
                "step": ctx.step,
                "run": ctx.run_id,
                "when": dt.datetime(2024, 1, 2, tzinfo=dt.UTC),
                "secret_echo": (ctx.connection.secrets.get("token") if ctx.connection else None),
            }
        if kind == "step_failure":
            raise StepFailure(
                extra.get("type", errors.HTTP_SERVER_ERROR),
                "remote busy",
                {"n": 1},
                retryable=extra.get("retryable"),
                retry_after=extra.get("retry_after"),
            )
        if kind == "timeout":
            raise TimeoutError()
        if kind == "httpx_timeout":
            raise httpx.ReadTimeout("read timed out")
        if kind == "secret_in_message":
            raise RuntimeError(f"bad token {ctx.connection.secrets['token']}")  # type: ignore[union-attr]
        raise ValueError("boom")

    yield "test.raise"
    sdk._REGISTRY.pop("test.raise", None)


CONN = Connection("api", "http", fields={}, secrets={"token": "tok-abcdef"})


async def test_success_output_attempt_and_heartbeat(
    run_action: RunAction, raising_action: str
) -> None:
    result = await run_action(
        raising_action, {"kind": "none"}, attempt=4, connection="api", connections=[CONN]
    )
    assert result.attempt == 4
    assert result.output == {
        "attempt": 4,
        "step": "s",
        "run": "r1",
        "when": "2024-01-02T00:00:00Z",  # JSON data, not a datetime
        "secret_echo": "***",
    }
    assert run_action.heartbeats == [("working", 4)]  # type: ignore[attr-defined]


async def test_core_echo_returns_with(run_action: RunAction) -> None:
    params = {"a": 1, "b": {"c": [1, "x"]}, "json": None}
    result = await run_action("core.echo", params)
    assert result.output == params


async def test_unknown_action_is_a_non_retryable_validation_error(run_action: RunAction) -> None:
    with pytest.raises(ApplicationError) as info:
        await run_action("nope.nothing", {})
    assert info.value.type == errors.VALIDATION_ERROR
    assert info.value.non_retryable
    assert "nope.nothing" in info.value.message


async def test_invalid_params_name_the_fields(run_action: RunAction) -> None:
    with pytest.raises(ApplicationError) as info:
        await run_action("http.request", {"method": "FETCH", "bogus": 1})
    assert info.value.type == errors.VALIDATION_ERROR
    assert info.value.non_retryable
    for field in ("with.method", "with.url", "with.bogus"):
        assert field in info.value.message
    locs = {p["loc"] for p in error_detail(info.value)["details"]["problems"]}
    assert locs == {"with.method", "with.url", "with.bogus"}


async def test_missing_connection_is_connection_not_found(
    run_action: RunAction, raising_action: str
) -> None:
    with pytest.raises(ApplicationError) as info:
        await run_action(raising_action, {"kind": "none"}, connection="ghost")
    assert info.value.type == errors.CONNECTION_NOT_FOUND
    assert info.value.non_retryable


async def test_connection_of_the_wrong_type(run_action: RunAction, raising_action: str) -> None:
    hook = Connection("api", "webhook_secret", secrets={"secret": "x"})
    with pytest.raises(ApplicationError) as info:
        await run_action(raising_action, {"kind": "none"}, connection="api", connections=[hook])
    assert info.value.type == errors.VALIDATION_ERROR
    assert "webhook_secret" in info.value.message


async def test_connection_for_an_action_that_takes_none(run_action: RunAction) -> None:
    with pytest.raises(ApplicationError) as info:
        await run_action("core.echo", {}, connection="api", connections=[CONN])
    assert info.value.type == errors.VALIDATION_ERROR


@pytest.mark.parametrize(
    ("params", "type_", "non_retryable", "delay"),
    [
        ({"kind": "step_failure"}, errors.HTTP_SERVER_ERROR, False, None),
        ({"kind": "step_failure", "retry_after": 12.5}, errors.HTTP_SERVER_ERROR, False, 12.5),
        ({"kind": "step_failure", "retryable": False}, errors.HTTP_SERVER_ERROR, True, None),
        # Never-retried types stay non-retryable whatever the action says.
        (
            {"kind": "step_failure", "type": errors.PERMISSION_DENIED, "retryable": True},
            errors.PERMISSION_DENIED,
            True,
            None,
        ),
        ({"kind": "step_failure", "type": "MyOwnError"}, "MyOwnError", False, None),
        ({"kind": "timeout"}, errors.TIMEOUT, False, None),
        ({"kind": "httpx_timeout"}, errors.TIMEOUT, False, None),
        ({"kind": "other"}, errors.ACTION_ERROR, False, None),
    ],
)
async def test_error_mapping(
    run_action: RunAction,
    raising_action: str,
    params: dict[str, Any],
    type_: str,
    non_retryable: bool,
    delay: float | None,
) -> None:
    with pytest.raises(ApplicationError) as info:
        await run_action(raising_action, params, attempt=2)
    err = info.value
    assert err.type == type_
    assert err.non_retryable is non_retryable
    assert (err.next_retry_delay.total_seconds() if err.next_retry_delay else None) == delay
    detail = error_detail(err)
    assert detail["type"] == type_
    assert detail["message"] == err.message
    assert detail["attempt"] == 2
    assert set(detail) == {"type", "message", "details", "attempt"}


async def test_other_exceptions_name_their_class(
    run_action: RunAction, raising_action: str
) -> None:
    with pytest.raises(ApplicationError) as info:
        await run_action(raising_action, {"kind": "other"})
    assert info.value.message == "ValueError: boom"


async def test_secret_in_error_message_is_masked(
    run_action: RunAction, raising_action: str
) -> None:
    with pytest.raises(ApplicationError) as info:
        await run_action(
            raising_action, {"kind": "secret_in_message"}, connection="api", connections=[CONN]
        )
    assert "tok-abcdef" not in info.value.message
    assert info.value.message == "RuntimeError: bad token ***"
