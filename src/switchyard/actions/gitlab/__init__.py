"""The GitLab integration: issues, pipelines, merge request notes.

Declarations only (connection type, models, options classes); the requests
live in `_impl.py`, imported on first call, so that looking an action up
(in the workflow sandbox, in `switchyard validate`) never imports httpx.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from switchyard.actions.sdk import REST_ERRORS, ActionContext, action
from switchyard.connections.types import ConnectionType, FieldSpec, register_connection_type
from switchyard.engine.options import WRITE_ONCE

__all__ = ["DEFAULT_BASE_URL", "GITLAB"]

DEFAULT_BASE_URL = "https://gitlab.com/api/v4"

GITLAB = register_connection_type(
    ConnectionType(
        name="gitlab",
        description=(
            "GitLab.com or a self-managed GitLab: an access token sent as `PRIVATE-TOKEN`, "
            "and optionally a pipeline trigger token."
        ),
        fields=(
            FieldSpec(
                "base_url",
                "REST API root: https://gitlab.com/api/v4, or https://HOST/api/v4 self-managed",
                default=DEFAULT_BASE_URL,
            ),
            FieldSpec(
                "allow_private_metadata",
                "allow link-local and cloud metadata addresses",
                type="boolean",
                default=False,
            ),
            FieldSpec("ca_cert", "PEM CA bundle trusted for this API (private PKI)"),
            # Not required: a connection holding only a trigger token can run
            # `gitlab.trigger_pipeline`; every other action asks for `token`.
            FieldSpec(
                "token",
                "personal, project or group access token (scope `api`), sent as PRIVATE-TOKEN",
                secret=True,
            ),
            FieldSpec(
                "trigger_token",
                "pipeline trigger token; when set, gitlab.trigger_pipeline uses the trigger API",
                secret=True,
            ),
        ),
    )
)

_GROUP = "GitLab"
_PROJECT_DESCRIPTION = (
    "the project's numeric id, or its path (`group/subgroup/project`; URL-encoded for you)"
)
Scalar = str | int | float | bool


class _ProjectInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project: int | Annotated[str, Field(min_length=1)] = Field(description=_PROJECT_DESCRIPTION)


# ---------------------------------------------------------------- create_issue


class CreateIssueInput(_ProjectInput):
    model_config = ConfigDict(extra="forbid", title="gitlab.create_issue input")

    title: str = Field(min_length=1, description="the issue's title")
    description: str | None = Field(
        default=None, description="the issue's description (GitLab Markdown)"
    )
    labels: list[str] | str = Field(
        default_factory=list,
        description="label names, as a list or comma-separated (new labels are created)",
    )
    assignee_ids: list[int] = Field(default_factory=list, description="ids of the users to assign")
    confidential: bool | None = Field(
        default=None, description="make the issue confidential (default: GitLab's, not)"
    )


class IssueOutput(BaseModel):
    model_config = ConfigDict(title="gitlab.create_issue output")

    id: int = Field(description="the issue's global id")
    iid: int = Field(description="the issue's number in the project")
    project_id: int = Field(description="the project's id")
    web_url: str = Field(description="the issue's page")
    title: str = Field(description="the title as GitLab stored it")
    state: str = Field(description="`opened` or `closed`")
    labels: list[str] = Field(description="the issue's labels")


@action(
    "gitlab.create_issue",
    input=CreateIssueInput,
    output=IssueOutput,
    # A POST that creates: GitLab has no idempotency key, a repeat opens a second issue.
    options=WRITE_ONCE,
    connection_type="gitlab",
    title="Create a GitLab issue",
    group=_GROUP,
    errors=REST_ERRORS,
    description=(
        "Opens an issue: `POST /projects/:id/issues` with `title`, `description`, `labels` "
        "(sent comma-separated, as the API takes them), `assignee_ids` and `confidential`. "
        "The project is an id or a path, sent URL-encoded (`group%2Fproject`).\n\n"
        "Output: `{id, iid, project_id, web_url, title, state, labels}`."
    ),
    examples=(
        {
            "project": "platform/api",
            "title": "{{ Trigger.event.title }}",
            "description": "Opened by Switchyard run {{ Run.id }}",
            "labels": ["incident", "sev::2"],
        },
        {"project": 278964, "title": "Rotate certificates", "assignee_ids": [42]},
    ),
)
async def create_issue(ctx: ActionContext, params: CreateIssueInput) -> dict[str, Any]:
    from switchyard.actions.gitlab import _impl

    return await _impl.create_issue(ctx, params)


# ------------------------------------------------------------ trigger_pipeline


class TriggerPipelineInput(_ProjectInput):
    model_config = ConfigDict(extra="forbid", title="gitlab.trigger_pipeline input")

    ref: str = Field(min_length=1, description="the branch or tag to run the pipeline on")
    variables: dict[str, Scalar] = Field(
        default_factory=dict,
        description="CI/CD variables for the pipeline (values are sent as text)",
    )


class PipelineOutput(BaseModel):
    model_config = ConfigDict(title="gitlab.trigger_pipeline output")

    id: int = Field(description="the pipeline's id")
    iid: int | None = Field(default=None, description="the pipeline's number in the project")
    status: str = Field(description="the pipeline's status (`created`, `pending`, ...)")
    ref: str = Field(description="the branch or tag")
    sha: str | None = Field(default=None, description="the commit the pipeline runs on")
    web_url: str | None = Field(default=None, description="the pipeline's page")
    via: Literal["trigger_token", "token"] = Field(
        description="which API was used: the trigger API, or the pipeline API with the token"
    )


@action(
    "gitlab.trigger_pipeline",
    input=TriggerPipelineInput,
    output=PipelineOutput,
    # Every accepted call starts a new pipeline: never repeated automatically.
    options=WRITE_ONCE,
    connection_type="gitlab",
    title="Run a GitLab pipeline",
    group=_GROUP,
    errors=REST_ERRORS,
    description=(
        "Starts a pipeline. When the connection has a `trigger_token`: "
        "`POST /projects/:id/trigger/pipeline` with form fields `token`, `ref` and "
        "`variables[KEY]=value`. Otherwise: `POST /projects/:id/pipeline` with "
        "`{ref, variables: [{key, value}]}` and the connection's `token`.\n\n"
        "Output: `{id, iid, status, ref, sha, web_url, via}`."
    ),
    examples=(
        {"project": "platform/api", "ref": "main", "variables": {"DEPLOY_ENV": "production"}},
        {"project": 278964, "ref": "{{ Inputs.tag }}"},
    ),
)
async def trigger_pipeline(ctx: ActionContext, params: TriggerPipelineInput) -> dict[str, Any]:
    from switchyard.actions.gitlab import _impl

    return await _impl.trigger_pipeline(ctx, params)


# ---------------------------------------------------------- merge_request_note


class MergeRequestNoteInput(_ProjectInput):
    model_config = ConfigDict(extra="forbid", title="gitlab.merge_request_note input")

    merge_request_iid: int = Field(ge=1, description="the merge request's number (`!123`)")
    body: str = Field(min_length=1, description="the comment (GitLab Markdown)")
    internal: bool | None = Field(
        default=None, description="an internal note, visible to project members only"
    )


class NoteOutput(BaseModel):
    model_config = ConfigDict(title="gitlab.merge_request_note output")

    id: int = Field(description="the note's id")
    body: str = Field(description="the note as GitLab stored it")
    noteable_iid: int | None = Field(default=None, description="the merge request's number")
    created_at: str | None = Field(default=None, description="ISO 8601 creation time")


@action(
    "gitlab.merge_request_note",
    input=MergeRequestNoteInput,
    output=NoteOutput,
    # A POST that adds a note each time it is sent: never repeated automatically.
    options=WRITE_ONCE,
    connection_type="gitlab",
    title="Comment on a GitLab merge request",
    group=_GROUP,
    errors=REST_ERRORS,
    description=(
        "Adds a note to a merge request: "
        "`POST /projects/:id/merge_requests/:merge_request_iid/notes` with `{body}`.\n\n"
        "Output: `{id, body, noteable_iid, created_at}`."
    ),
    examples=(
        {
            "project": "platform/api",
            "merge_request_iid": "{{ Trigger.event.body.object_attributes.iid }}",
            "body": "Canary healthy for 30 minutes: merging is safe.",
        },
    ),
)
async def merge_request_note(ctx: ActionContext, params: MergeRequestNoteInput) -> dict[str, Any]:
    from switchyard.actions.gitlab import _impl

    return await _impl.merge_request_note(ctx, params)
