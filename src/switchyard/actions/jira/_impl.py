"""Jira Cloud REST v3 calls (imported on first call: imports httpx through `rest`)."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from switchyard import errors
from switchyard.actions import rest
from switchyard.actions.jira._adf import adf_to_text, text_to_adf
from switchyard.actions.sdk import ActionContext
from switchyard.errors import StepFailure

if TYPE_CHECKING:
    from switchyard.actions.jira import (
        AddCommentInput,
        CreateIssueInput,
        SearchInput,
        TransitionIssueInput,
    )

SERVICE = "Jira"
USER_AGENT = "Switchyard"
API = "/rest/api/3"
#: Issues asked for per search page (Jira may return fewer).
PAGE_SIZE = 100


def _base_url(ctx: ActionContext) -> str:
    base = rest.conn_field(ctx, "base_url")
    if not base:
        name = ctx.connection.name if ctx.connection is not None else "(none)"
        raise StepFailure(
            errors.VALIDATION_ERROR,
            f"connection {name!r} has no field 'base_url' (e.g. https://your-domain.atlassian.net)",
            retryable=False,
        )
    return str(base).rstrip("/")


def _auth_header(ctx: ActionContext) -> str:
    """Cloud basic auth (email + api_token) or a bearer token (Data Center PAT, OAuth)."""
    api_token = rest.conn_secret(ctx, "api_token", required=False)
    token = rest.conn_secret(ctx, "token", required=False)
    name = ctx.connection.name if ctx.connection is not None else "(none)"
    if api_token:
        email = rest.conn_field(ctx, "email")
        if not email:
            raise StepFailure(
                errors.VALIDATION_ERROR,
                f"connection {name!r} has the secret 'api_token' but no field 'email' "
                "(Jira Cloud authenticates with email:api_token)",
                retryable=False,
            )
        encoded = base64.b64encode(f"{email}:{api_token}".encode()).decode("ascii")
        ctx.add_secret(encoded)
        return f"Basic {encoded}"
    if token:
        return f"Bearer {token}"
    raise StepFailure(
        errors.VALIDATION_ERROR,
        f"connection {name!r} needs the field 'email' with the secret 'api_token' (Jira Cloud) "
        "or the secret 'token' (bearer: Data Center personal access token)",
        retryable=False,
    )


def _field_errors(body: Any) -> str:
    """Jira's `{"errorMessages": [...], "errors": {"field": "message"}}` as text."""
    if not isinstance(body, dict):
        return ""
    parts = [str(m) for m in body.get("errorMessages") or [] if m]
    field_errors = body.get("errors")
    if isinstance(field_errors, dict):
        parts += [f"{k}: {v}" for k, v in field_errors.items()]
    return "; ".join(parts)[:500]


async def call(
    ctx: ActionContext,
    method: str,
    path: str,
    *,
    json_body: Any = None,
    params: dict[str, Any] | None = None,
) -> rest.Response:
    base = _base_url(ctx)
    headers = {
        "Authorization": _auth_header(ctx),
        "Accept": "application/json",
        "User-Agent": USER_AGENT,
    }
    kwargs: dict[str, Any] = {} if json_body is None else {"json": json_body}
    try:
        return await rest.request(
            ctx,
            method,
            path,
            base_url=base,
            headers=headers,
            params=params,
            service=SERVICE,
            **kwargs,
        )
    except StepFailure as exc:
        body = exc.details.get("body") if isinstance(exc.details, dict) else None
        text = _field_errors(body)
        if not text or text in exc.message:
            raise
        raise StepFailure(
            exc.type,
            f"{exc.message.split(': ', 1)[0]}: {text}",
            exc.details,
            retryable=exc.retryable,
            retry_after=exc.retry_after,
        ) from None


def _object(body: Any, what: str) -> dict[str, Any]:
    return rest.expect_object(SERVICE, body, what)


def _doc(value: str | dict[str, Any]) -> dict[str, Any]:
    return value if isinstance(value, dict) else text_to_adf(value)


def _ref(value: str, by_name: str) -> dict[str, str]:
    """`{"id": ...}` for a numeric reference, else `{by_name: ...}`."""
    return {"id": value} if value.isdigit() else {by_name: value}


def _issue_path(issue: str) -> str:
    return f"{API}/issue/{quote(issue, safe='')}"


# -------------------------------------------------------------------- actions


async def create_issue(ctx: ActionContext, params: CreateIssueInput) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "project": _ref(params.project, "key"),
        "issuetype": _ref(params.issue_type, "name"),
        "summary": params.summary,
    }
    if params.description is not None:
        doc = _doc(params.description)
        if doc["content"]:
            fields["description"] = doc
    if params.priority:
        fields["priority"] = _ref(params.priority, "name")
    if params.labels:
        fields["labels"] = params.labels
    if params.assignee:
        fields["assignee"] = {"accountId": params.assignee}
    fields.update(params.fields)
    response = await call(ctx, "POST", f"{API}/issue", json_body={"fields": fields})
    created = _object(response.body, "the created issue")
    key = str(created["key"])
    return {
        "id": str(created["id"]),
        "key": key,
        "self": str(created.get("self", "")),
        "url": f"{_base_url(ctx)}/browse/{quote(key)}",
        "summary": str(fields.get("summary", params.summary)),
    }


