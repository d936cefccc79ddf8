"""The action SDK: declare an action, find it, check its parameters.

An action is an async function `(ActionContext, <input model>) -> output`
declared with `@action(...)`: its type name, typed input (and optional
output) model, the named options class that gives its timeouts and retries
(`switchyard.engine.options`), and the connection type it accepts.

Import cost matters: `get_action` runs in workflow code to pick a step's
options class, and the CLI imports this
package. So nothing here imports httpx or temporalio at import time, and the
built-in catalogue is imported on first lookup, not on package import.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import importlib
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

if TYPE_CHECKING:
    from switchyard.connections import Connection

__all__ = [
    "BUILTIN_MODULES",
    "REST_ERRORS",
    "ActionContext",
    "ActionFunc",
    "ActionProvider",
    "ActionSpec",
    "ErrorRule",
    "action",
    "action_types",
    "all_actions",
    "get_action",
    "is_template",
    "load_builtins",
    "load_plugins",
    "mask_secrets",
    "param_problems",
    "register_provider",
    "validate_params",
]

#: Modules whose import registers the built-in catalogue.
BUILTIN_MODULES: tuple[str, ...] = tuple(
    f"switchyard.actions.{name}"
    for name in (
        "core",
        "http",
        "slack",
        "teams",
        "datadog",
        "pagerduty",
        "opsgenie",
        "email",
        "github",
        "gitlab",
        "jira",
        "openai",
        "azure",
        "aws",
    )
)

MASK = "***"
_TEMPLATE = re.compile(r"\{\{.*?\}\}", re.DOTALL)


T = TypeVar("T")


class ActionContext:
    """What an action knows about the attempt it runs in.

    Attributes:
        run_id: The run's id.
        workflow: The workflow's name.
        step: The step path, e.g. `restart_each[3].restart`.
        attempt: 1 for the first attempt.
        connection: The step's resolved connection, or None.
        attempt_timeout: Seconds this attempt may last (its start-to-close
            timeout), or None when unbounded. Actions with their own client
            timeouts stay under it so they fail with a typed `Timeout`.
        logger: A logger for this attempt.
    """

    def __init__(
        self,
        *,
        run_id: str = "",
        workflow: str = "",
        step: str = "",
        attempt: int = 1,
        connection: Connection | None = None,
        attempt_timeout: float | None = None,
        heartbeat: Callable[..., None] | None = None,
        logger: logging.Logger | logging.LoggerAdapter[logging.Logger] | None = None,
    ) -> None:
        self.run_id = run_id
        self.workflow = workflow
        self.step = step
        self.attempt = attempt
        self.connection = connection
        self.attempt_timeout = attempt_timeout
        self._heartbeat = heartbeat
        self.logger = logger or logging.getLogger("switchyard.actions")
        self._extra_secrets: list[str] = []

    def heartbeat(self, *details: Any) -> None:
        """Tell Temporal the attempt is alive (required in `long_running`)."""
        if self._heartbeat is not None:
            self._heartbeat(*details)

    async def heartbeating(self, work: Awaitable[T], every: float = 10.0) -> T:
        """Await `work`, heartbeating now and every `every` seconds until it ends.

        For a `long_running` action waiting on one slow call (a completion, a
        long poll): Temporal then notices a dead worker within the heartbeat
        timeout instead of at the attempt's end. `work` is cancelled when the
        attempt is.
        """
        task = asyncio.ensure_future(work)
        try:
            while True:
                self.heartbeat()
                done, _ = await asyncio.wait({task}, timeout=every)
                if done:
                    return task.result()
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    def add_secret(self, value: str) -> None:
        """Mask `value` in the output too (a derived secret: a fetched token, ...)."""
        if value:
            self._extra_secrets.append(value)

    @property
    def secrets(self) -> list[str]:
        """Every value masked in this attempt's output and errors."""
        own = self.connection.secret_values() if self.connection is not None else []
        return own + self._extra_secrets


ActionFunc = Callable[[ActionContext, Any], Awaitable[Any]]


