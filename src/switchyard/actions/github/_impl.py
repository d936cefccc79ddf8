"""GitHub REST calls (imported on first call: imports httpx through `rest`)."""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from switchyard import errors
from switchyard.actions import rest
from switchyard.actions.github import DEFAULT_BASE_URL
from switchyard.actions.http._request import ERROR_BODY_CHARS, parse_retry_after
from switchyard.actions.sdk import ActionContext
from switchyard.errors import StepFailure

if TYPE_CHECKING:
    from switchyard.actions.github import (
        AddLabelsInput,
        CommentIssueInput,
        CreateIssueInput,
        DispatchWorkflowInput,
        GetFileInput,
        RemoveLabelInput,
    )

SERVICE = "GitHub"
API_VERSION = "2022-11-28"
USER_AGENT = "Switchyard (+https://github.com/switchyard)"
#: Wait before retrying a secondary rate limit that names no time (GitHub: "at least a minute").
SECONDARY_LIMIT_WAIT = 60.0

_UNSET: Any = object()


def _headers(ctx: ActionContext) -> dict[str, str]:
    token = rest.conn_secret(ctx, "token")
    return {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": API_VERSION,
        "User-Agent": USER_AGENT,
    }


def _base_url(ctx: ActionContext) -> str:
    return str(rest.conn_field(ctx, "base_url", DEFAULT_BASE_URL))


def _repo_path(repo: str) -> str:
    owner, name = repo.split("/", 1)
    return f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}"


async def call(
    ctx: ActionContext,
    method: str,
    path: str,
    *,
    json_body: Any = _UNSET,
    params: dict[str, Any] | None = None,
    ok: tuple[int, ...] = (),
) -> rest.Response:
    """One GitHub request; 403/429 are told apart (rate limit or permission)."""
    base = _base_url(ctx)
    kwargs: dict[str, Any] = {}
    if json_body is not _UNSET:
        kwargs["json"] = json_body
    response = await rest.request(
        ctx,
        method,
        path,
        base_url=base,
        headers=_headers(ctx),
        params=params,
        service=SERVICE,
        ok=(403, 429, *ok),
        **kwargs,
    )
    if response.status in (403, 429) and response.status not in ok:
        raise limit_or_denied(response, f"{base.rstrip('/')}/{path.lstrip('/')}")
    return response


