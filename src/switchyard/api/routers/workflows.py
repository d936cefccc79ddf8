"""Workflows and their versions.

`PUT /api/v1/workflows/{name}` takes a definition as JSON
(`application/json`) or YAML (`application/yaml`, `text/yaml`) and checks it
with the validator `switchyard validate` uses: an invalid one is a 422 whose
`problems` are the validator's, worded the same. Permissions: create or
update (role, or a grant on the workflow), plus publish for `?publish=true`.
"""

from __future__ import annotations

import importlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from switchyard.api.auth import (
    CurrentPrincipal,
    Principal,
    TxSession,
    authorize,
    require,
    source_of,
)
from switchyard.api.deps import get_state
from switchyard.api.errors import ApiError
from switchyard.api.inputs import reject_nul
from switchyard.api.pagination import Cursor, Limit, decode_cursor, page
from switchyard.control import audit
from switchyard.control import workflows as store
from switchyard.control.grants import delete_grants
from switchyard.control.permissions import Permission as P
from switchyard.control.timestamps import iso
from switchyard.definition.loader import MAX_DOCUMENT_BYTES
from switchyard.triggers.lifecycle import schedules_published, schedules_removed

router = APIRouter(tags=["workflows"], dependencies=[Depends(reject_nul)])

Name = Annotated[
    str, Path(min_length=1, max_length=64, description="workflow name", examples=["hello"])
]
_JSON_TYPES = ("application/json",)
_YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
_EXAMPLE = {
    "name": "hello",
    "steps": [{"id": "say", "action": "core.echo", "with": {"text": "hello"}}],
}
_EXAMPLE_YAML = "name: hello\nsteps:\n  - id: say\n    action: core.echo\n    with: {text: hi}\n"
_DEFINITION_BODY = {
    "requestBody": {
        "required": True,
        "description": "A workflow definition (spec/definition.md), as JSON or YAML.",
        "content": {
            "application/json": {"schema": {"type": "object"}, "example": _EXAMPLE},
            "application/yaml": {"schema": {"type": "string"}, "example": _EXAMPLE_YAML},
        },
    }
}


class PublishBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, le=2**31 - 1)