@dataclass(frozen=True)
class ErrorRule:
    """One line of an action's error mapping (documented, and checked by conformance).

    Attributes:
        when: The remote condition, e.g. `HTTP 401, 403` or `SMTP 535`.
        type: The spec's error type it becomes (`PermissionDenied`, ...).
        retryable: Whether Temporal retries it (within the options class's policy).
    """

    when: str
    type: str
    retryable: bool


#: How REST integrations (Slack, GitHub, PagerDuty, ...) map failures: the
#: mapping `switchyard.actions.rest` applies. `Retry-After` is honoured.
REST_ERRORS: tuple[ErrorRule, ...] = (
    ErrorRule("HTTP 401, 403", "PermissionDenied", False),
    ErrorRule("HTTP 408, 429, 5xx", "HttpServerError", True),
    ErrorRule("other HTTP 4xx", "HttpClientError", False),
    ErrorRule("timeout", "Timeout", True),
    ErrorRule("connection failure", "ActionError", True),
)


class ActionSpec:
    """A registered action.

    Attributes:
        type: The name steps use (`http.request`).
        title: Short display name.
        description: What it does (Markdown).
        input_model: Validates the step's `with` (built on first use when the
            action was declared with `input_factory`, e.g. generated AWS actions).
        output_model: Describes (and validates) the output; None = any JSON.
        options: An options-class name, or a function of the rendered params
            returning one (e.g. by HTTP method).
        connection_type: The connection type it accepts; None = none.
        func: The implementation.
        examples: Valid `with` values, for documentation and the conformance suite.
        errors: How the integration's failures map to the spec's error types.
        group: The catalogue section it is listed under (`Slack`, `AWS EC2`).
        generated: True for actions generated from a service model (AWS).
    """

    def __init__(
        self,
        *,
        type: str,
        title: str,
        description: str,
        options: str | Callable[[dict[str, Any]], str],
        func: ActionFunc,
        input_model: builtins.type[BaseModel] | None = None,
        input_factory: Callable[[], builtins.type[BaseModel]] | None = None,
        output_model: builtins.type[BaseModel] | None = None,
        connection_type: str | None = None,
        examples: Iterable[dict[str, Any]] = (),
        errors: Iterable[ErrorRule] = (),
        group: str = "",
        generated: bool = False,
    ) -> None:
        if (input_model is None) == (input_factory is None):
            raise ValueError(f"action {type!r}: give exactly one of input_model, input_factory")
        self.type = type
        self.title = title
        self.description = description
        self.options = options
        self.func = func
        self._input_model = input_model
        self._input_factory = input_factory
        self.output_model = output_model
        self.connection_type = connection_type
        self.examples = tuple(examples)
        self.errors = tuple(errors)
        self.group = group or type.split(".", 1)[0]
        self.generated = generated

    def __repr__(self) -> str:
        return f"ActionSpec({self.type!r})"

    @property
    def input_model(self) -> builtins.type[BaseModel]:
        """The model of `with` (built once, on first use, when declared lazily)."""
        if self._input_model is None:
            assert self._input_factory is not None
            self._input_model = self._input_factory()
        return self._input_model

    def options_class(self, params: dict[str, Any]) -> str:
        """The options-class name for a step with these (rendered) params.

        Deterministic and pure: the workflow calls it to schedule the activity.
        """
        if isinstance(self.options, str):
            return self.options
        return self.options(params)

    def input_schema(self) -> dict[str, Any]:
        """JSON Schema of `with`."""
        return self.input_model.model_json_schema(by_alias=True)

    def output_schema(self) -> dict[str, Any] | None:
        """JSON Schema of the output, or None when undeclared."""
        if self.output_model is None:
            return None
        return self.output_model.model_json_schema(by_alias=True)

    def describe(self, *, schemas: bool = True) -> dict[str, Any]:
        """The catalogue entry as JSON (`switchyard actions show`, the API)."""
        out: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "description": self.description,
            "group": self.group,
            "connection_type": self.connection_type,
            "options": self.options if isinstance(self.options, str) else "by parameters",
            "errors": [
                {"when": r.when, "type": r.type, "retryable": r.retryable} for r in self.errors
            ],
            "examples": list(self.examples),
        }
        if schemas:
            out["input_schema"] = self.input_schema()
            out["output_schema"] = self.output_schema()
        return out