def _matches(candidate: dict[str, Any], wanted: str) -> bool:
    name = str(candidate.get("name", "")).strip().casefold()
    return str(candidate.get("id", "")) == wanted or name == wanted.strip().casefold()


async def transition_issue(ctx: ActionContext, params: TransitionIssueInput) -> dict[str, Any]:
    wanted = str(params.transition)
    path = f"{_issue_path(params.issue)}/transitions"
    listed = _object((await call(ctx, "GET", path)).body, "a list of transitions")
    transitions = [t for t in listed.get("transitions") or [] if isinstance(t, dict)]
    chosen = next((t for t in transitions if _matches(t, wanted)), None)
    if chosen is None:
        # By target status: the transition leading to a status named `wanted`.
        chosen = next(
            (t for t in transitions if isinstance(t.get("to"), dict) and _matches(t["to"], wanted)),
            None,
        )
    if chosen is None:
        issue = _object(
            (await call(ctx, "GET", _issue_path(params.issue), params={"fields": "status"})).body,
            "an issue",
        )
        status = (issue.get("fields") or {}).get("status") or {}
        if isinstance(status, dict) and _matches(status, wanted):
            return {
                "issue": params.issue,
                "transitioned": False,
                "already_in_status": True,
                "transition": None,
                "status": status.get("name"),
            }
        available = [
            f"{t.get('name')} (id {t.get('id')}"
            + (f", to {t['to'].get('name')}" if isinstance(t.get("to"), dict) else "")
            + ")"
            for t in transitions
        ]
        raise StepFailure(
            errors.HTTP_CLIENT_ERROR,
            f"{params.issue} (status {status.get('name')!r}) has no transition {wanted!r}; "
            f"available: {', '.join(available) or 'none'}",
            {
                "issue": params.issue,
                "status": status.get("name"),
                "available": [
                    {
                        "id": t.get("id"),
                        "name": t.get("name"),
                        "to": (t.get("to") or {}).get("name"),
                    }
                    for t in transitions
                ],
            },
            retryable=False,
        )
    payload: dict[str, Any] = {"transition": {"id": str(chosen["id"])}}
    if params.fields:
        payload["fields"] = params.fields
    if params.comment is not None:
        payload["update"] = {"comment": [{"add": {"body": _doc(params.comment)}}]}
    await call(ctx, "POST", path, json_body=payload)
    to: dict[str, Any] = chosen["to"] if isinstance(chosen.get("to"), dict) else {}
    return {
        "issue": params.issue,
        "transitioned": True,
        "already_in_status": False,
        "transition": {"id": str(chosen["id"]), "name": str(chosen.get("name", ""))},
        "status": to.get("name"),
    }


async def add_comment(ctx: ActionContext, params: AddCommentInput) -> dict[str, Any]:
    path = f"{_issue_path(params.issue)}/comment"
    response = await call(ctx, "POST", path, json_body={"body": _doc(params.body)})
    comment = _object(response.body, "a comment")
    cid = str(comment["id"])
    return {
        "id": cid,
        "self": str(comment.get("self", "")),
        "url": f"{_base_url(ctx)}/browse/{quote(params.issue)}?focusedCommentId={cid}",
        "created": comment.get("created"),
        "body": adf_to_text(comment.get("body")),
    }


async def search(ctx: ActionContext, params: SearchInput) -> dict[str, Any]:
    issues: list[dict[str, Any]] = []
    token = params.next_page_token
    is_last = False
    while len(issues) < params.max_results:
        payload: dict[str, Any] = {
            "jql": params.jql,
            "fields": params.fields,
            "maxResults": min(PAGE_SIZE, params.max_results - len(issues)),
        }
        if token:
            payload["nextPageToken"] = token
        page = _object(
            (await call(ctx, "POST", f"{API}/search/jql", json_body=payload)).body,
            "search results",
        )
        found = [item for item in page.get("issues") or [] if isinstance(item, dict)]
        issues += [
            {
                "id": str(item.get("id", "")),
                "key": str(item.get("key", "")),
                "self": item.get("self"),
                "fields": item.get("fields") or {},
            }
            for item in found
        ]
        token = page.get("nextPageToken") or None
        # `isLast` may be absent: no token means no further page.
        if token is None or page.get("isLast") is True:
            is_last, token = True, None
            break
        if not found:  # a page without issues would never end the loop
            break
        ctx.heartbeat(len(issues))
    if len(issues) > params.max_results:
        issues = issues[: params.max_results]
    return {
        "issues": issues,
        "total": len(issues),
        "next_page_token": token,
        "is_last": is_last,
    }
