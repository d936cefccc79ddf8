"""GitLab REST calls (imported on first call: imports httpx through `rest`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from switchyard.actions import rest
from switchyard.actions.gitlab import DEFAULT_BASE_URL
from switchyard.actions.sdk import ActionContext
from switchyard.errors import StepFailure

if TYPE_CHECKING:
    from switchyard.actions.gitlab import (
        CreateIssueInput,
        MergeRequestNoteInput,
        TriggerPipelineInput,
    )

SERVICE = "GitLab"
USER_AGENT = "Switchyard"


def project_path(project: int | str) -> str:
    """`/projects/:id` with a path URL-encoded as GitLab requires (`group%2Fproject`)."""
    return f"/projects/{quote(str(project), safe='')}"


def _validation_text(body: Any) -> str:
    """GitLab's field errors: `{"message": {"title": ["can't be blank"]}}` -> text."""
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, dict):
        return ""
    parts = []
    for key, value in message.items():
        items = value if isinstance(value, list) else [value]
        text = ", ".join(str(v) for v in items)
        parts.append(text if key == "base" else f"{key} {text}")
    return "; ".join(parts)[:300]


async def call(
    ctx: ActionContext,
    method: str,
    path: str,
    *,
    auth: bool = True,
    json_body: Any = None,
    data: dict[str, Any] | None = None,
) -> rest.Response:
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
    if auth:
        headers["PRIVATE-TOKEN"] = rest.conn_secret(ctx, "token")
    kwargs: dict[str, Any] = {"json": json_body} if data is None else {"data": data}
    try:
        return await rest.request(
            ctx,
            method,
            path,
            base_url=str(rest.conn_field(ctx, "base_url", DEFAULT_BASE_URL)),
            headers=headers,
            service=SERVICE,
            **kwargs,
        )
    except StepFailure as exc:
        body = exc.details.get("body") if isinstance(exc.details, dict) else None
        extra = _validation_text(body)
        if not extra:
            raise
        raise StepFailure(
            exc.type,
            f"{exc.message}: {extra}",
            exc.details,
            retryable=exc.retryable,
            retry_after=exc.retry_after,
        ) from None


def _object(body: Any, what: str) -> dict[str, Any]:
    return rest.expect_object(SERVICE, body, what)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


async def create_issue(ctx: ActionContext, params: CreateIssueInput) -> dict[str, Any]:
    payload: dict[str, Any] = {"title": params.title}
    if params.description is not None:
        payload["description"] = params.description
    labels = params.labels
    if isinstance(labels, str):
        labels = labels.split(",")
    labels = [label.strip() for label in labels if label.strip()]
    if labels:
        payload["labels"] = ",".join(labels)
    if params.assignee_ids:
        payload["assignee_ids"] = params.assignee_ids
    if params.confidential is not None:
        payload["confidential"] = params.confidential
    response = await call(ctx, "POST", f"{project_path(params.project)}/issues", json_body=payload)
    issue = _object(response.body, "an issue")
    return {
        "id": issue["id"],
        "iid": issue["iid"],
        "project_id": issue["project_id"],
        "web_url": issue["web_url"],
        "title": issue["title"],
        "state": issue["state"],
        "labels": list(issue.get("labels") or []),
    }


async def trigger_pipeline(ctx: ActionContext, params: TriggerPipelineInput) -> dict[str, Any]:
    trigger_token = rest.conn_secret(ctx, "trigger_token", required=False)
    base = project_path(params.project)
    if trigger_token:
        # The trigger API authenticates with the trigger token alone (form field).
        form = {"token": trigger_token, "ref": params.ref}
        form.update({f"variables[{k}]": _text(v) for k, v in params.variables.items()})
        response = await call(ctx, "POST", f"{base}/trigger/pipeline", auth=False, data=form)
        via = "trigger_token"
    else:
        payload: dict[str, Any] = {"ref": params.ref}
        if params.variables:
            payload["variables"] = [
                {"key": k, "value": _text(v), "variable_type": "env_var"}
                for k, v in params.variables.items()
            ]
        response = await call(ctx, "POST", f"{base}/pipeline", json_body=payload)
        via = "token"
    pipeline = _object(response.body, "a pipeline")
    return {
        "id": pipeline["id"],
        "iid": pipeline.get("iid"),
        "status": pipeline["status"],
        "ref": pipeline.get("ref", params.ref),
        "sha": pipeline.get("sha"),
        "web_url": pipeline.get("web_url"),
        "via": via,
    }


async def merge_request_note(ctx: ActionContext, params: MergeRequestNoteInput) -> dict[str, Any]:
    path = f"{project_path(params.project)}/merge_requests/{params.merge_request_iid}/notes"
    payload: dict[str, Any] = {"body": params.body}
    if params.internal is not None:
        payload["internal"] = params.internal
    response = await call(ctx, "POST", path, json_body=payload)
    note = _object(response.body, "a note")
    return {
        "id": note["id"],
        "body": note.get("body") or "",
        "noteable_iid": note.get("noteable_iid"),
        "created_at": note.get("created_at"),
    }