class ActionProvider(Protocol):
    """A family of actions made on demand (e.g. one per AWS operation).

    `types()` must be cheap (no service models loaded); `spec(type)` builds
    one action's spec, also cheaply: the input model is built lazily.
    """

    prefix: str

    def types(self) -> list[str]: ...

    def spec(self, type: str) -> ActionSpec | None: ...


_REGISTRY: dict[str, ActionSpec] = {}
_PROVIDERS: dict[str, ActionProvider] = {}
_loaded = False

F = TypeVar("F", bound=ActionFunc)


def action(
    type: str,
    *,
    input: type[BaseModel],
    output: type[BaseModel] | None = None,
    options: str | Callable[[dict[str, Any]], str],
    connection_type: str | None = None,
    title: str = "",
    description: str = "",
    examples: Iterable[dict[str, Any]] = (),
    errors: Iterable[ErrorRule] = (),
    group: str = "",
) -> Callable[[F], F]:
    """Declare and register an action; returns the function unchanged.

    Example:
        ```python
        @action("core.echo", input=EchoInput, options="read")
        async def echo(ctx: ActionContext, params: EchoInput) -> dict: ...
        ```
    """

    def register(func: F) -> F:
        spec = ActionSpec(
            type=type,
            title=title or type,
            description=description or (func.__doc__ or "").strip(),
            input_model=input,
            output_model=output,
            options=options,
            connection_type=connection_type,
            func=func,
            examples=examples,
            errors=errors,
            group=group,
        )
        existing = _REGISTRY.get(type)
        if existing is not None and _origin(existing.func) != _origin(func):
            raise ValueError(f"action {type!r} is already registered by {_origin(existing.func)}")
        # Same origin: a module imported twice (e.g. reloaded by a test)
        # re-registers the same action; keep the newest.
        _REGISTRY[type] = spec
        return func

    return register


def _origin(func: Callable[..., Any]) -> str:
    return f"{func.__module__}.{func.__qualname__}"


def register_provider(provider: ActionProvider) -> None:
    """Add a family of generated actions (types starting with `provider.prefix`)."""
    _PROVIDERS[provider.prefix] = provider


def load_builtins() -> None:
    """Import the built-in catalogue (idempotent). Workers call it at start-up."""
    global _loaded
    if _loaded:
        return
    for name in BUILTIN_MODULES:
        importlib.import_module(name)
    _loaded = True


#: Packs that failed to load: entry-point name -> error text.
PLUGIN_ERRORS: dict[str, str] = {}
_plugins_loaded = False


def load_plugins() -> dict[str, str]:
    """Import third-party packs: the `switchyard.actions` entry-point group.

    Called by the worker, the CLI and the API at start-up, never from workflow
    code (reading package metadata there is not deterministic): workflows see
    the actions registered here. A pack that fails to import is skipped
    and reported (returned, logged, `PLUGIN_ERRORS`): one broken pack must
    not take the worker down.

    Returns:
        Entry-point name -> error text for the packs that failed.
    """
    global _plugins_loaded
    load_builtins()
    if _plugins_loaded:
        return dict(PLUGIN_ERRORS)
    from importlib.metadata import entry_points

    for ep in entry_points(group="switchyard.actions"):
        try:
            ep.load()
        except Exception as exc:  # a pack's bug, reported, not fatal
            PLUGIN_ERRORS[ep.name] = f"{ep.value}: {type(exc).__name__}: {exc}"
            logging.getLogger("switchyard.actions").error(
                "action pack %r failed to load: %s", ep.name, PLUGIN_ERRORS[ep.name]
            )
    _plugins_loaded = True
    return dict(PLUGIN_ERRORS)


def get_action(type: str) -> ActionSpec:
    """The action registered as `type`.

    Raises:
        KeyError: `type` is unknown (the exception's argument is `type`).
    """
    load_builtins()
    spec = _REGISTRY.get(type)
    if spec is not None:
        return spec
    prefix = type.split(".", 1)[0]
    provider = _PROVIDERS.get(prefix)
    made = provider.spec(type) if provider is not None else None
    if made is None:
        raise KeyError(type)
    _REGISTRY[type] = made
    return made


