"""The OpenAI-compatible integration: chat completions against any `/chat/completions` server.

Declarations only (connection type, models, options class); the request is
made by `_impl.py`, imported on first call, so that looking the action up
inside the workflow sandbox never imports httpx. The `openai` Python package
is not used: the API is one JSON POST, sent through `switchyard.actions.rest`
(uniform error mapping, timeouts and address guard).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from switchyard.actions.sdk import REST_ERRORS, ActionContext, action
from switchyard.connections.types import ConnectionType, FieldSpec, register_connection_type
from switchyard.engine.options import LONG_RUNNING

__all__ = [
    "DEFAULT_BASE_URL",
    "OPENAI",
    "ChatCompletionInput",
    "ChatCompletionOutput",
    "ChatMessage",
    "JsonSchemaFormat",
    "Usage",
]

DEFAULT_BASE_URL = "https://api.openai.com/v1"

OPENAI = register_connection_type(
    ConnectionType(
        name="openai",
        description=(
            "An OpenAI-compatible API (OpenAI, Azure OpenAI-style proxies, vLLM, Ollama, "
            "LiteLLM, ...): base URL, default model and API key."
        ),
        fields=(
            FieldSpec(
                "base_url",
                "API base URL; `/chat/completions` is appended "
                "(e.g. http://localhost:11434/v1 for Ollama)",
                default=DEFAULT_BASE_URL,
            ),
            FieldSpec("organization", "OpenAI organization id (sent as `OpenAI-Organization`)"),
            FieldSpec("project", "OpenAI project id (sent as `OpenAI-Project`)"),
            FieldSpec("default_model", "model used when a step gives no `model`"),
            FieldSpec("headers", "extra headers sent with every request", type="object"),
            FieldSpec(
                "api_key_header",
                "send the API key raw in this header (e.g. `api-key` for Azure OpenAI) "
                "instead of `Authorization: Bearer <key>`",
            ),
            FieldSpec(
                "query",
                "query parameters added to every request (e.g. `api-version` for Azure OpenAI)",
                type="object",
            ),
            FieldSpec(
                "allow_private_metadata",
                "allow link-local and cloud metadata addresses",
                type="boolean",
                default=False,
            ),
            FieldSpec("ca_cert", "PEM CA bundle trusted for this API (private PKI)"),
            FieldSpec(
                "api_key",
                "API key (Bearer token); optional for local servers that need none, "
                "required for api.openai.com",
                secret=True,
            ),
        ),
    )
)


class ChatMessage(BaseModel):
    """One message of the conversation."""

    model_config = ConfigDict(extra="forbid", title="openai chat message")

    role: Literal["system", "developer", "user", "assistant", "tool"] = Field(
        description="who speaks: system/developer (instructions), user, assistant, tool"
    )
    content: str | list[dict[str, Any]] | None = Field(
        description="the text, or a list of content parts (e.g. text and image_url parts)"
    )
    name: str | None = Field(default=None, description="optional participant name")
    tool_call_id: str | None = Field(
        default=None, description="for role `tool`: the id of the tool call this answers"
    )
    tool_calls: list[dict[str, Any]] | None = Field(
        default=None, description="for role `assistant`: tool calls it made (passed through)"
    )


class JsonSchemaFormat(BaseModel):
    """Structured output: the answer must match a JSON Schema."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, title="openai json_schema")

    name: str = Field(
        default="response",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="a name for the schema (a-z, A-Z, 0-9, _ and -, at most 64)",
    )
    schema_: dict[str, Any] = Field(alias="schema", description="the JSON Schema of the answer")
    strict: bool | None = Field(
        default=None, description="ask the server to follow the schema exactly"
    )
    description: str | None = Field(default=None, description="what the answer is for")


def _unwrap_response_format(value: Any) -> Any:
    """Accept OpenAI's own wire shapes too: `{"type": "json_schema", "json_schema": {...}}`."""
    if isinstance(value, dict) and "type" in value:
        kind = value.get("type")
        if kind in ("text", "json_object") and set(value) == {"type"}:
            return kind
        if kind == "json_schema" and set(value) == {"type", "json_schema"}:
            return value["json_schema"]
    return value


