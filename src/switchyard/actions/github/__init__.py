"""The GitHub integration: issues, labels, workflow dispatch, file contents.

Declarations only (connection type, models, options classes); the requests
live in `_impl.py`, imported on first call, so that looking an action up
(in the workflow sandbox, in `switchyard validate`) never imports httpx.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from switchyard.actions.sdk import REST_ERRORS, ActionContext, action
from switchyard.connections.types import ConnectionType, FieldSpec, register_connection_type
from switchyard.engine.options import READ, WRITE_IDEMPOTENT, WRITE_ONCE

__all__ = ["DEFAULT_BASE_URL", "GITHUB"]

DEFAULT_BASE_URL = "https://api.github.com"

GITHUB = register_connection_type(
    ConnectionType(
        name="github",
        description=(
            "GitHub or GitHub Enterprise Server: a personal access token or a GitHub App "
            "installation token, sent as `Authorization: Bearer`."
        ),
        fields=(
            FieldSpec(
                "base_url",
                "REST API root: https://api.github.com, or https://HOST/api/v3 for "
                "GitHub Enterprise Server",
                default=DEFAULT_BASE_URL,
            ),
            FieldSpec(
                "allow_private_metadata",
                "allow link-local and cloud metadata addresses",
                type="boolean",
                default=False,
            ),
            FieldSpec("ca_cert", "PEM CA bundle trusted for this API (private PKI)"),
            FieldSpec(
                "token",
                "personal access token (classic or fine-grained) or app installation token",
                secret=True,
                required=True,
            ),
        ),
    )
)

_GROUP = "GitHub"
_REPO_PATTERN = r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"
_REPO_DESCRIPTION = "the repository as `owner/name`, e.g. `octo-org/api`"
_ISSUE_DESCRIPTION = "the issue (or pull request) number"
_RATE_LIMIT_NOTE = (
    "Rate limiting: a 403 or 429 with `x-ratelimit-remaining: 0` (or a secondary rate "
    "limit: `retry-after`, or a message saying so) is an `HttpServerError`, retried after "
    "`retry-after` seconds or at `x-ratelimit-reset`; any other 403 is `PermissionDenied`."
)


class _RepoInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    repo: str = Field(pattern=_REPO_PATTERN, description=_REPO_DESCRIPTION)


# ---------------------------------------------------------------- create_issue


class CreateIssueInput(_RepoInput):
    model_config = ConfigDict(extra="forbid", title="github.create_issue input")

    title: str = Field(min_length=1, description="the issue's title")
    body: str | None = Field(default=None, description="the issue's body (GitHub Markdown)")
    labels: list[str] = Field(
        default_factory=list, description="label names (unknown labels are created by GitHub)"
    )
    assignees: list[str] = Field(default_factory=list, description="logins of the users to assign")
    milestone: int | None = Field(
        default=None, ge=1, description="the number of the milestone to attach"
    )


class IssueOutput(BaseModel):
    model_config = ConfigDict(title="github.create_issue output")

    number: int = Field(description="the issue number in the repository")
    id: int = Field(description="the issue's global id")
    html_url: str = Field(description="the issue's page")
    url: str = Field(description="the issue's API URL")
    state: str = Field(description="`open` or `closed`")
    title: str = Field(description="the title as GitHub stored it")


@action(
    "github.create_issue",
    input=CreateIssueInput,
    output=IssueOutput,
    # A POST that creates: GitHub has no idempotency key, a repeat opens a second issue.
    options=WRITE_ONCE,
    connection_type="github",
    title="Create a GitHub issue",
    group=_GROUP,
    errors=REST_ERRORS,
    description=(
        "Opens an issue: `POST /repos/{owner}/{repo}/issues` with `title`, `body`, "
        "`labels`, `assignees` and `milestone`.\n\n"
        "Output: `{number, id, html_url, url, state, title}`.\n\n" + _RATE_LIMIT_NOTE
    ),
    examples=(
        {
            "repo": "octo-org/api",
            "title": "{{ Trigger.event.title }}",
            "body": "Alert fired at {{ Trigger.event.started_at }}",
            "labels": ["incident", "sev2"],
            "assignees": ["octocat"],
        },
        {"repo": "octo-org/api", "title": "Nightly build failed", "milestone": 3},
    ),
)
async def create_issue(ctx: ActionContext, params: CreateIssueInput) -> dict[str, Any]:
    from switchyard.actions.github import _impl

    return await _impl.create_issue(ctx, params)


# --------------------------------------------------------------- comment_issue


class CommentIssueInput(_RepoInput):
    model_config = ConfigDict(extra="forbid", title="github.comment_issue input")

    issue_number: int = Field(ge=1, description=_ISSUE_DESCRIPTION)
    body: str = Field(min_length=1, description="the comment (GitHub Markdown)")


class CommentOutput(BaseModel):
    model_config = ConfigDict(title="github.comment_issue output")

    id: int = Field(description="the comment's id")
    html_url: str = Field(description="the comment's permalink")
    url: str = Field(description="the comment's API URL")
    body: str = Field(description="the comment as GitHub stored it")
    created_at: str | None = Field(default=None, description="ISO 8601 creation time")


@action(
    "github.comment_issue",
    input=CommentIssueInput,
    output=CommentOutput,
    # A POST that adds a comment each time it is sent: never repeated automatically.
    options=WRITE_ONCE,
    connection_type="github",
    title="Comment on a GitHub issue or pull request",
    group=_GROUP,
    errors=REST_ERRORS,
    description=(
        "Adds a comment to an issue or a pull request: "
        "`POST /repos/{owner}/{repo}/issues/{issue_number}/comments`.\n\n"
        "Output: `{id, html_url, url, body, created_at}`.\n\n" + _RATE_LIMIT_NOTE
    ),
    examples=(
        {
            "repo": "octo-org/api",
            "issue_number": "{{ Steps.open_issue.output.number }}",
            "body": "Rolled back to {{ Inputs.version }}.",
        },
    ),
)
async def comment_issue(ctx: ActionContext, params: CommentIssueInput) -> dict[str, Any]:
    from switchyard.actions.github import _impl

    return await _impl.comment_issue(ctx, params)


# ------------------------------------------------------------------ add_labels


class AddLabelsInput(_RepoInput):
    model_config = ConfigDict(extra="forbid", title="github.add_labels input")

    issue_number: int = Field(ge=1, description=_ISSUE_DESCRIPTION)
    labels: list[str] = Field(min_length=1, description="label names to add")


class LabelsOutput(BaseModel):
    model_config = ConfigDict(title="github.add_labels output")

    labels: list[str] = Field(description="every label now on the issue")


@action(
    "github.add_labels",
    input=AddLabelsInput,
    output=LabelsOutput,
    # Adding labels already present changes nothing: a repeat has the same effect.
    options=WRITE_IDEMPOTENT,
    connection_type="github",
    title="Add labels to a GitHub issue or pull request",
    group=_GROUP,
    errors=REST_ERRORS,
    description=(
        "Adds labels (keeping the ones already there): "
        '`POST /repos/{owner}/{repo}/issues/{issue_number}/labels` with `{"labels": [...]}`. '
        "Idempotent: labels already on the issue stay as they are.\n\n"
        "Output: `{labels}`, every label name now on the issue.\n\n" + _RATE_LIMIT_NOTE
    ),
    examples=({"repo": "octo-org/api", "issue_number": 42, "labels": ["triaged", "sev2"]},),
)
async def add_labels(ctx: ActionContext, params: AddLabelsInput) -> dict[str, Any]:
    from switchyard.actions.github import _impl

    return await _impl.add_labels(ctx, params)


# ---------------------------------------------------------------- remove_label


class RemoveLabelInput(_RepoInput):
    model_config = ConfigDict(extra="forbid", title="github.remove_label input")

    issue_number: int = Field(ge=1, description=_ISSUE_DESCRIPTION)
    label: str = Field(min_length=1, description="the label name to remove")


class RemoveLabelOutput(BaseModel):
    model_config = ConfigDict(title="github.remove_label output")

    removed: bool = Field(description="false when the label was not on the issue")
    labels: list[str] | None = Field(
        description="the labels left on the issue (null when nothing was removed)"
    )


@action(
    "github.remove_label",
    input=RemoveLabelInput,
    output=RemoveLabelOutput,
    # A DELETE; a label already absent counts as removed, so a repeat is harmless.
    options=WRITE_IDEMPOTENT,
    connection_type="github",
    title="Remove a label from a GitHub issue or pull request",
    group=_GROUP,
    errors=REST_ERRORS,
    description=(
        "Removes one label: `DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}`. "
        "A label that is not on the issue (GitHub's 404 `Label does not exist`) is a success "
        "with `removed: false`; a 404 for the repository or the issue stays an "
        "`HttpClientError`.\n\n"
        "Output: `{removed, labels}` (`labels`: those left on the issue).\n\n" + _RATE_LIMIT_NOTE
    ),
    examples=({"repo": "octo-org/api", "issue_number": 42, "label": "needs-triage"},),
)
async def remove_label(ctx: ActionContext, params: RemoveLabelInput) -> dict[str, Any]:
    from switchyard.actions.github import _impl

    return await _impl.remove_label(ctx, params)


# ----------------------------------------------------------- dispatch_workflow

Scalar = str | int | float | bool


class DispatchWorkflowInput(_RepoInput):
    model_config = ConfigDict(extra="forbid", title="github.dispatch_workflow input")

    workflow: str | int = Field(
        description="the workflow's id or file name (e.g. `deploy.yml`)",
    )
    ref: str = Field(min_length=1, description="the branch or tag to run the workflow on")
    inputs: dict[str, Scalar] = Field(
        default_factory=dict,
        max_length=25,
        description=(
            "the workflow's `workflow_dispatch` inputs (at most 25); numbers and booleans "
            "are sent as text, as GitHub expects"
        ),
    )
    return_run_details: bool = Field(
        default=False,
        description=(
            "ask GitHub for the created run's id and URLs (github.com since 2026-02; older "
            "GitHub Enterprise Server versions reject it)"
        ),
    )


class DispatchOutput(BaseModel):
    model_config = ConfigDict(title="github.dispatch_workflow output")

    dispatched: bool = Field(description="always true (failures raise)")
    workflow: str = Field(description="the workflow id or file name")
    ref: str = Field(description="the ref the workflow runs on")
    workflow_run_id: int | None = Field(
        default=None, description="the run's id (with return_run_details)"
    )
    run_url: str | None = Field(
        default=None, description="the run's API URL (with return_run_details)"
    )
    html_url: str | None = Field(
        default=None, description="the run's page (with return_run_details)"
    )


@action(
    "github.dispatch_workflow",
    input=DispatchWorkflowInput,
    output=DispatchOutput,
    # Every accepted dispatch starts a new workflow run: never repeated automatically.
    options=WRITE_ONCE,
    connection_type="github",
    title="Run a GitHub Actions workflow",
    group=_GROUP,
    errors=REST_ERRORS,
    description=(
        "Triggers a `workflow_dispatch` run: "
        "`POST /repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches` with "
        "`{ref, inputs}` (GitHub answers 204; with `return_run_details`, 200 and the run's "
        "id and URLs).\n\n"
        "Output: `{dispatched, workflow, ref, workflow_run_id, run_url, html_url}`.\n\n"
        + _RATE_LIMIT_NOTE
    ),
    examples=(
        {
            "repo": "octo-org/api",
            "workflow": "deploy.yml",
            "ref": "main",
            "inputs": {"environment": "production", "version": "{{ Inputs.version }}"},
        },
        {"repo": "octo-org/api", "workflow": 161335, "ref": "v1.4.2", "return_run_details": True},
    ),
)
async def dispatch_workflow(ctx: ActionContext, params: DispatchWorkflowInput) -> dict[str, Any]:
    from switchyard.actions.github import _impl

    return await _impl.dispatch_workflow(ctx, params)


# -------------------------------------------------------------------- get_file


class GetFileInput(_RepoInput):
    model_config = ConfigDict(extra="forbid", title="github.get_file input")

    path: str = Field(min_length=1, description="the file's path in the repository")
    ref: str | None = Field(
        default=None, description="branch, tag or commit SHA (default: the default branch)"
    )


class FileOutput(BaseModel):
    model_config = ConfigDict(title="github.get_file output")

    path: str = Field(description="the file's path in the repository")
    name: str = Field(description="the file's name")
    sha: str = Field(description="the blob SHA (needed to update the file)")
    size: int = Field(description="size in bytes")
    content: str | None = Field(
        description="the text (utf-8), or base64 for binary files; null for files over 1 MB"
    )
    encoding: Literal["utf-8", "base64", "none"] = Field(
        description="how `content` is given: `utf-8` text, `base64` bytes, or `none`"
    )
    html_url: str | None = Field(default=None, description="the file's page")
    download_url: str | None = Field(default=None, description="the raw file's URL")


@action(
    "github.get_file",
    input=GetFileInput,
    output=FileOutput,
    options=READ,
    connection_type="github",
    title="Read a file from a GitHub repository",
    group=_GROUP,
    errors=REST_ERRORS,
    description=(
        "Reads a file: `GET /repos/{owner}/{repo}/contents/{path}?ref=`. The base64 "
        "content GitHub returns is decoded: UTF-8 text is given as text (`encoding: utf-8`), "
        "other bytes stay base64 (`encoding: base64`). Files over 1 MB come without content "
        "from this API (`content: null`, `encoding: none`; use `download_url`). A missing "
        "file is an `HttpClientError` (404); a directory or a submodule is an "
        "`HttpClientError` too.\n\n"
        "Output: `{path, name, sha, size, content, encoding, html_url, download_url}`.\n\n"
        + _RATE_LIMIT_NOTE
    ),
    examples=(
        {"repo": "octo-org/api", "path": "deploy/values.yaml"},
        {"repo": "octo-org/api", "path": "VERSION", "ref": "{{ Inputs.tag }}"},
    ),
)
async def get_file(ctx: ActionContext, params: GetFileInput) -> dict[str, Any]:
    from switchyard.actions.github import _impl

    return await _impl.get_file(ctx, params)
