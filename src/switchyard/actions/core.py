"""Core actions that need nothing outside the worker."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from switchyard.actions.sdk import ActionContext, action
from switchyard.engine.options import READ


class EchoInput(BaseModel):
    """Any keys at all: `core.echo` returns them."""

    model_config = ConfigDict(extra="allow", title="core.echo input")


@action(
    "core.echo",
    input=EchoInput,
    options=READ,
    title="Echo",
    group="Core",
    description="Returns `with` as its output (handy in tests and examples).",
    examples=({"message": "hello", "n": 1},),
)
async def echo(ctx: ActionContext, params: EchoInput) -> dict[str, Any]:
    return dict(params.model_extra or {})