class ChatCompletionInput(BaseModel):
    """Parameters of `openai.chat_completion`."""

    model_config = ConfigDict(extra="forbid", title="openai.chat_completion input")

    model: str | None = Field(
        default=None,
        min_length=1,
        description="model name (e.g. gpt-4o-mini, llama3.1); default: the connection's "
        "`default_model`",
    )
    messages: list[ChatMessage] | None = Field(
        default=None,
        min_length=1,
        description="the conversation, [{role, content}, ...]; or use `prompt`",
    )
    prompt: str | None = Field(
        default=None, description="shorthand for one user message (instead of `messages`)"
    )
    system: str | None = Field(
        default=None, description="a system message put before the conversation"
    )
    temperature: float | None = Field(
        default=None, ge=0, le=2, description="sampling temperature (0-2)"
    )
    max_tokens: int | None = Field(
        default=None,
        ge=1,
        description="maximum tokens in the answer (sent as `max_tokens`; OpenAI reasoning "
        "models want `max_completion_tokens`: pass it in `extra_body`)",
    )
    top_p: float | None = Field(default=None, gt=0, le=1, description="nucleus sampling (0-1]")
    stop: str | list[str] | None = Field(
        default=None, description="a stop sequence or a list of up to 4"
    )
    seed: int | None = Field(default=None, description="seed for best-effort determinism")
    response_format: Literal["text", "json_object"] | JsonSchemaFormat | None = Field(
        default=None,
        description="`text`, `json_object` (any JSON object), or a JSON Schema "
        "`{name, schema, strict}`; with JSON the parsed answer is in the output's `json`",
    )
    tools: list[dict[str, Any]] | None = Field(
        default=None, description="tool (function) definitions, passed through as given"
    )
    tool_choice: str | dict[str, Any] | None = Field(
        default=None, description="`auto`, `none`, `required` or a specific tool, passed through"
    )
    extra_body: dict[str, Any] = Field(
        default_factory=dict,
        description="more request fields, sent as given (e.g. max_completion_tokens, "
        "frequency_penalty, reasoning_effort)",
    )

    @field_validator("response_format", mode="before")
    @classmethod
    def _wire_shapes(cls, value: Any) -> Any:
        return _unwrap_response_format(value)

    @field_validator("stop")
    @classmethod
    def _four_stops(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list) and not 1 <= len(value) <= 4:
            raise ValueError("give 1 to 4 stop sequences")
        return value

    @model_validator(mode="after")
    def _one_conversation(self) -> ChatCompletionInput:
        if (self.messages is None) == (self.prompt is None):
            raise ValueError("give either `messages` or `prompt` (exactly one)")
        return self

    @property
    def wants_json(self) -> bool:
        return self.response_format is not None and self.response_format != "text"


class Usage(BaseModel):
    """Token counts the server reported (0 when it reported none)."""

    model_config = ConfigDict(title="openai usage")

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class ChatCompletionOutput(BaseModel):
    """What `openai.chat_completion` returns."""

    model_config = ConfigDict(title="openai.chat_completion output")

    id: str | None = Field(description="the completion id (chatcmpl-...)")
    model: str | None = Field(description="the model that answered")
    role: str = Field(description="the answer's role (assistant)")
    content: str | None = Field(description="the answer text (None when only tools were called)")
    finish_reason: str | None = Field(
        description="stop, length (hit max_tokens), tool_calls, content_filter"
    )
    usage: Usage
    json_: Any = Field(
        default=None,
        alias="json",
        description="the parsed answer when response_format asked for JSON, else null",
    )
    tool_calls: list[dict[str, Any]] | None = Field(
        default=None, description="tool calls the model asked for, as the server sent them"
    )
    refusal: str | None = Field(default=None, description="the model's refusal text, if any")


@action(
    "openai.chat_completion",
    input=ChatCompletionInput,
    output=ChatCompletionOutput,
    # A completion has no side effect (only a cost), so repeating it is safe:
    # it is a read. But READ allows 30 s per attempt, and completions are often
    # slower (a long answer at 30-50 tokens/s, reasoning models, a local model
    # on a CPU take minutes): READ would time out and re-run (and re-bill) a
    # request that was about to finish. `long_running` fits better: one attempt
    # may last an hour (a step's `timeout` lowers it), 3 attempts with 10 s..5 m
    # backoff (Retry-After of a 429 honoured). The implementation heartbeats
    # every few seconds while the request is in flight.
    options=LONG_RUNNING,
    connection_type="openai",
    errors=REST_ERRORS,
    group="OpenAI",
    title="Chat completion (OpenAI-compatible)",
    description=(
        "Asks a chat model for an answer: `POST {base_url}/chat/completions` on OpenAI or "
        "any compatible server (Azure OpenAI-style proxies, vLLM, Ollama, LiteLLM, ...).\n\n"
        "Give `messages` (`[{role, content}]`) or the shorthand `prompt` (one user "
        "message), optionally with `system`. `model` defaults to the connection's "
        "`default_model`. `temperature`, `max_tokens` (sent as `max_tokens`), `top_p`, "
        "`stop`, `seed`, `tools` and `tool_choice` are passed on; `extra_body` adds any "
        "other request field.\n\n"
        "`response_format`: `text`, `json_object`, or a JSON Schema `{name, schema, "
        "strict}`; with JSON the answer is parsed into `json` (an answer that is not JSON "
        "fails the step with `ActionError`).\n\n"
        "Output: `{id, model, role, content, finish_reason, usage: {prompt_tokens, "
        "completion_tokens, total_tokens}, json, tool_calls, refusal}`.\n\n"
        "Auth: `Authorization: Bearer <api_key>` (or the key in `api_key_header`); no "
        "header when the connection has no key (local servers). Options class "
        "`long_running` (completions may take minutes)."
    ),
    examples=(
        {"prompt": "Summarise this alert in one sentence: {{ Trigger.event.title }}"},
        {
            "model": "gpt-4o-mini",
            "system": "You are an SRE assistant. Answer in JSON.",
            "messages": [{"role": "user", "content": "{{ Steps.fetch.output.body }}"}],
            "temperature": 0,
            "max_tokens": 300,
            "response_format": {
                "name": "triage",
                "schema": {
                    "type": "object",
                    "properties": {
                        "severity": {"type": "string", "enum": ["low", "high"]},
                        "summary": {"type": "string"},
                    },
                    "required": ["severity", "summary"],
                    "additionalProperties": False,
                },
                "strict": True,
            },
        },
        {"prompt": 'Reply with a JSON object {"ok": true}', "response_format": "json_object"},
    ),
)
async def chat_completion(ctx: ActionContext, params: ChatCompletionInput) -> dict[str, Any]:
    from switchyard.actions.openai._impl import chat_completion as impl

    return await impl(ctx, params)
