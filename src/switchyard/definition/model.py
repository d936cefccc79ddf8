"""The typed model of a workflow definition (spec/definition.md, version 1).

YAML and JSON documents load into these classes (see `loader.py`). Every step
is one class per *kind key*; the field that carries the kind keeps the key's
name (with a trailing underscore where the key is a Python keyword: `if_`,
`while_`, `with_`, `else_`), and the model dumps back to the document shape
with `by_alias=True`.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
)

from switchyard.definition.durations import DURATION_PATTERN, format_duration, parse_duration

STEP_ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
#: A private runner's name (part of its task queue's name; docs/runners.md).
RUNNER_NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,62}$"
WORKFLOW_NAME_PATTERN = r"^[a-z][a-z0-9-]{0,62}$"


def _duration(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like '30s', got {value!r}")
    if isinstance(value, int | float):  # seconds, as JSON numbers
        if value < 0:
            raise ValueError(f"a duration cannot be negative: {value!r}")
        return float(value)
    return parse_duration(value)


#: A duration in seconds; written `500ms`, `30s`, `5m`, `1h`, `2d`, `1h30m`
#: (or a number of seconds).
Duration = Annotated[
    float,
    BeforeValidator(_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": DURATION_PATTERN},
                {"type": "number", "minimum": 0},
            ],
            "description": "A duration: 500ms, 30s, 5m, 1h, 2d or compounds like 1h30m",
        }
    ),
]


def _id_list(value: Any) -> Any:
    """`next: a` and `next: [a, b]` mean the same; absent or null is empty."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return value


#: One step id or a list of step ids.
IdList = Annotated[
    list[str],
    BeforeValidator(_id_list),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": STEP_ID_PATTERN},
                {"type": "array", "items": {"type": "string", "pattern": STEP_ID_PATTERN}},
            ]
        }
    ),
]

StepId = Annotated[str, Field(pattern=STEP_ID_PATTERN)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=False)


# ---------------------------------------------------------------- inputs


InputType = Literal["string", "number", "integer", "boolean", "object", "array"]


class InputSpec(_Model):
    """A declared run input."""

    type: InputType = "string"
    required: bool = False
    default: Any = None
    description: str | None = None
    enum: list[Any] | None = None
    items: InputType | None = Field(default=None, description="element type of an array")


# ---------------------------------------------------------------- errors and retries


class Retry(_Model):
    """A step's retry policy; absent fields come from the action's options class."""

    max_attempts: int | None = Field(default=None, ge=1, le=100)
    initial_interval: Duration | None = None
    backoff: float | None = Field(default=None, ge=1.0, le=100.0)
    max_interval: Duration | None = None
    non_retryable: list[str] = Field(default_factory=list)


class WaitUntil(_Model):
    """Re-run the action every `interval` until `condition` (over `Output`) holds."""

    condition: str
    interval: Duration = 10.0
    timeout: Duration = 600.0


# ---------------------------------------------------------------- steps


class StepBase(_Model):
    """Fields every step may carry."""

    id: StepId
    name: str | None = None
    description: str | None = None
    next: IdList = Field(default_factory=list)
    join: Literal["all", "any"] = "all"
    on_error: str | None = Field(
        default=None, description="a step id (fallback edge) or `continue`"
    )
    timeout: Duration | None = Field(default=None, description="bounds one attempt")
    retry: Retry | None = None

    #: The key naming the kind in the document.
    KIND: ClassVar[str] = ""

    @property
    def kind(self) -> str:
        return type(self).KIND


class ActionStep(StepBase):
    KIND: ClassVar[str] = "action"
    action: str = Field(description="the action type, e.g. http.request")
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    connection: str | None = None
    runner: str | None = Field(
        default=None, pattern=RUNNER_NAME_PATTERN, description="a private runner's name"
    )
    wait_until: WaitUntil | None = None


class IfStep(StepBase):
    KIND: ClassVar[str] = "if"
    if_: str = Field(alias="if")
    then: IdList = Field(default_factory=list)
    else_: IdList = Field(default_factory=list, alias="else")


class SwitchStep(StepBase):
    KIND: ClassVar[str] = "switch"
    switch: str
    cases: dict[str, IdList] = Field(default_factory=dict)
    default: IdList = Field(default_factory=list)

    @field_validator("cases", mode="before")
    @classmethod
    def _case_keys_as_text(cls, value: Any) -> Any:
        # YAML reads `cases: {1: a, true: b}` with non-string keys; cases match on text.
        if isinstance(value, dict):
            return {_case_key(k): v for k, v in value.items()}
        return value


def _case_key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return str(key)


class ForEachStep(StepBase):
    KIND: ClassVar[str] = "for_each"
    for_each: Any = Field(description="an expression yielding an array (or a literal array)")
    do: list[Step] = Field(min_length=1)
    concurrency: int = Field(default=1, ge=1, le=100)
    output: str | None = None
    on_item_error: Literal["fail", "continue"] = "fail"


class WhileStep(StepBase):
    KIND: ClassVar[str] = "while"
    while_: Any = Field(alias="while")
    do: list[Step] = Field(min_length=1)
    max_iterations: int = Field(default=1000, ge=1, le=1_000_000)
    output: str | None = None


