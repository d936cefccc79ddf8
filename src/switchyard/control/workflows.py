"""Workflows and their versions in the database.

A workflow is a name with a history of versions. Saving a definition adds a
version only when the definition changed (its hash differs from the latest
version's: re-applying the same file, or only reformatting it, adds none).
One version may be *published*: what triggers and runs use by default.
Deleting is soft: the name and its history stay (version numbers are never
reused, so old runs keep naming the version they ran); saving the name again
revives it.

The stored `definition` is the validated definition as the engine reads it
(`Workflow.model_dump(mode="json", by_alias=True, exclude_none=True)`); the
`text` is the source as it was sent (YAML, or JSON).
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ForeignKey, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from switchyard.control.db import Base
from switchyard.control.timestamps import UtcDateTime, now
from switchyard.definition.problems import Problem, has_errors

__all__ = [
    "ON_DELETE",
    "Conflict",
    "DefinitionInvalid",
    "SaveResult",
    "WorkflowRecord",
    "WorkflowVersion",
    "check_definition",
    "definitions_for_calls",
    "delete_workflow",
    "diff_versions",
    "get_version",
    "get_workflow",
    "list_versions",
    "list_workflows",
    "publish",
    "published_definitions",
    "published_versions",
    "resolve_version",
    "save",
]


class WorkflowRecord(Base):
    __tablename__ = "workflows"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    latest_version: Mapped[int] = mapped_column(sa.Integer)
    published_version: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    deleted: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class WorkflowVersion(Base):
    __tablename__ = "workflow_versions"

    workflow: Mapped[str] = mapped_column(
        sa.String(64), ForeignKey("workflows.name", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    text: Mapped[str] = mapped_column(sa.Text)
    #: `yaml` or `json`: how `text` is written.
    format: Mapped[str] = mapped_column(sa.String(8))
    definition: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    hash: Mapped[str] = mapped_column(sa.String(64))
    #: `[{id, type}]` of the definition's triggers (for listings).
    triggers: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON)
    author: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    message: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)


class DefinitionInvalid(ValueError):
    """A definition with errors; `problems` are the validator's, located."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems if p.is_error))
        self.problems = problems


class Conflict(Exception):
    """The request does not fit the stored state (a concurrent change, a name mismatch)."""


@dataclass(frozen=True)
class SaveResult:
    name: str
    version: int
    published_version: int | None
    #: The workflow did not exist (or was deleted) before.
    created: bool
    #: A new version was added (False: the definition equals the latest version's).
    changed: bool
    #: The validator's warnings (a definition with warnings is saved).
    warnings: tuple[Problem, ...] = ()


#: `async hook(session, name)` run when a workflow is deleted, in its transaction:
#: triggers register the removal of the workflow's schedules here.
ON_DELETE: list[Callable[[AsyncSession, str], Awaitable[None]]] = []


def check_definition(text: str, fmt: str) -> tuple[dict[str, Any], list[Problem]]:
    """Validate source text exactly as `switchyard validate` does a file of that format.

    Returns:
        The engine's form of the definition, and the problems (warnings only).

    Raises:
        DefinitionInvalid: the definition has errors.
    """
    from switchyard.definition.validate import validate_text

    wf, problems = validate_text(text, filename=f"definition.{fmt}")
    if wf is None or has_errors(problems):
        raise DefinitionInvalid(problems)
    return wf.model_dump(mode="json", by_alias=True, exclude_none=True), problems


def definition_hash(definition: dict[str, Any]) -> str:
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def _triggers(definition: dict[str, Any]) -> list[dict[str, str]]:
    from switchyard.definition.model import TRIGGER_CLASSES, Workflow
    from switchyard.definition.triggers import trigger_ids

    wf = Workflow.model_validate(definition)
    out = []
    for trigger, tid in zip(definition.get("triggers") or [], trigger_ids(wf), strict=False):
        kind = next((k for k in TRIGGER_CLASSES if k in trigger), "?")
        out.append({"id": tid, "type": kind})
    return out


async def get_workflow(
    session: AsyncSession, name: str, *, deleted: bool = False
) -> WorkflowRecord | None:
    """The workflow called `name` (None when missing or deleted, unless `deleted`)."""
    record = await session.get(WorkflowRecord, name)
    if record is None or (record.deleted and not deleted):
        return None
    return record


async def get_version(session: AsyncSession, name: str, number: int) -> WorkflowVersion | None:
    return await session.get(WorkflowVersion, (name, number))


async def save(
    session: AsyncSession,
    name: str,
    text: str,
    fmt: str,
    *,
    author: str | None,
    message: str | None = None,
    publish_it: bool = False,
) -> SaveResult:
    """Create or update a workflow from source text (a new version only when it changed).

    Raises:
        DefinitionInvalid: the text is not a valid definition.
        Conflict: its `name` is not `name`, or it was changed concurrently.
    """
    definition, warnings = check_definition(text, fmt)
    if definition.get("name") != name:
        raise DefinitionInvalid(
            [
                Problem(
                    "name",
                    f"the definition is named {definition.get('name')!r}, "
                    f"but it is saved as {name!r}",
                    "error",
                    "name-mismatch",
                )
            ]
        )
    digest = definition_hash(definition)
    current = now()
    record = await get_workflow(session, name, deleted=True)
    created = record is None or record.deleted
    if record is None:
        record = WorkflowRecord(
            name=name,
            created_at=current,
            created_by=author,
            updated_at=current,
            latest_version=0,
            published_version=None,
            deleted=False,
        )
        session.add(record)
    latest = await get_version(session, name, record.latest_version)
    changed = latest is None or latest.hash != digest
    if changed:
        record.latest_version += 1
        session.add(
            WorkflowVersion(
                workflow=name,
                number=record.latest_version,
                text=text,
                format=fmt,
                definition=definition,
                hash=digest,
                triggers=_triggers(definition),
                author=author,
                created_at=current,
                message=message,
            )
        )
        record.updated_at = current
    if record.deleted:
        record.deleted, record.deleted_at, record.created_at = False, None, current
        record.created_by = author
    if publish_it:
        record.published_version = record.latest_version
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(f"workflow {name!r} was changed concurrently: try again") from None
    return SaveResult(
        name, record.latest_version, record.published_version, created, changed, tuple(warnings)
    )