async def _definition_text(request: Request) -> tuple[str, str]:
    """The body as (text, format); 413/415/422 when it cannot be a definition."""
    ctype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if ctype in _JSON_TYPES or ctype.endswith("+json"):
        fmt = "json"
    elif ctype in _YAML_TYPES:
        fmt = "yaml"
    else:
        raise ApiError(
            415,
            f"send the definition as application/json or application/yaml, not {ctype or 'none'}",
        )
    raw = await request.body()
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise ApiError(413, f"the definition is larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ApiError(422, f"the body is not UTF-8 text (byte offset {exc.start})") from None
    return text, fmt


def _invalid(exc: store.DefinitionInvalid) -> ApiError:
    errors = [p for p in exc.problems if p.is_error]
    first = str(errors[0]) if errors else "invalid definition"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return ApiError(
        422,
        f"invalid workflow definition: {first}{more}",
        problems=[p.to_dict() for p in exc.problems],
    )


def _version_summary(v: store.WorkflowVersion) -> dict[str, Any]:
    return {
        "number": v.number,
        "author": v.author,
        "created_at": iso(v.created_at),
        "message": v.message,
        "format": v.format,
        "hash": v.hash,
    }


async def _last_runs(session: TxSession, names: list[str]) -> dict[str, dict[str, Any]]:
    """`control.runs.last_runs` when the runs feature is installed, else nothing."""
    try:
        runs = importlib.import_module("switchyard.control.runs")
    except ModuleNotFoundError as exc:
        if exc.name != "switchyard.control.runs":
            raise
        return {}
    last_runs = getattr(runs, "last_runs", None)
    if last_runs is None or not names:
        return {}
    return dict(await last_runs(session, names))


@router.put(
    "/api/v1/workflows/{name}",
    openapi_extra=_DEFINITION_BODY,
    responses={201: {"description": "created"}, 422: {"description": "invalid definition"}},
)
async def put_workflow(
    name: Name,
    request: Request,
    response: Response,
    session: TxSession,
    principal: CurrentPrincipal,
    publish: bool = False,
    message: Annotated[str | None, Query(max_length=500)] = None,
) -> dict[str, Any]:
    """Create or update a workflow; a new version only when the definition changed.

    Answers 201 when the workflow was created, else 200, with `{name, version,
    published_version, created, changed, warnings}`.
    """
    existing = await store.get_workflow(session, name)
    perm = P.WORKFLOWS_UPDATE if existing is not None else P.WORKFLOWS_CREATE
    await authorize(session, principal, perm, "workflow", name)
    if publish:
        await authorize(session, principal, P.WORKFLOWS_PUBLISH, "workflow", name)
    text, fmt = await _definition_text(request)
    try:
        result = await store.save(
            session, name, text, fmt, author=principal.name, message=message, publish_it=publish
        )
    except store.DefinitionInvalid as exc:
        raise _invalid(exc) from None
    except store.Conflict as exc:
        raise ApiError(409, str(exc)) from None
    if publish and result.published_version is not None:
        published = await store.get_version(session, name, result.published_version)
        assert published is not None
        await schedules_published(get_state(request), published.definition, published.number)
    if result.changed or result.created or publish:
        await audit.record(
            session,
            actor=principal.name,
            action="workflow.create" if result.created else "workflow.update",
            resource=f"workflow:{name}",
            details={
                "version": result.version,
                "changed": result.changed,
                "published_version": result.published_version,
            },
            source=source_of(request),
        )
    response.status_code = 201 if result.created else 200
    return {
        "name": name,
        "version": result.version,
        "published_version": result.published_version,
        "created": result.created,
        "changed": result.changed,
        "warnings": [p.to_dict() for p in result.warnings],
    }


@router.post("/api/v1/workflows/validate", openapi_extra=_DEFINITION_BODY)
async def validate_workflow(
    request: Request, _: Annotated[Principal, Depends(require(P.WORKFLOWS_READ))]
) -> dict[str, Any]:
    """Validate a definition without saving it: `{valid, problems}` (problems as
    `switchyard validate --json` gives them)."""
    text, fmt = await _definition_text(request)
    try:
        _definition, problems = store.check_definition(text, fmt)
    except store.DefinitionInvalid as exc:
        return {"valid": False, "problems": [p.to_dict() for p in exc.problems]}
    return {"valid": True, "problems": [p.to_dict() for p in problems]}


@router.get("/api/v1/workflows")
async def list_workflows(
    session: TxSession,
    _: Annotated[Principal, Depends(require(P.WORKFLOWS_READ))],
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Workflows by name: latest and published version, triggers, last run."""
    after = decode_cursor(cursor, (str,))
    rows = await store.list_workflows(session, after=after[0] if after else None, limit=limit + 1)
    last = await _last_runs(session, [r.name for r, _ in rows[:limit]])

    def render(row: tuple[store.WorkflowRecord, store.WorkflowVersion]) -> dict[str, Any]:
        record, version = row
        return {
            "name": record.name,
            "description": version.definition.get("description"),
            "latest_version": record.latest_version,
            "published_version": record.published_version,
            "triggers": version.triggers,
            "last_run": last.get(record.name),
            "created_at": iso(record.created_at),
            "updated_at": iso(record.updated_at),
        }

    return page(rows, limit, lambda row: [row[0].name], render)


async def _readable(session: TxSession, principal: Principal, name: str) -> store.WorkflowRecord:
    await authorize(session, principal, P.WORKFLOWS_READ, "workflow", name)
    record = await store.get_workflow(session, name)
    if record is None:
        raise ApiError(404, f"workflow {name!r} not found")
    return record


@router.get("/api/v1/workflows/{name}")
async def get_workflow(
    name: Name, session: TxSession, principal: CurrentPrincipal
) -> dict[str, Any]:
    """The workflow with its latest version's definition and source text."""
    record = await _readable(session, principal, name)
    version = await store.get_version(session, name, record.latest_version)
    assert version is not None
    return {
        "name": name,
        "latest_version": record.latest_version,
        "published_version": record.published_version,
        "created_at": iso(record.created_at),
        "created_by": record.created_by,
        "updated_at": iso(record.updated_at),
        "version": _version_summary(version),
        "triggers": version.triggers,
        "definition": version.definition,
        "text": version.text,
    }


@router.get("/api/v1/workflows/{name}/versions")
async def list_versions(
    name: Name,
    session: TxSession,
    principal: CurrentPrincipal,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Versions, newest first: number, author, time, message, hash, published."""
    record = await _readable(session, principal, name)
    before = decode_cursor(cursor, (int,))
    # Version numbers are 32-bit: a larger cursor is past every version.
    rows = await store.list_versions(
        session,
        name,
        before=max(min(before[0], 2**31 - 1), -(2**31)) if before else None,
        limit=limit + 1,
    )

    def render(v: store.WorkflowVersion) -> dict[str, Any]:
        return {**_version_summary(v), "published": v.number == record.published_version}

    return page(rows, limit, lambda v: [v.number], render)


@router.get("/api/v1/workflows/{name}/versions/{version}")
async def get_version(
    name: Name,
    version: Annotated[int, Path(ge=1, le=2**31 - 1, examples=[1])],
    session: TxSession,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """One version: definition, text, and a unified diff against the previous version."""
    record = await _readable(session, principal, name)
    found = await store.get_version(session, name, version)
    if found is None:
        raise ApiError(404, f"workflow {name!r} has no version {version}")
    return {
        **_version_summary(found),
        "published": found.number == record.published_version,
        "definition": found.definition,
        "text": found.text,
        "diff": await store.diff_versions(session, found),
    }


@router.post("/api/v1/workflows/{name}/publish")
async def publish_workflow(
    name: Name,
    body: PublishBody,
    request: Request,
    session: TxSession,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """Publish a version (an older one to roll back): `{name, published_version, previous}`."""
    await authorize(session, principal, P.WORKFLOWS_PUBLISH, "workflow", name)
    try:
        _, previous = await store.publish(session, name, body.version)
    except LookupError as exc:
        raise ApiError(404, str(exc.args[0])) from None
    published = await store.get_version(session, name, body.version)
    assert published is not None
    await schedules_published(get_state(request), published.definition, published.number)
    await audit.record(
        session,
        actor=principal.name,
        action="workflow.publish",
        resource=f"workflow:{name}",
        details={"version": body.version, "previous": previous},
        source=source_of(request),
    )
    return {"name": name, "published_version": body.version, "previous": previous}


@router.delete("/api/v1/workflows/{name}", status_code=204)
async def delete_workflow(
    name: Name, request: Request, session: TxSession, principal: CurrentPrincipal
) -> None:
    """Delete a workflow (its history is kept; its grants and schedules go)."""
    await authorize(session, principal, P.WORKFLOWS_DELETE, "workflow", name)
    if not await store.delete_workflow(session, name):
        raise ApiError(404, f"workflow {name!r} not found")
    await schedules_removed(get_state(request), name)
    await delete_grants(session, "workflow", name)
    await audit.record(
        session,
        actor=principal.name,
        action="workflow.delete",
        resource=f"workflow:{name}",
        source=source_of(request),
    )