class TransformStep(StepBase):
    KIND: ClassVar[str] = "transform"
    transform: Any


class ScriptStep(StepBase):
    KIND: ClassVar[str] = "script"
    script: str
    timeout: Duration | None = Field(default=None, description="default 5s")
    memory_mb: int = Field(default=64, ge=1, le=1024)


class SetStep(StepBase):
    KIND: ClassVar[str] = "set"
    set: dict[str, Any] = Field(min_length=1)


class SleepStep(StepBase):
    KIND: ClassVar[str] = "sleep"
    sleep: str | int | float


class ApprovalStep(StepBase):
    KIND: ClassVar[str] = "approval"
    approval: str
    choices: list[str] = Field(default_factory=lambda: ["approve", "reject"], min_length=1)
    approvers: list[str] = Field(default_factory=list)
    on: dict[str, IdList] = Field(default_factory=dict)


class CallStep(StepBase):
    KIND: ClassVar[str] = "call"
    call: str
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    version: int | None = Field(default=None, ge=1)


class FailStep(StepBase):
    KIND: ClassVar[str] = "fail"
    fail: str


STEP_CLASSES: dict[str, type[StepBase]] = {
    cls.KIND: cls
    for cls in (
        ActionStep,
        IfStep,
        SwitchStep,
        ForEachStep,
        WhileStep,
        TransformStep,
        ScriptStep,
        SetStep,
        SleepStep,
        ApprovalStep,
        CallStep,
        FailStep,
    )
}
KIND_KEYS: tuple[str, ...] = tuple(STEP_CLASSES)
BRANCHING_KINDS = frozenset({"if", "switch", "approval"})
LOOP_KINDS = frozenset({"for_each", "while"})

Step = Annotated[
    ActionStep
    | IfStep
    | SwitchStep
    | ForEachStep
    | WhileStep
    | TransformStep
    | ScriptStep
    | SetStep
    | SleepStep
    | ApprovalStep
    | CallStep
    | FailStep,
    Field(union_mode="left_to_right"),
]


def step_targets(step: StepBase) -> list[str]:
    """Every step id this step can continue at (edges, branches, fallback)."""
    out = list(step.next)
    if isinstance(step, IfStep):
        out += step.then + step.else_
    elif isinstance(step, SwitchStep):
        for ids in step.cases.values():
            out += ids
        out += step.default
    elif isinstance(step, ApprovalStep):
        for ids in step.on.values():
            out += ids
    if step.on_error and step.on_error != "continue":
        out.append(step.on_error)
    return list(dict.fromkeys(out))


# ---------------------------------------------------------------- triggers


class Schedule(_Model):
    cron: str | None = None
    every: Duration | None = None
    timezone: str = "UTC"
    # Extension (docs/language.md): what happens when a run is still going
    # at the next fire time. Temporal's overlap policies; default skip.
    overlap: (
        Literal["skip", "buffer_one", "buffer_all", "cancel_other", "terminate_other", "allow_all"]
        | None
    ) = None


class Webhook(_Model):
    connection: str


class RateLimit(_Model):
    count: int = Field(ge=1)
    per: Duration


class EventMatch(_Model):
    match: str = "true"
    rate_limit: RateLimit | None = None


class TriggerBase(_Model):
    id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    inputs: dict[str, Any] = Field(default_factory=dict)


class ScheduleTrigger(TriggerBase):
    schedule: Schedule


class WebhookTrigger(TriggerBase):
    webhook: Webhook


class MonitorTrigger(TriggerBase):
    monitor: EventMatch


class SecuritySignalTrigger(TriggerBase):
    security_signal: EventMatch


TRIGGER_CLASSES: dict[str, type[TriggerBase]] = {
    "schedule": ScheduleTrigger,
    "webhook": WebhookTrigger,
    "monitor": MonitorTrigger,
    "security_signal": SecuritySignalTrigger,
}

Trigger = Annotated[
    ScheduleTrigger | WebhookTrigger | MonitorTrigger | SecuritySignalTrigger,
    Field(union_mode="left_to_right"),
]


def trigger_kind(trigger: TriggerBase) -> str:
    for kind, cls in TRIGGER_CLASSES.items():
        if isinstance(trigger, cls):
            return kind
    raise TypeError(trigger)


# ---------------------------------------------------------------- workflow


class Workflow(_Model):
    """A whole definition."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={"$comment": "Switchyard workflow definition, version 1"},
    )

    name: str = Field(pattern=WORKFLOW_NAME_PATTERN, description="the workflow's handle")
    description: str | None = None
    inputs: dict[str, InputSpec] = Field(default_factory=dict)
    outputs: dict[str, Any] = Field(default_factory=dict)
    timeout: Duration = Field(default=7 * 86400.0, description="whole-run limit; default 7d")
    triggers: list[Trigger] = Field(default_factory=list)
    start: IdList = Field(default_factory=list, description="default: the first step")
    steps: list[Step] = Field(min_length=1)

    def start_ids(self) -> list[str]:
        return list(self.start) or [self.steps[0].id]


ForEachStep.model_rebuild()
WhileStep.model_rebuild()
Workflow.model_rebuild()