async def publish(
    session: AsyncSession, name: str, number: int
) -> tuple[WorkflowRecord, int | None]:
    """Publish version `number` (also how to roll back); returns the workflow and the
    previously published version.

    Raises:
        LookupError: no such workflow or version.
    """
    record = await get_workflow(session, name)
    if record is None:
        raise LookupError(f"workflow {name!r} not found")
    if await get_version(session, name, number) is None:
        raise LookupError(f"workflow {name!r} has no version {number}")
    previous = record.published_version
    record.published_version = number
    record.updated_at = now()
    await session.flush()
    return record, previous


async def delete_workflow(session: AsyncSession, name: str) -> bool:
    """Soft-delete a workflow (and run the `ON_DELETE` hooks); False when there is none."""
    record = await get_workflow(session, name)
    if record is None:
        return False
    record.deleted = True
    record.deleted_at = now()
    record.published_version = None
    for hook in ON_DELETE:
        await hook(session, name)
    await session.flush()
    return True


async def list_workflows(
    session: AsyncSession, *, after: str | None, limit: int
) -> list[tuple[WorkflowRecord, WorkflowVersion]]:
    """Workflows by name with their current version (published, else latest)."""
    current = sa.func.coalesce(WorkflowRecord.published_version, WorkflowRecord.latest_version)
    stmt = (
        select(WorkflowRecord, WorkflowVersion)
        .join(
            WorkflowVersion,
            sa.and_(
                WorkflowVersion.workflow == WorkflowRecord.name,
                WorkflowVersion.number == current,
            ),
        )
        .where(WorkflowRecord.deleted.is_(False))
        .order_by(WorkflowRecord.name)
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(WorkflowRecord.name > after)
    return [(r, v) for r, v in (await session.execute(stmt)).all()]


async def list_versions(
    session: AsyncSession, name: str, *, before: int | None, limit: int
) -> list[WorkflowVersion]:
    """Versions of a workflow, newest first."""
    stmt = (
        select(WorkflowVersion)
        .where(WorkflowVersion.workflow == name)
        .order_by(WorkflowVersion.number.desc())
        .limit(limit)
    )
    if before is not None:
        stmt = stmt.where(WorkflowVersion.number < before)
    return list((await session.scalars(stmt)).all())


async def diff_versions(session: AsyncSession, version: WorkflowVersion) -> str:
    """Unified diff of a version's text against the previous version's ("" for the first)."""
    if version.number <= 1:
        return ""
    previous = await get_version(session, version.workflow, version.number - 1)
    before = previous.text if previous is not None else ""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        version.text.splitlines(keepends=True),
        fromfile=f"{version.workflow}@{version.number - 1}",
        tofile=f"{version.workflow}@{version.number}",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


# -- what the engine and the runs use --------------------------------------------


async def resolve_version(
    session: AsyncSession, name: str, version: int | None = None
) -> WorkflowVersion:
    """A version to run: `version`, else the published one, else the latest.

    Raises:
        LookupError: no such workflow (or it is deleted), or no such version.
    """
    record = await get_workflow(session, name)
    if record is None:
        raise LookupError(f"workflow {name!r} not found")
    number = version if version is not None else record.published_version
    number = number if number is not None else record.latest_version
    found = await get_version(session, name, number)
    if found is None:
        raise LookupError(f"workflow {name!r} has no version {number}")
    return found


async def published_definitions(session: AsyncSession) -> list[WorkflowVersion]:
    """The published version of every workflow that has one (what triggers use)."""
    stmt = (
        select(WorkflowVersion)
        .join(
            WorkflowRecord,
            sa.and_(
                WorkflowVersion.workflow == WorkflowRecord.name,
                WorkflowVersion.number == WorkflowRecord.published_version,
            ),
        )
        .where(WorkflowRecord.deleted.is_(False))
        .order_by(WorkflowVersion.workflow)
    )
    return list((await session.scalars(stmt)).all())


async def published_versions(session: AsyncSession) -> list[tuple[str, int]]:
    """(workflow, published version number) of every workflow that has one, by name."""
    stmt = (
        select(WorkflowRecord.name, WorkflowRecord.published_version)
        .where(WorkflowRecord.deleted.is_(False), WorkflowRecord.published_version.is_not(None))
        .order_by(WorkflowRecord.name)
    )
    return [(name, int(number)) for name, number in (await session.execute(stmt)).all()]


async def definitions_for_calls(session: AsyncSession) -> dict[str, dict[str, Any]]:
    """Name → definition of the published (else latest) version of every workflow."""
    rows = await list_workflows(session, after=None, limit=1_000_000)
    return {record.name: version.definition for record, version in rows}
