"""The Microsoft Azure integration: Azure Resource Manager (ARM) with a service principal.

Declarations only (connection type, models, options classes); the requests
are made by `_impl.py`, imported on first call, so that looking an action up
inside the workflow sandbox never imports httpx.

Authentication: OAuth2 client credentials against Microsoft Entra ID
(`POST {authority_url}/{tenant_id}/oauth2/v2.0/token`, scope
`{arm_url}/.default`); the token is cached per worker process until shortly
before it expires, masked in outputs, and renewed once when ARM answers 401.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from switchyard.actions.sdk import REST_ERRORS, ActionContext, action
from switchyard.connections.types import ConnectionType, FieldSpec, register_connection_type
from switchyard.engine.options import LONG_RUNNING, READ, WRITE_IDEMPOTENT, WRITE_ONCE

__all__ = [
    "AZURE",
    "COMPUTE_API_VERSION",
    "DEFAULT_ARM_URL",
    "DEFAULT_AUTHORITY_URL",
    "RESOURCES_API_VERSION",
    "ArmRequestInput",
    "ArmRequestOutput",
    "ListResourcesInput",
    "ListResourcesOutput",
    "VmInput",
    "VmOperationOutput",
    "VmStopInput",
    "arm_options_class",
]

DEFAULT_AUTHORITY_URL = "https://login.microsoftonline.com"
DEFAULT_ARM_URL = "https://management.azure.com"
#: Microsoft.Compute API version used for the VM power actions.
COMPUTE_API_VERSION = "2024-07-01"
#: Microsoft.Resources API version used to list resources.
RESOURCES_API_VERSION = "2021-04-01"

SUBSCRIPTION_PATTERN = r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$"
# ARM's rules: resource groups 1-90 of letters, digits, `_-.()`; VM names
# 1-64 of letters, digits, `_-.` (so neither can leave its path segment).
RESOURCE_GROUP_PATTERN = r"^[-\w.()]{1,90}$"
VM_NAME_PATTERN = r"^[-\w.]{1,64}$"

AZURE = register_connection_type(
    ConnectionType(
        name="azure",
        description=(
            "Microsoft Azure Resource Manager with a service principal (Entra ID app "
            "registration): tenant, client id and client secret; optional default "
            "subscription."
        ),
        fields=(
            FieldSpec("tenant_id", "Entra ID tenant (directory) id or domain", required=True),
            FieldSpec(
                "client_id", "application (client) id of the service principal", required=True
            ),
            FieldSpec("subscription_id", "default subscription id (a step may override it)"),
            FieldSpec(
                "authority_url",
                "Entra ID authority (e.g. https://login.microsoftonline.us for US Government)",
                default=DEFAULT_AUTHORITY_URL,
            ),
            FieldSpec(
                "arm_url",
                "Resource Manager endpoint (e.g. https://management.usgovcloudapi.net)",
                default=DEFAULT_ARM_URL,
            ),
            FieldSpec(
                "allow_private_metadata",
                "allow link-local and cloud metadata addresses",
                type="boolean",
                default=False,
            ),
            FieldSpec("ca_cert", "PEM CA bundle trusted for these endpoints (private PKI)"),
            FieldSpec(
                "client_secret",
                "client secret of the service principal",
                secret=True,
                required=True,
            ),
        ),
    )
)


def _subscription_field() -> Any:
    return Field(
        default=None,
        pattern=SUBSCRIPTION_PATTERN,
        description="subscription id; default: the connection's `subscription_id`",
    )


class VmInput(BaseModel):
    """Parameters of `azure.vm_start` and `azure.vm_restart`."""

    model_config = ConfigDict(extra="forbid", title="azure.vm_start input")

    resource_group: str = Field(
        pattern=RESOURCE_GROUP_PATTERN, description="resource group of the virtual machine"
    )
    vm_name: str = Field(pattern=VM_NAME_PATTERN, description="name of the virtual machine")
    subscription_id: str | None = _subscription_field()
    wait: bool = Field(
        default=True,
        description="wait until the operation ends (polling the async operation, honouring "
        "Retry-After); false returns as soon as Azure accepted it",
    )


class VmRestartInput(VmInput):
    model_config = ConfigDict(extra="forbid", title="azure.vm_restart input")


class VmStopInput(VmInput):
    """Parameters of `azure.vm_stop`."""

    model_config = ConfigDict(extra="forbid", title="azure.vm_stop input")

    deallocate: bool = Field(
        default=False,
        description="deallocate (release the compute, stop billing for it; `/deallocate`) "
        "instead of only powering off (`/powerOff`, still billed)",
    )
    skip_shutdown: bool = Field(
        default=False,
        description="power off without a graceful OS shutdown (powerOff only)",
    )

    @model_validator(mode="after")
    def _skip_only_for_power_off(self) -> VmStopInput:
        if self.deallocate and self.skip_shutdown:
            raise ValueError("`skip_shutdown` applies to power off, not to `deallocate: true`")
        return self


class VmOperationOutput(BaseModel):
    """What the VM power actions return."""

    model_config = ConfigDict(title="azure VM operation output")

    status: Literal["Succeeded", "Accepted"] = Field(
        description="Succeeded (done), or Accepted (with `wait: false`: still running)"
    )
    operation_url: str | None = Field(
        default=None, description="the async operation's status URL, when Azure gave one"
    )
    resource_id: str = Field(description="ARM id of the virtual machine")


class ListResourcesInput(BaseModel):
    """Parameters of `azure.list_resources`."""

    model_config = ConfigDict(extra="forbid", title="azure.list_resources input")

    subscription_id: str | None = _subscription_field()
    resource_group: str | None = Field(
        default=None,
        pattern=RESOURCE_GROUP_PATTERN,
        description="only this resource group's resources",
    )
    resource_type: str | None = Field(
        default=None,
        pattern=r"^[\w.-]+(/[\w.-]+)+$",
        description="only this type, e.g. Microsoft.Compute/virtualMachines",
    )
    tag_name: str | None = Field(
        default=None, min_length=1, description="only resources with this tag"
    )
    tag_value: str | None = Field(
        default=None, description="with `tag_name`: only resources whose tag has this value"
    )
    filter: str | None = Field(
        default=None,
        min_length=1,
        description="a raw OData `$filter` (instead of resource_type/tag_name), e.g. "
        "\"substringof('web', name)\"",
    )
    expand: str | None = Field(
        default=None,
        description="`$expand`: createdTime, changedTime, provisioningState (comma-separated)",
    )
    max_items: int = Field(
        default=1000, ge=1, le=100_000, description="stop after this many resources"
    )

    @model_validator(mode="after")
    def _one_filter(self) -> ListResourcesInput:
        if self.tag_value is not None and self.tag_name is None:
            raise ValueError("`tag_value` needs `tag_name`")
        if self.filter is not None and (self.resource_type or self.tag_name):
            raise ValueError("give either `filter` or `resource_type`/`tag_name`, not both")
        if self.resource_type and self.tag_name:
            # ARM rejects a tag filter combined with any other condition.
            raise ValueError("ARM cannot combine a tag filter with `resource_type`; use one")
        return self


class Resource(BaseModel):
    """One resource of `azure.list_resources`."""

    model_config = ConfigDict(title="azure resource")

    id: str
    name: str
    type: str
    location: str | None = None
    resource_group: str | None = Field(default=None, description="parsed from the id")
    tags: dict[str, str] | None = Field(
        default=None,
        description="the tags ({} when untagged); null in tag-filtered lists, where ARM "
        "leaves them out",
    )


class ListResourcesOutput(BaseModel):
    """What `azure.list_resources` returns."""

    model_config = ConfigDict(title="azure.list_resources output")

    items: list[Resource]
    count: int = Field(description="len(items)")
    truncated: bool = Field(description="true when max_items stopped the listing early")


ArmMethod = Literal["GET", "HEAD", "PUT", "POST", "PATCH", "DELETE"]


class ArmRequestInput(BaseModel):
    """Parameters of `azure.arm_request`."""

    model_config = ConfigDict(extra="forbid", title="azure.arm_request input")

    method: ArmMethod = Field(default="GET", description="HTTP method (case-insensitive)")
    path: str = Field(
        min_length=1,
        description="ARM path: /subscriptions/..., /providers/..., or /resourceGroups/... "
        "(put under the subscription); an absolute URL only on the connection's arm_url",
    )
    api_version: str = Field(
        min_length=1, description="the resource provider's api-version, e.g. 2024-07-01"
    )
    query: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="more query parameters ($filter, $top, ...)"
    )
    body: Any = Field(default=None, description="a JSON body (PUT, PATCH, POST)")
    subscription_id: str | None = _subscription_field()

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class ArmRequestOutput(BaseModel):
    """What `azure.arm_request` returns."""

    model_config = ConfigDict(title="azure.arm_request output")

    status: int
    headers: dict[str, str] = Field(
        description="the useful response headers (lower-case): location, "
        "azure-asyncoperation, retry-after, etag, content-type, x-ms-request-id, "
        "x-ms-correlation-request-id"
    )
    body: Any = Field(description="parsed JSON, text, or null when empty")


def arm_options_class(params: dict[str, Any]) -> str:
    """By method, like `http.request`: GET/HEAD read; PUT/DELETE idempotent; else write once.

    ARM defines PUT (create-or-replace) and DELETE as idempotent; POST actions
    and PATCH may act twice. A method not readable yet (a template) is
    `write_once`: never retrying is the safe mistake.
    """
    method = params.get("method", "GET")
    method = method.upper() if isinstance(method, str) else ""
    if method in ("GET", "HEAD"):
        return READ
    if method in ("PUT", "DELETE"):
        return WRITE_IDEMPOTENT
    return WRITE_ONCE


_AUTH_DOC = (
    "Auth: a service principal's client credentials (`tenant_id`, `client_id`, secret "
    "`client_secret`) exchanged at `{authority_url}/{tenant_id}/oauth2/v2.0/token` for a "
    "token of scope `{arm_url}/.default`, cached until shortly before it expires; a 401 "
    "from ARM renews it once. Token endpoint 400/401/403 (AADSTS errors, invalid_client) "
    "are `PermissionDenied`. ARM errors carry ARM's `code` and `message`."
)

_VM_DOC = (
    "Calls `POST {arm_url}/subscriptions/{sub}/resourceGroups/{rg}/providers/"
    "Microsoft.Compute/virtualMachines/{vm}/{op}?api-version=" + COMPUTE_API_VERSION + ". "
    "ARM answers 202 with an `Azure-AsyncOperation` (or `Location`) URL; with `wait: true` "
    "(default) the action polls it, honouring `Retry-After`, until the operation is "
    "Succeeded, and fails with `ActionError` (ARM's error code and message) when it is "
    "Failed or Canceled. Transient poll failures are retried in place. Output: `{status, "
    "operation_url, resource_id}`.\n\n"
    "Options class `long_running`: an operation takes minutes; the action heartbeats "
    "while it waits. Retrying is safe (ARM power actions on a VM already in the target "
    "state are no-ops), except that a retried restart restarts again.\n\n" + _AUTH_DOC
)

_VM_EXAMPLES = (
    {"resource_group": "prod-rg", "vm_name": "web-01"},
    {
        "resource_group": "{{ Trigger.event.resource_group }}",
        "vm_name": "{{ Trigger.event.vm }}",
        "subscription_id": "00000000-0000-0000-0000-000000000000",
        "wait": False,
    },
)


@action(
    "azure.vm_start",
    input=VmInput,
    output=VmOperationOutput,
    options=LONG_RUNNING,
    connection_type="azure",
    errors=REST_ERRORS,
    group="Azure",
    title="Start a virtual machine",
    description="Starts an Azure virtual machine (`/start`).\n\n" + _VM_DOC,
    examples=_VM_EXAMPLES,
)
async def vm_start(ctx: ActionContext, params: VmInput) -> dict[str, Any]:
    from switchyard.actions.azure._impl import vm_operation

    return await vm_operation(ctx, params, "start")


@action(
    "azure.vm_stop",
    input=VmStopInput,
    output=VmOperationOutput,
    options=LONG_RUNNING,
    connection_type="azure",
    errors=REST_ERRORS,
    group="Azure",
    title="Stop a virtual machine",
    description=(
        "Powers an Azure virtual machine off (`/powerOff`; `skip_shutdown: true` skips the "
        "graceful OS shutdown), or with `deallocate: true` deallocates it (`/deallocate`: "
        "the compute is released and no longer billed).\n\n" + _VM_DOC
    ),
    examples=(
        *_VM_EXAMPLES,
        {"resource_group": "dev-rg", "vm_name": "build-7", "deallocate": True},
    ),
)
async def vm_stop(ctx: ActionContext, params: VmStopInput) -> dict[str, Any]:
    from switchyard.actions.azure._impl import vm_operation

    return await vm_operation(ctx, params, "deallocate" if params.deallocate else "powerOff")


@action(
    "azure.vm_restart",
    input=VmRestartInput,
    output=VmOperationOutput,
    options=LONG_RUNNING,
    connection_type="azure",
    errors=REST_ERRORS,
    group="Azure",
    title="Restart a virtual machine",
    description="Restarts an Azure virtual machine (`/restart`).\n\n" + _VM_DOC,
    examples=_VM_EXAMPLES,
)
async def vm_restart(ctx: ActionContext, params: VmRestartInput) -> dict[str, Any]:
    from switchyard.actions.azure._impl import vm_operation

    return await vm_operation(ctx, params, "restart")


@action(
    "azure.list_resources",
    input=ListResourcesInput,
    output=ListResourcesOutput,
    options=READ,
    connection_type="azure",
    errors=REST_ERRORS,
    group="Azure",
    title="List resources",
    description=(
        "Lists the resources of a subscription (`GET /subscriptions/{sub}/resources`) or "
        "of one resource group (`.../resourceGroups/{rg}/resources`), api-version "
        + RESOURCES_API_VERSION
        + ", following `nextLink` until `max_items`.\n\n"
        "Filters: `resource_type` (`resourceType eq '...'`), or `tag_name` with optional "
        "`tag_value` (`tagName eq '...' and tagValue eq '...'`; ARM then omits the tags "
        "from the result, and cannot combine it with another condition), or a raw OData "
        "`filter`.\n\n"
        "Output: `{items: [{id, name, type, location, resource_group, tags}], count, "
        "truncated}`.\n\n" + _AUTH_DOC
    ),
    examples=(
        {"resource_type": "Microsoft.Compute/virtualMachines"},
        {"resource_group": "prod-rg", "tag_name": "env", "tag_value": "prod", "max_items": 200},
        {"filter": "substringof('web', name)"},
    ),
)
async def list_resources(ctx: ActionContext, params: ListResourcesInput) -> dict[str, Any]:
    from switchyard.actions.azure._impl import list_resources as impl

    return await impl(ctx, params)


@action(
    "azure.arm_request",
    input=ArmRequestInput,
    output=ArmRequestOutput,
    options=arm_options_class,
    connection_type="azure",
    errors=REST_ERRORS,
    group="Azure",
    title="Azure Resource Manager request",
    description=(
        "Sends one request to Azure Resource Manager with the connection's token: any "
        "resource provider operation. `path` starts with `/subscriptions/`, `/providers/` "
        "or `/resourceGroups/` (put under the subscription: the step's or the "
        "connection's); absolute URLs are accepted only on the connection's `arm_url` "
        "(the token goes nowhere else). `api_version` is required; `query` adds "
        "parameters; `body` is sent as JSON.\n\n"
        "Output: `{status, headers, body}` (a 202's `azure-asyncoperation`/`location` "
        "headers are there to poll with a later GET). Any status >= 400 fails the step.\n\n"
        "Options class by method: GET/HEAD `read`, PUT/DELETE `write_idempotent`, "
        "POST/PATCH `write_once`.\n\n" + _AUTH_DOC
    ),
    examples=(
        {
            "path": "/resourceGroups/prod-rg/providers/Microsoft.Compute/virtualMachines/web-01",
            "api_version": COMPUTE_API_VERSION,
            "query": {"$expand": "instanceView"},
        },
        {
            "method": "PATCH",
            "path": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/"
            "prod-rg/providers/Microsoft.Compute/virtualMachines/web-01",
            "api_version": COMPUTE_API_VERSION,
            "body": {"tags": {"incident": "{{ Trigger.event.id }}"}},
        },
        {"path": "/providers/Microsoft.Compute/operations", "api_version": COMPUTE_API_VERSION},
    ),
)
async def arm_request(ctx: ActionContext, params: ArmRequestInput) -> dict[str, Any]:
    from switchyard.actions.azure._impl import arm_request as impl

    return await impl(ctx, params)
