"""The Jira integration (Jira Cloud REST v3): issues, transitions, comments, JQL search.

Declarations only (connection type, models, options classes); the requests
live in `_impl.py`, imported on first call, so that looking an action up
(in the workflow sandbox, in `switchyard validate`) never imports httpx.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from switchyard.actions.jira._adf import is_adf_doc
from switchyard.actions.sdk import REST_ERRORS, ActionContext, action
from switchyard.connections.types import ConnectionType, FieldSpec, register_connection_type
from switchyard.engine.options import READ, WRITE_IDEMPOTENT, WRITE_ONCE

__all__ = ["DEFAULT_SEARCH_FIELDS", "JIRA"]

JIRA = register_connection_type(
    ConnectionType(
        name="jira",
        description=(
            "Jira Cloud (REST v3): the site URL and either an Atlassian account's `email` with "
            "its `api_token` (basic auth), or a bearer `token` (a Data Center personal access "
            "token, or an OAuth 2.0 access token)."
        ),
        fields=(
            FieldSpec(
                "base_url",
                "the site, e.g. https://your-domain.atlassian.net",
                required=True,
            ),
            FieldSpec("email", "the Atlassian account's email (with the secret api_token)"),
            FieldSpec(
                "allow_private_metadata",
                "allow link-local and cloud metadata addresses",
                type="boolean",
                default=False,
            ),
            FieldSpec("ca_cert", "PEM CA bundle trusted for this API (private PKI)"),
            FieldSpec("api_token", "Atlassian API token (Cloud, with email)", secret=True),
            FieldSpec(
                "token",
                "bearer token: an OAuth 2.0 access token, or a Data Center personal access "
                "token (the actions call REST v3 endpoints)",
                secret=True,
            ),
        ),
    )
)

_GROUP = "Jira"
_ISSUE_PATTERN = r"^([A-Za-z][A-Za-z0-9_]*-[1-9][0-9]*|[0-9]+)$"
_ISSUE_DESCRIPTION = "the issue's key (`OPS-123`) or id"
#: Fields `jira.search` asks for by default (the endpoint returns only ids otherwise).
DEFAULT_SEARCH_FIELDS = (
    "summary",
    "status",
    "assignee",
    "priority",
    "issuetype",
    "labels",
    "created",
    "updated",
)


def _rich_text(value: Any) -> Any:
    if isinstance(value, dict) and not is_adf_doc(value):
        raise ValueError(
            'expected plain text, or an Atlassian Document Format document ({"type": "doc", '
            '"version": 1, "content": [...]})'
        )
    return value


def _some_rich_text(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        raise ValueError("the text is empty")
    return _rich_text(value)


#: Plain text (converted to ADF) or an ADF document.
RichText = Annotated[str | dict[str, Any], AfterValidator(_rich_text)]
SomeRichText = Annotated[str | dict[str, Any], AfterValidator(_some_rich_text)]


# ---------------------------------------------------------------- create_issue


class CreateIssueInput(BaseModel):
    model_config = ConfigDict(extra="forbid", title="jira.create_issue input")

    project: str = Field(min_length=1, description="the project's key (`OPS`) or id")
    issue_type: str = Field(
        default="Task", min_length=1, description="the issue type's name (`Bug`, `Task`) or id"
    )
    summary: str = Field(min_length=1, max_length=255, description="the issue's summary")
    description: RichText | None = Field(
        default=None,
        description=(
            "plain text (blank-line-separated paragraphs), converted to an Atlassian "
            "Document Format document; or an ADF document as is"
        ),
    )
    priority: str | None = Field(default=None, description="the priority's name (`High`) or id")
    labels: list[Annotated[str, Field(pattern=r"^\S+$")]] = Field(
        default_factory=list, description="labels (Jira labels cannot contain spaces)"
    )
    assignee: str | None = Field(default=None, description="the assignee's Atlassian accountId")
    fields: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "more fields merged into the request's `fields` (custom fields, components, ...); "
            "they win over the ones above"
        ),
    )


class CreatedIssueOutput(BaseModel):
    model_config = ConfigDict(title="jira.create_issue output")

    id: str = Field(description="the issue's id")
    key: str = Field(description="the issue's key, e.g. `OPS-123`")
    self: str = Field(description="the issue's API URL")
    url: str = Field(description="the issue's page (`<base_url>/browse/<key>`)")
    summary: str = Field(description="the summary sent")


@action(
    "jira.create_issue",
    input=CreateIssueInput,
    output=CreatedIssueOutput,
    # A POST that creates: Jira has no idempotency key, a repeat opens a second issue.
    options=WRITE_ONCE,
    connection_type="jira",
    title="Create a Jira issue",
    group=_GROUP,
    errors=REST_ERRORS,
    description=(
        "Creates an issue: `POST /rest/api/3/issue` with `fields` built from `project`, "
        "`issue_type`, `summary`, `description` (plain text becomes an Atlassian Document "
        "Format document, one paragraph per blank-line-separated block), `priority`, "
        "`labels` and `assignee` (accountId), then `fields` merged in (custom fields).\n\n"
        "Output: `{id, key, self, url, summary}`; `url` is the issue's page. Jira's field "
        "errors (`errors: {field: message}`) are in the failure message."
    ),
    examples=(
        {
            "project": "OPS",
            "issue_type": "Bug",
            "summary": "{{ Trigger.event.title }}",
            "description": "Alert fired.\n\nRunbook: https://runbooks.example.com/api",
            "priority": "High",
            "labels": ["incident", "api"],
        },
        {
            "project": "OPS",
            "summary": "Rotate certificates",
            "fields": {"customfield_10020": 42, "components": [{"name": "edge"}]},
        },
    ),
)
async def create_issue(ctx: ActionContext, params: CreateIssueInput) -> dict[str, Any]:
    from switchyard.actions.jira import _impl

    return await _impl.create_issue(ctx, params)


# ------------------------------------------------------------ transition_issue


class TransitionIssueInput(BaseModel):
    model_config = ConfigDict(extra="forbid", title="jira.transition_issue input")

    issue: str = Field(pattern=_ISSUE_PATTERN, description=_ISSUE_DESCRIPTION)
    transition: str | int = Field(
        description=(
            "the transition's name (case-insensitive) or id, or the name of the status it leads to"
        )
    )
    comment: SomeRichText | None = Field(
        default=None, description="a comment added with the transition (text or ADF)"
    )
    fields: dict[str, Any] = Field(
        default_factory=dict,
        description="fields set by the transition's screen, e.g. `{resolution: {name: Done}}`",
    )


class TransitionRef(BaseModel):
    id: str = Field(description="the transition's id")
    name: str = Field(description="the transition's name")


class TransitionOutput(BaseModel):
    model_config = ConfigDict(title="jira.transition_issue output")

    issue: str = Field(description="the issue key or id given")
    transitioned: bool = Field(description="false when the issue was already in the status")
    already_in_status: bool = Field(description="true when nothing had to be done")
    transition: TransitionRef | None = Field(description="the transition applied, if any")
    status: str | None = Field(description="the status the issue is now in")


@action(
    "jira.transition_issue",
    input=TransitionIssueInput,
    output=TransitionOutput,
    # "Move the issue to status X": once there, a repeat finds it there and succeeds
    # without doing anything, so retrying is safe.
    options=WRITE_IDEMPOTENT,
    connection_type="jira",
    title="Transition a Jira issue",
    group=_GROUP,
    errors=REST_ERRORS,
    description=(
        "Moves an issue through its workflow: `GET /rest/api/3/issue/{key}/transitions`, "
        "picks the transition whose name or id (or target status) is `transition` "
        "(case-insensitive), then `POST /rest/api/3/issue/{key}/transitions` with "
        '`{"transition": {"id": ...}}`, the `fields`, and the `comment` (as an ADF '
        "comment update).\n\n"
        "When no transition matches but the issue is already in a status named "
        "`transition`, the step succeeds without a change (`already_in_status: true`). "
        "Otherwise it fails with an `HttpClientError` listing the available transitions.\n\n"
        "Output: `{issue, transitioned, already_in_status, transition, status}`."
    ),
    examples=(
        {"issue": "{{ Steps.open_ticket.output.key }}", "transition": "Done"},
        {
            "issue": "OPS-123",
            "transition": "Resolve Issue",
            "comment": "Fixed by deploy {{ Inputs.version }}.",
            "fields": {"resolution": {"name": "Fixed"}},
        },
    ),
)
async def transition_issue(ctx: ActionContext, params: TransitionIssueInput) -> dict[str, Any]:
    from switchyard.actions.jira import _impl

    return await _impl.transition_issue(ctx, params)


# ----------------------------------------------------------------- add_comment


class AddCommentInput(BaseModel):
    model_config = ConfigDict(extra="forbid", title="jira.add_comment input")

    issue: str = Field(pattern=_ISSUE_PATTERN, description=_ISSUE_DESCRIPTION)
    body: SomeRichText = Field(
        description=(
            "the comment: plain text (blank-line-separated paragraphs), converted to an "
            "Atlassian Document Format document; or an ADF document as is"
        ),
    )


class CommentOutput(BaseModel):
    model_config = ConfigDict(title="jira.add_comment output")

    id: str = Field(description="the comment's id")
    self: str = Field(description="the comment's API URL")
    url: str = Field(description="the comment's page")
    created: str | None = Field(default=None, description="creation time")
    body: str = Field(description="the comment's text as Jira stored it")


@action(
    "jira.add_comment",
    input=AddCommentInput,
    output=CommentOutput,
    # A POST that adds a comment each time it is sent: never repeated automatically.
    options=WRITE_ONCE,
    connection_type="jira",
    title="Comment on a Jira issue",
    group=_GROUP,
    errors=REST_ERRORS,
    description=(
        "Adds a comment: `POST /rest/api/3/issue/{key}/comment` with an Atlassian Document "
        "Format `body` (plain text is converted, one paragraph per blank-line-separated "
        "block).\n\n"
        "Output: `{id, self, url, created, body}`; `body` is the comment's text."
    ),
    examples=({"issue": "OPS-123", "body": "Deployed {{ Inputs.version }} to production."},),
)
async def add_comment(ctx: ActionContext, params: AddCommentInput) -> dict[str, Any]:
    from switchyard.actions.jira import _impl

    return await _impl.add_comment(ctx, params)


# ---------------------------------------------------------------------- search


class SearchInput(BaseModel):
    model_config = ConfigDict(extra="forbid", title="jira.search input")

    jql: str = Field(min_length=1, description="the JQL query (bounded, e.g. by project)")
    fields: list[str] = Field(
        default_factory=lambda: list(DEFAULT_SEARCH_FIELDS),
        description=(
            "fields to return (`*navigable`, `*all`, names or ids; `-name` excludes); default: "
            + ", ".join(DEFAULT_SEARCH_FIELDS)
        ),
    )
    max_results: int = Field(
        default=50, ge=1, le=5000, description="the most issues to return, over all pages"
    )
    next_page_token: str | None = Field(
        default=None, description="continue a previous search from this token"
    )


class FoundIssue(BaseModel):
    id: str = Field(description="the issue's id")
    key: str = Field(description="the issue's key")
    self: str | None = Field(default=None, description="the issue's API URL")
    fields: dict[str, Any] = Field(default_factory=dict, description="the fields asked for")


class SearchOutput(BaseModel):
    model_config = ConfigDict(title="jira.search output")

    issues: list[FoundIssue] = Field(description="the issues found, in the query's order")
    total: int = Field(description="how many issues are returned")
    next_page_token: str | None = Field(
        description="where to continue when `max_results` stopped the search early"
    )
    is_last: bool = Field(description="true when every matching issue was returned")


@action(
    "jira.search",
    input=SearchInput,
    output=SearchOutput,
    # A POST, but a pure query.
    options=READ,
    connection_type="jira",
    title="Search Jira issues (JQL)",
    group=_GROUP,
    errors=REST_ERRORS,
    description=(
        "Runs a JQL query with the enhanced search endpoint "
        "`POST /rest/api/3/search/jql` (`{jql, fields, maxResults, nextPageToken}`), "
        "following `nextPageToken` until `max_results` issues are collected or the last "
        "page.\n\n"
        "Output: `{issues: [{id, key, self, fields}], total, next_page_token, is_last}`; "
        "`total` is the number returned (the endpoint gives no overall count)."
    ),
    examples=(
        {"jql": "project = OPS AND statusCategory != Done ORDER BY created DESC"},
        {
            "jql": "labels = incident AND created >= -1d",
            "fields": ["summary", "status"],
            "max_results": 200,
        },
    ),
)
async def search(ctx: ActionContext, params: SearchInput) -> dict[str, Any]:
    from switchyard.actions.jira import _impl

    return await _impl.search(ctx, params)