def _message(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"]
    return ""


def _excerpt(body: Any) -> Any:
    text = body if isinstance(body, str) else json.dumps(body, default=str)
    return text[:ERROR_BODY_CHARS] if len(text) > ERROR_BODY_CHARS else body


def limit_or_denied(response: rest.Response, url: str, now: float | None = None) -> StepFailure:
    """The failure for a GitHub 403/429: a (primary or secondary) rate limit, or a refusal.

    GitHub's rules: primary limit = 403/429 with `x-ratelimit-remaining: 0`, wait
    until `x-ratelimit-reset` (epoch seconds); secondary limit = 403/429 whose
    message says so, wait `retry-after` seconds or at least a minute. A 429
    is always a limit; any other 403 is a permission problem.
    """
    status = response.status
    headers = response.headers
    message = _message(response.body)
    retry_after = parse_retry_after(headers.get("retry-after"))
    remaining = (headers.get("x-ratelimit-remaining") or "").strip()
    primary = remaining == "0"
    secondary = retry_after is not None or "rate limit" in message.lower()
    details: dict[str, Any] = {"url": url, "body": _excerpt(response.body)}
    if status == 429 or primary or secondary:
        if retry_after is None and primary:
            try:
                reset = float(headers.get("x-ratelimit-reset", ""))
            except ValueError:
                reset = None
            if reset is not None:
                current = time.time() if now is None else now
                retry_after = max(reset - current, 1.0)
        if retry_after is None and status == 403:
            retry_after = SECONDARY_LIMIT_WAIT
        details["rate_limit"] = {
            k: headers[f"x-ratelimit-{k}"]
            for k in ("limit", "remaining", "reset", "resource")
            if f"x-ratelimit-{k}" in headers
        }
        text = f"{SERVICE} rate limit exceeded (HTTP {status})"
        return StepFailure(
            errors.HTTP_SERVER_ERROR,
            text + (f": {message[:300]}" if message else ""),
            {"status": status, **details},
            retryable=True,
            retry_after=retry_after,
        )
    text = f"{SERVICE} answered HTTP {status} Forbidden"
    return rest.status_failure(
        status, text + (f": {message[:300]}" if message else ""), details=details
    )


def _label_names(body: Any) -> list[str]:
    if not isinstance(body, list):
        raise rest.unexpected_body(SERVICE, body, "a list of labels")
    return [str(item.get("name")) for item in body if isinstance(item, dict)]


def _expect_object(body: Any, what: str) -> dict[str, Any]:
    return rest.expect_object(SERVICE, body, what)


# -------------------------------------------------------------------- actions


async def create_issue(ctx: ActionContext, params: CreateIssueInput) -> dict[str, Any]:
    payload: dict[str, Any] = {"title": params.title}
    if params.body is not None:
        payload["body"] = params.body
    if params.labels:
        payload["labels"] = params.labels
    if params.assignees:
        payload["assignees"] = params.assignees
    if params.milestone is not None:
        payload["milestone"] = params.milestone
    response = await call(ctx, "POST", f"{_repo_path(params.repo)}/issues", json_body=payload)
    issue = _expect_object(response.body, "an issue")
    return {
        "number": issue["number"],
        "id": issue["id"],
        "html_url": issue["html_url"],
        "url": issue["url"],
        "state": issue["state"],
        "title": issue["title"],
    }


async def comment_issue(ctx: ActionContext, params: CommentIssueInput) -> dict[str, Any]:
    path = f"{_repo_path(params.repo)}/issues/{params.issue_number}/comments"
    response = await call(ctx, "POST", path, json_body={"body": params.body})
    comment = _expect_object(response.body, "a comment")
    return {
        "id": comment["id"],
        "html_url": comment["html_url"],
        "url": comment["url"],
        "body": comment.get("body") or "",
        "created_at": comment.get("created_at"),
    }


async def add_labels(ctx: ActionContext, params: AddLabelsInput) -> dict[str, Any]:
    path = f"{_repo_path(params.repo)}/issues/{params.issue_number}/labels"
    response = await call(ctx, "POST", path, json_body={"labels": params.labels})
    return {"labels": _label_names(response.body)}


async def remove_label(ctx: ActionContext, params: RemoveLabelInput) -> dict[str, Any]:
    path = (
        f"{_repo_path(params.repo)}/issues/{params.issue_number}/labels/"
        f"{quote(params.label, safe='')}"
    )
    response = await call(ctx, "DELETE", path, ok=(404,))
    if response.status == 404:
        # GitHub answers 404 both for "this label is not on the issue" (the
        # wanted state: success) and for a missing repository or issue (an error).
        if _message(response.body).strip().lower() == "label does not exist":
            return {"removed": False, "labels": None}
        text = _message(response.body)
        raise rest.status_failure(
            404,
            f"{SERVICE} answered HTTP 404 Not Found" + (f": {text[:300]}" if text else ""),
            details={"url": f"{_base_url(ctx).rstrip('/')}{path}", "body": _excerpt(response.body)},
        )
    return {"removed": True, "labels": _label_names(response.body)}


def _input_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


async def dispatch_workflow(ctx: ActionContext, params: DispatchWorkflowInput) -> dict[str, Any]:
    workflow = str(params.workflow)
    path = f"{_repo_path(params.repo)}/actions/workflows/{quote(workflow, safe='')}/dispatches"
    payload: dict[str, Any] = {"ref": params.ref}
    if params.inputs:
        payload["inputs"] = {k: _input_text(v) for k, v in params.inputs.items()}
    if params.return_run_details:
        payload["return_run_details"] = True
    response = await call(ctx, "POST", path, json_body=payload)
    out: dict[str, Any] = {
        "dispatched": True,
        "workflow": workflow,
        "ref": params.ref,
        "workflow_run_id": None,
        "run_url": None,
        "html_url": None,
    }
    if isinstance(response.body, dict):
        out["workflow_run_id"] = response.body.get("workflow_run_id")
        out["run_url"] = response.body.get("run_url")
        out["html_url"] = response.body.get("html_url")
    return out


def _decode(content: str) -> tuple[str, str]:
    """GitHub's base64 (wrapped in lines) -> (content, encoding)."""
    try:
        raw = base64.b64decode("".join(content.split()), validate=True)
    except (binascii.Error, ValueError):
        raise StepFailure(
            errors.ACTION_ERROR,
            f"{SERVICE} returned file content that is not valid base64",
            retryable=False,
        ) from None
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), "base64"


async def get_file(ctx: ActionContext, params: GetFileInput) -> dict[str, Any]:
    file_path = params.path.strip("/")
    path = f"{_repo_path(params.repo)}/contents/{quote(file_path, safe='/')}"
    response = await call(ctx, "GET", path, params={"ref": params.ref})
    body = response.body
    if isinstance(body, list):
        raise StepFailure(
            errors.HTTP_CLIENT_ERROR,
            f"{params.path!r} is a directory in {params.repo}, not a file",
            {"entries": [e.get("name") for e in body if isinstance(e, dict)][:50]},
            retryable=False,
        )
    item = _expect_object(body, "a file")
    kind = item.get("type")
    if kind != "file":
        raise StepFailure(
            errors.HTTP_CLIENT_ERROR,
            f"{params.path!r} in {params.repo} is a {kind}, not a file",
            {"type": kind},
            retryable=False,
        )
    encoding = item.get("encoding")
    content: str | None
    if encoding == "base64" and isinstance(item.get("content"), str):
        content, encoding = _decode(item["content"])
    elif encoding == "none" or not item.get("content"):
        # Files over 1 MB: the JSON form carries no content.
        content, encoding = None, "none"
        if item.get("size") == 0:
            content, encoding = "", "utf-8"
    else:
        raise StepFailure(
            errors.ACTION_ERROR,
            f"{SERVICE} returned file content in an unknown encoding {encoding!r}",
            retryable=False,
        )
    return {
        "path": item.get("path", file_path),
        "name": item.get("name", file_path.rsplit("/", 1)[-1]),
        "sha": item["sha"],
        "size": item.get("size", 0),
        "content": content,
        "encoding": encoding,
        "html_url": item.get("html_url"),
        "download_url": item.get("download_url"),
    }