def action_types() -> list[str]:
    """Every action type, registered or generated, sorted (cheap: no spec built)."""
    load_builtins()
    names = set(_REGISTRY)
    for provider in _PROVIDERS.values():
        names.update(provider.types())
    return sorted(names)


def all_actions(*, generated: bool = True) -> list[ActionSpec]:
    """Every action, sorted by type; `generated=False` leaves out provider-made ones."""
    load_builtins()
    if not generated:
        return [s for k, s in sorted(_REGISTRY.items()) if not s.generated]
    return [get_action(t) for t in action_types()]


def is_template(value: Any) -> bool:
    """True for a string holding a `{{ ... }}` template anywhere."""
    return isinstance(value, str) and _TEMPLATE.search(value) is not None


def validate_params(type: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """Statically check a step's `with` against the action's input schema.

    A value holding a template is accepted wherever any type is expected (it
    is resolved at run time, and checked again then). Unknown and missing
    required parameters are always problems. Whole-model checks (e.g. `json`
    and `body` together) run only when no field was skipped as a template.

    Returns:
        `(location, message)` pairs like `("with.method", "Input should be ...")`;
        `("action", ...)` when the action type is unknown. Empty when valid.
    """
    try:
        spec = get_action(type)
    except KeyError:
        return [("action", f"unknown action type {type!r}")]
    if not isinstance(params, dict):
        return [("with", "must be a mapping of parameter names to values")]
    try:
        spec.input_model.model_validate(params)
    except ValidationError as exc:
        return param_problems(params, exc, accept_templates=True)
    return []


def param_problems(
    params: dict[str, Any], exc: ValidationError, *, accept_templates: bool = False
) -> list[tuple[str, str]]:
    """`(location, message)` pairs of a validation error of `params`.

    Locations stop at the value in `params` (pydantic appends union-member
    tags such as `.str`, `.int`); messages for one location are merged.
    """
    merged: dict[str, list[str]] = {}
    for err in exc.errors():
        loc = tuple(err["loc"])
        if err["type"] in ("missing", "extra_forbidden"):
            where = loc  # the key itself is absent from / unknown to the model
        else:
            if accept_templates and _under_template(params, loc):
                continue
            where = _trim(params, loc)
        messages = merged.setdefault(format_loc(where), [])
        if err["msg"] not in messages:
            messages.append(err["msg"])
    return [(loc, "; ".join(msgs)) for loc, msgs in merged.items()]


def format_loc(loc: Iterable[Any], prefix: str = "with") -> str:
    """`("headers", "X", 0)` -> `with.headers.X[0]`."""
    out = prefix
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _walk(params: Any, loc: tuple[Any, ...]) -> list[Any]:
    """The values along `loc` inside `params`, as far as they exist."""
    values = [params]
    current = params
    for part in loc:
        in_dict = isinstance(current, dict) and part in current
        in_list = (
            isinstance(current, list)
            and isinstance(part, int)
            and -len(current) <= part < len(current)
        )
        if not (in_dict or in_list):
            # The rest of the location is pydantic's (a union member, a
            # validator name): the value itself has been reached.
            break
        current = current[part]
        values.append(current)
    return values


def _trim(params: Any, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    return loc[: len(_walk(params, loc)) - 1]


def _under_template(params: Any, loc: tuple[Any, ...]) -> bool:
    """True when the value at `loc` (or one of its parents) is a template."""
    return any(is_template(v) for v in _walk(params, loc))


def mask_secrets(value: Any, secrets: Iterable[str]) -> Any:
    """Replace every occurrence of a secret inside `value` with `***`.

    Walks dicts (keys too), lists and strings; other scalars are returned as
    they are unless their text is a secret.
    """
    ordered = sorted({s for s in secrets if s}, key=len, reverse=True)
    if not ordered:
        return value
    pattern = re.compile("|".join(re.escape(s) for s in ordered))

    def walk(v: Any) -> Any:
        if isinstance(v, str):
            return pattern.sub(MASK, v)
        if isinstance(v, dict):
            return {walk(k) if isinstance(k, str) else k: walk(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [walk(x) for x in v]
        if isinstance(v, int | float) and not isinstance(v, bool) and str(v) in ordered:
            return MASK
        return v

    return walk(value)
